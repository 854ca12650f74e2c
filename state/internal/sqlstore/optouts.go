package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/smsform/smsform/state"
)

const optOutColumns = `number, source, COALESCE(reply_id, ''), COALESCE(added_by, ''), COALESCE(reason, ''), received_at, recorded_at,
	COALESCE(removed_by, ''), COALESCE(removed_at, ''), COALESCE(removed_reason, '')`

// OptOuts lists the active opt-outs, or (all) every one ever recorded, in the order they
// were recorded.
func (q *Queries) OptOuts(ctx context.Context, all bool) ([]state.OptOut, error) {
	return q.optOuts(ctx, nil, all)
}

func (q *Queries) optOuts(ctx context.Context, db Querier, all bool) ([]state.OptOut, error) {
	query := "SELECT " + optOutColumns + " FROM opt_outs"
	if !all {
		query += " WHERE removed_at IS NULL"
	}
	var recv, rec, rem string
	rows, err := q.query(ctx, db, query+" ORDER BY id")
	list, err := scanAll(rows, err, func(o *state.OptOut) []any {
		return []any{&o.Number, &o.Source, &o.ReplyID, &o.AddedBy, &o.Reason, &recv, &rec, &o.RemovedBy, &rem, &o.RemovedReason}
	}, func(o *state.OptOut) error {
		o.ReceivedAt, o.RecordedAt, o.RemovedAt = state.ParseTime(recv), state.ParseTime(rec), state.ParseTime(rem)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read opt-outs: %w", err)
	}
	return list, nil
}

// TestSends lists the test sends, oldest first.
func (q *Queries) TestSends(ctx context.Context) ([]state.TestSend, error) {
	var at string
	rows, err := q.query(ctx, nil, `SELECT message_id, destination, campaign, text, sent_by, sent_at, outcome
		FROM test_sends ORDER BY sent_at COLLATE "C", message_id COLLATE "C"`)
	return scanAll(rows, err, func(ts *state.TestSend) []any {
		return []any{&ts.MessageID, &ts.To, &ts.Campaign, &ts.Text, &ts.By, &at, &ts.Outcome}
	}, func(ts *state.TestSend) error { ts.At = state.ParseTime(at); return nil })
}

// ExportSideTables reads the opt-outs (history included), replies and test sends.
func (q *Queries) ExportSideTables(ctx context.Context) (state.SideTables, error) {
	var st state.SideTables
	var err error
	if st.OptOuts, err = q.OptOuts(ctx, true); err != nil {
		return st, err
	}
	if st.TestSends, err = q.TestSends(ctx); err != nil {
		return st, err
	}
	if st.Decisions, err = q.Decisions(ctx, ""); err != nil {
		return st, err
	}
	var at string
	rows, err := q.query(ctx, nil, `SELECT message_id, sender, receiver, text, keyword, received_at
		FROM inbound ORDER BY received_at COLLATE "C", message_id COLLATE "C"`)
	st.Replies, err = scanAll(rows, err, func(r *state.Reply) []any {
		return []any{&r.MessageID, &r.From, &r.To, &r.Text, &r.Keyword, &at}
	}, func(r *state.Reply) error { r.ReceivedAt = state.ParseTime(at); return nil })
	return st, err
}

// RecordReplies records one pull of inbound replies, and the opt-outs of those new to the
// state, in one durable transaction: the API hands each reply out once, so they must be
// stored before the next pull.
func (q *Queries) RecordReplies(ctx context.Context, replies []state.Reply) (state.ReplyCounts, error) {
	var n state.ReplyCounts
	err := q.write(ctx, func(tx *sql.Tx) (int64, error) {
		n = state.ReplyCounts{}
		at := state.FormatTime(time.Now())
		for _, r := range replies {
			k, err := affected(tx.ExecContext(ctx, q.d.SQL(`INSERT INTO inbound (message_id, sender, receiver, text, keyword, received_at, recorded_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`), r.MessageID, r.From, r.To, r.Text, r.Keyword, state.FormatTime(r.ReceivedAt), at))
			if err != nil {
				return 0, fmt.Errorf("record reply %s: %w", r.MessageID, err)
			}
			if k == 0 {
				continue
			}
			n.Replies++
			if r.OptOut == nil {
				continue
			}
			ok, err := q.insertOptOut(ctx, tx, *r.OptOut, at)
			if err != nil {
				return 0, err
			}
			if ok {
				n.OptOuts++
			}
		}
		return int64(n.Replies), nil
	})
	return n, err
}

func (q *Queries) insertOptOut(ctx context.Context, tx *sql.Tx, o state.OptOut, at string) (bool, error) {
	k, err := affected(tx.ExecContext(ctx, q.d.SQL(`INSERT INTO opt_outs (number, source, reply_id, added_by, reason, received_at, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`), o.Number, o.Source, Null(o.ReplyID), Null(o.AddedBy), Null(o.Reason), state.FormatTime(o.ReceivedAt), at))
	if err != nil {
		return false, fmt.Errorf("record opt-out of %s: %w", o.Number, err)
	}
	return k > 0, nil
}

// AddOptOut records an opt-out by hand, and reports false when the number already has one.
func (q *Queries) AddOptOut(ctx context.Context, o state.OptOut) (bool, error) {
	var added bool
	err := q.write(ctx, func(tx *sql.Tx) (int64, error) {
		var err error
		added, err = q.insertOptOut(ctx, tx, o, state.FormatTime(time.Now()))
		if added {
			return 1, err
		}
		return 0, err
	})
	return added, err
}

// RemoveOptOut lifts a number's opt-out, keeping the row with who lifted it, when and
// why; it reports false when the number has none.
func (q *Queries) RemoveOptOut(ctx context.Context, number, by, reason string, at time.Time) (bool, error) {
	var n int64
	err := q.write(ctx, func(tx *sql.Tx) (int64, error) {
		var err error
		n, err = affected(tx.ExecContext(ctx, q.d.SQL(`UPDATE opt_outs SET removed_by = ?, removed_at = ?, removed_reason = ?
			WHERE number = ? AND removed_at IS NULL`), by, state.FormatTime(at), Null(reason), number))
		return n, err
	})
	return n > 0, err
}

// RecordTestSend records a test send.
func (q *Queries) RecordTestSend(ctx context.Context, ts state.TestSend) error {
	return q.write(ctx, func(tx *sql.Tx) (int64, error) {
		return affected(tx.ExecContext(ctx, q.d.SQL(`INSERT INTO test_sends (message_id, destination, campaign, text, sent_by, sent_at, outcome)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), ts.MessageID, ts.To, ts.Campaign, ts.Text, ts.By, state.FormatTime(ts.At), ts.Outcome))
	})
}

// ImportSideTables writes side tables copied from another state, recorded times kept, in
// tx: a backend's Import without a faster way (COPY) of its own.
func (q *Queries) ImportSideTables(ctx context.Context, tx *sql.Tx, st state.SideTables) error {
	for _, o := range st.OptOuts {
		var removedAt any
		if o.Removed() {
			removedAt = state.FormatTime(o.RemovedAt)
		}
		if _, err := tx.ExecContext(ctx, q.d.SQL(`INSERT INTO opt_outs (number, source, reply_id, added_by, reason, received_at, recorded_at,
			removed_by, removed_at, removed_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), o.Number, o.Source, Null(o.ReplyID),
			Null(o.AddedBy), Null(o.Reason), state.FormatTime(o.ReceivedAt), state.FormatTime(o.RecordedAt), Null(o.RemovedBy),
			removedAt, Null(o.RemovedReason)); err != nil {
			return fmt.Errorf("copy opt-out of %s: %w", o.Number, err)
		}
	}
	at := state.FormatTime(time.Now())
	for _, r := range st.Replies {
		if _, err := tx.ExecContext(ctx, q.d.SQL(`INSERT INTO inbound (message_id, sender, receiver, text, keyword, received_at, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), r.MessageID, r.From, r.To, r.Text, r.Keyword, state.FormatTime(r.ReceivedAt), at); err != nil {
			return fmt.Errorf("copy reply %s: %w", r.MessageID, err)
		}
	}
	for _, ts := range st.TestSends {
		if _, err := tx.ExecContext(ctx, q.d.SQL(`INSERT INTO test_sends (message_id, destination, campaign, text, sent_by, sent_at, outcome)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), ts.MessageID, ts.To, ts.Campaign, ts.Text, ts.By, state.FormatTime(ts.At), ts.Outcome); err != nil {
			return fmt.Errorf("copy test send %s: %w", ts.MessageID, err)
		}
	}
	for _, d := range st.Decisions {
		if _, err := q.insertDecision(ctx, tx, d); err != nil {
			return fmt.Errorf("copy the decision of %s round %d: %w", d.Campaign, d.Round.Round, err)
		}
	}
	return nil
}
