package state

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
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
	// Abandoned is an unknown outcome that can no longer be resolved or resent: not found in
	// the logs after the grace, and no longer in the files.
	Abandoned State = "abandoned"
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
	// OptOuts are the active opt-outs, by number, read with the messages.
	OptOuts map[string]OptOut
	rounds  map[Round]*Recorded
}

// Round names one round of one campaign.
type Round struct {
	Campaign string
	Round    int
}

// Recorded is the recorded messages of one campaign round, kept compactly: a million of
// them are a map of 24-byte values keyed by the numbers' digits, not a million strings.
type Recorded struct {
	recs map[uint64]compact
	errs map[uint64]string // reasons of failed messages
}

type compact struct {
	hash      uint64
	sendingAt int64 // Unix milliseconds
	attempt   int32
	state     uint8
}

var stateCodes = []State{"", Sending, Sent, Failed, Unknown, Abandoned}

func stateCode(st State) uint8 { return codeOf(stateCodes, st) }

// codeOf is v's index in table, 0 (the empty value) when absent: the one-byte form of a
// state in the compact snapshot and index.
func codeOf[T comparable](table []T, v T) uint8 { return uint8(max(slices.Index(table, v), 0)) }

// numberKey turns an E.164 number into its digits as an integer (E.164 has at most 15).
func numberKey(to string) (uint64, bool) {
	if len(to) < 2 || to[0] != '+' {
		return 0, false
	}
	k, err := strconv.ParseUint(to[1:], 10, 64)
	return k, err == nil
}

func (r *Recorded) put(to string, rec Record) {
	k, ok := numberKey(to)
	if !ok {
		return
	}
	r.recs[k] = compact{hash: rec.Hash, sendingAt: rec.SendingAt.UnixMilli(), attempt: int32(rec.Attempt), state: stateCode(rec.State)}
	if rec.Error != "" {
		if r.errs == nil {
			r.errs = map[uint64]string{}
		}
		r.errs[k] = rec.Error
	} else {
		delete(r.errs, k)
	}
}

func (r *Recorded) record(k uint64, c compact) Record {
	rec := Record{State: stateCodes[c.state], Hash: c.hash, Attempt: int(c.attempt), Error: r.errs[k]}
	if c.sendingAt != 0 {
		rec.SendingAt = time.UnixMilli(c.sendingAt).UTC()
	}
	return rec
}

// Get returns the record of an E.164 number.
func (r *Recorded) Get(to string) (Record, bool) {
	if r == nil {
		return Record{}, false
	}
	k, ok := numberKey(to)
	if !ok {
		return Record{}, false
	}
	c, ok := r.recs[k]
	if !ok {
		return Record{}, false
	}
	return r.record(k, c), true
}

// Len is the number of recorded messages.
func (r *Recorded) Len() int {
	if r == nil {
		return 0
	}
	return len(r.recs)
}

// Each calls fn for every recorded message, in no particular order.
func (r *Recorded) Each(fn func(to string, rec Record)) {
	if r == nil {
		return
	}
	for k, c := range r.recs {
		fn("+"+strconv.FormatUint(k, 10), r.record(k, c))
	}
}

// Round returns the recorded messages of a round (nil, which holds none, if it was not read).
func (s *Snapshot) Round(r Round) *Recorded { return s.rounds[r] }

// Records returns the recorded messages of a round as a map by E.164 number; for tests and
// tools, as it builds the map.
func (s *Snapshot) Records(r Round) map[string]Record {
	if s.rounds[r] == nil {
		return nil
	}
	out := map[string]Record{}
	s.rounds[r].Each(func(to string, rec Record) { out[to] = rec })
	return out
}

// NewSnapshot builds a snapshot from records, for tests and tools.
func NewSnapshot(v Version, recs map[Key]Record) *Snapshot {
	s := &Snapshot{Version: v, rounds: map[Round]*Recorded{}}
	for k, r := range recs {
		rk := Round{k.Campaign, k.Round}
		if s.rounds[rk] == nil {
			s.rounds[rk] = &Recorded{recs: map[uint64]compact{}}
		}
		s.rounds[rk].put(k.To, r)
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
	snap := &Snapshot{rounds: map[Round]*Recorded{}}
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
		recs := &Recorded{recs: map[uint64]compact{}}
		rows, err := stmt.QueryContext(ctx, r.Campaign, r.Round)
		if err != nil {
			return nil, err
		}
		// RawBytes: a million rows are read without a million strings.
		var to, st, errText, sendingAt sql.RawBytes
		var hash int64
		var attempt int32
		for rows.Next() {
			if err := rows.Scan(&to, &st, &hash, &attempt, &errText, &sendingAt); err != nil {
				rows.Close()
				return nil, err
			}
			k, err := strconv.ParseUint(string(to[1:]), 10, 64)
			if err != nil {
				continue
			}
			recs.recs[k] = compact{hash: uint64(hash), attempt: attempt, state: stateCode(State(st)),
				sendingAt: parseTime(string(sendingAt)).UnixMilli()}
			if len(errText) > 0 {
				if recs.errs == nil {
					recs.errs = map[uint64]string{}
				}
				recs.errs[k] = string(errText)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		snap.rounds[r] = recs
	}
	// Batches in flight (another run is sending them, or one died) count as sending.
	batches, err := readInflight(ctx, tx)
	if err != nil {
		return nil, err
	}
	for _, b := range batches {
		for _, m := range b.Messages {
			if recs := snap.rounds[Round{m.Campaign, m.Round}]; recs != nil {
				recs.put(m.To, Record{State: Sending, Hash: m.Hash, Attempt: m.Attempt, SendingAt: b.CreatedAt})
			}
		}
	}
	list, err := readOptOuts(ctx, tx, false)
	if err != nil {
		return nil, err
	}
	snap.OptOuts = OptedOut(list)
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
	Attempt      int    `json:"a,omitempty"`
	MessageID    string `json:"id"`
	BulkID       string `json:"b"`
	Hash         uint64 `json:"h"`
	Parts        int    `json:"p"`
	TrackingType string `json:"tt,omitempty"` // "" without tracking
	Tracked      bool   `json:"tr,omitempty"`
}

// Batch is the messages of one request, recorded as in flight by MarkSending.
type Batch struct {
	// ID names the batch in the backend that recorded it.
	ID int64
	// CreatedAt is when it was recorded (to the millisecond): the messages' sending_at.
	CreatedAt time.Time
	// Messages are the batch's messages in the state's key order; Settle takes their
	// outcomes in this order.
	Messages []Outgoing
}

// MarkSending durably records a request's messages as in flight ("sending") before the
// request leaves: one row for the whole batch, committed with an fsync.
func (s *Store) MarkSending(ctx context.Context, msgs []Outgoing) (*Batch, error) {
	for _, m := range msgs {
		// The checks the messages table makes: a batch that could not be settled must not
		// be sent.
		if m.Round < 1 || m.Attempt < 0 || m.Campaign == "" || m.To == "" || m.MessageID == "" {
			return nil, fmt.Errorf("record %q as sending: campaign, number, messageId, round >= 1 and attempt >= 0 are required", m.MessageID)
		}
	}
	b := &Batch{Messages: sortedByKey(msgs, func(m Outgoing) Key { return m.Key }), CreatedAt: parseTime(now())}
	data, err := json.Marshal(b.Messages)
	if err != nil {
		return nil, err
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO inflight (created_at, messages) VALUES (?, ?)", FormatTime(b.CreatedAt), string(data))
		if err != nil {
			return fmt.Errorf("record %d messages as sending: %w", len(msgs), err)
		}
		b.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Settle records the outcome of every message of a batch, outs[i] being that of
// b.Messages[i], and removes the batch from the in-flight ones. A message recorded before
// (failed, or unknown and now resent) is overwritten in place. The commit is not fsynced
// (see withLazyTx): if it is lost, the batch is still in flight and the next run reconciles it.
func (s *Store) Settle(ctx context.Context, b *Batch, outs []Outcome) error {
	return s.SettleMany(ctx, []Settlement{{Batch: b, Outcomes: outs}})
}

// Settlement is a batch with the outcomes of its messages, for SettleMany.
type Settlement struct {
	Batch    *Batch
	Outcomes []Outcome
}

// SettleMany settles several batches in one transaction: the pages they share (their keys
// are neighbours when apply sends in key order) are written once instead of once each.
func (s *Store) SettleMany(ctx context.Context, items []Settlement) error {
	for _, it := range items {
		if len(it.Outcomes) != len(it.Batch.Messages) {
			return fmt.Errorf("settle: %d outcomes for %d messages", len(it.Outcomes), len(it.Batch.Messages))
		}
	}
	if err := s.upserts.prepare(ctx, s.db); err != nil {
		return err
	}
	ts := now()
	return s.withLazyTx(ctx, func(tx *sql.Tx) error {
		for _, it := range items {
			if err := s.upsertMessages(ctx, tx, it.Batch.Messages, it.Outcomes, FormatTime(it.Batch.CreatedAt), ts); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM inflight WHERE id = ?", it.Batch.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

// Forget removes a batch whose request provably did nothing (the API refused the
// credentials): its messages stay as they were before, unsent or failed.
func (s *Store) Forget(ctx context.Context, b *Batch) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM inflight WHERE id = ?", b.ID)
		return err
	})
}

const upsertColumns = 12

// upsertSQL builds the statement writing n messages: the values a chunk's rows share
// (campaign, round, times) are bound once.
func upsertSQL(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", upsertColumns), ",") + ")"
	return `INSERT INTO messages
		(campaign, round, destination, attempt, message_id, bulk_id, text_hash, state, status_group, status_id,
		 status_name, sms_count, tracking_type, error, created_at, sending_at, updated_at)
		SELECT k.c, k.r, v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, v.column8,
			v.column9, v.column10, v.column11, v.column12, k.ts, k.sat, k.ts
		FROM (SELECT ? AS c, ? AS r, ? AS ts, ? AS sat) AS k, (VALUES ` + strings.TrimSuffix(strings.Repeat(row+",", n), ",") + `) AS v
		WHERE true
		ON CONFLICT (campaign, round, destination) DO UPDATE SET
			attempt = excluded.attempt, message_id = excluded.message_id, bulk_id = excluded.bulk_id,
			text_hash = excluded.text_hash, state = excluded.state, status_group = excluded.status_group,
			status_id = excluded.status_id, status_name = excluded.status_name, sms_count = excluded.sms_count,
			tracking_type = excluded.tracking_type, error = excluded.error, sending_at = excluded.sending_at,
			updated_at = excluded.updated_at`
}

// upsertMessages writes messages with their outcomes, in key order, a message recorded
// before being overwritten in place. s.upserts must be prepared.
func (s *Store) upsertMessages(ctx context.Context, tx *sql.Tx, msgs []Outgoing, outs []Outcome, sendingAt, ts string) error {
	return s.upserts.exec(ctx, tx, len(msgs),
		func(start, i int) bool { // a statement writes messages of one campaign round
			return msgs[i].Campaign == msgs[start].Campaign && msgs[i].Round == msgs[start].Round
		},
		func(args []any, start, end int) []any {
			args = append(args, msgs[start].Campaign, msgs[start].Round, ts, sendingAt)
			for i := start; i < end; i++ {
				m, o := msgs[i], outs[i]
				var tt any
				if m.Tracked {
					tt = m.TrackingType
				}
				parts := m.Parts
				if o.SmsCount > 0 {
					parts = o.SmsCount
				}
				args = append(args, m.To, m.Attempt, m.MessageID, m.BulkID, int64(m.Hash), string(o.State),
					nullInt(o.StatusGroup), nullInt(o.StatusID), nullStr(o.StatusName), parts, tt, nullStr(o.Error))
			}
			return args
		},
		func(start, end int) string {
			return fmt.Sprintf("record messages %s to %s", msgs[start].MessageID, msgs[end-1].MessageID)
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

// RecordOutcomes settles recorded messages of unknown outcome (reconciliation). The commit
// is not fsynced (see withLazyTx): losing it leaves them unknown, to be looked up again.
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
	// InFlight adds the messages of batches in flight, as "sending", to the recorded ones.
	InFlight bool
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !f.InFlight {
		return out, nil
	}
	return s.withInflight(ctx, out, f)
}

// withInflight adds the messages of batches in flight, as "sending", to a listing: a run
// is sending them now, or died while it was (the next run that takes the lock settles them).
func (s *Store) withInflight(ctx context.Context, out []Message, f Filter) ([]Message, error) {
	if len(f.States) > 0 && !slices.Contains(f.States, Sending) {
		return out, nil
	}
	batches, err := readInflight(ctx, s.db)
	if err != nil {
		return out, err
	}
	return MergeInFlight(out, batches, f), nil
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

// MarkInterrupted records the messages of every batch left in flight as "unknown". Called
// by the holder of the state lock: a batch it did not record itself belongs to a run that
// died between recording the batch and recording its answer.
func (s *Store) MarkInterrupted(ctx context.Context) (int, error) {
	if err := s.upserts.prepare(ctx, s.db); err != nil {
		return 0, err
	}
	n := 0
	ts := now()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		batches, err := readInflight(ctx, tx) // inside the write lock: nobody settles them meanwhile
		if err != nil {
			return err
		}
		for _, b := range batches {
			outs := make([]Outcome, len(b.Messages))
			for i, m := range b.Messages {
				outs[i] = Outcome{Key: m.Key, MessageID: m.MessageID, State: Unknown, Error: "the run sending it stopped before recording the answer"}
			}
			if err := s.upsertMessages(ctx, tx, b.Messages, outs, FormatTime(b.CreatedAt), ts); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM inflight WHERE id = ?", b.ID); err != nil {
				return err
			}
			n += len(b.Messages)
		}
		return nil
	})
	return n, err
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readInflight reads the batches recorded as in flight.
func readInflight(ctx context.Context, q querier) ([]Batch, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, created_at, messages FROM inflight ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Batch
	for rows.Next() {
		var b Batch
		var data, createdAt string
		if err := rows.Scan(&b.ID, &createdAt, &data); err != nil {
			return nil, err
		}
		b.CreatedAt = parseTime(createdAt)
		if err := json.Unmarshal([]byte(data), &b.Messages); err != nil {
			return nil, fmt.Errorf("in-flight batch %d: %w", b.ID, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// CountUnresolved counts the messages whose outcome is unknown (or still sending).
func (s *Store) CountUnresolved(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM messages WHERE state IN ('sending', 'unknown')").Scan(&n); err != nil {
		return 0, err
	}
	batches, err := readInflight(ctx, s.db) // empty but while a run sends, or after one died
	if err != nil {
		return 0, err
	}
	for _, b := range batches {
		for _, m := range b.Messages {
			// A message resent after an unknown outcome is already counted by its row.
			var st sql.NullString
			err := s.db.QueryRowContext(ctx, "SELECT state FROM messages WHERE campaign = ? AND round = ? AND destination = ?", m.Campaign, m.Round, m.To).Scan(&st)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return 0, err
			}
			if st.String != string(Unknown) && st.String != string(Sending) {
				n++
			}
		}
	}
	return n, nil
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

// Undecided is a message of unknown outcome with what deciding about it needs.
type Undecided struct {
	Pending
	// FirstAttemptAt is when its messageId was first sent: an idempotency window runs from
	// it. It equals SendingAt until the message is resent with the same messageId. Where no
	// first attempt was noted (a state from before they were), the row's creation counts,
	// if earlier: erring early only ever means fewer automatic resends.
	FirstAttemptAt time.Time
	// Unsent is set when a person decided, after the latest attempt, that it was not sent
	// (`smsform state resolve -as unsent`): apply sends it again, with the same messageId.
	Unsent     bool
	ResolvedBy string
}

// Undecided lists the messages in state "unknown", oldest attempt first, with their first
// attempt and any decision a person made about them.
func (s *Store) Undecided(ctx context.Context) ([]Undecided, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT campaign, round, destination, attempt, message_id, bulk_id, sending_at,
			CASE WHEN first_message_id = message_id THEN first_sending_at ELSE min(created_at, sending_at) END,
			COALESCE(resolution, ''), COALESCE(resolved_by, '')
		FROM messages WHERE state = 'unknown' ORDER BY sending_at, message_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Undecided
	for rows.Next() {
		var u Undecided
		var at, first, resolution string
		if err := rows.Scan(&u.Campaign, &u.Round, &u.To, &u.Attempt, &u.MessageID, &u.BulkID, &at, &first, &resolution, &u.ResolvedBy); err != nil {
			return nil, err
		}
		u.SendingAt = parseTime(at)
		u.FirstAttemptAt = parseTime(first)
		u.Unsent = resolution == "unsent"
		if !u.Unsent {
			u.ResolvedBy = ""
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// NoteFirstAttempts remembers, before messages of unknown outcome are sent again with the
// same messageId, when that messageId was first sent (their sending_at will move on), and
// uses up a person's "unsent" decision: it was about the attempts before this one. Durable
// before the resend leaves, like the in-flight record.
func (s *Store) NoteFirstAttempts(ctx context.Context, keys []Key) error {
	keys = sortedByKey(keys, func(k Key) Key { return k })
	return s.withTx(ctx, func(tx *sql.Tx) error {
		// SET expressions see the row as it was, so the CASE reads the old first_message_id.
		stmt, err := tx.PrepareContext(ctx, `UPDATE messages SET
				first_sending_at = CASE WHEN first_message_id IS NULL OR first_message_id <> message_id THEN min(created_at, sending_at) ELSE first_sending_at END,
				first_message_id = message_id, resolution = NULL
			WHERE campaign = ? AND round = ? AND destination = ? AND state = 'unknown'`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, k := range keys {
			if _, err := stmt.ExecContext(ctx, k.Campaign, k.Round, k.To); err != nil {
				return fmt.Errorf("note the first attempt of %s %s: %w", k.Campaign, k.To, err)
			}
		}
		return nil
	})
}

// Resolution is a person's decision about messages of unknown outcome.
type Resolution struct {
	// Sent: the message reached Infobip (say, it is in the portal): recorded as sent.
	// Otherwise unsent: the next apply sends it, with the same messageId.
	Sent bool
	// Campaign limits the decision to one campaign ("" for all).
	Campaign string
	// Targets are messageIds or E.164 numbers; empty means every unknown message (of the
	// campaign).
	Targets []string
	By      string
}

// Resolve records a person's decision about messages of unknown (or abandoned) outcome and
// returns the keys it applied to. Who decided and when is kept with each message.
func (s *Store) Resolve(ctx context.Context, r Resolution) ([]Key, error) {
	var keys []Key
	ts := now()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		where := "state IN ('unknown', 'abandoned')"
		args := []any{}
		if r.Campaign != "" {
			where += " AND campaign = ?"
			args = append(args, r.Campaign)
		}
		if len(r.Targets) > 0 {
			where += " AND (message_id IN (" + placeholders(len(r.Targets)) + ") OR destination IN (" + placeholders(len(r.Targets)) + "))"
			for range 2 {
				for _, t := range r.Targets {
					args = append(args, t)
				}
			}
		}
		rows, err := tx.QueryContext(ctx, "SELECT campaign, round, destination FROM messages WHERE "+where, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k Key
			if err := rows.Scan(&k.Campaign, &k.Round, &k.To); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		set := `state = 'unknown', resolution = 'unsent'`
		note := "decided unsent by %s at %s: apply sends it again, same messageId"
		if r.Sent {
			set = `state = 'sent', resolution = 'sent'`
			note = "outcome was unknown; decided sent by %s at %s"
		}
		_, err = tx.ExecContext(ctx, "UPDATE messages SET "+set+", resolved_by = ?, resolved_at = ?, updated_at = ?, error = ? WHERE "+where,
			append([]any{r.By, ts, ts, fmt.Sprintf(note, r.By, ts)}, args...)...)
		return err
	})
	return keys, err
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
