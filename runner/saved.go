package runner

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/state"
)

// Inputs are what plan and apply work from: the campaign files, and the saved plan when
// apply was given one.
type Inputs struct {
	Paths []string
	// Saved is the saved plan apply was given, nil when planning afresh.
	Saved *SavedPlan
	Set   *campaign.Set
}

// StateNames compare and name states as the backends do (state/backend's Same and Name),
// for the check that a saved plan is applied to the state it was made with: runner links
// no backend.
type StateNames struct {
	Same func(a, b string) bool
	Name func(string) string
}

// LoadInputs resolves the arguments of plan and apply: campaign paths, or (allowSaved, for
// apply) one saved plan file, whose paths are then loaded. A saved plan made with another
// state than statePath is refused as stale, before the files are read. The campaigns are
// loaded with the clock, so that consent is checked against now for those sent now;
// parsed, when set, is campaign.Options.Parsed (see PrefetchState).
func LoadInputs(args []string, statePath string, names StateNames, allowSaved bool, parsed func([]*campaign.Campaign)) (Inputs, error) {
	in := Inputs{Paths: args}
	if allowSaved && len(args) == 1 {
		if info, err := os.Stat(args[0]); err == nil && !info.IsDir() {
			sp, ok, err := ReadSavedPlan(args[0])
			if err != nil {
				return Inputs{}, err
			}
			if ok {
				if !names.Same(sp.StatePath, statePath) {
					return Inputs{}, fmt.Errorf("%w: the plan was made with state %s, this run uses %s; apply it with that state (-state), or run `smsform plan -out` again with this one", ErrStalePlan, names.Name(sp.StatePath), names.Name(statePath))
				}
				in.Saved, in.Paths = sp, sp.Paths
			}
		}
	}
	set, err := campaign.LoadWith(campaign.Options{SendNow: time.Now(), Parsed: parsed}, in.Paths...)
	if err != nil {
		return Inputs{}, err
	}
	in.Set = set
	return in, nil
}

// PlanFrom reads what the state holds of set's campaigns (and, under a frequency cap, the
// marketing messages it counts, from early when given) and plans them at now.
func PlanFrom(ctx context.Context, store state.Reader, set *campaign.Set, now time.Time, opts PlanOptions, early *StateRead) (*Plan, error) {
	// A saved plan's schedule runs from its own clock: the caps count from the earlier.
	from := now
	if !opts.ScheduleFrom.IsZero() && opts.ScheduleFrom.Before(now) {
		from = opts.ScheduleFrom
	}
	snap, err := ReadState(ctx, store, set, from, early)
	if err != nil {
		return nil, err
	}
	return MakePlan(set, snap, now, opts)
}
