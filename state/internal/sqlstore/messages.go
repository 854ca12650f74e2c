package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smsform/smsform/state"
)

// Version reads the current version.
func (q *Queries) Version(ctx context.Context) (state.Version, error) { return q.version(ctx, nil) }

func (q *Queries) version(ctx context.Context, db Querier) (state.Version, error) {
	var v state.Version
	var serial string
	rows, err := q.query(ctx, db, "SELECT (SELECT value FROM meta WHERE key = 'lineage'), (SELECT value FROM meta WHERE key = 'serial')")
	if err := scanOne(rows, err, &v.Lineage, &serial); err != nil {
		return v, err
	}
	v.Serial, err = strconv.ParseInt(serial, 10, 64)
	return v, err
}

// Snapshot reads the records of the given rounds, the batches in flight (another run is
// sending them, or one died: they count as sending) and the active opt-outs in one
// read-only transaction that sees one moment of the state, so that the version and the
// records agree.
func (q *Queries) Snapshot(ctx context.Context, rounds []state.Round) (*state.Snapshot, error) {
	var snap *state.Snapshot
	err := q.b.Read(ctx, func(tx Querier) error {
		v, err := q.version(ctx, tx)
		if err != nil {
			return err
		}
		b := state.NewSnapshotBuilder(v)
		// A million rows are read without a million strings (RawBytes), through the
		// backend's fastest read of many rows (each). Every column costs a call into the
		// driver, so the state, whether the message has a variant and its attempt come as
		// one number (packedSQL), and the reasons, which few messages have, in a second
		// read.
		var to, sendingAt sql.RawBytes
		var packed, hash int64
		dest := []any{&to, &packed, &hash, &sendingAt}
		for _, r := range rounds {
			if b.Has(r) {
				continue
			}
			recs := b.Round(r)
			variants, unsent := false, false
			err := q.each(ctx, tx, []string{"destination", packedSQL, "text_hash", "sending_at"},
				// In the order of the key, without COLLATE "C": for numbers in E.164 (a
				// '+' and digits) every collation orders them as their bytes, the order
				// state.Recorded keeps, and the key's index gives it without a sort, where
				// COLLATE "C" made PostgreSQL sort a million rows on disk unless the
				// database's collation is "C". Rows out of that order (a state edited by
				// hand) are sorted once by state.Recorded. SQLite's each reads by the key.
				`messages WHERE campaign = ? AND round = ? ORDER BY destination`,
				[]any{r.Campaign, r.Round}, dest, func() error {
					recs.PutCodedRow(to, packed&packedState, hash, int32(packed>>packedAttempt), nil, sendingAt)
					variants = variants || packed&packedVariant != 0
					unsent = unsent || packed&packedState != sentCode
					return nil
				})
			if err != nil {
				return err
			}
			// A message recorded sent has no reason: a round sent whole needs no second scan.
			if unsent {
				if err := q.reasons(ctx, tx, r, recs); err != nil {
					return err
				}
			}
			// An experiment's figures are read only for a round sent with variants: the
			// rounds of plain campaigns cost one more lookup (their decision), no scan.
			t, err := q.trial(ctx, tx, r, variants)
			if err != nil {
				return err
			}
			if t != nil {
				b.Trial(r, t)
			}
		}
		batches, err := q.inFlight(ctx, tx)
		if err != nil {
			return err
		}
		b.InFlight(batches)
		list, err := q.optOuts(ctx, tx, false)
		if err != nil {
			return err
		}
		b.OptOuts(list)
		snap = b.Snapshot()
		return nil
	})
	return snap, err
}

// reasons reads the reasons of round r's messages (failed, unknown...) into recs.
func (q *Queries) reasons(ctx context.Context, tx Querier, r state.Round, recs *state.Recorded) error {
	rows, err := q.query(ctx, tx, `SELECT destination, error FROM messages
		WHERE campaign = ? AND round = ? AND error IS NOT NULL AND error <> ''`, r.Campaign, r.Round)
	if err != nil {
		return err
	}
	var to, errText sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&to, &errText); err != nil {
			rows.Close()
			return err
		}
		recs.PutError(to, errText)
	}
	return errors.Join(rows.Err(), rows.Close())
}

// UpsertMessage is how both backends' upserts of messages end: a key recorded before (a
// failed message retried, an unknown one resent) is overwritten in place, every column but
// the key and created_at.
const UpsertMessage = `ON CONFLICT (campaign, round, destination) DO UPDATE SET
	attempt = excluded.attempt, message_id = excluded.message_id, bulk_id = excluded.bulk_id,
	text_hash = excluded.text_hash, state = excluded.state, status_group = excluded.status_group,
	status_id = excluded.status_id, status_name = excluded.status_name, sms_count = excluded.sms_count,
	tracking_type = excluded.tracking_type, error = excluded.error, variant = excluded.variant,
	held = excluded.held, purpose = excluded.purpose, send_at = excluded.send_at, consent_at = excluded.consent_at,
	consent_source = excluded.consent_source, sending_at = excluded.sending_at, updated_at = excluded.updated_at`

// packedSQL reads a message's state as its code (state.StateCodes, in packedState's bits:
// a number is read without the two allocations a text column costs, a million times over),
// whether it has a variant (packedVariant) and its attempt (from bit packedAttempt on).
var packedSQL = fmt.Sprintf("(%s) + CASE WHEN variant IS NULL THEN 0 ELSE %d END + %d * attempt", stateCodeSQL, packedVariant, 1<<packedAttempt)

// The parts of packedSQL's number.
const (
	packedState   = 7 // the state's code
	packedVariant = 8 // set when the message has a variant
	packedAttempt = 4 // the attempt, from this bit on
)

// sentCode is the code of state.Sent.
var sentCode = int64(slices.Index(state.StateCodes(), state.Sent))

// stateCodeSQL reads a message's state as its code (state.StateCodes).
var stateCodeSQL = func() string {
	var b strings.Builder
	b.WriteString("CASE state")
	for code, st := range state.StateCodes() {
		if st != "" {
			fmt.Fprintf(&b, " WHEN '%s' THEN %d", st, code)
		}
	}
	b.WriteString(" ELSE 0 END")
	return b.String()
}()

// Batch is a batch's messages as the inflight table keeps them (state.EncodeBatch), as
// InFlight reads them back.
func Batch(b *state.Batch) (string, error) {
	data, err := state.EncodeBatch(b.Messages)
	return string(data), err
}

// NewBatch is msgs as a batch recorded now (see state.NewBatch), with its messages as the
// inflight table keeps them.
func NewBatch(msgs []state.Outgoing) (*state.Batch, string, error) {
	b, err := state.NewBatch(msgs)
	if err != nil {
		return nil, "", err
	}
	data, err := Batch(b)
	return b, data, err
}

// InFlight lists the batches recorded as in flight.
func (q *Queries) InFlight(ctx context.Context) ([]state.Batch, error) { return q.inFlight(ctx, nil) }

func (q *Queries) inFlight(ctx context.Context, db Querier) ([]state.Batch, error) {
	var createdAt, data string
	rows, err := q.query(ctx, db, "SELECT id, created_at, messages FROM inflight ORDER BY id")
	return scanAll(rows, err, func(b *state.Batch) []any { return []any{&b.ID, &createdAt, &data} }, func(b *state.Batch) error {
		b.CreatedAt = state.ParseTime(createdAt)
		var err error
		if b.Messages, err = state.DecodeBatch([]byte(data)); err != nil {
			return fmt.Errorf("in-flight batch %d: %w", b.ID, err)
		}
		return nil
	})
}

// MarkInterrupted records the messages of every batch left in flight as "unknown". Called
// by the holder of the state lock: a batch it did not record itself belongs to a run that
// died between recording the batch and recording its answer.
func (q *Queries) MarkInterrupted(ctx context.Context) (int, error) {
	n := 0
	ts := state.FormatTime(time.Now())
	err := q.write(ctx, func(tx *sql.Tx) (int64, error) {
		batches, err := q.inFlight(ctx, sqlDB{tx}) // inside the write transaction: nobody settles them meanwhile
		if err != nil {
			return 0, err
		}
		var changed int64
		for _, b := range batches {
			k, err := q.b.Upsert(ctx, tx, b.Messages, state.Interrupted(b), state.FormatTime(b.CreatedAt), ts)
			if err != nil {
				return 0, err
			}
			d, err := affected(tx.ExecContext(ctx, q.d.SQL("DELETE FROM inflight WHERE id = ?"), b.ID))
			if err != nil {
				return 0, err
			}
			changed += k + d
			n += len(b.Messages)
		}
		return changed, nil
	})
	return n, err
}

// List returns recorded messages matching f, ordered by campaign, round and number, and,
// when f wants them, the messages of batches in flight as sending (see
// state.MergeInFlight). Batches in flight are read only then.
func (q *Queries) List(ctx context.Context, f state.Filter) ([]state.Message, error) {
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
		where = append(where, "state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	var held int
	query := `SELECT campaign, round, destination, attempt, message_id, bulk_id, state, COALESCE(status_group, 0),
		COALESCE(status_id, 0), COALESCE(status_name, ''), sms_count, COALESCE(tracking_type, ''), COALESCE(error, ''),
		created_at, updated_at, COALESCE(variant, ''), held, COALESCE(purpose, ''), COALESCE(send_at, ''), COALESCE(consent_at, ''),
		COALESCE(consent_source, '') FROM messages`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += ` ORDER BY campaign COLLATE "C", round, destination COLLATE "C"`
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := q.query(ctx, nil, query, args...)
	out, err := scanAll(rows, err, func(m *state.Message) []any {
		return []any{&m.Campaign, &m.Round, &m.To, &m.Attempt, &m.MessageID, &m.BulkID, &m.State, &m.StatusGroup,
			&m.StatusID, &m.StatusName, &m.SmsCount, &m.TrackingType, &m.Error, &m.CreatedAt, &m.UpdatedAt, &m.Variant, &held,
			&m.Purpose, &m.SendAt, &m.ConsentAt, &m.ConsentSource}
	}, func(m *state.Message) error { m.Held = held != 0; return nil })
	if err != nil || !f.WantsInFlight() {
		return out, err
	}
	batches, err := q.InFlight(ctx)
	if err != nil {
		return out, err
	}
	return state.MergeInFlight(out, batches, f), nil
}

// Counts returns how many messages are in each state, per campaign round.
func (q *Queries) Counts(ctx context.Context) (map[state.Round]map[state.State]int, error) {
	type count struct {
		r  state.Round
		st state.State
		n  int
	}
	rows, err := q.query(ctx, nil, "SELECT campaign, round, state, COUNT(*) FROM messages GROUP BY campaign, round, state")
	counts, err := scanAll(rows, err, func(c *count) []any { return []any{&c.r.Campaign, &c.r.Round, &c.st, &c.n} }, nil)
	if err != nil {
		return nil, err
	}
	out := map[state.Round]map[state.State]int{}
	for _, c := range counts {
		if out[c.r] == nil {
			out[c.r] = map[state.State]int{}
		}
		out[c.r][c.st] = c.n
	}
	return out, nil
}

// UnresolvedWhere is the condition of the partial index messages_unresolved (migration
// 0007), repeated by the reads that look for every message of unknown outcome (count,
// list, decide): SQLite uses a partial index only for a query whose WHERE has its
// condition as written. Reads by key, or of other states too, have no use for it.
const UnresolvedWhere = "state IN ('sending', 'unknown')"

// The reads of messages of unknown outcome; UnresolvedReads lists them for the backends'
// tests that they use the index.
const (
	countUnresolvedSQL = "SELECT COUNT(*) FROM messages WHERE " + UnresolvedWhere
	unresolvedSQL      = `SELECT campaign, round, destination, attempt, message_id, bulk_id, sending_at
		FROM messages WHERE ` + UnresolvedWhere + ` AND state = 'unknown' ORDER BY sending_at COLLATE "C", message_id COLLATE "C"`
	undecidedSQL = `SELECT campaign, round, destination, attempt, message_id, bulk_id, sending_at,
			CASE WHEN first_message_id = message_id THEN first_sending_at
				WHEN created_at COLLATE "C" < sending_at COLLATE "C" THEN created_at ELSE sending_at END,
			COALESCE(resolution, ''), COALESCE(resolved_by, '')
		FROM messages WHERE ` + UnresolvedWhere + ` AND state = 'unknown' ORDER BY sending_at COLLATE "C", message_id COLLATE "C"`
)

// UnresolvedReads are the reads of messages of unknown outcome, as the backends run them.
func UnresolvedReads(d Dialect) []string {
	return []string{d.SQL(countUnresolvedSQL), d.SQL(unresolvedSQL), d.SQL(undecidedSQL)}
}

// CountUnresolved counts the messages whose outcome is unknown (or still sending), those of
// batches in flight included.
func (q *Queries) CountUnresolved(ctx context.Context) (int, error) {
	var n int
	rows, err := q.query(ctx, nil, countUnresolvedSQL)
	if err := scanOne(rows, err, &n); err != nil {
		return 0, err
	}
	batches, err := q.InFlight(ctx) // empty but while a run sends, or after one died
	if err != nil {
		return 0, err
	}
	for _, b := range batches {
		for _, m := range b.Messages {
			// A message resent after an unknown outcome is already counted by its row.
			var st string
			rows, err := q.query(ctx, nil, "SELECT state FROM messages WHERE campaign = ? AND round = ? AND destination = ?", m.Campaign, m.Round, m.To)
			if err := scanOne(rows, err, &st); err != nil && !errors.Is(err, sql.ErrNoRows) {
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
func (q *Queries) Unresolved(ctx context.Context) ([]state.Pending, error) {
	var at string
	rows, err := q.query(ctx, nil, unresolvedSQL)
	return scanAll(rows, err, func(p *state.Pending) []any {
		return []any{&p.Campaign, &p.Round, &p.To, &p.Attempt, &p.MessageID, &p.BulkID, &at}
	}, func(p *state.Pending) error { p.SendingAt = state.ParseTime(at); return nil })
}

// Undecided lists the messages in state "unknown", oldest attempt first, with their first
// attempt and any decision a person made about them (see state.Undecided). Times are text
// in one sortable layout, so the earlier of two is the smaller.
func (q *Queries) Undecided(ctx context.Context) ([]state.Undecided, error) {
	var at, first, resolution string
	rows, err := q.query(ctx, nil, undecidedSQL)
	return scanAll(rows, err, func(u *state.Undecided) []any {
		return []any{&u.Campaign, &u.Round, &u.To, &u.Attempt, &u.MessageID, &u.BulkID, &at, &first, &resolution, &u.ResolvedBy}
	}, func(u *state.Undecided) error {
		u.SendingAt = state.ParseTime(at)
		u.FirstAttemptAt = state.ParseTime(first)
		u.Unsent = resolution == "unsent"
		if !u.Unsent {
			u.ResolvedBy = ""
		}
		return nil
	})
}

// Forget removes a batch whose request provably did nothing (the API refused the
// credentials): its messages stay as they were before, unsent or failed.
func (q *Queries) Forget(ctx context.Context, b *state.Batch) error {
	return q.write(ctx, func(tx *sql.Tx) (int64, error) {
		return affected(tx.ExecContext(ctx, q.d.SQL("DELETE FROM inflight WHERE id = ?"), b.ID))
	})
}
