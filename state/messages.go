package state

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// State is where a message stands.
type State string

// The states of a message. A message is recorded "sending" before its request leaves;
// the answer makes it "sent" or "failed"; no answer makes it "unknown" until reconciled.
const (
	Sending State = "sending"
	Sent    State = "sent"
	Failed  State = "failed"
	Unknown State = "unknown"
)

// Key names one message: a number in one round of one campaign.
type Key struct {
	Campaign string
	Round    int
	To       string // E.164
}

// Record is what the plan needs of a recorded message.
type Record struct {
	State   State
	Hash    uint64
	Attempt int
	Error   string // for failed messages, Infobip's reason
	// SendingAt is when the latest send attempt was recorded; an unknown outcome is only
	// resent a grace period after it.
	SendingAt time.Time
}

// Snapshot is the recorded messages of some campaign rounds, read once for a plan.
type Snapshot struct {
	Version Version
	rounds  map[Round]map[string]Record
}

// Round names one round of one campaign.
type Round struct {
	Campaign string
	Round    int
}

// Records returns the recorded messages of a round, by E.164 number. Callers must not
// modify the map.
func (s *Snapshot) Records(r Round) map[string]Record { return s.rounds[r] }

// NewSnapshot builds a snapshot from records, for tests and tools.
func NewSnapshot(v Version, recs map[Key]Record) *Snapshot {
	s := &Snapshot{Version: v, rounds: map[Round]map[string]Record{}}
	for k, r := range recs {
		rk := Round{k.Campaign, k.Round}
		if s.rounds[rk] == nil {
			s.rounds[rk] = map[string]Record{}
		}
		s.rounds[rk][k.To] = r
	}
	return s
}

// Snapshot reads the records of the given rounds in one read transaction, so the version
// and the records agree.
func (s *Store) Snapshot(ctx context.Context, rounds []Round) (*Snapshot, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	snap := &Snapshot{rounds: map[Round]map[string]Record{}}
	if err := readVersion(ctx, tx, &snap.Version); err != nil {
		return nil, err
	}
	stmt, err := tx.PrepareContext(ctx, "SELECT destination, state, text_hash, attempt, COALESCE(error, ''), sending_at FROM messages WHERE campaign = ? AND round = ?")
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	for _, r := range rounds {
		if _, done := snap.rounds[r]; done {
			continue
		}
		recs := map[string]Record{}
		rows, err := stmt.QueryContext(ctx, r.Campaign, r.Round)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var to string
			var rec Record
			var hash int64
			var sendingAt string
			if err := rows.Scan(&to, &rec.State, &hash, &rec.Attempt, &rec.Error, &sendingAt); err != nil {
				rows.Close()
				return nil, err
			}
			rec.Hash = uint64(hash)
			rec.SendingAt = parseTime(sendingAt)
			recs[to] = rec
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		snap.rounds[r] = recs
	}
	return snap, tx.Commit()
}

func readVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, v *Version) error {
	var serial string
	if err := q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'lineage'").Scan(&v.Lineage); err != nil {
		return err
	}
	if err := q.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'serial'").Scan(&serial); err != nil {
		return err
	}
	_, err := fmt.Sscan(serial, &v.Serial)
	return err
}

// Outgoing is a message about to be sent.
type Outgoing struct {
	Key
	Attempt      int
	MessageID    string
	BulkID       string
	Hash         uint64
	Parts        int
	TrackingType string // "" without tracking
	Tracked      bool
}

// MarkSending durably records messages as "sending" before their request leaves. A message
// recorded before (failed, or unknown and now resent) is overwritten in place.
func (s *Store) MarkSending(ctx context.Context, msgs []Outgoing) error {
	ts := now()
	msgs = sortedByKey(msgs, func(m Outgoing) Key { return m.Key })
	return s.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO messages
			(campaign, round, destination, attempt, message_id, bulk_id, text_hash, state, sms_count, tracking_type, created_at, sending_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'sending', ?, ?, ?, ?, ?)
			ON CONFLICT (campaign, round, destination) DO UPDATE SET
				attempt = excluded.attempt, message_id = excluded.message_id, bulk_id = excluded.bulk_id,
				text_hash = excluded.text_hash, state = 'sending', status_group = NULL, status_id = NULL,
				status_name = NULL, sms_count = excluded.sms_count, tracking_type = excluded.tracking_type,
				error = NULL, sending_at = excluded.sending_at, updated_at = excluded.updated_at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, m := range msgs {
			var tt any
			if m.Tracked {
				tt = m.TrackingType
			}
			if _, err := stmt.ExecContext(ctx, m.Campaign, m.Round, m.To, m.Attempt, m.MessageID, m.BulkID, int64(m.Hash), m.Parts, tt, ts, ts, ts); err != nil {
				return fmt.Errorf("record %s as sending: %w", m.MessageID, err)
			}
		}
		return nil
	})
}

// Outcome is what became of one message. The row is found by its key; MessageID guards
// against settling a newer attempt with an older answer.
type Outcome struct {
	Key
	MessageID   string
	State       State
	StatusGroup int
	StatusID    int
	StatusName  string
	SmsCount    int // 0 keeps the planned count
	Error       string
}

// RecordOutcomes stores the answers for messages recorded as sending. The commit is not
// fsynced (see withLazyTx): losing it leaves the messages "sending", which the next run
// reconciles.
func (s *Store) RecordOutcomes(ctx context.Context, outs []Outcome) error {
	ts := now()
	outs = sortedByKey(outs, func(o Outcome) Key { return o.Key })
	return s.withLazyTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE messages SET state = ?, status_group = ?, status_id = ?,
			status_name = ?, sms_count = CASE WHEN ? > 0 THEN ? ELSE sms_count END, error = ?, updated_at = ?
			WHERE campaign = ? AND round = ? AND destination = ? AND message_id = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, o := range outs {
			if _, err := stmt.ExecContext(ctx, o.State, nullInt(o.StatusGroup), nullInt(o.StatusID), nullStr(o.StatusName), o.SmsCount, o.SmsCount, nullStr(o.Error), ts, o.Campaign, o.Round, o.To, o.MessageID); err != nil {
				return fmt.Errorf("record outcome of %s: %w", o.MessageID, err)
			}
		}
		return nil
	})
}

// Forget removes messages recorded as sending whose request provably did nothing (the API
// refused the credentials), so they stay unsent rather than failed.
func (s *Store) Forget(ctx context.Context, keys []Key) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, "DELETE FROM messages WHERE campaign = ? AND round = ? AND destination = ? AND state = 'sending'")
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, k := range keys {
			if _, err := stmt.ExecContext(ctx, k.Campaign, k.Round, k.To); err != nil {
				return err
			}
		}
		return nil
	})
}

// Message is one recorded message in full, for `state list` and `state show`.
type Message struct {
	Key
	Attempt      int
	MessageID    string
	BulkID       string
	State        State
	StatusGroup  int
	StatusID     int
	StatusName   string
	SmsCount     int
	TrackingType string
	Error        string
	CreatedAt    string
	UpdatedAt    string
}

// Filter selects messages for List.
type Filter struct {
	Campaign  string
	States    []State
	MessageID string
	To        string
	Limit     int
}

// List returns recorded messages matching f, ordered by campaign, round and number.
func (s *Store) List(ctx context.Context, f Filter) ([]Message, error) {
	var where []string
	var args []any
	if f.Campaign != "" {
		where, args = append(where, "campaign = ?"), append(args, f.Campaign)
	}
	if f.MessageID != "" {
		where, args = append(where, "message_id = ?"), append(args, f.MessageID)
	}
	if f.To != "" {
		where, args = append(where, "destination = ?"), append(args, f.To)
	}
	if len(f.States) > 0 {
		where = append(where, "state IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.States)), ",")+")")
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	q := `SELECT campaign, round, destination, attempt, message_id, bulk_id, state, COALESCE(status_group, 0),
		COALESCE(status_id, 0), COALESCE(status_name, ''), sms_count, COALESCE(tracking_type, ''), COALESCE(error, ''),
		created_at, updated_at FROM messages`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY campaign, round, destination"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.Campaign, &m.Round, &m.To, &m.Attempt, &m.MessageID, &m.BulkID, &m.State, &m.StatusGroup,
			&m.StatusID, &m.StatusName, &m.SmsCount, &m.TrackingType, &m.Error, &m.CreatedAt, &m.UpdatedAt); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Counts returns how many messages are in each state, per campaign round.
func (s *Store) Counts(ctx context.Context) (map[Round]map[State]int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT campaign, round, state, COUNT(*) FROM messages GROUP BY campaign, round, state")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[Round]map[State]int{}
	for rows.Next() {
		var r Round
		var st State
		var n int
		if err := rows.Scan(&r.Campaign, &r.Round, &st, &n); err != nil {
			return nil, err
		}
		if out[r] == nil {
			out[r] = map[State]int{}
		}
		out[r][st] = n
	}
	return out, rows.Err()
}

func nullInt(v int) any {
	if v == 0 {
		return nil
	}
	return v
}

func nullStr(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// MarkInterrupted turns every "sending" message into "unknown". Called by the holder of the
// state lock: a sending row it did not write itself belongs to a process that died between
// recording a batch and recording its answer.
func (s *Store) MarkInterrupted(ctx context.Context) (int, error) {
	var found bool
	if err := s.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM messages WHERE state = 'sending')").Scan(&found); err != nil || !found {
		return 0, err // no write, so the serial (and a saved plan) stays valid
	}
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET state = 'unknown', updated_at = ?,
			error = 'the run sending it stopped before recording the answer' WHERE state = 'sending'`, now())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// CountUnresolved counts the messages whose outcome is unknown (or still sending).
func (s *Store) CountUnresolved(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM messages WHERE state IN ('sending', 'unknown')").Scan(&n)
	return n, err
}

// Pending is a message whose outcome is unknown.
type Pending struct {
	Key
	Attempt   int
	MessageID string
	BulkID    string
	SendingAt time.Time
}

// Unresolved lists the messages in state "unknown", oldest attempt first.
func (s *Store) Unresolved(ctx context.Context) ([]Pending, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT campaign, round, destination, attempt, message_id, bulk_id, sending_at
		FROM messages WHERE state IN ('unknown') ORDER BY sending_at, message_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Pending
	for rows.Next() {
		var p Pending
		var at string
		if err := rows.Scan(&p.Campaign, &p.Round, &p.To, &p.Attempt, &p.MessageID, &p.BulkID, &at); err != nil {
			return nil, err
		}
		p.SendingAt = parseTime(at)
		out = append(out, p)
	}
	return out, rows.Err()
}

// sortedByKey returns a copy of rows in primary-key order, so that a transaction walks the
// B-tree once from left to right instead of jumping around it.
func sortedByKey[T any](rows []T, key func(T) Key) []T {
	out := slices.Clone(rows)
	slices.SortFunc(out, func(a, b T) int {
		ka, kb := key(a), key(b)
		return cmp.Or(strings.Compare(ka.Campaign, kb.Campaign), cmp.Compare(ka.Round, kb.Round), strings.Compare(ka.To, kb.To))
	})
	return out
}
