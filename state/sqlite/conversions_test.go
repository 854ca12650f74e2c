package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// sfID is an smsform-style messageId: "sf-" and 32 hex digits.
func sfID(n int) string { return fmt.Sprintf("sf-%032x", n) }

// sent records a message as in flight and then sent, with tracking if trackingType is set.
func sent(t *testing.T, s *sqlite.Store, campaign string, round int, to, id, trackingType string) {
	t.Helper()
	o := state.Outgoing{Key: state.Key{Campaign: campaign, Round: round, To: to}, MessageID: id,
		BulkID: fmt.Sprintf("%s-r%d-bulk", campaign, round), Parts: 1, TrackingType: trackingType, Tracked: trackingType != ""}
	settleEach(t, s, mark(t, s, o), state.Outcome{Key: o.Key, MessageID: id, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED"})
}

// keyOfID finds the key of a recorded message by its messageId.
func keyOfID(t *testing.T, s *sqlite.Store, id string) state.Key {
	t.Helper()
	msgs := list(t, s, state.Filter{MessageID: id})
	if len(msgs) != 1 {
		t.Fatalf("%d messages with id %s", len(msgs), id)
	}
	return msgs[0].Key
}

func index(t *testing.T, s *sqlite.Store) *state.MessageIndex {
	t.Helper()
	x, err := s.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// conversionOf is the conversion state of a message in a fresh index, "" for none.
func conversionOf(t *testing.T, s *sqlite.Store, id string) state.ConversionState {
	t.Helper()
	x := index(t, s)
	i, ok := x.ByMessageID(id)
	if !ok {
		t.Fatalf("%s is not indexed", id)
	}
	return x.Get(i).Conversion
}

// rawDB opens the state file beside the store, to read what the Store has no reader for.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

type storedConversion struct {
	State, ProcessKey, Error, Source string
	SubmittedAt, UpdatedAt           string
}

func storedConversions(t *testing.T, db *sql.DB) map[string]storedConversion {
	t.Helper()
	rows, err := db.Query(`SELECT message_id, state, COALESCE(process_key, ''), COALESCE(error, ''), source, submitted_at, updated_at FROM conversions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]storedConversion{}
	for rows.Next() {
		var id string
		var c storedConversion
		if err := rows.Scan(&id, &c.State, &c.ProcessKey, &c.Error, &c.Source, &c.SubmittedAt, &c.UpdatedAt); err != nil {
			t.Fatal(err)
		}
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIndex(t *testing.T) {
	s, _ := open(t)
	sent(t, s, "otp", 1, "+41790000001", sfID(1), "One_Time_Pin")
	sent(t, s, "otp", 1, "+41790000002", sfID(2), "One_Time_Pin")
	sent(t, s, "news", 1, "+41790000001", sfID(3), "")
	// Rounds 10 and 2 of promo to the same number, written out of order: 10 is the latest.
	sent(t, s, "promo", 10, "+41790000001", sfID(10), "Promo")
	sent(t, s, "promo", 2, "+41790000001", sfID(4), "Promo")
	sent(t, s, "promo", 2, "+41790000002", sfID(5), "Promo")
	// Failed and unknown messages are indexed too, with their state.
	failed := state.Outgoing{Key: state.Key{Campaign: "otp", Round: 1, To: "+41790000003"}, MessageID: sfID(6), BulkID: "b", Tracked: true, TrackingType: "One_Time_Pin"}
	settleEach(t, s, mark(t, s, failed), state.Outcome{Key: failed.Key, MessageID: sfID(6), State: state.Failed, Error: "rejected"})
	// A messageId not in smsform's format.
	settle(t, s, mark(t, s, out("legacy", 1, "+41790000001", 0, 1)), state.Sent)
	// A message in flight is not recorded yet, so not indexed; convert opens the state with
	// MarkInterrupted, which records it as unknown.
	mark(t, s, state.Outgoing{Key: state.Key{Campaign: "otp", Round: 1, To: "+41790000004"}, MessageID: sfID(7), BulkID: "b"})
	if x := index(t, s); x.Len() != 8 {
		t.Errorf("with one message in flight, Len = %d, want 8", x.Len())
	} else if i, ok := x.ByMessageID(sfID(7)); ok {
		t.Errorf("a message in flight is indexed: %+v", x.Get(i))
	}
	if n, err := s.MarkInterrupted(context.Background()); n != 1 || err != nil {
		t.Fatalf("MarkInterrupted = %d, %v", n, err)
	}

	x := index(t, s)
	if x.Len() != 9 {
		t.Errorf("Len = %d, want 9", x.Len())
	}
	for _, tt := range []struct {
		id   string
		want state.Trackable
	}{
		{sfID(1), state.Trackable{Campaign: "otp", Round: 1, To: "+41790000001", MessageID: sfID(1), State: state.Sent, Tracked: true}},
		{sfID(3), state.Trackable{Campaign: "news", Round: 1, To: "+41790000001", MessageID: sfID(3), State: state.Sent}},
		{sfID(4), state.Trackable{Campaign: "promo", Round: 2, To: "+41790000001", MessageID: sfID(4), State: state.Sent, Tracked: true}},
		{sfID(6), state.Trackable{Campaign: "otp", Round: 1, To: "+41790000003", MessageID: sfID(6), State: state.Failed, Tracked: true}},
		{sfID(7), state.Trackable{Campaign: "otp", Round: 1, To: "+41790000004", MessageID: sfID(7), State: state.Unknown}},
	} {
		i, ok := x.ByMessageID(tt.id)
		if !ok {
			t.Errorf("ByMessageID(%s) not found", tt.id)
			continue
		}
		if got := x.Get(i); got != tt.want {
			t.Errorf("ByMessageID(%s) = %+v, want %+v", tt.id, got, tt.want)
		}
	}
	if i, ok := x.ByMessageID("legacy-1-41790000001-0"); !ok || x.Get(i).Campaign != "legacy" {
		t.Errorf("a recorded messageId not in smsform's form is not found: %d, %v", i, ok)
	}
	for _, id := range []string{
		sfID(99), // not recorded
		"sf-" + strings.Repeat("z", 32),
		"sf-" + strings.Repeat("0", 31),
		"sf-" + strings.Repeat("0", 33),
		strings.Repeat("0", 32),
		"",
	} {
		if i, ok := x.ByMessageID(id); ok {
			t.Errorf("ByMessageID(%q) = %d, true", id, i)
		}
	}

	byNumber := func(campaign, to string) string {
		i, ok := x.ByNumber(campaign, to)
		if !ok {
			return ""
		}
		return x.Get(i).MessageID
	}
	for _, tt := range []struct{ campaign, to, want string }{
		{"otp", "+41790000001", sfID(1)},
		{"news", "+41790000001", sfID(3)},
		{"promo", "+41790000001", sfID(10)}, // round 10, not 2
		{"promo", "+41790000002", sfID(5)},
		{"otp", "+41790000003", sfID(6)},
		{"legacy", "+41790000001", "legacy-1-41790000001-0"},
		{"otp", "+41790000009", ""},
		{"nosuch", "+41790000001", ""},
		{"otp", "41790000001", ""}, // E.164 only
	} {
		if got := byNumber(tt.campaign, tt.to); got != tt.want {
			t.Errorf("ByNumber(%s, %s) = %q, want %q", tt.campaign, tt.to, got, tt.want)
		}
	}
	for c, want := range map[string]bool{"otp": true, "news": true, "promo": true, "legacy": true, "nosuch": false, "": false} {
		if got := x.HasCampaign(c); got != want {
			t.Errorf("HasCampaign(%q) = %v", c, got)
		}
	}

	empty, _ := open(t)
	if x := index(t, empty); x.Len() != 0 || x.HasCampaign("otp") {
		t.Errorf("index of an empty state: %d messages", x.Len())
	}
}

func TestConversionLifecycle(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	db := rawDB(t, path)
	for i := 1; i <= 5; i++ {
		sent(t, s, "otp", 1, fmt.Sprintf("+4179000000%d", i), sfID(i), "One_Time_Pin")
	}
	if n, err := s.MarkConversionsInterrupted(ctx); n != 0 || err != nil {
		t.Errorf("MarkConversionsInterrupted on nothing = %d, %v", n, err)
	}
	v0 := version(t, s)
	cs := make([]state.Conversion, 5)
	for i := range cs {
		cs[i] = state.Conversion{MessageID: sfID(i + 1), Source: fmt.Sprintf("events.csv:%d", i+2)}
	}
	if err := s.MarkSubmitting(ctx, withKeys(t, s, cs...)); err != nil {
		t.Fatal(err)
	}
	if v := version(t, s); v.Serial != v0.Serial+1 {
		t.Errorf("serial %d after one write, was %d", v.Serial, v0.Serial)
	}
	got := storedConversions(t, db)
	if len(got) != 5 {
		t.Fatalf("stored %+v", got)
	}
	for i, c := range cs {
		g := got[c.MessageID]
		if g.State != "submitting" || g.Source != fmt.Sprintf("events.csv:%d", i+2) || g.SubmittedAt == "" || g.UpdatedAt == "" || g.ProcessKey != "" || g.Error != "" {
			t.Errorf("%s stored %+v", c.MessageID, g)
		}
		if st := conversionOf(t, s, c.MessageID); st != state.Submitting {
			t.Errorf("%s indexed as %q", c.MessageID, st)
		}
	}

	// Settle: 1 converted, 2 failed, 3 unknown; 4 and 5 did nothing.
	settled := []state.Conversion{
		{MessageID: sfID(1), State: state.Converted, ProcessKey: "PK1"},
		{MessageID: sfID(2), State: state.ConvFailed, Error: "not tracked (404)"},
		{MessageID: sfID(3), State: state.ConvUnknown, Error: "HTTP 500"},
	}
	if err := s.RecordConversions(ctx, withKeys(t, s, settled...)); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetConversions(ctx, withKeys(t, s, state.Conversion{MessageID: sfID(4)}, state.Conversion{MessageID: sfID(1)}, state.Conversion{MessageID: sfID(2)})); err != nil {
		t.Fatal(err)
	}
	got = storedConversions(t, db)
	want := map[string][3]string{
		sfID(1): {"converted", "PK1", ""},
		sfID(2): {"failed", "", "not tracked (404)"},
		sfID(3): {"unknown", "", "HTTP 500"},
		sfID(5): {"submitting", "", ""},
	}
	if len(got) != len(want) {
		t.Errorf("stored %+v; ForgetConversions removes only submitting ones", got)
	}
	for id, w := range want {
		g := got[id]
		if [3]string{g.State, g.ProcessKey, g.Error} != w || g.Source == "" {
			t.Errorf("%s stored %+v, want %v", id, g, w)
		}
	}
	for id, w := range map[string]state.ConversionState{sfID(1): state.Converted, sfID(2): state.ConvFailed,
		sfID(3): state.ConvUnknown, sfID(4): "", sfID(5): state.Submitting} {
		if st := conversionOf(t, s, id); st != w {
			t.Errorf("%s indexed as %q, want %q", id, st, w)
		}
	}

	// 5 was left submitting by a run that died: it becomes unknown, once.
	if n, err := s.MarkConversionsInterrupted(ctx); n != 1 || err != nil {
		t.Errorf("MarkConversionsInterrupted = %d, %v", n, err)
	}
	if g := storedConversions(t, db)[sfID(5)]; g.State != "unknown" || !strings.Contains(g.Error, "stopped") {
		t.Errorf("interrupted conversion stored %+v", g)
	}
	if g := storedConversions(t, db)[sfID(1)]; g.State != "converted" {
		t.Errorf("a converted one changed: %+v", g)
	}
	v1 := version(t, s)
	if n, err := s.MarkConversionsInterrupted(ctx); n != 0 || err != nil {
		t.Errorf("MarkConversionsInterrupted again = %d, %v", n, err)
	}
	if v := version(t, s); v != v1 {
		t.Errorf("a MarkConversionsInterrupted that found nothing wrote: serial %d -> %d", v1.Serial, v.Serial)
	}

	// 4 was forgotten: it can be marked again.
	if err := s.MarkSubmitting(ctx, withKeys(t, s, []state.Conversion{{MessageID: sfID(4), Source: "again.csv:2"}}...)); err != nil {
		t.Fatal(err)
	}
	if g := storedConversions(t, db)[sfID(4)]; g.State != "submitting" || g.Source != "again.csv:2" {
		t.Errorf("re-marked %+v", g)
	}
	if err := s.MarkSubmitting(ctx, nil); err != nil {
		t.Errorf("MarkSubmitting(nil): %v", err)
	}
}

func TestConversionsReferenceMessages(t *testing.T) {
	// The schema keeps no foreign key (it would need a unique index on messages.message_id,
	// which the state does without for speed); what the Store writes keeps to it anyway:
	// every conversion names a recorded message, at most one conversion per message.
	ctx := context.Background()
	s, path := open(t)
	db := rawDB(t, path)
	sent(t, s, "otp", 1, "+41790000001", sfID(1), "One_Time_Pin")
	sent(t, s, "otp", 1, "+41790000002", sfID(2), "One_Time_Pin")
	if err := s.MarkSubmitting(ctx, withKeys(t, s, []state.Conversion{{MessageID: sfID(1), Source: "e.csv:2"}, {MessageID: sfID(2), Source: "e.csv:3"}}...)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordConversions(ctx, withKeys(t, s, []state.Conversion{{MessageID: sfID(1), State: state.Converted, ProcessKey: "K"}}...)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.MarkConversionsInterrupted(ctx); n != 1 || err != nil {
		t.Fatalf("MarkConversionsInterrupted = %d, %v", n, err)
	}
	var orphans int
	if err := db.QueryRow(`SELECT COUNT(*) FROM conversions c WHERE NOT EXISTS
		(SELECT 1 FROM messages m WHERE m.message_id = c.message_id)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Errorf("%d conversions name no recorded message", orphans)
	}
	// At most one conversion per message: marking again replaces, never adds.
	if err := s.MarkSubmitting(ctx, withKeys(t, s, []state.Conversion{{MessageID: sfID(2), Source: "e.csv:9"}}...)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM conversions").Scan(&n); err != nil || n != 2 {
		t.Errorf("%d conversions rows, %v", n, err)
	}
}

func TestReportWithConversions(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	for i := 1; i <= 4; i++ {
		sent(t, s, "otp", 1, fmt.Sprintf("+4179000000%d", i), sfID(i), "One_Time_Pin")
	}
	sent(t, s, "news", 1, "+447911123456", sfID(10), "")
	if err := s.MarkSubmitting(ctx, withKeys(t, s, []state.Conversion{{MessageID: sfID(1), Source: "a"}, {MessageID: sfID(2), Source: "b"}, {MessageID: sfID(3), Source: "c"}}...)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordConversions(ctx, withKeys(t, s, []state.Conversion{{MessageID: sfID(1), State: state.Converted, ProcessKey: "K"},
		{MessageID: sfID(2), State: state.Converted, ProcessKey: "K"}, {MessageID: sfID(3), State: state.ConvFailed, Error: "x"}}...)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordDeliveries(ctx, []state.Delivery{
		{Key: keyOfID(t, s, sfID(1)), MessageID: sfID(1), StatusGroup: 3, StatusID: 5, StatusName: "DELIVERED_TO_HANDSET"},
		{Key: keyOfID(t, s, sfID(2)), MessageID: sfID(2), StatusGroup: 2, StatusID: 9, StatusName: "UNDELIVERABLE_NOT_DELIVERED"},
		{Key: keyOfID(t, s, sfID(3)), MessageID: sfID(3), StatusGroup: 4, StatusID: 15, StatusName: "EXPIRED_EXPIRED"},
		{Key: keyOfID(t, s, sfID(4)), MessageID: "sf-stale", StatusGroup: 3, StatusID: 5}, // another attempt's id: ignored
	}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Report(ctx, "", state.ByNone)
	if err != nil {
		t.Fatal(err)
	}
	want := []state.ReportRow{
		{Campaign: "news", Round: 1, Messages: 1, Sent: 1, SmsParts: 1},
		{Campaign: "otp", Round: 1, Messages: 4, Sent: 4, SentTracked: 4, Delivered: 1, Undelivered: 1, Expired: 1, Converted: 2, SmsParts: 4},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("report\n%+v\nwant\n%+v", rows, want)
	}
	rows, err = s.Report(ctx, "otp", state.ByType)
	if err != nil || len(rows) != 1 || rows[0].Group != "One_Time_Pin" || rows[0].Converted != 2 {
		t.Errorf("report of otp by type: %+v, %v", rows, err)
	}
	rows, err = s.Report(ctx, "", state.ByPrefix)
	if err != nil || len(rows) != 2 || rows[0].Group != "+4479" || rows[1].Group != "+4179" {
		t.Errorf("report by prefix: %+v, %v", rows, err)
	}
	if _, err := s.Report(ctx, "", "week"); err == nil {
		t.Error("Report by week succeeded")
	}
}

func TestReportSentWithoutStatus(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	o := out("otp", 1, "+41790000001", 0, 1)
	settle(t, s, mark(t, s, o), state.Sent)
	// Messages in flight are not reported.
	mark(t, s, out("otp", 1, "+41790000002", 0, 1))
	rows, err := s.Report(ctx, "", state.ByNone)
	if err != nil {
		t.Fatalf("Report: %v", err)
	}
	if len(rows) != 1 || rows[0].Sent != 1 || rows[0].Delivered != 0 {
		t.Errorf("report %+v", rows)
	}
}

// withKeys fills in the keys of conversions given by messageId, from the recorded messages.
func withKeys(t *testing.T, s *sqlite.Store, cs ...state.Conversion) []state.Conversion {
	t.Helper()
	out := make([]state.Conversion, len(cs))
	for i, c := range cs {
		msgs, err := s.List(context.Background(), state.Filter{MessageID: c.MessageID})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("message %s: %v, %d found", c.MessageID, err, len(msgs))
		}
		c.Key = msgs[0].Key
		out[i] = c
	}
	return out
}
