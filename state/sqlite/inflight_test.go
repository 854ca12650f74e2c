package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
	"github.com/smsform/smsform/state/statetest"
)

// inflightRows counts the rows of the inflight table, read beside the store.
func inflightRows(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM inflight").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInFlightThenSettled: a batch in flight is seen as sending by Snapshot (and counted
// unresolved) but not listed or counted by state; once settled its messages are listed with
// their outcomes and nothing is left in flight.
func TestInFlightThenSettled(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	db := rawDB(t, path)
	round := state.Round{Campaign: "c", Round: 1}
	msgs := []state.Outgoing{out("c", 1, "+41790000002", 0, 2), out("c", 1, "+41790000001", 0, 1), out("c", 1, "+41790000003", 0, 3)}
	b := mark(t, s, msgs...)
	if len(b.Messages) != 3 || b.Messages[0].To != "+41790000001" || b.Messages[1].To != "+41790000002" || b.Messages[2].To != "+41790000003" {
		t.Errorf("batch messages %+v: want all three, in key order", b.Messages)
	}
	if n := inflightRows(t, db); n != 1 {
		t.Errorf("%d inflight rows, want 1 for the batch", n)
	}

	recs := snapshot(t, s, round).Records(round)
	if len(recs) != 3 {
		t.Errorf("snapshot of the batch in flight: %+v", recs)
	}
	for _, m := range msgs {
		if r := recs[m.To]; r.State != state.Sending || r.Hash != m.Hash || r.SendingAt.IsZero() {
			t.Errorf("in flight, %s is %+v; want sending", m.To, r)
		}
	}
	if got := list(t, s, state.Filter{}); len(got) != 0 {
		t.Errorf("List shows messages in flight: %+v", got)
	}
	if counts, err := s.Counts(ctx); err != nil || len(counts) != 0 {
		t.Errorf("Counts with only a batch in flight = %v, %v", counts, err)
	}
	if n := unresolved(t, s); n != 3 {
		t.Errorf("CountUnresolved in flight = %d, want 3", n)
	}
	if p, err := s.Unresolved(ctx); err != nil || len(p) != 0 {
		t.Errorf("Unresolved in flight = %+v, %v; only unknown rows are looked up", p, err)
	}

	settleEach(t, s, b,
		state.Outcome{MessageID: msgs[0].MessageID, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED", SmsCount: 2},
		state.Outcome{MessageID: msgs[1].MessageID, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED"},
		state.Outcome{MessageID: msgs[2].MessageID, State: state.Failed, StatusGroup: 5, StatusID: 51, Error: "MISSING_TO"},
	)
	got := list(t, s, state.Filter{})
	if len(got) != 3 {
		t.Fatalf("List after Settle = %+v", got)
	}
	for i, want := range []struct {
		to, id   string
		st       state.State
		sms      int
		errorMsg string
	}{
		{"+41790000001", msgs[1].MessageID, state.Sent, 1, ""},
		{"+41790000002", msgs[0].MessageID, state.Sent, 2, ""},
		{"+41790000003", msgs[2].MessageID, state.Failed, 1, "MISSING_TO"},
	} {
		m := got[i]
		if m.To != want.to || m.MessageID != want.id || m.State != want.st || m.SmsCount != want.sms || m.Error != want.errorMsg {
			t.Errorf("List[%d] = %+v; want %s %s %s sms %d", i, m, want.to, want.id, want.st, want.sms)
		}
	}
	if got[0].StatusName != "PENDING_ACCEPTED" || got[2].StatusID != 51 {
		t.Errorf("statuses not kept: %+v", got)
	}
	if n := inflightRows(t, db); n != 0 {
		t.Errorf("%d inflight rows left after Settle", n)
	}
	if n := unresolved(t, s); n != 0 {
		t.Errorf("CountUnresolved after Settle = %d, want 0", n)
	}
	if n, err := s.MarkInterrupted(ctx); n != 0 || err != nil {
		t.Errorf("MarkInterrupted after Settle = %d, %v", n, err)
	}
	recs = snapshot(t, s, round).Records(round)
	if recs["+41790000001"].State != state.Sent || recs["+41790000003"].State != state.Failed || recs["+41790000003"].Error != "MISSING_TO" {
		t.Errorf("snapshot after Settle: %+v", recs)
	}
}

// TestMarkInterruptedEmptiesInflight: interrupted batches leave the inflight table, each
// counted once in the number returned.
func TestMarkInterruptedEmptiesInflight(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	db := rawDB(t, path)
	mark(t, s, out("c", 1, "+41790000001", 0, 1), out("c", 1, "+41790000002", 0, 1))
	mark(t, s, out("d", 2, "+41790000001", 3, 1))
	if n, err := s.MarkInterrupted(ctx); n != 3 || err != nil {
		t.Fatalf("MarkInterrupted = %d, %v; want 3", n, err)
	}
	if n := inflightRows(t, db); n != 0 {
		t.Errorf("%d inflight rows left", n)
	}
	rows := list(t, s, state.Filter{})
	if len(rows) != 3 || rows[2].Campaign != "d" || rows[2].Round != 2 || rows[2].Attempt != 3 || rows[2].State != state.Unknown {
		t.Errorf("rows %+v", rows)
	}
}

// TestSettleWrongNumberOfOutcomes: a Settle with too few or too many outcomes is refused and
// writes nothing; the batch stays in flight and can still be settled.
func TestSettleWrongNumberOfOutcomes(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	b := mark(t, s, out("c", 1, "+41790000001", 0, 1), out("c", 1, "+41790000002", 0, 1))
	all := []state.Outcome{
		{Key: b.Messages[0].Key, MessageID: b.Messages[0].MessageID, State: state.Sent},
		{Key: b.Messages[1].Key, MessageID: b.Messages[1].MessageID, State: state.Sent},
	}
	extra := append(append([]state.Outcome{}, all...), state.Outcome{Key: state.Key{Campaign: "c", Round: 1, To: "+41790000003"}, MessageID: "x", State: state.Sent})
	v := version(t, s)
	for name, outs := range map[string][]state.Outcome{"none": nil, "too few": all[:1], "too many": extra} {
		if err := s.Settle(ctx, b, outs); err == nil {
			t.Errorf("%s: Settle of %d outcomes for 2 messages succeeded", name, len(outs))
		}
	}
	if got := version(t, s); got != v {
		t.Errorf("refused Settles changed the version from %+v to %+v", v, got)
	}
	if rows := list(t, s, state.Filter{}); len(rows) != 0 {
		t.Errorf("refused Settles wrote %+v", rows)
	}
	if n := unresolved(t, s); n != 2 {
		t.Errorf("CountUnresolved = %d, want the batch still in flight", n)
	}
	if err := s.Settle(ctx, b, all); err != nil {
		t.Fatal(err)
	}
	if rows := list(t, s, state.Filter{States: []state.State{state.Sent}}); len(rows) != 2 {
		t.Errorf("after the right Settle: %+v", rows)
	}
}

// TestSettleOverwritesUnknownInPlace: a message whose outcome was unknown (its run stopped)
// and that is sent again keeps its row, with the new attempt's messageId and outcome.
func TestSettleOverwritesUnknownInPlace(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	round := state.Round{Campaign: "c", Round: 1}
	first := out("c", 1, "+41790000001", 0, 1)
	mark(t, s, first)
	if n, err := s.MarkInterrupted(ctx); n != 1 || err != nil {
		t.Fatalf("MarkInterrupted = %d, %v", n, err)
	}
	was := list(t, s, state.Filter{})
	if len(was) != 1 || was[0].State != state.Unknown {
		t.Fatalf("interrupted: %+v", was)
	}
	firstAt := snapshot(t, s, round).Records(round)[first.To].SendingAt
	time.Sleep(2 * time.Millisecond) // timestamps have millisecond resolution
	retry := out("c", 1, first.To, 1, 2)
	retry.BulkID = "c-r1-retry"
	settleEach(t, s, mark(t, s, retry), state.Outcome{MessageID: retry.MessageID, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED"})

	rows := list(t, s, state.Filter{})
	if len(rows) != 1 {
		t.Fatalf("%d rows for one key: %+v", len(rows), rows)
	}
	m := rows[0]
	if m.Attempt != 1 || m.MessageID != retry.MessageID || m.BulkID != "c-r1-retry" || m.State != state.Sent || m.Error != "" || m.StatusID != 26 {
		t.Errorf("row after the retry = %+v; want attempt 1, the new ids, sent, the unknown's error cleared", m)
	}
	if m.CreatedAt != was[0].CreatedAt || m.UpdatedAt <= was[0].UpdatedAt {
		t.Errorf("created_at %s -> %s, updated_at %s -> %s: want created_at kept, updated_at moved on", was[0].CreatedAt, m.CreatedAt, was[0].UpdatedAt, m.UpdatedAt)
	}
	rec := snapshot(t, s, round).Records(round)[first.To]
	if rec.State != state.Sent || rec.Hash != 2 || rec.Attempt != 1 || !rec.SendingAt.After(firstAt) {
		t.Errorf("record after the retry = %+v; want sent, hash 2, attempt 1, a later send attempt than %v", rec, firstAt)
	}
	if p, err := s.Unresolved(ctx); err != nil || len(p) != 0 {
		t.Errorf("Unresolved = %+v, %v", p, err)
	}
	if n := unresolved(t, s); n != 0 {
		t.Errorf("CountUnresolved = %d", n)
	}
	// The first attempt's messageId no longer names anything.
	record(t, s, state.Outcome{MessageID: first.MessageID, State: state.Failed})
	if m := list(t, s, state.Filter{})[0]; m.State != state.Sent {
		t.Errorf("an outcome for the old messageId changed the row: %+v", m)
	}
}

// TestSettleKeepsSendingAt: sending_at is "when the latest send attempt was recorded", which
// is MarkSending's time: MarkInterrupted keeps it and Snapshot shows it while in flight, so a
// settled message should keep it too (Reconcile's grace runs from it).
func TestSettleKeepsSendingAt(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	round := state.Round{Campaign: "c", Round: 1}
	o := out("c", 1, "+41790000001", 0, 1)
	b := mark(t, s, o)
	markedAt := snapshot(t, s, round).Records(round)[o.To].SendingAt
	time.Sleep(20 * time.Millisecond) // the request takes a while
	settleEach(t, s, b, state.Outcome{MessageID: o.MessageID, State: state.Unknown, Error: "infobip: HTTP 500"})
	p, err := s.Unresolved(ctx)
	if err != nil || len(p) != 1 {
		t.Fatalf("Unresolved = %+v, %v", p, err)
	}
	if !p[0].SendingAt.Equal(markedAt) {
		t.Errorf("sending_at after Settle = %v, want MarkSending's time %v (the grace and the idempotency window run from it)",
			p[0].SendingAt, markedAt)
	}
}

// TestCountUnresolvedCountsAMessageOnce: a message of unknown outcome sent again (reconcile
// resends it with the same messageId) is one unresolved message while the resend is in flight.
func TestCountUnresolvedCountsAMessageOnce(t *testing.T) {
	s, _ := open(t)
	o := out("c", 1, "+41790000001", 0, 1)
	settleEach(t, s, mark(t, s, o), state.Outcome{MessageID: o.MessageID, State: state.Unknown, Error: "no answer"})
	if n := unresolved(t, s); n != 1 {
		t.Fatalf("CountUnresolved = %d, want 1", n)
	}
	mark(t, s, o) // the resend, in flight (or its Settle failed)
	if n := unresolved(t, s); n != 1 {
		t.Errorf("CountUnresolved = %d with one message unknown and being resent, want 1 (counted once, by its row)", n)
	}
}

// TestSettleManyRoundsPerMessage: a batch over several campaign rounds and more messages
// than one statement writes records each message with its own outcome, whatever the
// chunking; MarkInterrupted likewise.
func TestSettleManyRoundsPerMessage(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	type spec struct {
		campaign string
		round, n int
	}
	// 70: one full statement and a short one; 64: exactly one full; 1: one row.
	specs := []spec{{"b", 1, 1}, {"a", 2, 64}, {"a", 1, 70}}
	var msgs []state.Outgoing
	for _, sp := range specs {
		for i := range sp.n {
			o := out(sp.campaign, sp.round, fmt.Sprintf("+4179%07d", i), i%3, uint64(len(msgs))<<32|uint64(i))
			o.Parts = 1 + i%2
			o.Tracked, o.TrackingType = i%2 == 0, fmt.Sprintf("T%d", i)
			msgs = append(msgs, o)
		}
	}
	states := []state.State{state.Sent, state.Failed, state.Unknown}
	outcome := func(k int, m state.Outgoing) state.Outcome {
		return state.Outcome{Key: m.Key, MessageID: m.MessageID, State: states[k%3], StatusGroup: 1 + k%5, StatusID: 100 + k,
			StatusName: fmt.Sprintf("S%d", k), SmsCount: k % 4, Error: fmt.Sprintf("E%d", k)}
	}
	var outs []state.Outcome
	for k, m := range msgs {
		outs = append(outs, outcome(k, m))
	}
	settleEach(t, s, mark(t, s, msgs...), outs...)

	rows := list(t, s, state.Filter{})
	if len(rows) != len(msgs) {
		t.Fatalf("%d rows, want %d", len(rows), len(msgs))
	}
	byID := map[string]state.Message{}
	for _, r := range rows {
		byID[r.MessageID] = r
	}
	for k, m := range msgs {
		r, o := byID[m.MessageID], outcome(k, m)
		wantParts, wantTT := m.Parts, ""
		if o.SmsCount > 0 {
			wantParts = o.SmsCount
		}
		if m.Tracked {
			wantTT = m.TrackingType
		}
		if r.Key != m.Key || r.Attempt != m.Attempt || r.BulkID != m.BulkID || r.State != o.State || r.StatusGroup != o.StatusGroup ||
			r.StatusID != o.StatusID || r.StatusName != o.StatusName || r.SmsCount != wantParts || r.TrackingType != wantTT || r.Error != o.Error {
			t.Errorf("message %d (%s): row %+v, want outcome %+v, parts %d, tracking %q", k, m.MessageID, r, o, wantParts, wantTT)
		}
	}
	for _, sp := range specs {
		r := state.Round{Campaign: sp.campaign, Round: sp.round}
		recs := snapshot(t, s, r).Records(r)
		if len(recs) != sp.n {
			t.Errorf("round %+v has %d records, want %d", r, len(recs), sp.n)
		}
	}
	for k, m := range msgs {
		r := state.Round{Campaign: m.Campaign, Round: m.Round}
		if rec := snapshot(t, s, r).Records(r)[m.To]; rec.Hash != m.Hash || rec.Attempt != m.Attempt || rec.State != states[k%3] {
			t.Errorf("record of %s = %+v, want hash %d", m.MessageID, rec, m.Hash)
			break
		}
	}

	// The same keys again, in flight and interrupted: every row becomes unknown with the new
	// attempt.
	for i := range msgs {
		msgs[i] = out(msgs[i].Campaign, msgs[i].Round, msgs[i].To, 5, 7)
	}
	mark(t, s, msgs...)
	if n, err := s.MarkInterrupted(ctx); n != len(msgs) || err != nil {
		t.Fatalf("MarkInterrupted = %d, %v; want %d", n, err, len(msgs))
	}
	for _, r := range list(t, s, state.Filter{}) {
		if r.State != state.Unknown || r.Attempt != 5 || r.MessageID != fmt.Sprintf("%s-%d-%s-5", r.Campaign, r.Round, strings.TrimPrefix(r.To, "+")) || r.StatusID != 0 {
			t.Errorf("interrupted row %+v", r)
			break
		}
	}
}

// TestListInFlight: state list shows what a run is sending (or died sending) as sending.
func TestListInFlight(t *testing.T) {
	s, _ := open(t)
	settle(t, s, mark(t, s, out("c", 1, "+41790000001", 0, 1)), state.Unknown)
	mark(t, s, out("c", 1, "+41790000001", 0, 1), out("c", 1, "+41790000002", 0, 1)) // a resend and a new one
	got := list(t, s, state.Filter{InFlight: true})
	if len(got) != 2 || got[0].State != state.Sending || got[1].State != state.Sending || got[1].To != "+41790000002" {
		t.Errorf("List(InFlight) = %+v", got)
	}
	if got := list(t, s, state.Filter{InFlight: true, States: []state.State{state.Unknown}}); len(got) != 1 || got[0].State != state.Unknown {
		t.Errorf("List(InFlight, unknown) = %+v", got)
	}
	if got := list(t, s, state.Filter{InFlight: true, To: "+41790000002"}); len(got) != 1 {
		t.Errorf("List(InFlight, to) = %+v", got)
	}
}

// TestMarkSendingAfter: answers recorded with the next batch are written, their batch leaves
// those in flight, and the new batch is in flight, in one transaction (the serial moves by
// one); a batch MarkSending would refuse leaves the answers unrecorded and their batch in
// flight.
func TestMarkSendingAfter(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	db := rawDB(t, path)
	first := mark(t, s, out("c", 1, "+41790000001", 0, 1), out("c", 1, "+41790000002", 0, 2))
	outs := make([]state.Outcome, len(first.Messages))
	for i, m := range first.Messages {
		outs[i] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent, SmsCount: 2}
	}
	items := []state.Settlement{{Batch: first, Outcomes: outs}}

	before, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := out("c", 1, "+41790000003", 0, 3)
	bad.MessageID = ""
	if _, err := s.MarkSendingAfter(ctx, items, []state.Outgoing{bad}); err == nil {
		t.Fatal("MarkSendingAfter accepted a message without a messageId")
	}
	if got := list(t, s, state.Filter{}); len(got) != 0 {
		t.Errorf("a refused batch recorded the answers: %+v", got)
	}
	if n := inflightRows(t, db); n != 1 {
		t.Errorf("%d batches in flight after a refused batch; want the first one still", n)
	}

	second, err := s.MarkSendingAfter(ctx, items, []state.Outgoing{out("c", 1, "+41790000003", 0, 3)})
	if err != nil {
		t.Fatal(err)
	}
	after, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Serial != before.Serial+1 {
		t.Errorf("serial %d -> %d; want one transaction", before.Serial, after.Serial)
	}
	got := list(t, s, state.Filter{})
	if len(got) != 2 {
		t.Fatalf("recorded %+v; want the first batch's two messages", got)
	}
	for _, m := range got {
		if m.State != state.Sent || m.SmsCount != 2 {
			t.Errorf("%s recorded %s with %d parts; want sent with 2", m.To, m.State, m.SmsCount)
		}
	}
	batches, err := s.InFlight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 1 || batches[0].ID != second.ID || batches[0].Messages[0].To != "+41790000003" {
		t.Errorf("in flight %+v; want only the second batch (%d)", batches, second.ID)
	}
	if recs := snapshot(t, s, state.Round{Campaign: "c", Round: 1}).Records(state.Round{Campaign: "c", Round: 1}); recs["+41790000003"].State != state.Sending {
		t.Errorf("the second batch's message is %+v; want sending", recs["+41790000003"])
	}
}

// TestSettleFreshThenRecorded: answers are inserted while every message settled is new; a
// settlement that meets a message recorded before, in its last (fourth) statement, is written
// again whole with upserts, in the one transaction MarkSendingAfter commits: nothing of the
// failed insert stays, the retried message keeps its row, the next batch is in flight once.
func TestSettleFreshThenRecorded(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	db := rawDB(t, path)
	round := state.Round{Campaign: "c", Round: 1}
	var first []state.Outgoing
	for i := range 70 {
		first = append(first, out("c", 1, fmt.Sprintf("+4179%07d", i), 0, 1))
	}
	b1 := mark(t, s, first...)
	outs := make([]state.Outcome, len(b1.Messages))
	for i, m := range b1.Messages {
		outs[i] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Failed, Error: "REJECTED"}
	}
	if err := s.Settle(ctx, b1, outs); err != nil {
		t.Fatal(err)
	}
	if sqlite.Rewrites(s) {
		t.Fatal("a settlement of new messages was written with upserts")
	}
	was := list(t, s, state.Filter{})

	// A failure that is not a key recorded before (here the table's CHECK on the state)
	// is the settlement's error, and leaves the store inserting.
	bad := mark(t, s, out("c", 1, "+41760000001", 0, 1))
	if err := s.Settle(ctx, bad, []state.Outcome{{Key: bad.Messages[0].Key, MessageID: bad.Messages[0].MessageID, State: "bogus"}}); err == nil {
		t.Fatal("an outcome the table refuses was recorded")
	}
	if sqlite.Rewrites(s) {
		t.Error("a refused outcome turned the store to upserts")
	}
	if err := s.Forget(ctx, bad); err != nil {
		t.Fatal(err)
	}

	// 100 new messages sort before the retried one: the insert fails in its fourth statement
	// (64, 32, 4 and 1 rows), after three have written theirs.
	var second []state.Outgoing
	for i := range 100 {
		second = append(second, out("c", 1, fmt.Sprintf("+4178%07d", i), 0, 2))
	}
	retried := out("c", 1, "+41790000005", 1, 3)
	b2 := mark(t, s, append(second, retried)...)
	outs = make([]state.Outcome, len(b2.Messages))
	for i, m := range b2.Messages {
		outs[i] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED", SmsCount: 2}
	}
	before := version(t, s)
	third, err := s.MarkSendingAfter(ctx, []state.Settlement{{Batch: b2, Outcomes: outs}}, []state.Outgoing{out("c", 1, "+41770000001", 0, 4)})
	if err != nil {
		t.Fatal(err)
	}
	if !sqlite.Rewrites(s) {
		t.Error("a settlement meeting a recorded message did not turn the store to upserts")
	}
	if after := version(t, s); after.Serial != before.Serial+1 {
		t.Errorf("serial %d -> %d; want one transaction", before.Serial, after.Serial)
	}
	got := list(t, s, state.Filter{})
	if len(got) != 170 {
		t.Fatalf("%d rows; want 170", len(got))
	}
	statetest.CheckRetriedAmongNew(t, got, was, retried, "+4178")
	batches, err := s.InFlight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 1 || batches[0].ID != third.ID || inflightRows(t, db) != 1 {
		t.Fatalf("in flight %+v; want only the third batch (%d), once", batches, third.ID)
	}
	settle(t, s, third, state.Sent)
	if r := snapshot(t, s, round).Records(round)["+41770000001"]; r.State != state.Sent {
		t.Errorf("the third batch's message is %+v once settled by upsert; want sent", r)
	}
}

// groupResult is what one MarkSendingAfter call of groupCalls returned.
type groupResult struct {
	b   *state.Batch
	err error
}

// groupCalls makes calls MarkSendingAfter calls, call i settling a batch recorded before
// with one message of state st(i) and recording a batch of +4179000000i in flight. The
// first call's transaction waits for another connection's write lock while the others
// queue behind it; then the lock is let go. It returns each call's result, in the calls'
// order, and the serial before them.
func groupCalls(t *testing.T, s *sqlite.Store, path string, calls int, st func(i int) state.State, ctxOf func(i int) context.Context) ([]groupResult, int64) {
	t.Helper()
	ctx := context.Background()
	var earlier []*state.Batch
	for i := range calls {
		earlier = append(earlier, mark(t, s, out("c", 1, fmt.Sprintf("+4178%07d", i), 0, 1)))
	}
	before := version(t, s).Serial

	release := holdWriteLock(t, path)
	results := make([]groupResult, calls)
	done := make(chan int, calls)
	call := func(i int) {
		b := earlier[i]
		outs := []state.Outcome{{Key: b.Messages[0].Key, MessageID: b.Messages[0].MessageID, State: st(i)}}
		callCtx := ctx
		if ctxOf != nil {
			callCtx = ctxOf(i)
		}
		nb, err := s.MarkSendingAfter(callCtx, []state.Settlement{{Batch: b, Outcomes: outs}}, []state.Outgoing{out("c", 1, fmt.Sprintf("+4179%07d", i), 0, 2)})
		results[i] = groupResult{nb, err}
		done <- i
	}
	go call(0)
	waitFor(t, func() bool { return sqlite.Writing(s) }, "the first call writing") // it leads at once: its transaction waits for the lock
	for i := 1; i < calls; i++ {
		go call(i)
	}
	waitFor(t, func() bool { return sqlite.Waiting(s) == calls-1 }, fmt.Sprintf("%d calls waiting", calls-1))
	release()
	receive(t, done, calls)
	return results, before
}

// receive takes n values from ch, failing when one takes over 10 seconds.
func receive[T any](t *testing.T, ch <-chan T, n int) []T {
	t.Helper()
	var got []T
	for range n {
		select {
		case v := <-ch:
			got = append(got, v)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d calls returned", len(got), n)
		}
	}
	return got
}

// holdWriteLock takes the state's write lock on a connection of its own, as another
// process would; release lets it go.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	ctx := context.Background()
	other, err := rawDB(t, path).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if _, err := other.ExecContext(ctx, "COMMIT"); err != nil {
			t.Fatal(err)
		}
		other.Close()
	}
}

// waitFor waits until cond holds, failing after 10 seconds.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}

// TestMarkSendingGrouped: calls made while a transaction waits for the state share the
// next transaction. The seven made while the first one's waits, each settling the batch
// of an earlier call and recording one of its own, are all written by the second: the
// serial moves by two, every batch is in flight once under the id its call was given, and
// every answer is recorded.
func TestMarkSendingGrouped(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	const calls = 8
	results, before := groupCalls(t, s, path, calls, func(int) state.State { return state.Sent }, nil)
	ids := map[int64]string{} // each call's batch: its id, and its message's number
	for _, r := range results {
		if r.err != nil {
			t.Fatal(r.err)
		}
		ids[r.b.ID] = r.b.Messages[0].To
	}
	if after := version(t, s); after.Serial != before+2 {
		t.Errorf("serial %d -> %d; want two transactions for %d calls", before, after.Serial, calls)
	}
	batches, err := s.InFlight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != calls || len(ids) != calls {
		t.Fatalf("%d batches in flight, %d ids; want %d of each", len(batches), len(ids), calls)
	}
	for _, b := range batches {
		if to, ok := ids[b.ID]; !ok || to != b.Messages[0].To {
			t.Errorf("in flight: batch %d of %s; the call given that id recorded %q", b.ID, b.Messages[0].To, to)
		}
	}
	got := list(t, s, state.Filter{})
	if len(got) != calls {
		t.Fatalf("%d messages recorded, want the %d answers", len(got), calls)
	}
	for _, m := range got {
		if m.State != state.Sent {
			t.Errorf("%s is %s, want sent", m.To, m.State)
		}
	}
}

// TestMarkSendingGroupFailsAlone: a call the state refuses (an answer the table's CHECK
// refuses) fails alone: the other calls of its group are written call by call and succeed.
func TestMarkSendingGroupFailsAlone(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	const calls, bad = 5, 3
	results, _ := groupCalls(t, s, path, calls, func(i int) state.State {
		if i == bad {
			return "bogus"
		}
		return state.Sent
	}, nil)
	for i, r := range results {
		if (r.err != nil) != (i == bad) {
			t.Errorf("call %d: %v", i, r.err)
		}
	}
	batches, err := s.InFlight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inFlight := map[string]bool{}
	for _, b := range batches {
		inFlight[b.Messages[0].To] = true
	}
	for i := range calls {
		// The refused call's answer and batch are not recorded; its earlier batch stays in flight.
		if recorded, settled := inFlight[fmt.Sprintf("+4179%07d", i)], !inFlight[fmt.Sprintf("+4178%07d", i)]; recorded != (i != bad) || settled != (i != bad) {
			t.Errorf("call %d: its batch in flight %v, its answer recorded %v", i, recorded, settled)
		}
	}
	if got := list(t, s, state.Filter{}); len(got) != calls-1 {
		t.Errorf("%d answers recorded, want %d", len(got), calls-1)
	}
}

// TestMarkSendingGroupCancelled: a call whose context is cancelled while it waits is not
// written, and says so, though it leads its group; the rest of the group is written.
func TestMarkSendingGroupCancelled(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	const calls, gone = 4, 1
	var earlier []*state.Batch
	for i := range calls {
		earlier = append(earlier, mark(t, s, out("c", 1, fmt.Sprintf("+4178%07d", i), 0, 1)))
	}
	cancelled, cancel := context.WithCancel(ctx)
	defer cancel()
	release := holdWriteLock(t, path)
	errs := make([]error, calls)
	done := make(chan struct{}, calls)
	call := func(i int, ctx context.Context) {
		b := earlier[i]
		outs := []state.Outcome{{Key: b.Messages[0].Key, MessageID: b.Messages[0].MessageID, State: state.Sent}}
		_, errs[i] = s.MarkSendingAfter(ctx, []state.Settlement{{Batch: b, Outcomes: outs}}, []state.Outgoing{out("c", 1, fmt.Sprintf("+4179%07d", i), 0, 2)})
		done <- struct{}{}
	}
	go call(0, ctx)
	waitFor(t, func() bool { return sqlite.Writing(s) }, "the first call writing")
	go call(gone, cancelled) // first in the queue: it will lead the next group
	waitFor(t, func() bool { return sqlite.Waiting(s) == 1 }, "the second call waiting")
	for i := 2; i < calls; i++ {
		go call(i, ctx)
	}
	waitFor(t, func() bool { return sqlite.Waiting(s) == calls-1 }, "the calls waiting")
	cancel()
	release()
	receive(t, done, calls)
	for i, err := range errs {
		if i == gone {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("the cancelled call returned %v", err)
			}
		} else if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	batches, err := s.InFlight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if b.Messages[0].To == fmt.Sprintf("+4179%07d", gone) {
			t.Error("the cancelled call's batch is in flight")
		}
	}
	if got := list(t, s, state.Filter{}); len(got) != calls-1 {
		t.Errorf("%d answers recorded, want %d (not the cancelled call's)", len(got), calls-1)
	}
}

// TestMarkSendingGroupCapped: a group takes at most 16 batches' answers; the calls past
// them wait for the next group.
func TestMarkSendingGroupCapped(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	const calls, each = 4, 8 // the first call alone, then 8+8, then 8
	items := make([][]state.Settlement, calls)
	for i := range calls {
		for j := range each {
			b := mark(t, s, out("c", 1, fmt.Sprintf("+4178%03d%04d", i, j), 0, 1))
			items[i] = append(items[i], state.Settlement{Batch: b, Outcomes: []state.Outcome{{Key: b.Messages[0].Key, MessageID: b.Messages[0].MessageID, State: state.Sent}}})
		}
	}
	before := version(t, s).Serial
	release := holdWriteLock(t, path)
	done := make(chan error, calls)
	call := func(i int) {
		_, err := s.MarkSendingAfter(ctx, items[i], []state.Outgoing{out("c", 1, fmt.Sprintf("+4179%07d", i), 0, 2)})
		done <- err
	}
	go call(0)
	waitFor(t, func() bool { return sqlite.Writing(s) }, "the first call writing")
	for i := 1; i < calls; i++ {
		go call(i)
	}
	waitFor(t, func() bool { return sqlite.Waiting(s) == calls-1 }, "the calls waiting")
	release()
	for _, err := range receive(t, done, calls) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if after := version(t, s).Serial; after != before+3 {
		t.Errorf("serial %d -> %d; want three transactions (1 call, then 2, then 1)", before, after)
	}
	if got := list(t, s, state.Filter{}); len(got) != calls*each {
		t.Errorf("%d answers recorded, want %d", len(got), calls*each)
	}
}

// TestInFlightIDsNotReused: a batch recorded after the last one was settled gets an id of
// its own, not the settled one's (SQLite's default for the table's largest id, deleted):
// settling a stale Batch again could otherwise remove a live batch's record.
func TestInFlightIDsNotReused(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	seen := map[int64]bool{}
	for i := range 5 {
		b := mark(t, s, out("c", 1, fmt.Sprintf("+4179%07d", i), 0, 1))
		if seen[b.ID] {
			t.Fatalf("batch %d got id %d again", i, b.ID)
		}
		seen[b.ID] = true
		settle(t, s, b, state.Sent)
		// The stale batch settled a second time removes nothing live.
		next := mark(t, s, out("c", 1, fmt.Sprintf("+4178%07d", i), 0, 1))
		seen[next.ID] = true
		if err := s.Forget(ctx, b); err != nil {
			t.Fatal(err)
		}
		if got, err := s.InFlight(ctx); err != nil || len(got) != 1 || got[0].ID != next.ID {
			t.Fatalf("after forgetting a settled batch again: in flight %+v, %v; want batch %d", got, err, next.ID)
		}
		settle(t, s, next, state.Sent)
	}
}
