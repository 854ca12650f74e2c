package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// MessageRow is one row of the messages table as it is stored, every column, for copying a
// state between backends (`smsform state migrate`).
type MessageRow struct {
	Key
	Attempt      int
	MessageID    string
	BulkID       string
	Hash         int64
	State        State
	StatusGroup  *int64
	StatusID     *int64
	StatusName   *string
	SmsCount     int
	TrackingType *string
	Error        *string
	CreatedAt    string
	SendingAt    string
	UpdatedAt    string
	DoneAt       *string
	// What deciding an unknown outcome needs (migration 0003): the first attempt of the
	// current messageId, and a person's decision.
	FirstMessageID *string
	FirstSendingAt *string
	Resolution     *string
	ResolvedBy     *string
	ResolvedAt     *string
}

// ConversionRow is one row of the conversions table as it is stored.
type ConversionRow struct {
	Key
	MessageID   string
	State       ConversionState
	ProcessKey  *string
	Error       *string
	Source      string
	SubmittedAt string
	UpdatedAt   string
}

// Contents counts what a state holds, to refuse copying into a state that holds anything
// and to check a copy.
type Contents struct {
	Messages, Conversions, InFlight int
	OptOuts, Replies, TestSends     int
}

// Empty reports whether the state holds nothing.
func (c Contents) Empty() bool { return c == Contents{} }

// CopyChunk is how many rows an export hands over at a time and an import writes per
// statement: a million rows are never all in memory.
const CopyChunk = 5000

// Chunks hands rows to fn CopyChunk at a time, reusing one buffer: Add each row, then Flush
// the rest. Every backend's export uses it.
type Chunks[T any] struct {
	fn  func([]T) error
	buf []T
}

// NewChunks returns an empty Chunks that hands its rows to fn.
func NewChunks[T any](fn func([]T) error) *Chunks[T] {
	return &Chunks[T]{fn: fn, buf: make([]T, 0, CopyChunk)}
}

// Add appends v, handing the chunk to fn when it is full.
func (c *Chunks[T]) Add(v T) error {
	if c.buf = append(c.buf, v); len(c.buf) < CopyChunk {
		return nil
	}
	err := c.fn(c.buf)
	c.buf = c.buf[:0]
	return err
}

// Flush hands the rows not handed over yet to fn.
func (c *Chunks[T]) Flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	return c.fn(c.buf)
}

// Contents counts the rows of each table.
func (s *Store) Contents(ctx context.Context) (Contents, error) {
	var c Contents
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM conversions),
		(SELECT COUNT(*) FROM inflight), (SELECT COUNT(*) FROM opt_outs), (SELECT COUNT(*) FROM inbound),
		(SELECT COUNT(*) FROM test_sends)`).Scan(&c.Messages, &c.Conversions, &c.InFlight, &c.OptOuts, &c.Replies, &c.TestSends)
	return c, err
}

// ExportMessages hands every message row to fn, in key order, CopyChunk at a time.
func (s *Store) ExportMessages(ctx context.Context, fn func([]MessageRow) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT campaign, round, destination, attempt, message_id, bulk_id, text_hash, state,
		status_group, status_id, status_name, sms_count, tracking_type, error, created_at, sending_at, updated_at, done_at,
		first_message_id, first_sending_at, resolution, resolved_by, resolved_at
		FROM messages ORDER BY campaign, round, destination`)
	if err != nil {
		return err
	}
	defer rows.Close()
	chunks := NewChunks(fn)
	for rows.Next() {
		var m MessageRow
		var sg, si sql.NullInt64
		var sn, tt, e, done, fm, fs, res, rb, ra sql.NullString
		if err := rows.Scan(&m.Campaign, &m.Round, &m.To, &m.Attempt, &m.MessageID, &m.BulkID, &m.Hash, &m.State,
			&sg, &si, &sn, &m.SmsCount, &tt, &e, &m.CreatedAt, &m.SendingAt, &m.UpdatedAt, &done, &fm, &fs, &res, &rb, &ra); err != nil {
			return err
		}
		m.FirstMessageID, m.FirstSendingAt = ptr(fm.String, fm.Valid), ptr(fs.String, fs.Valid)
		m.Resolution, m.ResolvedBy, m.ResolvedAt = ptr(res.String, res.Valid), ptr(rb.String, rb.Valid), ptr(ra.String, ra.Valid)
		m.StatusGroup, m.StatusID = ptr(sg.Int64, sg.Valid), ptr(si.Int64, si.Valid)
		m.StatusName, m.TrackingType, m.Error, m.DoneAt = ptr(sn.String, sn.Valid), ptr(tt.String, tt.Valid), ptr(e.String, e.Valid), ptr(done.String, done.Valid)
		if err := chunks.Add(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return chunks.Flush()
}

// ExportConversions hands every conversion row to fn, in key order, CopyChunk at a time.
func (s *Store) ExportConversions(ctx context.Context, fn func([]ConversionRow) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT campaign, round, destination, message_id, state, process_key, error, source,
		submitted_at, updated_at FROM conversions ORDER BY campaign, round, destination`)
	if err != nil {
		return err
	}
	defer rows.Close()
	chunks := NewChunks(fn)
	for rows.Next() {
		var c ConversionRow
		var pk, e sql.NullString
		if err := rows.Scan(&c.Campaign, &c.Round, &c.To, &c.MessageID, &c.State, &pk, &e, &c.Source, &c.SubmittedAt, &c.UpdatedAt); err != nil {
			return err
		}
		c.ProcessKey, c.Error = ptr(pk.String, pk.Valid), ptr(e.String, e.Valid)
		if err := chunks.Add(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return chunks.Flush()
}

// InFlight lists the batches recorded as in flight.
func (s *Store) InFlight(ctx context.Context) ([]Batch, error) { return readInflight(ctx, s.db) }

// Import writes rows exported from another state, in one transaction: a copy is all or
// nothing.
func (s *Store) Import(ctx context.Context, export func(msgs func([]MessageRow) error, convs func([]ConversionRow) error) error, batches []Batch, side SideTables) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		msgStmt, err := tx.PrepareContext(ctx, `INSERT INTO messages (campaign, round, destination, attempt, message_id, bulk_id,
			text_hash, state, status_group, status_id, status_name, sms_count, tracking_type, error, created_at, sending_at,
			updated_at, done_at, first_message_id, first_sending_at, resolution, resolved_by, resolved_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer msgStmt.Close()
		convStmt, err := tx.PrepareContext(ctx, `INSERT INTO conversions (campaign, round, destination, message_id, state,
			process_key, error, source, submitted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer convStmt.Close()
		err = export(func(rows []MessageRow) error {
			for _, m := range rows {
				if _, err := msgStmt.ExecContext(ctx, m.Campaign, m.Round, m.To, m.Attempt, m.MessageID, m.BulkID, m.Hash, string(m.State),
					m.StatusGroup, m.StatusID, m.StatusName, m.SmsCount, m.TrackingType, m.Error, m.CreatedAt, m.SendingAt, m.UpdatedAt, m.DoneAt,
					m.FirstMessageID, m.FirstSendingAt, m.Resolution, m.ResolvedBy, m.ResolvedAt); err != nil {
					return fmt.Errorf("copy message %s: %w", m.MessageID, err)
				}
			}
			return nil
		}, func(rows []ConversionRow) error {
			for _, c := range rows {
				if _, err := convStmt.ExecContext(ctx, c.Campaign, c.Round, c.To, c.MessageID, string(c.State), c.ProcessKey, c.Error,
					c.Source, c.SubmittedAt, c.UpdatedAt); err != nil {
					return fmt.Errorf("copy conversion of %s: %w", c.MessageID, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, b := range batches {
			data, err := json.Marshal(b.Messages)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO inflight (created_at, messages) VALUES (?, ?)", FormatTime(b.CreatedAt), string(data)); err != nil {
				return err
			}
		}
		return importSideTables(ctx, tx, side)
	})
}

func ptr[T any](v T, ok bool) *T {
	if !ok {
		return nil
	}
	return &v
}
