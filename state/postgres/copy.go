package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/state"
)

// Contents counts the rows of each table.
func (s *Store) Contents(ctx context.Context) (state.Contents, error) {
	var c state.Contents
	err := s.pool.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM conversions),
		(SELECT COUNT(*) FROM inflight), (SELECT COUNT(*) FROM opt_outs), (SELECT COUNT(*) FROM inbound),
		(SELECT COUNT(*) FROM test_sends)`).Scan(&c.Messages, &c.Conversions, &c.InFlight, &c.OptOuts, &c.Replies, &c.TestSends)
	return c, err
}

// ExportMessages hands every message row to fn, in key order, state.CopyChunk at a time.
func (s *Store) ExportMessages(ctx context.Context, fn func([]state.MessageRow) error) error {
	rows, err := s.pool.Query(ctx, `SELECT campaign, round, destination, attempt, message_id, bulk_id, text_hash, state,
		status_group, status_id, status_name, sms_count, tracking_type, error, created_at, sending_at, updated_at, done_at,
		first_message_id, first_sending_at, resolution, resolved_by, resolved_at
		FROM messages ORDER BY campaign COLLATE "C", round, destination COLLATE "C"`)
	if err != nil {
		return err
	}
	defer rows.Close()
	chunks := state.NewChunks(fn)
	for rows.Next() {
		var m state.MessageRow
		var st string
		if err := rows.Scan(&m.Campaign, &m.Round, &m.To, &m.Attempt, &m.MessageID, &m.BulkID, &m.Hash, &st,
			&m.StatusGroup, &m.StatusID, &m.StatusName, &m.SmsCount, &m.TrackingType, &m.Error, &m.CreatedAt, &m.SendingAt, &m.UpdatedAt, &m.DoneAt,
			&m.FirstMessageID, &m.FirstSendingAt, &m.Resolution, &m.ResolvedBy, &m.ResolvedAt); err != nil {
			return err
		}
		m.State = state.State(st)
		if err := chunks.Add(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return chunks.Flush()
}

// ExportConversions hands every conversion row to fn, in key order, state.CopyChunk at a
// time.
func (s *Store) ExportConversions(ctx context.Context, fn func([]state.ConversionRow) error) error {
	rows, err := s.pool.Query(ctx, `SELECT campaign, round, destination, message_id, state, process_key, error, source,
		submitted_at, updated_at FROM conversions ORDER BY campaign COLLATE "C", round, destination COLLATE "C"`)
	if err != nil {
		return err
	}
	defer rows.Close()
	chunks := state.NewChunks(fn)
	for rows.Next() {
		var c state.ConversionRow
		var st string
		if err := rows.Scan(&c.Campaign, &c.Round, &c.To, &c.MessageID, &st, &c.ProcessKey, &c.Error, &c.Source, &c.SubmittedAt, &c.UpdatedAt); err != nil {
			return err
		}
		c.State = state.ConversionState(st)
		if err := chunks.Add(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return chunks.Flush()
}

// Import writes rows exported from another state in one transaction (all or nothing),
// through COPY: the fastest way into PostgreSQL.
func (s *Store) Import(ctx context.Context, export func(msgs func([]state.MessageRow) error, convs func([]state.ConversionRow) error) error, batches []state.Batch, side state.SideTables) error {
	return s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		var n int64
		err := export(func(rows []state.MessageRow) error {
			c, err := tx.CopyFrom(ctx, pgx.Identifier{"messages"}, []string{"campaign", "round", "destination", "attempt", "message_id", "bulk_id",
				"text_hash", "state", "status_group", "status_id", "status_name", "sms_count", "tracking_type", "error", "created_at", "sending_at",
				"updated_at", "done_at", "first_message_id", "first_sending_at", "resolution", "resolved_by", "resolved_at"}, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				m := rows[i]
				return []any{m.Campaign, int32(m.Round), m.To, int32(m.Attempt), m.MessageID, m.BulkID, m.Hash, string(m.State),
					m.StatusGroup, m.StatusID, m.StatusName, int32(m.SmsCount), m.TrackingType, m.Error, m.CreatedAt, m.SendingAt, m.UpdatedAt, m.DoneAt,
					m.FirstMessageID, m.FirstSendingAt, m.Resolution, m.ResolvedBy, m.ResolvedAt}, nil
			}))
			n += c
			if err != nil {
				return fmt.Errorf("copy messages: %w", err)
			}
			return nil
		}, func(rows []state.ConversionRow) error {
			c, err := tx.CopyFrom(ctx, pgx.Identifier{"conversions"}, []string{"campaign", "round", "destination", "message_id", "state",
				"process_key", "error", "source", "submitted_at", "updated_at"}, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				c := rows[i]
				return []any{c.Campaign, int32(c.Round), c.To, c.MessageID, string(c.State), c.ProcessKey, c.Error, c.Source, c.SubmittedAt, c.UpdatedAt}, nil
			}))
			n += c
			if err != nil {
				return fmt.Errorf("copy conversions: %w", err)
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		for _, b := range batches {
			data, err := json.Marshal(b.Messages)
			if err != nil {
				return 0, err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO inflight (created_at, messages) VALUES ($1, $2)", state.FormatTime(b.CreatedAt), string(data)); err != nil {
				return 0, err
			}
			n++
		}
		k, err := importSideTables(ctx, tx, side)
		return n + k, err
	})
}
