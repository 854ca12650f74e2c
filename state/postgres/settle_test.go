package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/postgres"
)

// TestCopyWritesWhatUpsertWrites: new messages copied in (a store's first settlement)
// have every column the upserts write, whatever the message and its outcome carry.
func TestCopyWritesWhatUpsertWrites(t *testing.T) {
	ctx := context.Background()
	var msgs []state.Outgoing
	var outs []state.Outcome
	for i := range 12 {
		m := state.Outgoing{Key: state.Key{Campaign: "c", Round: 1 + i%2, To: fmt.Sprintf("+4179%07d", i)}, Attempt: i % 3,
			MessageID: fmt.Sprintf("m%d", i), BulkID: "bulk", Hash: uint64(1)<<63 + uint64(i), Parts: 1 + i%3}
		if i%2 == 0 {
			m.Tracked, m.TrackingType = true, "PIN"
		}
		if i%3 == 0 {
			m.Variant, m.Held = "b", i%2 == 0
		}
		if i%4 == 1 {
			m.Purpose, m.SendAt, m.ConsentAt, m.ConsentSource = "transactional", "2026-12-07T10:00:00.000Z", "2026-01-02T03:04:05.000Z", "web form"
		}
		if i == 7 {
			m.Tracked, m.TrackingType = true, "" // tracked, of no type: not NULL
		}
		o := state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED", SmsCount: i % 2 * 4}
		switch i % 5 {
		case 4:
			o = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Failed, StatusGroup: 5, StatusID: 51, Error: "refused"}
		case 3:
			o = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Unknown} // no status: NULLs
		}
		msgs, outs = append(msgs, m), append(outs, o)
	}
	rows := func(upserts bool) []string {
		s, url := newState(t)
		if upserts {
			postgres.UseUpserts(s)
		}
		b, err := s.MarkSending(ctx, msgs)
		if err != nil {
			t.Fatal(err)
		}
		ordered := make([]state.Outcome, len(outs))
		for i, m := range b.Messages {
			for _, o := range outs {
				if o.Key == m.Key {
					ordered[i] = o
				}
			}
		}
		if err := s.SettleMany(ctx, []state.Settlement{{Batch: b, Outcomes: ordered}}); err != nil {
			t.Fatal(err)
		}
		if postgres.Rewrites(s) != upserts {
			t.Fatalf("settling new messages turned the store to upserts")
		}
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		// The times are the run's: created_at and updated_at the same, sending_at the batch's.
		r, err := conn.Query(ctx, `SELECT (to_jsonb(m) - 'created_at' - 'updated_at' - 'sending_at')::text,
			created_at = updated_at AND sending_at = $1 FROM messages m ORDER BY campaign, round, destination`,
			state.FormatTime(b.CreatedAt))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for r.Next() {
			var row string
			var timesOK bool
			if err := r.Scan(&row, &timesOK); err != nil {
				t.Fatal(err)
			}
			if !timesOK {
				t.Errorf("row %s: created_at, updated_at or sending_at wrong", row)
			}
			got = append(got, row)
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	copied, upserted := rows(false), rows(true)
	if len(copied) != len(msgs) || len(upserted) != len(msgs) {
		t.Fatalf("%d rows copied, %d upserted; want %d", len(copied), len(upserted), len(msgs))
	}
	for i := range copied {
		if copied[i] != upserted[i] {
			t.Errorf("row %d copied:\n  %s\nupserted:\n  %s", i, copied[i], upserted[i])
		}
	}
}

// TestCopyColumnsAreUpsertColumns: the copy and the upserts write the same columns, in the
// same order, so that the row TestCopyWritesWhatUpsertWrites compares is all of them.
func TestCopyColumnsAreUpsertColumns(t *testing.T) {
	upserted, copied := postgres.Columns()
	if !slices.Equal(upserted, copied) {
		t.Errorf("upsertSQL inserts %v;\nthe copy writes %v", upserted, copied)
	}
}

// TestCopyThenUpserts: a store copies new messages in until a settlement meets a message
// recorded before, and upserts from then on.
func TestCopyThenUpserts(t *testing.T) {
	ctx := context.Background()
	s, _ := newState(t)
	settle := func(m state.Outgoing) {
		t.Helper()
		b, err := s.MarkSending(ctx, []state.Outgoing{m})
		if err != nil {
			t.Fatal(err)
		}
		o := state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent}
		if err := s.SettleMany(ctx, []state.Settlement{{Batch: b, Outcomes: []state.Outcome{o}}}); err != nil {
			t.Fatal(err)
		}
	}
	first := state.Outgoing{Key: state.Key{Campaign: "c", Round: 1, To: "+41790000001"}, MessageID: "m1", BulkID: "b"}
	settle(first)
	if postgres.Rewrites(s) {
		t.Fatal("a settlement of a new message turned the store to upserts")
	}
	retry := first
	retry.Attempt, retry.MessageID = 1, "m1-1"
	settle(retry)
	if !postgres.Rewrites(s) {
		t.Error("a settlement meeting a recorded message left the store copying")
	}
}
