package sqlstore

import (
	"context"

	"github.com/smsform/smsform/state"
)

// Contents counts the rows of each table.
func (q *Queries) Contents(ctx context.Context) (state.Contents, error) {
	var c state.Contents
	rows, err := q.query(ctx, nil, `SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM conversions),
		(SELECT COUNT(*) FROM inflight), (SELECT COUNT(*) FROM opt_outs), (SELECT COUNT(*) FROM inbound),
		(SELECT COUNT(*) FROM test_sends), (SELECT COUNT(*) FROM experiments)`)
	err = scanOne(rows, err, &c.Messages, &c.Conversions, &c.InFlight, &c.OptOuts, &c.Replies, &c.TestSends, &c.Decisions)
	return c, err
}

// ExportMessages hands every message row to fn, in key order, state.CopyChunk at a time.
func (q *Queries) ExportMessages(ctx context.Context, fn func([]state.MessageRow) error) error {
	rows, err := q.query(ctx, nil, `SELECT campaign, round, destination, attempt, message_id, bulk_id, text_hash, state,
		status_group, status_id, status_name, sms_count, tracking_type, error, created_at, sending_at, updated_at, done_at,
		first_message_id, first_sending_at, resolution, resolved_by, resolved_at, variant, held, purpose, send_at, consent_at, consent_source
		FROM messages ORDER BY campaign COLLATE "C", round, destination COLLATE "C"`)
	return export(rows, err, fn, func(m *state.MessageRow) []any {
		return []any{&m.Campaign, &m.Round, &m.To, &m.Attempt, &m.MessageID, &m.BulkID, &m.Hash, &m.State,
			&m.StatusGroup, &m.StatusID, &m.StatusName, &m.SmsCount, &m.TrackingType, &m.Error, &m.CreatedAt, &m.SendingAt, &m.UpdatedAt, &m.DoneAt,
			&m.FirstMessageID, &m.FirstSendingAt, &m.Resolution, &m.ResolvedBy, &m.ResolvedAt, &m.Variant, &m.Held, &m.Purpose, &m.SendAt, &m.ConsentAt, &m.ConsentSource}
	})
}

// ExportConversions hands every conversion row to fn, in key order, state.CopyChunk at a
// time.
func (q *Queries) ExportConversions(ctx context.Context, fn func([]state.ConversionRow) error) error {
	rows, err := q.query(ctx, nil, `SELECT campaign, round, destination, message_id, state, process_key, error, source,
		submitted_at, updated_at FROM conversions ORDER BY campaign COLLATE "C", round, destination COLLATE "C"`)
	return export(rows, err, fn, func(c *state.ConversionRow) []any {
		return []any{&c.Campaign, &c.Round, &c.To, &c.MessageID, &c.State, &c.ProcessKey, &c.Error, &c.Source, &c.SubmittedAt, &c.UpdatedAt}
	})
}

// export hands every row of a read to fn, state.CopyChunk at a time, and closes rows; cols
// gives the destinations of a row's columns in v.
func export[T any](rows Rows, err error, fn func([]T) error, cols func(v *T) []any) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	var v T
	dest := cols(&v)
	chunks := state.NewChunks(fn)
	for rows.Next() {
		v = *new(T)
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := chunks.Add(v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := chunks.Flush(); err != nil {
		return err
	}
	return rows.Close()
}
