package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Reply is one inbound SMS a subscriber sent to the account's number, as the API handed it
// out (once).
type Reply struct {
	MessageID  string
	From       string // E.164, with '+'
	To         string
	Text       string
	Keyword    string
	ReceivedAt time.Time
	// OptOut, when set, is the opt-out the reply asks for: recorded only when the reply
	// itself is new, so a reply seen twice opts out once.
	OptOut *OptOut
}

// OptOut is a number that asked for no more marketing texts. A removed one stays, with who
// removed it and when, as history.
type OptOut struct {
	Number        string    `json:"number"`
	Source        string    `json:"source"`
	ReplyID       string    `json:"reply_id,omitempty"`
	AddedBy       string    `json:"added_by,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	ReceivedAt    time.Time `json:"since"`
	RecordedAt    time.Time `json:"recorded_at"`
	RemovedBy     string    `json:"removed_by,omitempty"`
	RemovedAt     time.Time `json:"removed_at,omitzero"`
	RemovedReason string    `json:"removed_reason,omitempty"`
}

// Removed reports whether the opt-out was lifted.
func (o OptOut) Removed() bool { return !o.RemovedAt.IsZero() }

// ReplyCounts says what recording a pull of replies added: replies new to the state and
// the opt-outs they made.
type ReplyCounts struct {
	Replies int `json:"replies"`
	OptOuts int `json:"opt_outs"`
}

// TestSend is one message `smsform test-send` sent: apart from the campaigns' messages.
type TestSend struct {
	MessageID string    `json:"message_id"`
	To        string    `json:"to"`
	Campaign  string    `json:"campaign"`
	Text      string    `json:"text"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	Outcome   string    `json:"outcome"`
}

// SideTables is what a state holds beside messages and conversions, copied whole by
// `smsform state migrate`: opt-outs (history included, in the order recorded), inbound
// replies and test sends. They are small next to the messages.
type SideTables struct {
	OptOuts   []OptOut
	Replies   []Reply
	TestSends []TestSend
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return FormatTime(t)
}

// RecordReplies records one pull of inbound replies, and the opt-outs of those new to the
// state, in one durable transaction: the API hands each reply out once, so they must be
// stored before the next pull.
func (s *Store) RecordReplies(ctx context.Context, replies []Reply) (ReplyCounts, error) {
	var n ReplyCounts
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		n = ReplyCounts{}
		at := now()
		for _, r := range replies {
			res, err := tx.ExecContext(ctx, `INSERT INTO inbound (message_id, sender, receiver, text, keyword, received_at, recorded_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, r.MessageID, r.From, r.To, r.Text, r.Keyword, FormatTime(r.ReceivedAt), at)
			if err != nil {
				return fmt.Errorf("record reply %s: %w", r.MessageID, err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			n.Replies++
			if r.OptOut == nil {
				continue
			}
			ok, err := insertOptOut(ctx, tx, *r.OptOut, at)
			if err != nil {
				return err
			}
			if ok {
				n.OptOuts++
			}
		}
		return nil
	})
	return n, err
}

func insertOptOut(ctx context.Context, tx *sql.Tx, o OptOut, at string) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO opt_outs (number, source, reply_id, added_by, reason, received_at, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, o.Number, o.Source, nullable(o.ReplyID), nullable(o.AddedBy), nullable(o.Reason), FormatTime(o.ReceivedAt), at)
	if err != nil {
		return false, fmt.Errorf("record opt-out of %s: %w", o.Number, err)
	}
	k, _ := res.RowsAffected()
	return k > 0, nil
}

// AddOptOut records an opt-out by hand, and reports false when the number already has one.
func (s *Store) AddOptOut(ctx context.Context, o OptOut) (bool, error) {
	var added bool
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		added, err = insertOptOut(ctx, tx, o, now())
		return err
	})
	return added, err
}

// RemoveOptOut lifts a number's opt-out, keeping the row with who lifted it, when and
// why; it reports false when the number has none.
func (s *Store) RemoveOptOut(ctx context.Context, number, by, reason string, at time.Time) (bool, error) {
	var removed bool
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE opt_outs SET removed_by = ?, removed_at = ?, removed_reason = ?
			WHERE number = ? AND removed_at IS NULL`, by, FormatTime(at), nullable(reason), number)
		if err != nil {
			return err
		}
		k, _ := res.RowsAffected()
		removed = k > 0
		return nil
	})
	return removed, err
}

const optOutColumns = `number, source, COALESCE(reply_id, ''), COALESCE(added_by, ''), COALESCE(reason, ''), received_at, recorded_at,
	COALESCE(removed_by, ''), COALESCE(removed_at, ''), COALESCE(removed_reason, '')`

// ScanOptOut reads a row of optOutColumns.
func scanOptOut(scan func(...any) error) (OptOut, error) {
	var o OptOut
	var recv, rec, rem string
	err := scan(&o.Number, &o.Source, &o.ReplyID, &o.AddedBy, &o.Reason, &recv, &rec, &o.RemovedBy, &rem, &o.RemovedReason)
	o.ReceivedAt, o.RecordedAt, o.RemovedAt = parseTime(recv), parseTime(rec), parseTime(rem)
	return o, err
}

// OptOutQuery selects opt-outs: the active ones, or (all) every one ever recorded, in the
// order they were recorded.
func OptOutQuery(all bool) string {
	q := "SELECT " + optOutColumns + " FROM opt_outs"
	if !all {
		q += " WHERE removed_at IS NULL"
	}
	return q + " ORDER BY id"
}

// ScanOptOut reads a row selected by OptOutQuery.
func ScanOptOut(scan func(...any) error) (OptOut, error) { return scanOptOut(scan) }

// OptOuts lists the active opt-outs, or (all) every one ever recorded.
func (s *Store) OptOuts(ctx context.Context, all bool) ([]OptOut, error) {
	return readOptOuts(ctx, s.db, all)
}

func readOptOuts(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, all bool) ([]OptOut, error) {
	rows, err := q.QueryContext(ctx, OptOutQuery(all))
	if err != nil {
		return nil, fmt.Errorf("read opt-outs: %w", err)
	}
	return scanAll(rows, scanOptOut)
}

// scanAll reads every row with scan, and closes rows.
func scanAll[T any](rows *sql.Rows, scan func(func(...any) error) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// OptedOut indexes active opt-outs by number.
func OptedOut(list []OptOut) map[string]OptOut {
	m := make(map[string]OptOut, len(list))
	for _, o := range list {
		if !o.Removed() {
			m[o.Number] = o
		}
	}
	return m
}

// RecordTestSend records a test send.
func (s *Store) RecordTestSend(ctx context.Context, ts TestSend) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO test_sends (message_id, destination, campaign, text, sent_by, sent_at, outcome)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, ts.MessageID, ts.To, ts.Campaign, ts.Text, ts.By, FormatTime(ts.At), ts.Outcome)
		return err
	})
}

// TestSends lists the test sends, oldest first.
func (s *Store) TestSends(ctx context.Context) ([]TestSend, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+testSendColumns+" FROM test_sends ORDER BY sent_at, message_id")
	if err != nil {
		return nil, err
	}
	return scanAll(rows, ScanTestSend)
}

const testSendColumns = "message_id, destination, campaign, text, sent_by, sent_at, outcome"

// TestSendQuery selects every test send, oldest first.
const TestSendQuery = "SELECT " + testSendColumns + " FROM test_sends ORDER BY sent_at, message_id"

// ScanTestSend reads a row selected by TestSendQuery.
func ScanTestSend(scan func(...any) error) (TestSend, error) {
	var ts TestSend
	var at string
	err := scan(&ts.MessageID, &ts.To, &ts.Campaign, &ts.Text, &ts.By, &at, &ts.Outcome)
	ts.At = parseTime(at)
	return ts, err
}

// ReplyQuery selects every inbound reply, in the order received.
const ReplyQuery = "SELECT message_id, sender, receiver, text, keyword, received_at FROM inbound ORDER BY received_at, message_id"

// ScanReply reads a row selected by ReplyQuery.
func ScanReply(scan func(...any) error) (Reply, error) {
	var r Reply
	var at string
	err := scan(&r.MessageID, &r.From, &r.To, &r.Text, &r.Keyword, &at)
	r.ReceivedAt = parseTime(at)
	return r, err
}

// ExportSideTables reads the opt-outs (history included), replies and test sends.
func (s *Store) ExportSideTables(ctx context.Context) (SideTables, error) {
	var st SideTables
	var err error
	if st.OptOuts, err = s.OptOuts(ctx, true); err != nil {
		return st, err
	}
	if st.TestSends, err = s.TestSends(ctx); err != nil {
		return st, err
	}
	rows, err := s.db.QueryContext(ctx, ReplyQuery)
	if err != nil {
		return st, err
	}
	st.Replies, err = scanAll(rows, ScanReply)
	return st, err
}

// importSideTables writes side tables copied from another state, recorded times kept.
func importSideTables(ctx context.Context, tx *sql.Tx, st SideTables) error {
	for _, o := range st.OptOuts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO opt_outs (number, source, reply_id, added_by, reason, received_at, recorded_at,
			removed_by, removed_at, removed_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, o.Number, o.Source, nullable(o.ReplyID),
			nullable(o.AddedBy), nullable(o.Reason), FormatTime(o.ReceivedAt), FormatTime(o.RecordedAt), nullable(o.RemovedBy),
			nullTime(o.RemovedAt), nullable(o.RemovedReason)); err != nil {
			return fmt.Errorf("copy opt-out of %s: %w", o.Number, err)
		}
	}
	for _, r := range st.Replies {
		if _, err := tx.ExecContext(ctx, `INSERT INTO inbound (message_id, sender, receiver, text, keyword, received_at, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.MessageID, r.From, r.To, r.Text, r.Keyword, FormatTime(r.ReceivedAt), now()); err != nil {
			return fmt.Errorf("copy reply %s: %w", r.MessageID, err)
		}
	}
	for _, ts := range st.TestSends {
		if _, err := tx.ExecContext(ctx, `INSERT INTO test_sends (message_id, destination, campaign, text, sent_by, sent_at, outcome)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, ts.MessageID, ts.To, ts.Campaign, ts.Text, ts.By, FormatTime(ts.At), ts.Outcome); err != nil {
			return fmt.Errorf("copy test send %s: %w", ts.MessageID, err)
		}
	}
	return nil
}
