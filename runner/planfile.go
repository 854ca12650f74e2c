package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/smsform/smsform/internal/safefile"
	"github.com/smsform/smsform/state"
)

// ErrStalePlan means a saved plan no longer matches its files or the state.
var ErrStalePlan = errors.New("stale plan")

const planMagic = "smsform-plan"

// SavedPlan is what `plan -out FILE` writes. It holds no message data: the plan is a pure
// function of the files and the state, so recording their fingerprints and the plan's
// digest is enough to apply exactly that plan, or to refuse when either changed.
type SavedPlan struct {
	Format      string        `json:"format"`
	Version     string        `json:"format_version"`
	Paths       []string      `json:"paths"`
	Inputs      string        `json:"inputs"`
	State       state.Version `json:"state"`
	StatePath   string        `json:"state_path"`
	Digest      string        `json:"digest"`
	Sends       string        `json:"sends"` // Plan.SendDigest
	RetryFailed bool          `json:"retry_failed,omitempty"`
	Summary     Counts        `json:"summary"`
	CreatedAt   time.Time     `json:"created_at"`
	// ScheduledFrom is the clock the plan's quiet-hours send times were computed from;
	// apply computes them again from it (see CheckQuiet for what it refuses).
	ScheduledFrom time.Time `json:"scheduled_from,omitzero"`
}

// Save writes the plan to path.
func (p *Plan) Save(path string, paths []string, statePath string, opts PlanOptions, now time.Time) error {
	sp := SavedPlan{
		Format: planMagic, Version: PlanFormatVersion, Paths: paths, Inputs: p.Inputs, State: p.State,
		StatePath: statePath, Digest: p.Digest(), Sends: p.SendDigest(), RetryFailed: opts.RetryFailed, Summary: p.Summary, CreatedAt: now.UTC(),
	}
	if p.scheduled() {
		sp.ScheduledFrom = p.ScheduledFrom.UTC()
	}
	data, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return err
	}
	// Never through a link planted where the plan goes: its target would be overwritten.
	if err := safefile.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return nil
}

// ReadSavedPlan reads a plan file. ok is false when the file is not a saved plan (a
// campaign file, say).
func ReadSavedPlan(path string) (sp *SavedPlan, ok bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, false, err
	}
	sp = &SavedPlan{}
	if json.Unmarshal(data, sp) != nil || sp.Format != planMagic {
		return nil, false, nil
	}
	if sp.Version != PlanFormatVersion {
		return nil, true, fmt.Errorf("plan file %s has format %s; this smsform reads %s: make the plan again with it (`smsform plan -out %s`)", path, sp.Version, PlanFormatVersion, path)
	}
	return sp, true, nil
}

// CheckSends refuses a plan, made again after unknown outcomes were reconciled, that sends
// other messages than the saved one: apply FILE sends exactly what was approved.
func (sp *SavedPlan) CheckSends(fresh *Plan) error {
	if fresh.SendDigest() != sp.Sends {
		return fmt.Errorf("%w: looking up unknown outcomes in Infobip's logs changed what would be sent (%d in the saved plan, %d now); run `smsform plan -out` again", ErrStalePlan, sp.Summary.Send, fresh.Summary.Send)
	}
	return nil
}

// Check refuses a saved plan whose files or state changed since it was made.
func (sp *SavedPlan) Check(fresh *Plan) error {
	switch {
	case fresh.Inputs != sp.Inputs:
		return fmt.Errorf("%w: the campaign files changed since the plan was saved (%s); run `smsform plan -out` again", ErrStalePlan, sp.CreatedAt.Format(time.RFC3339))
	case fresh.State.Lineage != sp.State.Lineage:
		return fmt.Errorf("%w: the plan was made against another state file (lineage %s, this one %s); check --state", ErrStalePlan, sp.State.Lineage, fresh.State.Lineage)
	case fresh.State.Serial != sp.State.Serial:
		return fmt.Errorf("%w: the state changed since the plan was saved (serial %d, now %d; another apply ran?); run `smsform plan -out` again", ErrStalePlan, sp.State.Serial, fresh.State.Serial)
	case fresh.Digest() != sp.Digest:
		return fmt.Errorf("%w: planning again gives a different result; run `smsform plan -out` again", ErrStalePlan)
	}
	return nil
}
