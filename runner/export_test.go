package runner

import (
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/state"
)

// MakePlanInParts is MakePlan planning each campaign in parts parts, whatever its size.
func MakePlanInParts(set *campaign.Set, snap *state.Snapshot, now time.Time, opts PlanOptions, parts int) (*Plan, error) {
	return makePlan(set, snap, now, opts, func(int) int { return parts })
}
