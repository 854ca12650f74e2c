package statetest

import (
	"context"
	"testing"
	"time"

	"github.com/smsform/smsform/state"
)

// RunPolicy runs the conformance tests of the contact policy (migration 0006): capped
// messages, the marketing messages frequency caps count, the consent evidence.
func RunPolicy(t *testing.T, open func(testing.TB) state.Store) {
	t.Run("RecordCappedSnapshotListReport", func(t *testing.T) { testRecordCapped(t, open) })
	t.Run("Contacts", func(t *testing.T) { testContacts(t, open) })
	t.Run("ConsentRecorded", func(t *testing.T) { testConsentRecorded(t, open) })
}

// testRecordCapped: capped messages are recorded with their reason, read back capped by
// Snapshot and List, bump the serial, overwrite a failed message retried, and are no
// message of the report.
func testRecordCapped(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	ctx := context.Background()
	failed := out("c", 1, "+41790000002", 0, 7)
	settle(t, s, mark(t, s, failed), state.Failed)
	sent := out("c", 1, "+41790000003", 0, 7)
	settle(t, s, mark(t, s, sent), state.Sent)
	before := version(t, s)
	capped := out("c", 1, "+41790000001", 0, 7)
	capped.Purpose = state.Marketing
	retried := out("c", 1, "+41790000002", 1, 7)
	if err := s.RecordCapped(ctx, []state.Outgoing{retried, capped}, []string{"why 2", "why 1"}); err != nil {
		t.Fatal(err)
	}
	if v := version(t, s); v.Serial <= before.Serial {
		t.Errorf("serial %d after recording capped messages, was %d", v.Serial, before.Serial)
	}
	recs := snapshot(t, s, state.Round{Campaign: "c", Round: 1}).Records(state.Round{Campaign: "c", Round: 1})
	for to, why := range map[string]string{"+41790000001": "why 1", "+41790000002": "why 2"} {
		if r := recs[to]; r.State != state.Capped || r.Error != why {
			t.Errorf("%s recorded %+v, want capped: %s", to, r, why)
		}
	}
	if r := recs["+41790000002"]; r.Attempt != 1 {
		t.Errorf("the retried message keeps attempt %d, want 1", r.Attempt)
	}
	msgs := list(t, s, state.Filter{States: []state.State{state.Capped}})
	if len(msgs) != 2 || msgs[0].To != "+41790000001" || msgs[0].Error != "why 1" || msgs[0].Purpose != state.Marketing {
		t.Errorf("capped listed: %+v", msgs)
	}
	rows, err := s.Report(ctx, "c", state.ByNone)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Messages != 1 || rows[0].Sent != 1 {
		t.Errorf("report counts capped messages: %+v", rows)
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := counts[state.Round{Campaign: "c", Round: 1}][state.Capped]; n != 2 {
		t.Errorf("counts: %d capped, want 2", n)
	}
}

// testContacts: Contacts lists, by number and time, the marketing messages recorded sent,
// sending or unknown after since, at their scheduled time when they had one, and those of
// batches in flight; not failed, capped or transactional ones.
func testContacts(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	ctx := context.Background()
	const to = "+41790000001"
	mk := func(campaign, purpose, sendAt string) state.Outgoing {
		o := out(campaign, 1, to, 0, 1)
		o.Purpose, o.SendAt = purpose, sendAt
		return o
	}
	scheduled := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Millisecond)
	settle(t, s, mark(t, s, mk("sent", state.Marketing, "")), state.Sent)
	settle(t, s, mark(t, s, mk("old", "", "")), state.Unknown) // recorded before purposes were: marketing
	settle(t, s, mark(t, s, mk("later", state.Marketing, state.FormatTime(scheduled))), state.Sent)
	settle(t, s, mark(t, s, mk("otp", state.Transactional, "")), state.Sent)
	settle(t, s, mark(t, s, mk("failed", state.Marketing, "")), state.Failed)
	if err := s.RecordCapped(ctx, []state.Outgoing{mk("capped", state.Marketing, "")}, []string{"over"}); err != nil {
		t.Fatal(err)
	}
	mark(t, s, mk("flight", state.Marketing, "")) // in flight

	since := time.Now().Add(-time.Hour)
	c, err := s.Contacts(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Time{}
	for _, x := range c.Of(to) {
		got[x.Campaign] = x.At
	}
	for _, want := range []string{"sent", "old", "later", "flight"} {
		if _, ok := got[want]; !ok {
			t.Errorf("Contacts has no message of %s: %v", want, got)
		}
	}
	for _, not := range []string{"otp", "failed", "capped"} {
		if _, ok := got[not]; ok {
			t.Errorf("Contacts counts the message of %s", not)
		}
	}
	if !got["later"].Equal(scheduled) {
		t.Errorf("a scheduled message counts at %s, want its send time %s", got["later"], scheduled)
	}
	if c.Len() != 4 || c.Of("+41790000009") != nil {
		t.Errorf("Contacts holds %d messages", c.Len())
	}
	// Nothing after a time to come.
	if c, err := s.Contacts(ctx, scheduled); err != nil || c.Len() != 0 {
		t.Errorf("Contacts after the last one: %d, %v", c.Len(), err)
	}
}

// testConsentRecorded: the purpose, scheduled time and consent evidence given with a
// message are recorded with it and listed.
func testConsentRecorded(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	o := out("promo", 1, "+41790000001", 0, 1)
	o.Purpose, o.ConsentAt, o.ConsentSource = state.Marketing, "2026-03-01T00:00:00.000Z", "web form"
	o.SendAt = "2026-12-24T09:00:00.000Z"
	settle(t, s, mark(t, s, o), state.Sent)
	msgs := list(t, s, state.Filter{Campaign: "promo"})
	if len(msgs) != 1 {
		t.Fatalf("%d messages listed", len(msgs))
	}
	m := msgs[0]
	if m.Purpose != state.Marketing || m.ConsentAt != o.ConsentAt || m.ConsentSource != "web form" || m.SendAt != o.SendAt {
		t.Errorf("recorded %+v", m)
	}
	// A message in flight is listed with its evidence too.
	o2 := out("promo", 1, "+41790000002", 0, 1)
	o2.ConsentAt, o2.ConsentSource = "2026-03-02T00:00:00.000Z", "shop"
	mark(t, s, o2)
	msgs = list(t, s, state.Filter{To: "+41790000002", InFlight: true})
	if len(msgs) != 1 || msgs[0].ConsentSource != "shop" || msgs[0].State != state.Sending {
		t.Errorf("in flight: %+v", msgs)
	}
}
