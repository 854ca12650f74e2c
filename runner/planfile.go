package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safefile"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state"
)

// ErrStalePlan means a saved plan no longer matches its files or the state.
var ErrStalePlan = errors.New("stale plan")

const planMagic = "smsform-plan"

// PlanFileVersion is the format_version of a saved plan, apart from the JSON view's
// (PlanFormatVersion): the file changes when what apply checks changes.
const PlanFileVersion = "1"

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
		Format: planMagic, Version: PlanFileVersion, Paths: paths, Inputs: p.Inputs, State: p.State,
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

// A plan file holds paths and digests, never messages: plan -out writes a few KB. It may
// come from anywhere (a CI artifact, a file in a pull request), so it is read bounded, and
// what apply shows of it (paths, the state's name and lineage) must be what plan -out
// writes.
const (
	// MaxPlanBytes bounds a plan file, read whole: the bound of a campaign file, which
	// apply may be given in its place.
	MaxPlanBytes = campaign.MaxYAMLBytes
	maxPlanPaths = 1024
	maxPlanPath  = 4096 // PATH_MAX
	maxLineage   = 64   // a state's lineage is 32 hex digits
)

// ReadSavedPlan reads a plan file. ok is false when the file is not a saved plan (a
// campaign file, say). The file is opened as campaign.OpenInput opens a file: a FIFO, a
// device or a symlink out of its directory is an error, not a hang or a read without end.
func ReadSavedPlan(path string) (sp *SavedPlan, ok bool, err error) {
	data, err := campaign.ReadInput(path, MaxPlanBytes)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	sp = &SavedPlan{}
	if json.Unmarshal(data, sp) != nil || sp.Format != planMagic {
		return nil, false, nil
	}
	if sp.Version != PlanFileVersion {
		return nil, true, fmt.Errorf("plan file %s has format %s; this smsform reads %s: make the plan again with it (`smsform plan -out %s`)", path, safetext.Quote(sp.Version), PlanFileVersion, path)
	}
	if why := sp.malformed(); why != "" {
		return nil, true, fmt.Errorf("plan file %s is not one smsform wrote: %s; make the plan again (`smsform plan -out %s`)", path, why, path)
	}
	return sp, true, nil
}

// malformed says what in a plan file plan -out cannot have written, or "".
func (sp *SavedPlan) malformed() string {
	bad := func(s string, limit int) bool {
		return len(s) > limit || strings.ContainsFunc(s, unicode.IsControl)
	}
	switch {
	case len(sp.Paths) > maxPlanPaths:
		return fmt.Sprintf("it names %d campaign paths; the limit is %d", len(sp.Paths), maxPlanPaths)
	case slices.ContainsFunc(sp.Paths, func(p string) bool { return bad(p, maxPlanPath) }):
		return fmt.Sprintf("it names a campaign path over %d bytes or with control characters", maxPlanPath)
	case bad(sp.StatePath, maxPlanPath):
		return fmt.Sprintf("its state is named in over %d bytes or with control characters", maxPlanPath)
	case bad(sp.State.Lineage, maxLineage):
		return fmt.Sprintf("its state lineage is over %d bytes or holds control characters", maxLineage)
	}
	return ""
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
