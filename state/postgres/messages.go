package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/state"
)

// MarkSending commits a request's messages as in flight before the request leaves: one row
// for the whole batch.
func (s *Store) MarkSending(ctx context.Context, msgs []state.Outgoing) (*state.Batch, error) {
	if err := state.CheckOutgoing(msgs); err != nil {
		return nil, err
	}
	b := &state.Batch{Messages: state.SortedByKey(msgs, func(m state.Outgoing) state.Key { return m.Key }),
		CreatedAt: state.ParseTime(state.FormatTime(time.Now()))}
	data, err := json.Marshal(b.Messages)
	if err != nil {
		return nil, err
	}
	// One statement, so one round trip and one (durable) commit: the batch and the serial
	// bump are a single implicit transaction.
	// It records nothing unless this run still holds the lock (see Guard).
	err = s.pool.QueryRow(ctx, `WITH batch AS (INSERT INTO inflight (created_at, messages) SELECT $1, $2 WHERE `+guardSQL("$3")+` RETURNING id),
		serial AS (UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'serial' AND EXISTS (SELECT 1 FROM batch))
		SELECT id FROM batch`, state.FormatTime(b.CreatedAt), string(data), int32(s.lockPID)).Scan(&b.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("record %d messages as sending: %w; nothing more is sent: run again (messages in flight are reconciled)", len(msgs), ErrLockLost)
	}
	if err != nil {
		return nil, fmt.Errorf("record %d messages as sending: %w", len(msgs), err)
	}
	return b, nil
}

// SettleMany records the outcomes of several batches and removes them from those in flight,
// in one transaction. Each batch is one statement over arrays (unnest), not one per message.
// The commit is not waited for (synchronous_commit off): if it is lost, the batches are
// still in flight and the next run reconciles them.
func (s *Store) SettleMany(ctx context.Context, items []state.Settlement) error {
	ids := make([]int64, 0, len(items))
	for _, it := range items {
		if len(it.Outcomes) != len(it.Batch.Messages) {
			return fmt.Errorf("settle: %d outcomes for %d messages", len(it.Outcomes), len(it.Batch.Messages))
		}
		ids = append(ids, it.Batch.ID)
	}
	ts := state.FormatTime(time.Now())
	// Every statement goes out in one pipeline (one round trip, then the commit).
	return s.write(ctx, false, func(tx pgx.Tx) (int64, error) {
		var batch pgx.Batch
		for _, it := range items {
			batch.Queue(upsertSQL, upsertArgs(it.Batch.Messages, it.Outcomes, state.FormatTime(it.Batch.CreatedAt), ts)...)
		}
		batch.Queue("DELETE FROM inflight WHERE id = ANY($1)", ids)
		res := tx.SendBatch(ctx, &batch)
		var n int64
		for i := range len(items) + 1 {
			tag, err := res.Exec()
			if err != nil {
				res.Close()
				if i < len(items) {
					m := items[i].Batch.Messages
					return 0, fmt.Errorf("record messages %s to %s: %w", m[0].MessageID, m[len(m)-1].MessageID, err)
				}
				return 0, err
			}
			n += tag.RowsAffected()
		}
		return n, res.Close()
	})
}

const upsertSQL = `INSERT INTO messages (campaign, round, destination, attempt, message_id, bulk_id, text_hash, state,
		status_group, status_id, status_name, sms_count, tracking_type, error, created_at, sending_at, updated_at)
	SELECT u.c, u.r, u.d, u.a, u.mid, u.bid, u.h, u.st, NULLIF(u.sg, 0), NULLIF(u.si, 0), NULLIF(u.sn, ''), u.sc,
		CASE WHEN u.tr THEN u.tt END, NULLIF(u.e, ''), $16, $17, $16
	FROM unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::text[], $6::text[], $7::bigint[], $8::text[],
		$9::int[], $10::int[], $11::text[], $12::int[], $13::text[], $14::bool[], $15::text[])
		AS u(c, r, d, a, mid, bid, h, st, sg, si, sn, sc, tt, tr, e)
	ON CONFLICT (campaign, round, destination) DO UPDATE SET
		attempt = excluded.attempt, message_id = excluded.message_id, bulk_id = excluded.bulk_id,
		text_hash = excluded.text_hash, state = excluded.state, status_group = excluded.status_group,
		status_id = excluded.status_id, status_name = excluded.status_name, sms_count = excluded.sms_count,
		tracking_type = excluded.tracking_type, error = excluded.error, sending_at = excluded.sending_at,
		updated_at = excluded.updated_at`

// upsert writes a batch's messages with their outcomes, a message recorded before being
// overwritten in place. A batch holds each key once, as one statement must.
func upsert(ctx context.Context, tx pgx.Tx, msgs []state.Outgoing, outs []state.Outcome, sendingAt, ts string) (int64, error) {
	tag, err := tx.Exec(ctx, upsertSQL, upsertArgs(msgs, outs, sendingAt, ts)...)
	if err != nil && len(msgs) > 0 {
		return 0, fmt.Errorf("record messages %s to %s: %w", msgs[0].MessageID, msgs[len(msgs)-1].MessageID, err)
	}
	return tag.RowsAffected(), err
}

// upsertArgs spreads messages and their outcomes into the columns upsertSQL unnests.
func upsertArgs(msgs []state.Outgoing, outs []state.Outcome, sendingAt, ts string) []any {
	n := len(msgs)
	var (
		c, d, mid, bid, st, sn, tt, e = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		r, a, sg, si, sc              = make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
		h                             = make([]int64, n)
		tr                            = make([]bool, n)
	)
	for i, m := range msgs {
		o := outs[i]
		c[i], r[i], d[i], a[i], mid[i], bid[i], h[i] = m.Campaign, int32(m.Round), m.To, int32(m.Attempt), m.MessageID, m.BulkID, int64(m.Hash)
		st[i], sg[i], si[i], sn[i], e[i] = string(o.State), int32(o.StatusGroup), int32(o.StatusID), o.StatusName, o.Error
		sc[i] = int32(m.Parts)
		if o.SmsCount > 0 {
			sc[i] = int32(o.SmsCount)
		}
		tt[i], tr[i] = m.TrackingType, m.Tracked
	}
	return []any{c, r, d, a, mid, bid, h, st, sg, si, sn, sc, tt, tr, e, ts, sendingAt}
}

// Forget removes a batch whose request provably did nothing.
func (s *Store) Forget(ctx context.Context, b *state.Batch) error {
	return s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		tag, err := tx.Exec(ctx, "DELETE FROM inflight WHERE id = $1", b.ID)
		return tag.RowsAffected(), err
	})
}

// MarkInterrupted records the messages of every batch left in flight as "unknown"; called
// by the lock's holder, for whom any batch in flight belongs to a run that died.
func (s *Store) MarkInterrupted(ctx context.Context) (int, error) {
	n := 0
	ts := state.FormatTime(time.Now())
	err := s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		batches, err := readInflight(ctx, tx)
		if err != nil {
			return 0, err
		}
		var changed int64
		for _, b := range batches {
			outs := make([]state.Outcome, len(b.Messages))
			for i, m := range b.Messages {
				outs[i] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Unknown, Error: "the run sending it stopped before recording the answer"}
			}
			c, err := upsert(ctx, tx, b.Messages, outs, state.FormatTime(b.CreatedAt), ts)
			if err != nil {
				return 0, err
			}
			tag, err := tx.Exec(ctx, "DELETE FROM inflight WHERE id = $1", b.ID)
			if err != nil {
				return 0, err
			}
			changed += c + tag.RowsAffected()
			n += len(b.Messages)
		}
		return changed, nil
	})
	return n, err
}

// RecordOutcomes settles recorded messages of unknown outcome (reconciliation). Losing the
// commit leaves them unknown, to be looked up again.
func (s *Store) RecordOutcomes(ctx context.Context, outs []state.Outcome) error {
	if len(outs) == 0 {
		return nil
	}
	n := len(outs)
	c, d, mid, st, sn, e := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	r, sg, si, sc := make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
	for i, o := range outs {
		c[i], r[i], d[i], mid[i], st[i] = o.Campaign, int32(o.Round), o.To, o.MessageID, string(o.State)
		sg[i], si[i], sn[i], sc[i], e[i] = int32(o.StatusGroup), int32(o.StatusID), o.StatusName, int32(o.SmsCount), o.Error
	}
	ts := state.FormatTime(time.Now())
	return s.write(ctx, false, func(tx pgx.Tx) (int64, error) {
		tag, err := tx.Exec(ctx, `UPDATE messages m SET state = u.st, status_group = NULLIF(u.sg, 0), status_id = NULLIF(u.si, 0),
			status_name = NULLIF(u.sn, ''), sms_count = CASE WHEN u.sc > 0 THEN u.sc ELSE m.sms_count END,
			error = NULLIF(u.e, ''), updated_at = $11
			FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::text[], $9::int[], $10::text[])
				AS u(c, r, d, mid, st, sg, si, sn, sc, e)
			WHERE m.campaign = u.c AND m.round = u.r AND m.destination = u.d AND m.message_id = u.mid`,
			c, r, d, mid, st, sg, si, sn, sc, e, ts)
		if err != nil {
			return 0, fmt.Errorf("record outcomes: %w", err)
		}
		return tag.RowsAffected(), nil
	})
}

// Snapshot reads the records of the given rounds in one read-only, repeatable-read
// transaction, so the version and the records agree.
func (s *Store) Snapshot(ctx context.Context, rounds []state.Round) (*state.Snapshot, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	v, err := readVersion(ctx, tx)
	if err != nil {
		return nil, err
	}
	b := state.NewSnapshotBuilder(v)
	for _, r := range rounds {
		if b.Has(r) {
			continue
		}
		recs := b.Round(r)
		rows, err := tx.Query(ctx, "SELECT destination, state, text_hash, attempt, COALESCE(error, ''), sending_at FROM messages WHERE campaign = $1 AND round = $2", r.Campaign, r.Round)
		if err != nil {
			return nil, err
		}
		var to, st, errText, sendingAt string
		var hash int64
		var attempt int32
		for rows.Next() {
			if err := rows.Scan(&to, &st, &hash, &attempt, &errText, &sendingAt); err != nil {
				rows.Close()
				return nil, err
			}
			recs.Put(to, state.Record{State: state.State(st), Hash: uint64(hash), Attempt: int(attempt), Error: errText, SendingAt: state.ParseTime(sendingAt)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	batches, err := readInflight(ctx, tx)
	if err != nil {
		return nil, err
	}
	b.InFlight(batches)
	list, err := readOptOuts(ctx, tx, false)
	if err != nil {
		return nil, err
	}
	snap := b.Snapshot()
	snap.OptOuts = state.OptedOut(list)
	return snap, tx.Commit(ctx)
}

// InFlight lists the batches recorded as in flight.
func (s *Store) InFlight(ctx context.Context) ([]state.Batch, error) {
	return readInflight(ctx, s.pool)
}

func readInflight(ctx context.Context, q queryer) ([]state.Batch, error) {
	rows, err := q.Query(ctx, "SELECT id, created_at, messages FROM inflight ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []state.Batch
	for rows.Next() {
		var b state.Batch
		var createdAt, data string
		if err := rows.Scan(&b.ID, &createdAt, &data); err != nil {
			return nil, err
		}
		b.CreatedAt = state.ParseTime(createdAt)
		if err := json.Unmarshal([]byte(data), &b.Messages); err != nil {
			return nil, fmt.Errorf("in-flight batch %d: %w", b.ID, err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// List returns recorded messages matching f, ordered by campaign, round and number.
func (s *Store) List(ctx context.Context, f state.Filter) ([]state.Message, error) {
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Campaign != "" {
		arg("campaign = $%d", f.Campaign)
	}
	if f.MessageID != "" {
		arg("message_id = $%d", f.MessageID)
	}
	if f.To != "" {
		arg("destination = $%d", f.To)
	}
	if len(f.States) > 0 {
		sts := make([]string, len(f.States))
		for i, st := range f.States {
			sts[i] = string(st)
		}
		arg("state = ANY($%d)", sts)
	}
	q := `SELECT campaign, round, destination, attempt, message_id, bulk_id, state, COALESCE(status_group, 0),
		COALESCE(status_id, 0), COALESCE(status_name, ''), sms_count, COALESCE(tracking_type, ''), COALESCE(error, ''),
		created_at, updated_at FROM messages`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	// COLLATE "C": the byte order SQLite sorts in, whatever the database's locale.
	q += ` ORDER BY campaign COLLATE "C", round, destination COLLATE "C"`
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []state.Message
	for rows.Next() {
		var m state.Message
		var st string
		if err := rows.Scan(&m.Campaign, &m.Round, &m.To, &m.Attempt, &m.MessageID, &m.BulkID, &st, &m.StatusGroup,
			&m.StatusID, &m.StatusName, &m.SmsCount, &m.TrackingType, &m.Error, &m.CreatedAt, &m.UpdatedAt); err != nil {
			return nil, err
		}
		m.State = state.State(st)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !f.InFlight {
		return out, nil
	}
	batches, err := readInflight(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	return state.MergeInFlight(out, batches, f), nil
}

// Counts returns how many messages are in each state, per campaign round.
func (s *Store) Counts(ctx context.Context) (map[state.Round]map[state.State]int, error) {
	rows, err := s.pool.Query(ctx, "SELECT campaign, round, state, COUNT(*) FROM messages GROUP BY campaign, round, state")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[state.Round]map[state.State]int{}
	for rows.Next() {
		var r state.Round
		var st string
		var n int
		if err := rows.Scan(&r.Campaign, &r.Round, &st, &n); err != nil {
			return nil, err
		}
		if out[r] == nil {
			out[r] = map[state.State]int{}
		}
		out[r][state.State(st)] = n
	}
	return out, rows.Err()
}

// CountUnresolved counts the messages whose outcome is unknown (or still sending), those of
// batches in flight included.
func (s *Store) CountUnresolved(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT COUNT(*) FROM messages WHERE state IN ('sending', 'unknown')").Scan(&n); err != nil {
		return 0, err
	}
	batches, err := readInflight(ctx, s.pool)
	if err != nil {
		return 0, err
	}
	for _, b := range batches {
		for _, m := range b.Messages {
			// A message resent after an unknown outcome is already counted by its row.
			var st string
			err := s.pool.QueryRow(ctx, "SELECT state FROM messages WHERE campaign = $1 AND round = $2 AND destination = $3", m.Campaign, m.Round, m.To).Scan(&st)
			if err != nil && err != pgx.ErrNoRows {
				return 0, err
			}
			if st != string(state.Unknown) && st != string(state.Sending) {
				n++
			}
		}
	}
	return n, nil
}

// Unresolved lists the messages in state "unknown", oldest attempt first.
func (s *Store) Unresolved(ctx context.Context) ([]state.Pending, error) {
	rows, err := s.pool.Query(ctx, `SELECT campaign, round, destination, attempt, message_id, bulk_id, sending_at
		FROM messages WHERE state = 'unknown' ORDER BY sending_at COLLATE "C", message_id COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []state.Pending
	for rows.Next() {
		var p state.Pending
		var at string
		if err := rows.Scan(&p.Campaign, &p.Round, &p.To, &p.Attempt, &p.MessageID, &p.BulkID, &at); err != nil {
			return nil, err
		}
		p.SendingAt = state.ParseTime(at)
		out = append(out, p)
	}
	return out, rows.Err()
}
