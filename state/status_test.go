package state_test

import (
	"testing"

	"github.com/smsform/smsform/state"
)

// TestClassify: how a sent message's recorded status counts. A refused duplicate messageId
// (status 23) proves an earlier send: it awaits its delivery like a pending one, and is not
// counted as rejected; any other refusal is.
func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		group, id int
		want      state.DeliveryClass
	}{
		{0, 0, state.Awaiting},
		{state.GroupPending, 26, state.Awaiting},
		{state.GroupDelivered, 5, state.Delivered},
		{state.GroupUndeliverable, 9, state.Undelivered},
		{state.GroupExpired, 15, state.Expired},
		{state.GroupRejected, 23, state.Awaiting},
		{state.GroupRejected, 52, state.Rejected},
		{state.GroupDelivered, 23, state.Delivered},
		{9, 1, 0},
	} {
		if got := state.Classify(tt.group, tt.id); got != tt.want {
			t.Errorf("Classify(%d, %d) = %d, want %d", tt.group, tt.id, got, tt.want)
		}
	}
	if !state.DuplicateMessageID(state.GroupRejected, 23) || state.DuplicateMessageID(state.GroupRejected, 52) || state.DuplicateMessageID(state.GroupPending, 23) {
		t.Error("DuplicateMessageID is not group 5, id 23")
	}
}
