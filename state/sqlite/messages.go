package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/internal/sqlstore"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// MarkSending durably records a request's messages as in flight ("sending") before the
// request leaves: one row for the whole batch, committed with an fsync.
func (s *Store) MarkSending(ctx context.Context, msgs []state.Outgoing) (*state.Batch, error) {
	return s.MarkSendingAfter(ctx, nil, msgs)
}

// MarkSendingAfter settles items and records msgs as in flight in one transaction,
// committed with an fsync (state.SettlingWriter): apply records the answers it holds with
// its next batch instead of in a commit of their own. Calls made while another's
// transaction runs share the next one (see grouped).
func (s *Store) MarkSendingAfter(ctx context.Context, items []state.Settlement, msgs []state.Outgoing) (*state.Batch, error) {
	b, data, err := sqlstore.NewBatch(msgs)
	if err != nil {
		return nil, err
	}
	if err := s.prepareSettle(ctx, items); err != nil {
		return nil, err
	}
	if err := s.grouped(ctx, &groupWrite{items: items, batch: b, data: data}); err != nil {
		return nil, err
	}
	return b, nil
}

// Settle records the outcome of every message of a batch, outs[i] being that of
// b.Messages[i], and removes the batch from the in-flight ones. A message recorded before
// (failed, or unknown and now resent) is overwritten in place. The commit is not fsynced
// (see withLazyTx) unless it shares a group that records a batch in flight (SettleMany): if
// it is lost, the batch is still in flight and the next run reconciles it.
func (s *Store) Settle(ctx context.Context, b *state.Batch, outs []state.Outcome) error {
	return s.SettleMany(ctx, []state.Settlement{{Batch: b, Outcomes: outs}})
}

// SettleMany settles several batches in one transaction: the pages they share (their keys
// are neighbours when apply sends in key order) are written once instead of once each. A
// call made while another's transaction runs shares the next one (see grouped), which is
// committed with an fsync if any of its calls records a batch in flight.
func (s *Store) SettleMany(ctx context.Context, items []state.Settlement) error {
	if err := s.prepareSettle(ctx, items); err != nil {
		return err
	}
	return s.grouped(ctx, &groupWrite{items: items})
}

// isKeyConflict says err is a row inserted with a key already in the table, or earlier in
// the same write.
func isKeyConflict(err error) bool { return errorCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY }

// isConstraint says err is a constraint SQLite enforced (a CHECK, NOT NULL, a key): about
// what a write holds, not about the database.
func isConstraint(err error) bool { return errorCode(err)&0xff == sqlite3.SQLITE_CONSTRAINT }

// errorCode is the extended result code of a SQLite error (the driver turns extended codes
// on), 0 for any other error.
func errorCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

// prepareSettle checks settlements and, when there are any, prepares the statements that
// write them; outside any transaction, as rowStmts.prepare must be.
func (s *Store) prepareSettle(ctx context.Context, items []state.Settlement) error {
	if len(items) == 0 {
		return nil
	}
	if err := state.CheckSettlements(items); err != nil {
		return err
	}
	if err := s.inserts.prepare(ctx, s.db); err != nil {
		return err
	}
	if err := s.leanInserts.prepare(ctx, s.db); err != nil {
		return err
	}
	return s.upserts.prepare(ctx, s.db)
}

// settleTx writes the settlements' messages with their outcomes in tx and removes their
// batches from those in flight. fresh inserts the messages (see writeGroup) instead of
// upserting them.
func (s *Store) settleTx(ctx context.Context, tx *sql.Tx, items []state.Settlement, ts string, fresh bool) error {
	write := s.upsertMessages
	if fresh {
		write = s.insertMessages
	}
	for _, it := range items {
		if _, err := write(ctx, tx, it.Batch.Messages, it.Outcomes, state.FormatTime(it.Batch.CreatedAt), ts); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM inflight WHERE id = ?", it.Batch.ID); err != nil {
			return err
		}
	}
	return nil
}

// rowColumns are the columns a multi-row write binds for each message, in the order
// rowArgs gives them; the other columns take the values a chunk's messages share (see
// insertSQL). The lean statements bind the first leanColumns only.
var rowColumns = []string{"destination", "attempt", "message_id", "text_hash", "sms_count",
	"variant", "held", "send_at", "consent_at", "consent_source"}

const leanColumns = 5

// upsertSQL builds the statement writing n messages, a message recorded before overwritten.
func upsertSQL(n int) string { return insertSQL(n, "INSERT", rowColumns) + sqlstore.UpsertMessage }

// insertFreshSQL builds insertMessages' statement: upsertSQL's that fails on a key recorded
// before, instead of overwriting its row.
func insertFreshSQL(n int) string { return insertSQL(n, "INSERT OR FAIL", rowColumns) }

// insertLeanSQL is insertFreshSQL's statement for lean messages, which have none of the
// values most messages lack (a variant, held, a send time, consent evidence): it binds five
// values a row instead of ten, and those columns take their defaults (NULL, held 0).
// Binding a value and copying it through SQLite's program is a good part of what a row
// costs.
func insertLeanSQL(n int) string { return insertSQL(n, "INSERT OR FAIL", rowColumns[:leanColumns]) }

// insertSQL builds a statement, begun by verb, writing n messages: the values a chunk's
// rows share (campaign, round, times, and the bulk, outcome, tracking and purpose, which
// one answer's messages share) are bound once, cols for each row.
func insertSQL(n int, verb string, cols []string) string {
	picks := make([]string, len(cols))
	for i := range cols {
		picks[i] = fmt.Sprintf("v.column%d", i+1)
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	return verb + ` INTO messages
		(campaign, round, ` + strings.Join(cols, ", ") + `, bulk_id, state, status_group, status_id, status_name,
		 tracking_type, error, purpose, created_at, sending_at, updated_at)
		SELECT k.c, k.r, ` + strings.Join(picks, ", ") + `, k.bid, k.st, k.sg, k.si, k.sn, k.tt, k.e, k.pu, k.ts, k.sat, k.ts
		FROM (SELECT ? AS c, ? AS r, ? AS ts, ? AS sat, ? AS bid, ? AS st, ? AS sg, ? AS si, ? AS sn, ? AS tt, ? AS e,
			? AS pu) AS k, (VALUES ` + strings.TrimSuffix(strings.Repeat(row+",", n), ",") + `) AS v
		WHERE true
		`
}

// lean says m has none of the values insertLeanSQL leaves to their defaults.
func lean(m *state.Outgoing) bool {
	return m.Variant == "" && !m.Held && m.SendAt == "" && m.ConsentAt == "" && m.ConsentSource == ""
}

// leanArgs appends the values of m's row that the lean statements bind (rowColumns'
// first leanColumns).
func leanArgs(args []any, m *state.Outgoing, o *state.Outcome) []any {
	return append(args, m.To, m.Attempt, m.MessageID, int64(m.Hash), sqlstore.Parts(m, o))
}

// rowArgs appends the values of m's row (rowColumns).
func rowArgs(args []any, m *state.Outgoing, o *state.Outcome) []any {
	held := 0
	if m.Held {
		held = 1
	}
	return append(leanArgs(args, m, o), sqlstore.Null(m.Variant), held, sqlstore.Null(m.SendAt), sqlstore.Null(m.ConsentAt),
		sqlstore.Null(m.ConsentSource))
}

// upsertMessages writes messages with their outcomes, in key order, a message recorded
// before being overwritten in place (sqlstore.Backend.Upsert). Its statements are prepared
// for this transaction unless s.upserts was prepared before it.
func (s *Store) upsertMessages(ctx context.Context, tx *sql.Tx, msgs []state.Outgoing, outs []state.Outcome, sendingAt, ts string) (int64, error) {
	return writeMessages(ctx, tx, &s.upserts, msgs, outs, sendingAt, ts, rowArgs)
}

// insertMessages is upsertMessages for messages not recorded before: a key recorded before
// fails the statement (isKeyConflict), leaving tx to be rolled back. Runs of at least
// minLeanRun lean messages are written by insertLeanSQL's statements, the rest by the full
// ones: a shorter run would cost more in statements of a few rows (where lean and other
// messages alternate, as consent evidence may) than its lean rows save.
func (s *Store) insertMessages(ctx context.Context, tx *sql.Tx, msgs []state.Outgoing, outs []state.Outcome, sendingAt, ts string) (int64, error) {
	var changed int64
	write := func(stmts *rowStmts, row rowFunc, start, end int) error {
		if start == end {
			return nil
		}
		c, err := writeMessages(ctx, tx, stmts, msgs[start:end], outs[start:end], sendingAt, ts, row)
		changed += c
		return err
	}
	full := 0 // the first message not written yet, which goes to the full statements
	for i := 0; i < len(msgs); {
		if !lean(&msgs[i]) {
			i++
			continue
		}
		end := i + 1
		for end < len(msgs) && lean(&msgs[end]) {
			end++
		}
		if end-i >= minLeanRun {
			if err := write(&s.inserts, rowArgs, full, i); err != nil {
				return changed, err
			}
			if err := write(&s.leanInserts, leanArgs, i, end); err != nil {
				return changed, err
			}
			full = end
		}
		i = end
	}
	return changed, write(&s.inserts, rowArgs, full, len(msgs))
}

// minLeanRun is the fewest lean messages in a row that insertMessages writes with the lean
// statements.
const minLeanRun = 16

// rowFunc appends the values of a message's row, rowArgs or leanArgs.
type rowFunc func(args []any, m *state.Outgoing, o *state.Outcome) []any

// writeMessages writes messages with their outcomes through stmts, whose statements bind
// first the values a chunk's messages share and then, for each message, what row appends.
func writeMessages(ctx context.Context, tx *sql.Tx, stmts *rowStmts, msgs []state.Outgoing, outs []state.Outcome, sendingAt, ts string, row rowFunc) (int64, error) {
	return stmts.exec(ctx, tx, len(msgs),
		func(start, i int) bool { // a statement writes messages that share what it binds once
			a, b, oa, ob := &msgs[start], &msgs[i], &outs[start], &outs[i]
			return a.Campaign == b.Campaign && a.Round == b.Round && a.BulkID == b.BulkID && oa.State == ob.State &&
				oa.StatusGroup == ob.StatusGroup && oa.StatusID == ob.StatusID && oa.StatusName == ob.StatusName &&
				oa.Error == ob.Error && sqlstore.TrackingOf(a) == sqlstore.TrackingOf(b) && a.Purpose == b.Purpose
		},
		func(args []any, start, end int) []any {
			m, o := &msgs[start], &outs[start]
			args = append(args, m.Campaign, m.Round, ts, sendingAt, m.BulkID, string(o.State), sqlstore.Null(o.StatusGroup),
				sqlstore.Null(o.StatusID), sqlstore.Null(o.StatusName), sqlstore.TrackingOf(m), sqlstore.Null(o.Error), sqlstore.Null(m.Purpose))
			for i := start; i < end; i++ {
				args = row(args, &msgs[i], &outs[i])
			}
			return args
		},
		func(start, end int) string {
			return fmt.Sprintf("record messages %s to %s", msgs[start].MessageID, msgs[end-1].MessageID)
		})
}

// RecordOutcomes settles recorded messages of unknown outcome (reconciliation). The commit
// is not fsynced (see withLazyTx): losing it leaves them unknown, to be looked up again.
func (s *Store) RecordOutcomes(ctx context.Context, outs []state.Outcome) error {
	ts := state.FormatTime(time.Now())
	outs = state.SortedByKey(outs, func(o state.Outcome) state.Key { return o.Key })
	return s.withLazyTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE messages SET state = ?, status_group = ?, status_id = ?,
			status_name = ?, sms_count = CASE WHEN ? > 0 THEN ? ELSE sms_count END, error = ?, updated_at = ?
			WHERE campaign = ? AND round = ? AND destination = ? AND message_id = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, o := range outs {
			if _, err := stmt.ExecContext(ctx, o.State, sqlstore.Null(o.StatusGroup), sqlstore.Null(o.StatusID), sqlstore.Null(o.StatusName), o.SmsCount, o.SmsCount, sqlstore.Null(o.Error), ts, o.Campaign, o.Round, o.To, o.MessageID); err != nil {
				return fmt.Errorf("record outcome of %s: %w", o.MessageID, err)
			}
		}
		return nil
	})
}

// NoteFirstAttempts remembers, before messages of unknown outcome are sent again with the
// same messageId, when that messageId was first sent (their sending_at will move on), and
// uses up a person's "unsent" decision: it was about the attempts before this one. Durable
// before the resend leaves, like the in-flight record.
func (s *Store) NoteFirstAttempts(ctx context.Context, keys []state.Key) error {
	keys = state.SortedByKey(keys, func(k state.Key) state.Key { return k })
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
