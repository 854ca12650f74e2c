// Package statetest is the conformance suite every state backend passes: the same tests,
// run against the SQLite file (package state/sqlite) and PostgreSQL (package
// state/postgres), so that runner can use either without knowing which. It knows only the
// state.Store interface.
package statetest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/state"
)

// Run runs the conformance suite: every backend must pass it. open returns a new, empty,
// initialised state, closed when the test ends.
func Run(t *testing.T, open func(testing.TB) state.Store) {
	t.Run("SerialGrowsWithEveryWrite", func(t *testing.T) { testSerialGrowsWithEveryWrite(t, open) })
	t.Run("MarkSendingSettleSnapshot", func(t *testing.T) { testMarkSendingSettleSnapshot(t, open) })
	t.Run("TrackingType", func(t *testing.T) { testTrackingType(t, open) })
	t.Run("RetryOverwritesInPlace", func(t *testing.T) { testRetryOverwritesInPlace(t, open) })
	t.Run("Forget", func(t *testing.T) { testForget(t, open) })
	t.Run("List", func(t *testing.T) { testList(t, open) })
	t.Run("Counts", func(t *testing.T) { testCounts(t, open) })
	t.Run("MarkSendingManyRows", func(t *testing.T) { testMarkSendingManyRows(t, open) })
	t.Run("SettleManySizes", func(t *testing.T) { testSettleManySizes(t, open) })
	t.Run("MarkSendingRefusesUnsettleable", func(t *testing.T) { testMarkSendingRefusesUnsettleable(t, open) })
	t.Run("SettleAtomic", func(t *testing.T) { testSettleAtomic(t, open) })
	t.Run("SettleManyMeetsRecorded", func(t *testing.T) { testSettleManyMeetsRecorded(t, open) })
	t.Run("SettleEmptyBatch", func(t *testing.T) { testSettleEmptyBatch(t, open) })
	t.Run("Conversions", func(t *testing.T) { testConversions(t, open) })
	t.Run("ReportAndDeliveries", func(t *testing.T) { testReportAndDeliveries(t, open) })
	t.Run("AwaitingDeliveryPages", func(t *testing.T) { testAwaitingDeliveryPages(t, open) })
	t.Run("Unresolved", func(t *testing.T) { testUnresolved(t, open) })
	t.Run("InFlightListed", func(t *testing.T) { testInFlightListed(t, open) })
	t.Run("UndecidedAndResolve", func(t *testing.T) { testUndecidedAndResolve(t, open) })
	RunOptOuts(t, open)
	RunDrift(t, open)
	RunPolicy(t, open)
	RunExperiments(t, open)
}

// out is an outgoing message whose messageId is derived from its key and attempt.
func out(campaign string, round int, to string, attempt int, hash uint64) state.Outgoing {
	return state.Outgoing{
		Key:       state.Key{Campaign: campaign, Round: round, To: to},
		Attempt:   attempt,
		MessageID: fmt.Sprintf("%s-%d-%s-%d", campaign, round, strings.TrimPrefix(to, "+"), attempt),
		BulkID:    fmt.Sprintf("%s-r%d-bulk", campaign, round),
		Hash:      hash,
		Parts:     1,
	}
}

// keyOf recovers the key from a messageId made by out: CAMPAIGN-ROUND-DIGITS-ATTEMPT.
func keyOf(id string) state.Key {
	parts := strings.Split(id, "-")
	n := len(parts)
	if n < 4 {
		return state.Key{}
	}
	round, _ := strconv.Atoi(parts[n-3])
	return state.Key{Campaign: strings.Join(parts[:n-3], "-"), Round: round, To: "+" + parts[n-2]}
}

// keyed fills in the keys of outcomes given by messageId only.
func keyed(outs ...state.Outcome) []state.Outcome {
	for i := range outs {
		if outs[i].Campaign == "" {
			outs[i].Key = keyOf(outs[i].MessageID)
		}
	}
	return outs
}

func version(t testing.TB, s state.Store) state.Version {
	t.Helper()
	v, err := s.Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// mark records msgs as one batch in flight and returns it.
func mark(t testing.TB, s state.Store, msgs ...state.Outgoing) *state.Batch {
	t.Helper()
	b, err := s.MarkSending(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// settle records every message of b with the one state.
func settle(t testing.TB, s state.Store, b *state.Batch, st state.State) {
	t.Helper()
	outs := make([]state.Outcome, len(b.Messages))
	for i, m := range b.Messages {
		outs[i] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: st}
	}
	if err := s.SettleMany(context.Background(), []state.Settlement{{Batch: b, Outcomes: outs}}); err != nil {
		t.Fatal(err)
	}
}

// settleEach records the messages of b with their outcomes, given in any order and matched
// to the batch's messages by key (filled in from the messageId when missing). Every message
// needs exactly one.
func settleEach(t testing.TB, s state.Store, b *state.Batch, outs ...state.Outcome) {
	t.Helper()
	byKey := map[state.Key]state.Outcome{}
	for _, o := range keyed(outs...) {
		if _, dup := byKey[o.Key]; dup {
			t.Fatalf("settleEach: two outcomes for %+v", o.Key)
		}
		byKey[o.Key] = o
	}
	ordered := make([]state.Outcome, len(b.Messages))
	for i, m := range b.Messages {
		o, ok := byKey[m.Key]
		if !ok {
			t.Fatalf("settleEach: no outcome for %s", m.MessageID)
		}
		delete(byKey, m.Key)
		ordered[i] = o
	}
	if len(byKey) > 0 {
		t.Fatalf("settleEach: outcomes for messages not in the batch: %+v", byKey)
	}
	if err := s.SettleMany(context.Background(), []state.Settlement{{Batch: b, Outcomes: ordered}}); err != nil {
		t.Fatal(err)
	}
}

// record settles recorded messages of unknown outcome (reconciliation).
func record(t testing.TB, s state.Store, outs ...state.Outcome) {
	t.Helper()
	if err := s.RecordOutcomes(context.Background(), keyed(outs...)); err != nil {
		t.Fatal(err)
	}
}

func unresolved(t testing.TB, s state.Store) int {
	t.Helper()
	n, err := s.CountUnresolved(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func snapshot(t testing.TB, s state.Store, rounds ...state.Round) *state.Snapshot {
	t.Helper()
	snap, err := s.Snapshot(context.Background(), rounds)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func list(t testing.TB, s state.Store, f state.Filter) []state.Message {
	t.Helper()
	msgs, err := s.List(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func testSerialGrowsWithEveryWrite(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	prev := version(t, s)
	step := func(what string, fn func() error) {
		t.Helper()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		v := version(t, s)
		if v.Serial <= prev.Serial {
			t.Errorf("after %s serial %d, before %d: want it to grow", what, v.Serial, prev.Serial)
		}
		if v.Lineage != prev.Lineage {
			t.Errorf("after %s lineage changed", what)
		}
		prev = v
	}
	o := out("c", 1, "+41790000001", 0, 1)
	var b *state.Batch
	step("MarkSending", func() (err error) { b, err = s.MarkSending(ctx, []state.Outgoing{o}); return err })
	step("Settle", func() error {
		return s.SettleMany(ctx, []state.Settlement{{Batch: b, Outcomes: []state.Outcome{{Key: o.Key, MessageID: o.MessageID, State: state.Unknown}}}})
	})
	step("RecordOutcomes", func() error {
		return s.RecordOutcomes(ctx, keyed(state.Outcome{MessageID: o.MessageID, State: state.Sent}))
	})
	step("MarkSending again", func() (err error) {
		b, err = s.MarkSending(ctx, []state.Outgoing{out("c", 1, "+41790000002", 0, 1)})
		return err
	})
	step("Forget", func() error { return s.Forget(ctx, b) })
	step("MarkSending a third time", func() (err error) {
		_, err = s.MarkSending(ctx, []state.Outgoing{out("c", 1, "+41790000003", 0, 1)})
		return err
	})
	step("MarkInterrupted", func() error {
		n, err := s.MarkInterrupted(ctx)
		if err == nil && n != 1 {
			err = fmt.Errorf("%d messages interrupted, want 1", n)
		}
		return err
	})

	// Reads do not change the version.
	snapshot(t, s, state.Round{Campaign: "c", Round: 1})
	list(t, s, state.Filter{})
	if _, err := s.Counts(ctx); err != nil {
		t.Fatal(err)
	}
	unresolved(t, s)
	if _, err := s.Unresolved(ctx); err != nil {
		t.Fatal(err)
	}
	if v := version(t, s); v != prev {
		t.Errorf("reads changed the version from %+v to %+v", prev, v)
	}
	// The snapshot carries the version it was read at.
	if v := snapshot(t, s).Version; v != prev {
		t.Errorf("Snapshot.Version = %+v, want %+v", v, prev)
	}
}

// testMarkSendingSettleSnapshot: a settled batch's messages are read back with their
// outcomes, an unsettled one's as sending, and nothing leaks between rounds.
func testMarkSendingSettleSnapshot(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	r1 := state.Round{Campaign: "otp", Round: 1}
	hashes := []uint64{0, 1, 1<<63 - 1, 1 << 63, 1<<63 + 12345, math.MaxUint64}
	var msgs []state.Outgoing
	for i, h := range hashes {
		msgs = append(msgs, out("otp", 1, fmt.Sprintf("+4179000000%d", i), 2, h))
	}
	before := time.Now().UTC().Truncate(time.Millisecond)
	settled := mark(t, s, msgs[:3]...)
	mark(t, s, msgs[3:]...) // left in flight
	after := time.Now().UTC()
	// Another round and another campaign must not leak into r1, in flight or settled.
	mark(t, s, out("otp", 2, "+41790000000", 0, 7), out("promo", 1, "+41790000000", 0, 8))
	settle(t, s, mark(t, s, out("otp", 2, "+41790000001", 0, 9)), state.Sent)

	settleEach(t, s, settled,
		state.Outcome{MessageID: msgs[0].MessageID, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED", SmsCount: 2},
		state.Outcome{MessageID: msgs[1].MessageID, State: state.Failed, StatusGroup: 5, StatusID: 52, StatusName: "REJECTED_DESTINATION", Error: "REJECTED_DESTINATION: Invalid destination address"},
		state.Outcome{MessageID: msgs[2].MessageID, State: state.Unknown, Error: "infobip: HTTP 500"},
	)
	settledAt := time.Now().UTC()
	// RecordOutcomes only updates recorded messages: neither an unknown messageId nor a
	// message still in flight gains a row.
	record(t, s,
		state.Outcome{MessageID: "no-such-message", Key: state.Key{Campaign: "otp", Round: 1, To: "+41790000009"}, State: state.Sent},
		state.Outcome{MessageID: msgs[3].MessageID, State: state.Sent},
	)

	snap := snapshot(t, s, r1, r1, state.Round{Campaign: "none", Round: 1})
	got := snap.Records(r1)
	want := map[string]state.Record{
		"+41790000000": {State: state.Sent, Hash: 0, Attempt: 2},
		"+41790000001": {State: state.Failed, Hash: 1, Attempt: 2, Error: "REJECTED_DESTINATION: Invalid destination address"},
		"+41790000002": {State: state.Unknown, Hash: 1<<63 - 1, Attempt: 2, Error: "infobip: HTTP 500"},
		"+41790000003": {State: state.Sending, Hash: 1 << 63, Attempt: 2},
		"+41790000004": {State: state.Sending, Hash: 1<<63 + 12345, Attempt: 2},
		"+41790000005": {State: state.Sending, Hash: math.MaxUint64, Attempt: 2},
	}
	if len(got) != len(want) {
		t.Errorf("Records(%v) has %d records, want %d: %+v", r1, len(got), len(want), got)
	}
	for to, w := range want {
		g := got[to]
		// In flight: the time of MarkSending. Settled: no later than the Settle (see
		// TestSettleKeepsSendingAt for the exact time).
		latest := after
		if w.State != state.Sending {
			latest = settledAt
		}
		if g.SendingAt.Before(before) || g.SendingAt.After(latest) {
			t.Errorf("Records[%s].SendingAt = %v, want %v..%v", to, g.SendingAt, before, latest)
		}
		g.SendingAt = time.Time{}
		if g != w {
			t.Errorf("Records[%s] = %+v, want %+v", to, g, w)
		}
	}
	if recs := snap.Records(state.Round{Campaign: "none", Round: 1}); len(recs) != 0 {
		t.Errorf("unknown round has records %+v", recs)
	}
	if recs := snap.Records(state.Round{Campaign: "otp", Round: 2}); recs != nil {
		t.Errorf("a round not asked for is in the snapshot: %+v", recs)
	}
	r2 := snapshot(t, s, state.Round{Campaign: "otp", Round: 2}).Records(state.Round{Campaign: "otp", Round: 2})
	if len(r2) != 2 || r2["+41790000000"].State != state.Sending || r2["+41790000000"].Hash != 7 || r2["+41790000001"].State != state.Sent {
		t.Errorf("round otp/2 = %+v; want one in flight and one sent", r2)
	}

	// List shows the settled messages only.
	if m := list(t, s, state.Filter{Campaign: "otp"}); len(m) != 4 {
		t.Errorf("List(otp) has %d messages, want the 4 settled: %+v", len(m), m)
	}
	// The full row keeps the status and the sms count; 0 keeps the planned count.
	m := list(t, s, state.Filter{MessageID: msgs[0].MessageID})
	if len(m) != 1 || m[0].StatusGroup != 1 || m[0].StatusID != 26 || m[0].StatusName != "PENDING_ACCEPTED" || m[0].SmsCount != 2 ||
		m[0].BulkID != msgs[0].BulkID || m[0].CreatedAt == "" || m[0].UpdatedAt < m[0].CreatedAt {
		t.Errorf("List(messageId) = %+v", m)
	}
	m = list(t, s, state.Filter{MessageID: msgs[1].MessageID})
	if len(m) != 1 || m[0].SmsCount != 1 || m[0].StatusName != "REJECTED_DESTINATION" {
		t.Errorf("an outcome with SmsCount 0 changed the planned count: %+v", m)
	}
}

// testTrackingType: the tracking type is kept only for tracked messages, whether the batch
// is settled or turned unknown by MarkInterrupted (through the in-flight record).
func testTrackingType(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	for _, c := range []string{"settled", "interrupted"} {
		tracked := out(c, 1, "+41790000001", 0, 1)
		tracked.Tracked, tracked.TrackingType = true, "One_Time_Pin"
		untracked := out(c, 1, "+41790000002", 0, 1)
		untracked.TrackingType = "ignored without Tracked"
		b := mark(t, s, tracked, untracked)
		if c == "settled" {
			settle(t, s, b, state.Sent)
		} else if n, err := s.MarkInterrupted(ctx); n != 2 || err != nil {
			t.Fatalf("MarkInterrupted = %d, %v", n, err)
		}
		msgs := list(t, s, state.Filter{Campaign: c})
		if len(msgs) != 2 || msgs[0].TrackingType != "One_Time_Pin" || msgs[1].TrackingType != "" {
			t.Errorf("%s: tracking types: %+v", c, msgs)
		}
	}
}

// testRetryOverwritesInPlace: a failed message sent again (a new attempt) keeps its row, now
// with the new attempt's messageId and outcome; while the retry is in flight the row still
// shows the old attempt and the snapshot shows it sending.
func testRetryOverwritesInPlace(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	first := out("c", 1, "+41790000001", 0, 1)
	settleEach(t, s, mark(t, s, first), state.Outcome{MessageID: first.MessageID, State: state.Failed, StatusGroup: 5, StatusID: 52, Error: "rejected"})

	round := state.Round{Campaign: "c", Round: 1}
	firstAt := snapshot(t, s, round).Records(round)["+41790000001"].SendingAt
	time.Sleep(2 * time.Millisecond) // sending_at has millisecond resolution
	retry := out("c", 1, "+41790000001", 1, 2)
	b := mark(t, s, retry)
	if msgs := list(t, s, state.Filter{}); len(msgs) != 1 || msgs[0].MessageID != first.MessageID || msgs[0].State != state.Failed {
		t.Errorf("while the retry is in flight, List = %+v; want the failed first attempt", msgs)
	}
	rec := snapshot(t, s, round).Records(round)["+41790000001"]
	if !rec.SendingAt.After(firstAt) {
		t.Errorf("SendingAt %v not moved on from the first attempt's %v", rec.SendingAt, firstAt)
	}
	rec.SendingAt = time.Time{}
	if rec != (state.Record{State: state.Sending, Hash: 2, Attempt: 1}) {
		t.Errorf("record in flight = %+v", rec)
	}

	time.Sleep(2 * time.Millisecond) // so updated_at differs from created_at
	settle(t, s, b, state.Sent)
	msgs := list(t, s, state.Filter{})
	if len(msgs) != 1 {
		t.Fatalf("after two attempts for one key, %d rows: %+v", len(msgs), msgs)
	}
	m := msgs[0]
	if m.Attempt != 1 || m.MessageID != retry.MessageID || m.State != state.Sent || m.StatusGroup != 0 || m.StatusID != 0 || m.Error != "" {
		t.Errorf("overwritten row = %+v; want attempt 1, the new messageId, sent, status and error cleared", m)
	}
	if m.CreatedAt >= m.UpdatedAt {
		t.Errorf("created_at %s, updated_at %s: created_at must stay the first attempt's", m.CreatedAt, m.UpdatedAt)
	}
	rec = snapshot(t, s, round).Records(round)["+41790000001"]
	if !rec.SendingAt.After(firstAt) {
		t.Errorf("settled SendingAt %v not moved on from the first attempt's %v", rec.SendingAt, firstAt)
	}
	rec.SendingAt = time.Time{}
	if rec != (state.Record{State: state.Sent, Hash: 2, Attempt: 1}) {
		t.Errorf("record = %+v", rec)
	}
	// The old messageId no longer names anything.
	record(t, s, state.Outcome{MessageID: first.MessageID, State: state.Failed})
	if m := list(t, s, state.Filter{})[0]; m.State != state.Sent {
		t.Errorf("an outcome for the old messageId changed the row: %+v", m)
	}
}

// testForget: forgetting a batch leaves its messages as they were before it, whatever their
// state, records nothing for those never sent, and leaves other batches in flight.
func testForget(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	round := state.Round{Campaign: "c", Round: 1}
	states := []state.State{state.Sent, state.Failed, state.Unknown}
	var retries []state.Outgoing
	for i, st := range states {
		o := out("c", 1, fmt.Sprintf("+4179000000%d", i), 0, 1)
		settleEach(t, s, mark(t, s, o), state.Outcome{MessageID: o.MessageID, State: st, Error: string(st) + " before"})
		retries = append(retries, out("c", 1, o.To, 1, 2))
	}
	retries = append(retries, out("c", 1, "+41790000009", 0, 2)) // never sent before
	before := list(t, s, state.Filter{})
	mark(t, s, out("c", 1, "+41790000008", 0, 3))
	retry := mark(t, s, retries...)
	if recs := snapshot(t, s, round).Records(round); len(recs) != 5 || recs["+41790000001"].State != state.Sending || recs["+41790000001"].Attempt != 1 {
		t.Errorf("with the retry in flight the snapshot is %+v", recs)
	}
	if err := s.Forget(ctx, retry); err != nil {
		t.Fatal(err)
	}
	after := list(t, s, state.Filter{})
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("after Forget the rows are\n%+v\nwant them as before the retry\n%+v", after, before)
	}
	recs := snapshot(t, s, round).Records(round)
	for i, st := range states {
		to := fmt.Sprintf("+4179000000%d", i)
		if r := recs[to]; r.State != st || r.Attempt != 0 || r.Hash != 1 || r.Error != string(st)+" before" {
			t.Errorf("after Forget %s is %+v; want %s, attempt 0, as before", to, r, st)
		}
	}
	if r, ok := recs["+41790000009"]; ok {
		t.Errorf("a message forgotten on its first attempt is recorded: %+v", r)
	}
	if r := recs["+41790000008"]; r.State != state.Sending {
		t.Errorf("Forget of one batch touched another in flight: %+v", r)
	}
	if n := unresolved(t, s); n != 2 {
		t.Errorf("CountUnresolved = %d, want 2 (the unknown message and the other batch)", n)
	}
	// The forgotten batch is no longer in flight: MarkInterrupted only sees the other one.
	if n, err := s.MarkInterrupted(ctx); n != 1 || err != nil {
		t.Errorf("MarkInterrupted = %d, %v; want only the other batch", n, err)
	}
}

func testList(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	// Written out of order, to see the ordering.
	b := mark(t, s,
		out("promo", 1, "+41790000002", 0, 1),
		out("promo", 1, "+41790000001", 0, 1),
		out("otp", 2, "+41790000001", 0, 1),
		out("otp", 1, "+41790000003", 0, 1),
		out("otp", 1, "+41790000001", 0, 1),
	)
	settleEach(t, s, b,
		state.Outcome{MessageID: "promo-1-41790000002-0", State: state.Sent},
		state.Outcome{MessageID: "promo-1-41790000001-0", State: state.Sent},
		state.Outcome{MessageID: "otp-1-41790000003-0", State: state.Failed, Error: "nope"},
		state.Outcome{MessageID: "otp-2-41790000001-0", State: state.Unknown},
		state.Outcome{MessageID: "otp-1-41790000001-0", State: state.Sent},
	)
	// Messages in flight are not listed.
	mark(t, s, out("otp", 1, "+41790000002", 0, 1), out("promo", 1, "+41790000003", 0, 1))
	key := func(msgs []state.Message) []string {
		var ks []string
		for _, m := range msgs {
			ks = append(ks, fmt.Sprintf("%s/%d/%s/%s", m.Campaign, m.Round, m.To, m.State))
		}
		return ks
	}
	tests := []struct {
		name string
		f    state.Filter
		want []string
	}{
		{"all", state.Filter{}, []string{
			"otp/1/+41790000001/sent", "otp/1/+41790000003/failed", "otp/2/+41790000001/unknown",
			"promo/1/+41790000001/sent", "promo/1/+41790000002/sent",
		}},
		{"campaign", state.Filter{Campaign: "otp"}, []string{
			"otp/1/+41790000001/sent", "otp/1/+41790000003/failed", "otp/2/+41790000001/unknown",
		}},
		{"one state", state.Filter{States: []state.State{state.Sent}}, []string{
			"otp/1/+41790000001/sent", "promo/1/+41790000001/sent", "promo/1/+41790000002/sent",
		}},
		{"states", state.Filter{States: []state.State{state.Failed, state.Unknown}}, []string{
			"otp/1/+41790000003/failed", "otp/2/+41790000001/unknown",
		}},
		{"sending: in flight is not listed", state.Filter{States: []state.State{state.Sending}}, nil},
		{"messageId", state.Filter{MessageID: "otp-2-41790000001-0"}, []string{"otp/2/+41790000001/unknown"}},
		{"messageId in flight", state.Filter{MessageID: "otp-1-41790000002-0"}, nil},
		{"to", state.Filter{To: "+41790000001"}, []string{
			"otp/1/+41790000001/sent", "otp/2/+41790000001/unknown", "promo/1/+41790000001/sent",
		}},
		{"to, one in flight", state.Filter{To: "+41790000002"}, []string{"promo/1/+41790000002/sent"}},
		{"limit", state.Filter{Limit: 2}, []string{"otp/1/+41790000001/sent", "otp/1/+41790000003/failed"}},
		{"combined", state.Filter{Campaign: "otp", To: "+41790000001", States: []state.State{state.Unknown}, Limit: 10}, []string{
			"otp/2/+41790000001/unknown",
		}},
		{"none", state.Filter{Campaign: "nope"}, nil},
		{"injection is a value", state.Filter{Campaign: "x' OR '1'='1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := key(list(t, s, tt.f)); !slices.Equal(got, tt.want) {
				t.Errorf("List(%+v) =\n%q\nwant\n%q", tt.f, got, tt.want)
			}
		})
	}
	failed := list(t, s, state.Filter{States: []state.State{state.Failed}})
	if len(failed) != 1 || failed[0].Error != "nope" {
		t.Errorf("failed message: %+v", failed)
	}
}

func testCounts(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	counts, err := s.Counts(ctx)
	if err != nil || len(counts) != 0 {
		t.Fatalf("Counts of an empty state = %v, %v", counts, err)
	}
	var msgs []state.Outgoing
	for i := range 5 {
		msgs = append(msgs, out("a", 1, fmt.Sprintf("+4179000000%d", i), 0, 1))
	}
	msgs = append(msgs, out("a", 2, "+41790000000", 0, 1), out("b", 1, "+41790000000", 0, 1))
	settleEach(t, s, mark(t, s, msgs[0], msgs[1], msgs[2], msgs[3], msgs[6]),
		state.Outcome{MessageID: msgs[0].MessageID, State: state.Sent},
		state.Outcome{MessageID: msgs[1].MessageID, State: state.Sent},
		state.Outcome{MessageID: msgs[2].MessageID, State: state.Failed},
		state.Outcome{MessageID: msgs[3].MessageID, State: state.Unknown},
		state.Outcome{MessageID: msgs[6].MessageID, State: state.Sent},
	)
	mark(t, s, msgs[4], msgs[5]) // in flight: not counted
	counts, err = s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[state.Round]map[state.State]int{
		{Campaign: "a", Round: 1}: {state.Sent: 2, state.Failed: 1, state.Unknown: 1},
		{Campaign: "b", Round: 1}: {state.Sent: 1},
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("Counts = %v, want %v", counts, want)
	}
	// Once interrupted, they are counted as unknown.
	if n, err := s.MarkInterrupted(ctx); n != 2 || err != nil {
		t.Fatalf("MarkInterrupted = %d, %v", n, err)
	}
	counts, err = s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want[state.Round{Campaign: "a", Round: 1}][state.Unknown] = 2
	want[state.Round{Campaign: "a", Round: 2}] = map[state.State]int{state.Unknown: 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("Counts after MarkInterrupted = %v, want %v", counts, want)
	}
}

// testMarkSendingManyRows records 10,000 messages in one call and settles them in another:
// one transaction, one serial bump each.
func testMarkSendingManyRows(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	const n = 10_000
	msgs := make([]state.Outgoing, n)
	for i := range msgs {
		msgs[i] = out("big", 1, fmt.Sprintf("+4179%07d", i), 0, uint64(i)<<40)
	}
	// Out of key order: the batch comes back sorted.
	slices.Reverse(msgs)
	round := state.Round{Campaign: "big", Round: 1}
	before := version(t, s)
	b := mark(t, s, msgs...)
	if v := version(t, s); v.Serial != before.Serial+1 {
		t.Errorf("MarkSending of %d messages bumped the serial from %d to %d; want one transaction", n, before.Serial, v.Serial)
	}
	if len(b.Messages) != n || b.Messages[0].To != "+41790000000" || b.Messages[n-1].To != "+41790009999" {
		t.Fatalf("batch has %d messages, from %+v: want all, in key order", len(b.Messages), b.Messages[0])
	}
	if recs := snapshot(t, s, round).Records(round); len(recs) != n || recs["+41790009999"].State != state.Sending {
		t.Errorf("in flight, snapshot has %d records; last = %+v", len(recs), recs["+41790009999"])
	}
	if got := unresolved(t, s); got != n {
		t.Errorf("in flight, CountUnresolved = %d, want %d", got, n)
	}
	before = version(t, s)
	settle(t, s, b, state.Sent)
	if v := version(t, s); v.Serial != before.Serial+1 {
		t.Errorf("Settle of %d messages bumped the serial from %d to %d; want one transaction", n, before.Serial, v.Serial)
	}
	counts, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := counts[round][state.Sent]; got != n {
		t.Errorf("%d sent, want %d", got, n)
	}
	recs := snapshot(t, s, round).Records(round)
	if len(recs) != n || recs["+41790009999"].Hash != 9999<<40 || recs["+41790009999"].State != state.Sent {
		t.Errorf("snapshot has %d records; last = %+v", len(recs), recs["+41790009999"])
	}
	if got := unresolved(t, s); got != 0 {
		t.Errorf("settled, CountUnresolved = %d", got)
	}
}

// testSettleManySizes settles, in one call, batches whose campaign rounds come in runs of
// every awkward length (1, 63, 64, 65, 127, 200 messages), each message with its own
// outcome: every row must hold its own values, whatever statement wrote it.
func testSettleManySizes(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	sizes := []int{1, 63, 64, 65, 127, 200}
	var items []state.Settlement
	var rounds []state.Round
	for i, n := range sizes {
		var msgs []state.Outgoing
		for r := range 2 { // two rounds of one campaign in the same batch
			round := state.Round{Campaign: fmt.Sprintf("c%d", i), Round: r + 1}
			rounds = append(rounds, round)
			for j := range n {
				msgs = append(msgs, out(round.Campaign, round.Round, fmt.Sprintf("+4179%07d", j), j%3, uint64(i<<20|r<<16|j)))
			}
		}
		b := mark(t, s, msgs...)
		outs := make([]state.Outcome, len(b.Messages))
		for k, m := range b.Messages {
			outs[k] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED", SmsCount: 1 + k%4}
			if k%5 == 4 {
				outs[k] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Failed, StatusGroup: 5, StatusID: 51, StatusName: "REJECTED", Error: "refused " + m.MessageID}
			}
		}
		items = append(items, state.Settlement{Batch: b, Outcomes: outs})
	}
	if err := s.SettleMany(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	snap := snapshot(t, s, rounds...)
	total := 0
	for _, it := range items {
		for k, m := range it.Batch.Messages {
			total++
			rec, ok := snap.Records(state.Round{Campaign: m.Campaign, Round: m.Round})[m.To]
			o := it.Outcomes[k]
			if !ok || rec.Hash != m.Hash || rec.State != o.State || rec.Attempt != m.Attempt {
				t.Fatalf("%s: recorded %+v, want hash %d, state %s, attempt %d", m.MessageID, rec, m.Hash, o.State, m.Attempt)
			}
		}
	}
	msgs := list(t, s, state.Filter{})
	if len(msgs) != total {
		t.Fatalf("%d messages listed, want %d", len(msgs), total)
	}
	byID := map[string]state.Message{}
	for _, m := range msgs {
		byID[m.MessageID] = m
	}
	for _, it := range items {
		for k, m := range it.Batch.Messages {
			got, o := byID[m.MessageID], it.Outcomes[k]
			if got.Error != o.Error || got.StatusID != o.StatusID || (o.State == state.Sent && got.SmsCount != o.SmsCount) {
				t.Fatalf("%s: listed %+v, want outcome %+v", m.MessageID, got, o)
			}
		}
	}
}

// testMarkSendingRefusesUnsettleable: a batch the messages table would refuse is not
// recorded, so its request is never sent.
func testMarkSendingRefusesUnsettleable(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	for _, o := range []state.Outgoing{out("c", 0, "+41790000001", 0, 1), out("c", 1, "+41790000001", -1, 1), out("", 1, "+41790000001", 0, 1)} {
		if _, err := s.MarkSending(context.Background(), []state.Outgoing{o}); err == nil {
			t.Errorf("MarkSending(%+v) succeeded", o)
		}
	}
	if n := unresolved(t, s); n != 0 {
		t.Errorf("%d in flight", n)
	}
}

// testSettleAtomic checks that a Settle that fails half-way writes nothing and leaves the
// batch in flight.
func testSettleAtomic(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	round := state.Round{Campaign: "c", Round: 1}
	settle(t, s, mark(t, s, out("c", 1, "+41790000001", 0, 1)), state.Sent)
	// The CHECK on state fails on the batch's last message in key order, after the others
	// were written.
	clash := out("c", 1, "+41790000009", 0, 1)
	b := mark(t, s, clash, out("c", 1, "+41790000002", 0, 1), out("c", 1, "+41790000004", 0, 1))
	if b.Messages[2] != clash {
		t.Fatalf("the clash is not last: %+v", b.Messages)
	}
	before := version(t, s)
	outs := make([]state.Outcome, len(b.Messages))
	for i, m := range b.Messages {
		outs[i] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent}
	}
	outs[2].State = "bogus"
	err := s.SettleMany(context.Background(), []state.Settlement{{Batch: b, Outcomes: outs}})
	if err == nil {
		t.Fatal("Settle of a row breaking a CHECK succeeded")
	}
	if !strings.Contains(err.Error(), clash.MessageID) {
		t.Errorf("error %q does not name the messageId", err)
	}
	if msgs := list(t, s, state.Filter{}); len(msgs) != 1 {
		t.Errorf("a failed Settle left rows behind: %+v", msgs)
	}
	if v := version(t, s); v != before {
		t.Errorf("a failed Settle changed the version from %+v to %+v", before, v)
	}
	if recs := snapshot(t, s, round).Records(round); recs["+41790000002"].State != state.Sending || recs["+41790000004"].State != state.Sending {
		t.Errorf("after a failed Settle the batch is not in flight: %+v", recs)
	}
	if n := unresolved(t, s); n != 3 {
		t.Errorf("CountUnresolved = %d, want the batch's 3", n)
	}
}

// testSettleManyMeetsRecorded: settlements of new messages, then one whose second batch
// resends a message recorded before among new ones (a backend that inserts new messages
// fails there and must write the whole settlement again), then new messages again. Every
// row is written once, with its outcome; the retried one is overwritten in place.
func testSettleManyMeetsRecorded(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	round := state.Round{Campaign: "c", Round: 1}
	var first []state.Outgoing
	for i := range 70 {
		first = append(first, out("c", 1, fmt.Sprintf("+4179%07d", i), 0, 1))
	}
	b1 := mark(t, s, first...)
	settle(t, s, b1, state.Failed)
	was := list(t, s, state.Filter{})

	var second, third []state.Outgoing
	for i := range 100 {
		second = append(second, out("c", 1, fmt.Sprintf("+4178%07d", i), 0, 2))
		third = append(third, out("c", 1, fmt.Sprintf("+4177%07d", i), 0, 3))
	}
	retried := out("c", 1, "+41790000005", 1, 4)
	b2, b3 := mark(t, s, second...), mark(t, s, append(third, retried)...)
	var items []state.Settlement
	for _, b := range []*state.Batch{b2, b3} {
		outs := make([]state.Outcome, len(b.Messages))
		for i, m := range b.Messages {
			outs[i] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED", SmsCount: 2}
		}
		items = append(items, state.Settlement{Batch: b, Outcomes: outs})
	}
	before := version(t, s)
	if err := s.SettleMany(ctx, items); err != nil {
		t.Fatal(err)
	}
	if after := version(t, s); after.Serial != before.Serial+1 {
		t.Errorf("serial %d -> %d; want one write", before.Serial, after.Serial)
	}
	got := list(t, s, state.Filter{})
	if len(got) != 270 {
		t.Fatalf("%d rows; want 270", len(got))
	}
	CheckRetriedAmongNew(t, got, was, retried, "+4178", "+4177")
	if n := unresolved(t, s); n != 0 {
		t.Errorf("%d messages unresolved after their batches settled", n)
	}

	fourth := mark(t, s, out("c", 1, "+41760000001", 0, 5))
	settle(t, s, fourth, state.Sent)
	if r := snapshot(t, s, round).Records(round)["+41760000001"]; r.State != state.Sent {
		t.Errorf("a new message settled after the rewrite is %+v; want sent", r)
	}
	if batches, err := s.InFlight(ctx); err != nil || len(batches) != 0 {
		t.Errorf("in flight %+v (%v); want none", batches, err)
	}
}

// testSettleEmptyBatch: settling a batch of no messages removes it from those in flight, a
// change a saved plan must see.
func testSettleEmptyBatch(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	b := mark(t, s)
	before := version(t, s)
	if err := s.SettleMany(ctx, []state.Settlement{{Batch: b}}); err != nil {
		t.Fatal(err)
	}
	if after := version(t, s); after.Serial != before.Serial+1 {
		t.Errorf("serial %d -> %d; want one write", before.Serial, after.Serial)
	}
	if batches, err := s.InFlight(ctx); err != nil || len(batches) != 0 {
		t.Errorf("in flight %+v (%v); want none", batches, err)
	}
}

// CheckRetriedAmongNew checks the rows after a settlement that recorded new messages (their
// numbers begin with one of fresh) sent in 2 parts and still PENDING_ACCEPTED, and resent
// retried over its row in was, which keeps its created_at: every other row is still failed,
// as first settled.
func CheckRetriedAmongNew(t testing.TB, got, was []state.Message, retried state.Outgoing, fresh ...string) {
	t.Helper()
	for _, m := range got {
		switch {
		case m.To == retried.To:
			var old state.Message
			for _, w := range was {
				if w.To == m.To {
					old = w
				}
			}
			if m.Attempt != retried.Attempt || m.MessageID != retried.MessageID || m.State != state.Sent || m.Error != "" || m.SmsCount != 2 || m.CreatedAt != old.CreatedAt {
				t.Errorf("the retried message is %+v; want attempt %d, sent in 2 parts, its row's created_at %s", m, retried.Attempt, old.CreatedAt)
			}
		case slices.ContainsFunc(fresh, func(p string) bool { return strings.HasPrefix(m.To, p) }):
			if m.State != state.Sent || m.SmsCount != 2 || m.StatusName != "PENDING_ACCEPTED" {
				t.Errorf("%s is %+v; want sent in 2 parts", m.To, m)
			}
		default:
			if m.State != state.Failed || m.Attempt != 0 {
				t.Errorf("%s is %+v; want failed, as first settled", m.To, m)
			}
		}
	}
}
