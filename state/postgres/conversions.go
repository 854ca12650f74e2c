package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/state"
)

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
