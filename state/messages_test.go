package state_test

import (
	"testing"
	"time"

	"github.com/smsform/smsform/state"
)

// TestWantsInFlight: a listing reads batches in flight only when asked to and when its
// states let "sending" through.
func TestWantsInFlight(t *testing.T) {
	for f, want := range map[*state.Filter]bool{
		{InFlight: true}: true,
		{InFlight: true, States: []state.State{state.Failed, state.Sending}}: true,
		{InFlight: true, States: []state.State{state.Failed}}:                false,
		{States: []state.State{state.Sending}}:                               false,
	} {
		if got := f.WantsInFlight(); got != want {
			t.Errorf("%+v: WantsInFlight = %v", *f, got)
		}
	}
}

// TestNewBatch: a batch is sorted by key and refuses a message it could not settle.
func TestNewBatch(t *testing.T) {
	m := func(to string) state.Outgoing {
		return state.Outgoing{Key: state.Key{Campaign: "c", Round: 1, To: to}, MessageID: "m" + to, BulkID: "b"}
	}
	b, err := state.NewBatch([]state.Outgoing{m("+41790000002"), m("+41790000001")})
	if err != nil || b.Messages[0].To != "+41790000001" || time.Since(b.CreatedAt) > time.Minute {
		t.Errorf("NewBatch = %+v, %v", b, err)
	}
	bad := m("+41790000003")
	bad.Round = 0
	if _, err := state.NewBatch([]state.Outgoing{bad}); err == nil {
		t.Error("a message of round 0 was accepted")
	}
}
