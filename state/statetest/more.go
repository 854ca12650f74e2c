package statetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/state"
)

// sfID is a messageId in smsform's own form, which the index keeps compactly.
func sfID(i int) string { return fmt.Sprintf("sf-%032x", i) }

// testConversions: the index matches messages by id and by number (latest round), and
// carries each one's conversion state through submitting, settling and forgetting.
func testConversions(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	msgs := []state.Outgoing{
		{Key: state.Key{Campaign: "c", Round: 1, To: "+41790000001"}, MessageID: sfID(1), BulkID: "b1", Hash: 1, Parts: 1, Tracked: true, TrackingType: "SMS"},
		{Key: state.Key{Campaign: "c", Round: 1, To: "+41790000002"}, MessageID: sfID(2), BulkID: "b1", Hash: 1, Parts: 1},
		{Key: state.Key{Campaign: "c", Round: 2, To: "+41790000001"}, MessageID: sfID(3), BulkID: "b2", Hash: 1, Parts: 1, Tracked: true, TrackingType: "SMS"},
		{Key: state.Key{Campaign: "d", Round: 1, To: "+41790000001"}, MessageID: "hand-written-id", BulkID: "b3", Hash: 1, Parts: 1},
	}
	settle(t, s, mark(t, s, msgs...), state.Sent)
	x, err := s.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if x.Len() != 4 {
		t.Fatalf("index has %d messages, want 4", x.Len())
	}
	i, ok := x.ByNumber("c", "+41790000001")
	if got := x.Get(i); !ok || got.Round != 2 || got.MessageID != sfID(3) || !got.Tracked || got.State != state.Sent {
		t.Errorf("ByNumber(c, +41790000001) = %+v, %v; want round 2's message", got, ok)
	}
	if i, ok := x.ByMessageID("hand-written-id"); !ok || x.Get(i).Campaign != "d" {
		t.Errorf("ByMessageID(hand-written-id) = %v, %v", i, ok)
	}
	if _, ok := x.ByMessageID(sfID(9)); ok {
		t.Error("an unknown messageId was found")
	}
	if !x.HasCampaign("d") || x.HasCampaign("e") {
		t.Error("HasCampaign is wrong")
	}

	conv := func(id int, to string, round int) state.Conversion {
		return state.Conversion{Key: state.Key{Campaign: "c", Round: round, To: to}, MessageID: sfID(id), Source: "events.csv:2"}
	}
	before := version(t, s)
	if err := s.MarkSubmitting(ctx, []state.Conversion{conv(1, "+41790000001", 1), conv(3, "+41790000001", 2), conv(2, "+41790000002", 1)}); err != nil {
		t.Fatal(err)
	}
	if v := version(t, s); v.Serial <= before.Serial {
		t.Error("MarkSubmitting did not bump the serial")
	}
	done := conv(1, "+41790000001", 1)
	done.State, done.ProcessKey = state.Converted, "pk-1"
	failed := conv(3, "+41790000001", 2)
	failed.State, failed.Error = state.ConvFailed, "nope"
	if err := s.RecordConversions(ctx, []state.Conversion{done, failed}); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetConversions(ctx, []state.Conversion{conv(2, "+41790000002", 1)}); err != nil {
		t.Fatal(err)
	}
	x, err = s.Index(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int]state.ConversionState{1: state.Converted, 2: "", 3: state.ConvFailed} {
		i, ok := x.ByMessageID(sfID(id))
		if got := x.Get(i).Conversion; !ok || got != want {
			t.Errorf("conversion of %s = %q, want %q", sfID(id), got, want)
		}
	}
	// A converted conversion is never redone; one left submitting becomes unknown.
	if err := s.MarkSubmitting(ctx, []state.Conversion{conv(1, "+41790000001", 1), conv(2, "+41790000002", 1)}); err != nil {
		t.Fatal(err)
	}
	n, err := s.MarkConversionsInterrupted(ctx)
	if err != nil || n != 1 {
		t.Fatalf("MarkConversionsInterrupted = %d, %v; want 1", n, err)
	}
	x, _ = s.Index(ctx)
	for id, want := range map[int]state.ConversionState{1: state.Converted, 2: state.ConvUnknown} {
		i, _ := x.ByMessageID(sfID(id))
		if got := x.Get(i).Conversion; got != want {
			t.Errorf("after the rerun, conversion of %s = %q, want %q", sfID(id), got, want)
		}
	}
	rows, err := s.Report(ctx, "c", state.ByNone)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Round != 1 || rows[0].Converted != 1 || rows[0].SentTracked != 1 || rows[1].Converted != 0 {
		t.Errorf("report of c = %+v; want round 1 with one converted of one tracked", rows)
	}
}

// testReportAndDeliveries: delivery statuses recorded from the logs show in the report,
// grouped as asked, and a delivered message no longer awaits delivery.
func testReportAndDeliveries(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	var msgs []state.Outgoing
	for i, to := range []string{"+41790000001", "+41790000002", "+41790000003", "+44790000004", "+44790000005"} {
		msgs = append(msgs, state.Outgoing{Key: state.Key{Campaign: "r", Round: 1, To: to}, MessageID: sfID(i), BulkID: "b", Hash: 1, Parts: 2})
	}
	b := mark(t, s, msgs...)
	outs := make([]state.Outcome, len(b.Messages))
	for i, m := range b.Messages {
		outs[i] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED"}
	}
	outs[4] = state.Outcome{Key: b.Messages[4].Key, MessageID: b.Messages[4].MessageID, State: state.Failed, Error: "no"}
	if err := s.SettleMany(ctx, []state.Settlement{{Batch: b, Outcomes: outs}}); err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-time.Hour)
	awaiting, err := s.AwaitingDelivery(ctx, "", since)
	if err != nil || len(awaiting) != 4 {
		t.Fatalf("AwaitingDelivery = %d, %v; want the 4 sent", len(awaiting), err)
	}
	if later, _ := s.AwaitingDelivery(ctx, "", time.Now().Add(time.Hour)); len(later) != 0 {
		t.Errorf("AwaitingDelivery since a later time = %+v", later)
	}
	if other, _ := s.AwaitingDelivery(ctx, "other", since); len(other) != 0 {
		t.Errorf("AwaitingDelivery of another campaign = %+v", other)
	}
	ds := []state.Delivery{
		{Key: b.Messages[0].Key, MessageID: b.Messages[0].MessageID, StatusGroup: 3, StatusID: 5, StatusName: "DELIVERED_TO_HANDSET", DoneAt: "2026-12-01T10:00:00.000+0000"},
		{Key: b.Messages[1].Key, MessageID: b.Messages[1].MessageID, StatusGroup: 2, StatusID: 9, StatusName: "UNDELIVERABLE"},
		{Key: b.Messages[4].Key, MessageID: b.Messages[4].MessageID, StatusGroup: 3, StatusID: 5}, // failed: not touched
	}
	if err := s.RecordDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if awaiting, _ := s.AwaitingDelivery(ctx, "r", since); len(awaiting) != 2 {
		t.Errorf("after deliveries, %d await; want 2", len(awaiting))
	}
	rows, err := s.Report(ctx, "", state.ByNone)
	if err != nil {
		t.Fatal(err)
	}
	want := state.ReportRow{Campaign: "r", Round: 1, Messages: 5, Sent: 4, Delivered: 1, Undelivered: 1, Failed: 1, SmsParts: 8}
	if len(rows) != 1 || rows[0] != want {
		t.Errorf("Report = %+v, want %+v", rows, want)
	}
	rows, err = s.Report(ctx, "", state.ByPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Group != "+4179" || rows[0].Sent != 3 || rows[1].Group != "+4479" || rows[1].Failed != 1 {
		t.Errorf("Report by prefix = %+v", rows)
	}
	rows, err = s.Report(ctx, "", state.ByDay)
	if err != nil {
		t.Fatal(err)
	}
	if today := time.Now().UTC().Format("2006-01-02"); len(rows) != 1 || rows[0].Group != today || rows[0].Messages != 5 {
		t.Errorf("Report by day = %+v, want one row for %s", rows, today)
	}
	if _, err := s.Report(ctx, "", "weekday"); err == nil {
		t.Error("an unknown grouping was accepted")
	}
}

// testUnresolved: messages of unknown outcome are listed oldest first, with their
// attempt, and reconciliation's outcomes settle them.
func testUnresolved(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	first := out("u", 1, "+41790000002", 0, 1)
	settle(t, s, mark(t, s, first), state.Unknown)
	second := out("u", 1, "+41790000001", 3, 1)
	settle(t, s, mark(t, s, second), state.Unknown)
	settle(t, s, mark(t, s, out("u", 1, "+41790000003", 0, 1)), state.Sent)
	p, err := s.Unresolved(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 2 || p[0].MessageID != first.MessageID || p[1].Attempt != 3 || p[1].BulkID != second.BulkID || p[0].SendingAt.IsZero() {
		t.Errorf("Unresolved = %+v; want both unknown, oldest first", p)
	}
	record(t, s, state.Outcome{MessageID: first.MessageID, State: state.Sent, StatusGroup: 3, StatusID: 5, StatusName: "DELIVERED", SmsCount: 3})
	if n := unresolved(t, s); n != 1 {
		t.Errorf("CountUnresolved = %d after one was found, want 1", n)
	}
	m := list(t, s, state.Filter{MessageID: first.MessageID})
	if len(m) != 1 || m[0].State != state.Sent || m[0].SmsCount != 3 || m[0].StatusName != "DELIVERED" {
		t.Errorf("reconciled message = %+v", m)
	}
}

// testInFlightListed: with InFlight, List shows the messages of batches in flight as
// sending, a resend in place of its recorded row, in key order.
func testInFlightListed(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	o := out("f", 1, "+41790000002", 0, 1)
	settle(t, s, mark(t, s, o), state.Failed)
	mark(t, s, out("f", 1, "+41790000002", 1, 1), out("f", 1, "+41790000001", 0, 1))
	got := list(t, s, state.Filter{Campaign: "f", InFlight: true})
	if len(got) != 2 || got[0].To != "+41790000001" || got[0].State != state.Sending || got[1].State != state.Sending || got[1].Attempt != 1 {
		t.Errorf("List with in flight = %+v", got)
	}
	if got := list(t, s, state.Filter{Campaign: "f", InFlight: true, States: []state.State{state.Failed}}); len(got) != 1 {
		t.Errorf("List of failed, in flight included = %+v; want the recorded row", got)
	}
}

// testUndecidedAndResolve: a resend with the same messageId keeps the first
// attempt's time (an idempotency window runs from it); `state resolve` records who decided
// what, and a decision counts only until the next attempt.
func testUndecidedAndResolve(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	a, b := out("c", 1, "+41790000001", 0, 1), out("c", 1, "+41790000002", 0, 2)
	settleEach(t, s, mark(t, s, a, b),
		state.Outcome{MessageID: a.MessageID, State: state.Unknown, Error: "no answer"},
		state.Outcome{MessageID: b.MessageID, State: state.Unknown, Error: "no answer"})
	u, err := s.Undecided(ctx)
	if err != nil || len(u) != 2 || !u[0].FirstAttemptAt.Equal(u[0].SendingAt) || u[0].Unsent {
		t.Fatalf("Undecided = %+v, %v", u, err)
	}
	first := u[0].SendingAt
	// The resend of a: its first attempt is noted before it leaves.
	if err := s.NoteFirstAttempts(ctx, []state.Key{a.Key}); err != nil {
		t.Fatal(err)
	}
	settleEach(t, s, mark(t, s, a), state.Outcome{MessageID: a.MessageID, State: state.Unknown, Error: "no answer again"})
	u, _ = s.Undecided(ctx)
	var ua state.Undecided
	for _, x := range u {
		if x.To == a.To {
			ua = x
		}
	}
	if !ua.FirstAttemptAt.Equal(first) || ua.SendingAt.Before(first) {
		t.Errorf("after a resend: first attempt %v, sending_at %v; want the first kept at %v", ua.FirstAttemptAt, ua.SendingAt, first)
	}

	// resolve -as unsent b (by number), -as sent a (by messageId).
	keys, err := s.Resolve(ctx, state.Resolution{Targets: []string{b.To}, By: "ann@ci"})
	if err != nil || len(keys) != 1 || keys[0] != b.Key {
		t.Fatalf("Resolve unsent = %v, %v", keys, err)
	}
	keys, err = s.Resolve(ctx, state.Resolution{Sent: true, Campaign: "c", Targets: []string{a.MessageID}, By: "bob"})
	if err != nil || len(keys) != 1 || keys[0] != a.Key {
		t.Fatalf("Resolve sent = %v, %v", keys, err)
	}
	u, _ = s.Undecided(ctx)
	if len(u) != 1 || u[0].To != b.To || !u[0].Unsent || u[0].ResolvedBy != "ann@ci" {
		t.Errorf("Undecided after resolve = %+v", u)
	}
	rows := list(t, s, state.Filter{})
	for _, m := range rows {
		switch m.To {
		case a.To:
			if m.State != state.Sent || !strings.Contains(m.Error, "decided sent by bob") {
				t.Errorf("a = %+v", m)
			}
		case b.To:
			if m.State != state.Unknown || !strings.Contains(m.Error, "decided unsent by ann@ci") {
				t.Errorf("b = %+v", m)
			}
		}
	}
	if n := unresolved(t, s); n != 1 {
		t.Errorf("CountUnresolved = %d, want 1 (b, until it is sent again)", n)
	}
	// b is sent again and its answer lost once more: the old decision no longer counts.
	if err := s.NoteFirstAttempts(ctx, []state.Key{b.Key}); err != nil {
		t.Fatal(err)
	}
	settleEach(t, s, mark(t, s, b), state.Outcome{MessageID: b.MessageID, State: state.Unknown, Error: "no answer"})
	if u, _ := s.Undecided(ctx); len(u) != 1 || u[0].Unsent {
		t.Errorf("a decision older than the latest attempt still counts: %+v", u)
	}
	// Nothing matches: nothing changes.
	if keys, err := s.Resolve(ctx, state.Resolution{Sent: true, Targets: []string{"+41799999999"}, By: "x"}); err != nil || len(keys) != 0 {
		t.Errorf("Resolve of an unknown number = %v, %v", keys, err)
	}
}

// testAwaitingDeliveryPages: the messages awaiting delivery read a page at a time are those
// AwaitingDelivery lists, in the order of bulkId then messageId as bytes, each once, however
// the pages fall (within a request and across requests), and counted alike; a page of a
// campaign, or since a later time, holds only those.
func testAwaitingDeliveryPages(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	// Requests whose bulkIds sort differently as bytes and in a language's collation
	// ("B" before "a"), and messageIds likewise.
	for r, bulk := range []string{"a-bulk", "B-bulk", "b_bulk", "Z"} {
		var msgs []state.Outgoing
		for i := range 3 + r {
			id := fmt.Sprintf("%s-%c%d", bulk, "aZb"[i%3], i)
			msgs = append(msgs, state.Outgoing{Key: state.Key{Campaign: "p" + strconv.Itoa(r%2), Round: 1, To: fmt.Sprintf("+4179%07d", r*100+i)},
				MessageID: id, BulkID: bulk, Hash: 1, Parts: 1})
		}
		b := mark(t, s, msgs...)
		outs := make([]state.Outcome, len(b.Messages))
		for i, m := range b.Messages {
			outs[i] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED"}
		}
		if err := s.SettleMany(ctx, []state.Settlement{{Batch: b, Outcomes: outs}}); err != nil {
			t.Fatal(err)
		}
	}
	since := time.Now().Add(-time.Hour)
	for _, campaign := range []string{"", "p1"} {
		all, err := s.AwaitingDelivery(ctx, campaign, since)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.CountAwaitingDelivery(ctx, campaign, since); err != nil || n != len(all) {
			t.Errorf("%q: CountAwaitingDelivery = %d, %v; AwaitingDelivery lists %d", campaign, n, err, len(all))
		}
		if (campaign == "" && len(all) != 18) || (campaign == "p1" && len(all) != 10) {
			t.Fatalf("%q: AwaitingDelivery lists %d", campaign, len(all))
		}
		if !slices.IsSortedFunc(all, func(a, b state.Pending) int {
			return cmp.Or(strings.Compare(a.BulkID, b.BulkID), strings.Compare(a.MessageID, b.MessageID))
		}) {
			t.Errorf("%q: AwaitingDelivery not in the order of bulkId and messageId: %v", campaign, all)
		}
		for _, size := range []int{1, 2, 4, 5, 17, 18, 100} {
			var got []state.Pending
			var after *state.Pending
			for pages := 0; ; pages++ {
				page, err := s.AwaitingDeliveryPage(ctx, campaign, since, after, size)
				if err != nil || len(page) > size || pages > len(all) {
					t.Fatalf("%q, pages of %d: page %d of %d messages, %v", campaign, size, pages, len(page), err)
				}
				got = append(got, page...)
				if len(page) < size {
					break
				}
				after = &page[len(page)-1]
			}
			if !slices.Equal(got, all) {
				t.Errorf("%q, pages of %d: %v\nwant %v", campaign, size, got, all)
			}
		}
	}
	if page, err := s.AwaitingDeliveryPage(ctx, "", time.Now().Add(time.Hour), nil, 5); err != nil || len(page) != 0 {
		t.Errorf("a page since a later time: %v, %v", page, err)
	}
	if _, err := s.AwaitingDeliveryPage(ctx, "", since, nil, 0); err == nil {
		t.Error("a page of 0 messages was read")
	}
}
