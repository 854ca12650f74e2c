package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/state"
)

// Index reads every recorded message with its conversion state.
func (s *Store) Index(ctx context.Context) (*state.MessageIndex, error) {
	sizes := map[string]int{}
	total := 0
	crows, err := s.pool.Query(ctx, "SELECT campaign, COUNT(*) FROM messages GROUP BY campaign")
	if err != nil {
		return nil, err
	}
	for crows.Next() {
		var c string
		var n int
		if err := crows.Scan(&c, &n); err != nil {
			crows.Close()
			return nil, err
		}
		sizes[c], total = n, total+n
	}
	crows.Close()
	if err := crows.Err(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT m.campaign, m.round, m.destination, m.message_id, m.state,
		m.tracking_type IS NOT NULL, COALESCE(c.state, '')
		FROM messages m LEFT JOIN conversions c
			ON c.campaign = m.campaign AND c.round = m.round AND c.destination = m.destination AND c.message_id = m.message_id
		ORDER BY m.campaign COLLATE "C", m.round`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	b := state.NewIndexBuilder(total, sizes)
	var camp, to, id, st, conv []byte
	var round int32
	var tracked bool
	for rows.Next() {
		if err := rows.Scan(&camp, &round, &to, &id, &st, &tracked, &conv); err != nil {
			return nil, err
		}
		b.Add(camp, round, to, id, st, tracked, conv)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return b.Index(), nil
}

// conversionArrays spreads conversions into columns for unnest, one per key (the last
// wins): one statement must not touch a row twice.
func conversionArrays(cs []state.Conversion) (c []string, r []int32, d, mid, st, pk, e, src []string) {
	seen := map[state.Key]int{}
	for _, x := range cs {
		if i, ok := seen[x.Key]; ok {
			mid[i], st[i], pk[i], e[i], src[i] = x.MessageID, string(x.State), x.ProcessKey, x.Error, x.Source
			continue
		}
		seen[x.Key] = len(c)
		c, r, d = append(c, x.Campaign), append(r, int32(x.Round)), append(d, x.To)
		mid, st, pk, e, src = append(mid, x.MessageID), append(st, string(x.State)), append(pk, x.ProcessKey), append(e, x.Error), append(src, x.Source)
	}
	return
}

// MarkSubmitting commits conversions as "submitting" before their requests leave. A
// conversion that counted is never redone.
func (s *Store) MarkSubmitting(ctx context.Context, cs []state.Conversion) error {
	if len(cs) == 0 {
		return nil
	}
	c, r, d, mid, _, _, _, src := conversionArrays(cs)
	ts := state.FormatTime(time.Now())
	return s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		if err := s.checkGuard(ctx, tx); err != nil {
			return 0, err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO conversions (campaign, round, destination, message_id, state, source, submitted_at, updated_at)
			SELECT u.c, u.r, u.d, u.mid, 'submitting', u.src, $6, $6
			FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[]) AS u(c, r, d, mid, src)
			ON CONFLICT (campaign, round, destination) DO UPDATE SET message_id = excluded.message_id, state = 'submitting',
				error = NULL, source = excluded.source, submitted_at = excluded.submitted_at, updated_at = excluded.updated_at
			WHERE conversions.state <> 'converted'`, c, r, d, mid, src, ts)
		if err != nil {
			return 0, fmt.Errorf("record %d conversions as submitting: %w", len(c), err)
		}
		return tag.RowsAffected(), nil
	})
}

// RecordConversions settles conversions after their answers.
func (s *Store) RecordConversions(ctx context.Context, cs []state.Conversion) error {
	if len(cs) == 0 {
		return nil
	}
	c, r, d, mid, st, pk, e, _ := conversionArrays(cs)
	ts := state.FormatTime(time.Now())
	return s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		tag, err := tx.Exec(ctx, `UPDATE conversions v SET state = u.st, process_key = NULLIF(u.pk, ''), error = NULLIF(u.e, ''), updated_at = $8
			FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(c, r, d, mid, st, pk, e)
			WHERE v.campaign = u.c AND v.round = u.r AND v.destination = u.d AND v.message_id = u.mid`, c, r, d, mid, st, pk, e, ts)
		if err != nil {
			return 0, fmt.Errorf("record %d conversions: %w", len(c), err)
		}
		return tag.RowsAffected(), nil
	})
}

// ForgetConversions removes "submitting" records whose requests provably did nothing.
func (s *Store) ForgetConversions(ctx context.Context, cs []state.Conversion) error {
	if len(cs) == 0 {
		return nil
	}
	c, r, d, _, _, _, _, _ := conversionArrays(cs)
	return s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		tag, err := tx.Exec(ctx, `DELETE FROM conversions v USING unnest($1::text[], $2::int[], $3::text[]) AS u(c, r, d)
			WHERE v.campaign = u.c AND v.round = u.r AND v.destination = u.d AND v.state = 'submitting'`, c, r, d)
		return tag.RowsAffected(), err
	})
}

// MarkConversionsInterrupted turns conversions left "submitting" by a run that died into
// "unknown".
func (s *Store) MarkConversionsInterrupted(ctx context.Context) (int, error) {
	var n int64
	err := s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		tag, err := tx.Exec(ctx, `UPDATE conversions SET state = 'unknown', updated_at = $1,
			error = 'the run submitting it stopped before recording the answer' WHERE state = 'submitting'`, state.FormatTime(time.Now()))
		n = tag.RowsAffected()
		return n, err
	})
	return int(n), err
}

// RecordDeliveries stores delivery statuses of sent messages; the messages stay sent.
// Statuses can be read again, so the commit is not waited for.
func (s *Store) RecordDeliveries(ctx context.Context, ds []state.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	n := len(ds)
	c, d, mid, sn, done := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	r, sg, si := make([]int32, n), make([]int32, n), make([]int32, n)
	for i, x := range ds {
		c[i], r[i], d[i], mid[i] = x.Campaign, int32(x.Round), x.To, x.MessageID
		sg[i], si[i], sn[i], done[i] = int32(x.StatusGroup), int32(x.StatusID), x.StatusName, x.DoneAt
	}
	ts := state.FormatTime(time.Now())
	return s.write(ctx, false, func(tx pgx.Tx) (int64, error) {
		tag, err := tx.Exec(ctx, `UPDATE messages m SET status_group = u.sg, status_id = u.si, status_name = NULLIF(u.sn, ''),
			done_at = NULLIF(u.done, ''), updated_at = $9
			FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::text[]) AS u(c, r, d, mid, sg, si, sn, done)
			WHERE m.campaign = u.c AND m.round = u.r AND m.destination = u.d AND m.message_id = u.mid AND m.state = 'sent'`,
			c, r, d, mid, sg, si, sn, done, ts)
		return tag.RowsAffected(), err
	})
}
