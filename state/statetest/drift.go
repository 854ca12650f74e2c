package statetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/smsform/smsform/state"
)

// RunDrift runs the tests of what the two backends once did differently.
func RunDrift(t *testing.T, open func(testing.TB) state.Store) {
	t.Run("ListInFlightFiltered", func(t *testing.T) { testListInFlightFiltered(t, open) })
	t.Run("DeliveryRules", func(t *testing.T) { testDeliveryRules(t, open) })
}

// FillListings writes what testListInFlightFiltered lists: settled messages of every
// state, a failed one resent and in flight, and a new one in flight. state/backend lists it
// on both backends with ListingFilters and compares.
func FillListings(t testing.TB, s state.Store) {
	t.Helper()
	settleEach(t, s, mark(t, s, out("d", 1, "+41790000001", 0, 1), out("d", 1, "+41790000002", 0, 1),
		out("d", 1, "+41790000003", 0, 1), out("e", 1, "+41790000001", 0, 1)),
		state.Outcome{MessageID: "d-1-41790000001-0", State: state.Sent},
		state.Outcome{MessageID: "d-1-41790000002-0", State: state.Failed, Error: "no"},
		state.Outcome{MessageID: "d-1-41790000003-0", State: state.Unknown},
		state.Outcome{MessageID: "e-1-41790000001-0", State: state.Sent})
	mark(t, s, out("d", 1, "+41790000002", 1, 1), out("d", 1, "+41790000004", 0, 1))
}

// ListingFilters are filters of every kind, with and without batches in flight, for what
// FillListings wrote.
func ListingFilters() []state.Filter {
	var fs []state.Filter
	for _, sts := range [][]state.State{nil, {state.Sent}, {state.Failed}, {state.Sent, state.Failed, state.Unknown},
		{state.Sending}, {state.Sending, state.Failed}} {
		fs = append(fs, state.Filter{States: sts, InFlight: true}, state.Filter{States: sts},
			state.Filter{Campaign: "d", States: sts, InFlight: true}, state.Filter{States: sts, InFlight: true, Limit: 2})
	}
	return fs
}

// testListInFlightFiltered: a listing with batches in flight asked for, but filtered to
// states without "sending", shows the recorded rows only, the failed one although its
// resend is in flight; with "sending" it shows the batches' messages, a resend in place of
// its row. Both backends read batches in flight for a listing the same way.
func testListInFlightFiltered(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	FillListings(t, s)
	key := func(msgs []state.Message) []string {
		var ks []string
		for _, m := range msgs {
			ks = append(ks, fmt.Sprintf("%s/%s/%s/%d", m.Campaign, m.To, m.State, m.Attempt))
		}
		return ks
	}
	for _, tt := range []struct {
		f    state.Filter
		want []string
	}{
		{state.Filter{States: []state.State{state.Failed}, InFlight: true}, []string{"d/+41790000002/failed/0"}},
		{state.Filter{States: []state.State{state.Sent, state.Failed, state.Unknown}, InFlight: true},
			[]string{"d/+41790000001/sent/0", "d/+41790000002/failed/0", "d/+41790000003/unknown/0", "e/+41790000001/sent/0"}},
		{state.Filter{States: []state.State{state.Sending}, InFlight: true}, []string{"d/+41790000002/sending/1", "d/+41790000004/sending/0"}},
		{state.Filter{States: []state.State{state.Sending}}, nil},
		{state.Filter{Campaign: "d", InFlight: true},
			[]string{"d/+41790000001/sent/0", "d/+41790000002/sending/1", "d/+41790000003/unknown/0", "d/+41790000004/sending/0"}},
	} {
		if got := key(list(t, s, tt.f)); !slices.Equal(got, tt.want) {
			t.Errorf("List(%+v) =\n%q\nwant\n%q", tt.f, got, tt.want)
		}
	}
}

// testDeliveryRules: what the report counts as delivered, undelivered, expired or rejected,
// and what awaits delivery, is what state.Classify says of each recorded status: the rule
// that a refused duplicate messageId proves a send (status 23) included.
func testDeliveryRules(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	statuses := [][2]int{{0, 0}, {state.GroupPending, 26}, {state.GroupPending, 7}, {state.GroupDelivered, 5},
		{state.GroupUndeliverable, 9}, {state.GroupExpired, 15}, {state.GroupRejected, state.StatusDuplicateMessageID},
		{state.GroupRejected, 52}, {state.GroupRejected, 25}, {6, 1}, {state.GroupDelivered, state.StatusDuplicateMessageID}}
	var msgs []state.Outgoing
	for i := range statuses {
		msgs = append(msgs, state.Outgoing{Key: state.Key{Campaign: "s", Round: 1, To: fmt.Sprintf("+4179%07d", i)}, MessageID: sfID(i), BulkID: "b", Parts: 1})
	}
	b := mark(t, s, msgs...)
	outs := make([]state.Outcome, len(b.Messages))
	want := state.ReportRow{Campaign: "s", Round: 1, Messages: len(statuses), Sent: len(statuses), SmsParts: len(statuses)}
	var awaiting []string
	for i, m := range b.Messages {
		st := statuses[i]
		outs[i] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent, StatusGroup: st[0], StatusID: st[1]}
		switch state.Classify(st[0], st[1]) {
		case state.Awaiting:
			awaiting = append(awaiting, m.MessageID)
		case state.Delivered:
			want.Delivered++
		case state.Undelivered:
			want.Undelivered++
		case state.Expired:
			want.Expired++
		case state.Rejected:
			want.Rejected++
		}
	}
	if err := s.SettleMany(ctx, []state.Settlement{{Batch: b, Outcomes: outs}}); err != nil {
		t.Fatal(err)
	}
	if want.Delivered != 2 || want.Rejected != 2 || len(awaiting) != 4 {
		t.Fatalf("state.Classify: %+v, awaiting %v; the rules changed, change this test with them", want, awaiting)
	}
	rows, err := s.Report(ctx, "s", state.ByNone)
	if err != nil || len(rows) != 1 || rows[0] != want {
		t.Errorf("Report = %+v, %v; want %+v", rows, err, want)
	}
	got, err := s.AwaitingDelivery(ctx, "s", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range got {
		ids = append(ids, p.MessageID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, awaiting) {
		t.Errorf("AwaitingDelivery = %v, want %v", ids, awaiting)
	}
}
