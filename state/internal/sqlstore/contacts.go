package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/smsform/smsform/state"
)

// Contacts reads the marketing messages a frequency cap counts, of every campaign: those
// recorded sent, sending or unknown (rows recorded before the purpose was, NULL, are
// marketing, the default purpose) that went out after since, and those of batches in
// flight. One scan of the messages table, no index to keep up at every write: the rows a
// plan reads anyway are of the same order.
func (q *Queries) Contacts(ctx context.Context, since time.Time) (*state.Contacts, error) {
	var c *state.Contacts
	err := q.b.Read(ctx, func(tx Querier) error {
		// Sized once (counting costs a tenth of the read): grown by doubling, a million
		// entries would leave 40 MB behind for the collector, which then scans the
		// recipients loading beside it again and again.
		var n int
		rows, err := q.query(ctx, tx, "SELECT COUNT(*) FROM messages")
		if err := scanOne(rows, err, &n); err != nil {
			return err
		}
		c = state.NewContacts(n)
		var campaign, to, at sql.RawBytes
		var round int32
		err = q.each(ctx, tx, []string{"campaign", "round", "destination", "COALESCE(send_at, sending_at)"},
			`messages WHERE state IN ('sent', 'sending', 'unknown') AND (purpose IS NULL OR purpose = 'marketing')
			AND COALESCE(send_at, sending_at) COLLATE "C" > ?`, []any{state.FormatTime(since)},
			[]any{&campaign, &round, &to, &at}, func() error {
				c.AddRow(campaign, round, to, at)
				return nil
			})
		if err != nil {
			return err
		}
		batches, err := q.inFlight(ctx, tx)
		if err != nil {
			return err
		}
		c.AddInFlight(batches, since)
		c.Sort()
		return nil
	})
	return c, err
}

// RecordCapped records messages a frequency cap held back as capped, each with its reason,
// in one transaction: never sent later for their round. A message recorded before (a
// failed one planned again with -retry-failed) is overwritten in place.
func (q *Queries) RecordCapped(ctx context.Context, msgs []state.Outgoing, reasons []string) error {
	if len(msgs) == 0 {
		return nil
	}
	outs := make([]state.Outcome, len(msgs))
	byKey := make(map[state.Key]string, len(msgs))
	for i, m := range msgs {
		byKey[m.Key] = reasons[i]
	}
	sorted := state.SortedByKey(msgs, func(m state.Outgoing) state.Key { return m.Key })
	for i, m := range sorted {
		outs[i] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Capped, Error: byKey[m.Key]}
	}
	ts := state.FormatTime(time.Now())
	return q.write(ctx, func(tx *sql.Tx) (int64, error) {
		return q.b.Upsert(ctx, tx, sorted, outs, ts, ts)
	})
}
