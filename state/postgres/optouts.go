package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/state"
)

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	return nullable(state.FormatTime(t))
}

// RecordReplies records one pull of inbound replies, and the opt-outs of those new to the
// state, in one durable transaction (see state.Store.RecordReplies).
func (s *Store) RecordReplies(ctx context.Context, replies []state.Reply) (state.ReplyCounts, error) {
	var n state.ReplyCounts
	err := s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		n = state.ReplyCounts{}
		at := state.FormatTime(time.Now())
		for _, r := range replies {
			tag, err := tx.Exec(ctx, `INSERT INTO inbound (message_id, sender, receiver, text, keyword, received_at, recorded_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`, r.MessageID, r.From, r.To, r.Text, r.Keyword, state.FormatTime(r.ReceivedAt), at)
			if err != nil {
				return 0, fmt.Errorf("record reply %s: %w", r.MessageID, err)
			}
			if tag.RowsAffected() == 0 {
				continue
			}
			n.Replies++
			if r.OptOut == nil {
				continue
			}
			ok, err := insertOptOut(ctx, tx, *r.OptOut, at)
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

func insertOptOut(ctx context.Context, tx pgx.Tx, o state.OptOut, at string) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO opt_outs (number, source, reply_id, added_by, reason, received_at, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`, o.Number, o.Source, nullable(o.ReplyID), nullable(o.AddedBy), nullable(o.Reason), state.FormatTime(o.ReceivedAt), at)
	if err != nil {
		return false, fmt.Errorf("record opt-out of %s: %w", o.Number, err)
	}
	return tag.RowsAffected() > 0, nil
}

// AddOptOut records an opt-out by hand, and reports false when the number already has one.
func (s *Store) AddOptOut(ctx context.Context, o state.OptOut) (bool, error) {
	var added bool
	err := s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		var err error
		added, err = insertOptOut(ctx, tx, o, state.FormatTime(time.Now()))
		if added {
			return 1, err
		}
		return 0, err
	})
	return added, err
}

// RemoveOptOut lifts a number's opt-out, keeping the row with who lifted it, when and
// why; it reports false when the number has none.
func (s *Store) RemoveOptOut(ctx context.Context, number, by, reason string, at time.Time) (bool, error) {
	var removed bool
	err := s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		tag, err := tx.Exec(ctx, `UPDATE opt_outs SET removed_by = $1, removed_at = $2, removed_reason = $3
			WHERE number = $4 AND removed_at IS NULL`, by, state.FormatTime(at), nullable(reason), number)
		removed = tag.RowsAffected() > 0
		return tag.RowsAffected(), err
	})
	return removed, err
}

// OptOuts lists the active opt-outs, or (all) every one ever recorded.
func (s *Store) OptOuts(ctx context.Context, all bool) ([]state.OptOut, error) {
	return readOptOuts(ctx, s.pool, all)
}

func readOptOuts(ctx context.Context, q queryer, all bool) ([]state.OptOut, error) {
	rows, err := q.Query(ctx, state.OptOutQuery(all))
	if err != nil {
		return nil, fmt.Errorf("read opt-outs: %w", err)
	}
	defer rows.Close()
	var out []state.OptOut
	for rows.Next() {
		o, err := state.ScanOptOut(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// RecordTestSend records a test send.
func (s *Store) RecordTestSend(ctx context.Context, ts state.TestSend) error {
	return s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		tag, err := tx.Exec(ctx, `INSERT INTO test_sends (message_id, destination, campaign, text, sent_by, sent_at, outcome)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, ts.MessageID, ts.To, ts.Campaign, ts.Text, ts.By, state.FormatTime(ts.At), ts.Outcome)
		return tag.RowsAffected(), err
	})
}

// TestSends lists the test sends, oldest first.
func (s *Store) TestSends(ctx context.Context) ([]state.TestSend, error) {
	rows, err := s.pool.Query(ctx, state.TestSendQuery)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []state.TestSend
	for rows.Next() {
		ts, err := state.ScanTestSend(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, ts)
	}
	return out, rows.Err()
}

// ExportSideTables reads the opt-outs (history included), replies and test sends.
func (s *Store) ExportSideTables(ctx context.Context) (state.SideTables, error) {
	var st state.SideTables
	var err error
	if st.OptOuts, err = s.OptOuts(ctx, true); err != nil {
		return st, err
	}
	if st.TestSends, err = s.TestSends(ctx); err != nil {
		return st, err
	}
	rows, err := s.pool.Query(ctx, state.ReplyQuery)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := state.ScanReply(rows.Scan)
		if err != nil {
			return st, err
		}
		st.Replies = append(st.Replies, r)
	}
	return st, rows.Err()
}

func importSideTables(ctx context.Context, tx pgx.Tx, st state.SideTables) (int64, error) {
	var n int64
	for _, o := range st.OptOuts {
		if _, err := tx.Exec(ctx, `INSERT INTO opt_outs (number, source, reply_id, added_by, reason, received_at, recorded_at,
			removed_by, removed_at, removed_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, o.Number, o.Source, nullable(o.ReplyID),
			nullable(o.AddedBy), nullable(o.Reason), state.FormatTime(o.ReceivedAt), state.FormatTime(o.RecordedAt), nullable(o.RemovedBy),
			nullTime(o.RemovedAt), nullable(o.RemovedReason)); err != nil {
			return n, fmt.Errorf("copy opt-out of %s: %w", o.Number, err)
		}
		n++
	}
	at := state.FormatTime(time.Now())
	for _, r := range st.Replies {
		if _, err := tx.Exec(ctx, `INSERT INTO inbound (message_id, sender, receiver, text, keyword, received_at, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.MessageID, r.From, r.To, r.Text, r.Keyword, state.FormatTime(r.ReceivedAt), at); err != nil {
			return n, fmt.Errorf("copy reply %s: %w", r.MessageID, err)
		}
		n++
	}
	for _, ts := range st.TestSends {
		if _, err := tx.Exec(ctx, `INSERT INTO test_sends (message_id, destination, campaign, text, sent_by, sent_at, outcome)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, ts.MessageID, ts.To, ts.Campaign, ts.Text, ts.By, state.FormatTime(ts.At), ts.Outcome); err != nil {
			return n, fmt.Errorf("copy test send %s: %w", ts.MessageID, err)
		}
		n++
	}
	return n, nil
}
