package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/smsform/smsform/state"
)

// Index reads every recorded message with its conversion state.
func (q *Queries) Index(ctx context.Context) (*state.MessageIndex, error) {
	var total int
	rows, err := q.query(ctx, nil, "SELECT COUNT(*) FROM messages")
	if err := scanOne(rows, err, &total); err != nil {
		return nil, err
	}
	rows, err = q.query(ctx, nil, `SELECT m.campaign, m.round, m.destination, m.message_id, m.state,
		m.tracking_type IS NOT NULL, COALESCE(c.state, '')
		FROM messages m LEFT JOIN conversions c
			ON c.campaign = m.campaign AND c.round = m.round AND c.destination = m.destination AND c.message_id = m.message_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	b := state.NewIndexBuilder(total)
	// RawBytes: a million rows are read without a million strings.
	var camp, to, id, st, conv sql.RawBytes
	var round int32
	var tracked bool
	dest := []any{&camp, &round, &to, &id, &st, &tracked, &conv}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		b.Add(camp, round, to, id, st, tracked, conv)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	return b.Index()
}

// ForgetConversions removes "submitting" records whose requests provably did nothing.
func (q *Queries) ForgetConversions(ctx context.Context, cs []state.Conversion) error {
	if len(cs) == 0 {
		return nil
	}
	return q.write(ctx, func(tx *sql.Tx) (int64, error) {
		stmt, err := tx.PrepareContext(ctx, q.d.SQL("DELETE FROM conversions WHERE campaign = ? AND round = ? AND destination = ? AND state = 'submitting'"))
		if err != nil {
			return 0, err
		}
		defer stmt.Close()
		var n int64
		for _, c := range state.SortedByKey(cs, func(c state.Conversion) state.Key { return c.Key }) {
			k, err := affected(stmt.ExecContext(ctx, c.Campaign, c.Round, c.To))
			if err != nil {
				return 0, err
			}
			n += k
		}
		return n, nil
	})
}

// MarkConversionsInterrupted turns conversions left "submitting" by a run that died into
// "unknown".
func (q *Queries) MarkConversionsInterrupted(ctx context.Context) (int, error) {
	var n int64
	err := q.write(ctx, func(tx *sql.Tx) (int64, error) {
		var err error
		n, err = affected(tx.ExecContext(ctx, q.d.SQL(`UPDATE conversions SET state = 'unknown', updated_at = ?,
			error = 'the run submitting it stopped before recording the answer' WHERE state = 'submitting'`), state.FormatTime(time.Now())))
		return n, err
	})
	return int(n), err
}
