package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/internal/sqlstore"
)

// markSubmittingSQL builds the statement recording n conversions as submitting; the time is
// bound once. A conversion that counted is never redone.
func markSubmittingSQL(n int) string {
	return `INSERT INTO conversions (campaign, round, destination, message_id, state, source, submitted_at, updated_at)
		SELECT v.column1, v.column2, v.column3, v.column4, 'submitting', v.column5, k.ts, k.ts
		FROM (SELECT ? AS ts) AS k, (VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?,?,?,?),", n), ",") + `) AS v
		WHERE true
		ON CONFLICT (campaign, round, destination) DO UPDATE SET message_id = excluded.message_id, state = 'submitting',
			error = NULL, source = excluded.source, submitted_at = excluded.submitted_at, updated_at = excluded.updated_at
		WHERE conversions.state != 'converted'`
}

// settleConvertedSQL builds the statement settling n conversions; the time is bound once.
func settleConvertedSQL(n int) string {
	return `UPDATE conversions SET state = v.column5, process_key = v.column6, error = v.column7, updated_at = k.ts
		FROM (SELECT ? AS ts) AS k, (VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?),", n), ",") + `) AS v
		WHERE conversions.campaign = v.column1 AND conversions.round = v.column2
			AND conversions.destination = v.column3 AND conversions.message_id = v.column4`
}

// MarkSubmitting durably records conversions as "submitting" before their requests leave.
func (s *Store) MarkSubmitting(ctx context.Context, cs []state.Conversion) error {
	if err := s.markSubmitting.prepare(ctx, s.db); err != nil {
		return err
	}
	ts := state.FormatTime(time.Now())
	cs = state.SortedByKey(cs, func(c state.Conversion) state.Key { return c.Key })
	return s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := s.markSubmitting.exec(ctx, tx, len(cs), nil,
			func(args []any, start, end int) []any {
				args = append(args, ts)
				for _, c := range cs[start:end] {
					args = append(args, c.Campaign, c.Round, c.To, c.MessageID, c.Source)
				}
				return args
			}, func(start, end int) string { return conversionsWhat(cs, start, end) })
		return err
	})
}

// RecordConversions settles conversions after their answers.
func (s *Store) RecordConversions(ctx context.Context, cs []state.Conversion) error {
	if len(cs) == 0 {
		return nil
	}
	if err := s.settleConverted.prepare(ctx, s.db); err != nil {
		return err
	}
	ts := state.FormatTime(time.Now())
	cs = state.SortedByKey(cs, func(c state.Conversion) state.Key { return c.Key })
	return s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := s.settleConverted.exec(ctx, tx, len(cs), nil,
			func(args []any, start, end int) []any {
				args = append(args, ts)
				for _, c := range cs[start:end] {
					args = append(args, c.Campaign, c.Round, c.To, c.MessageID, string(c.State), sqlstore.Null(c.ProcessKey), sqlstore.Null(c.Error))
				}
				return args
			}, func(start, end int) string { return conversionsWhat(cs, start, end) })
		return err
	})
}

func conversionsWhat(cs []state.Conversion, start, end int) string {
	return fmt.Sprintf("record conversions of %s to %s", cs[start].MessageID, cs[end-1].MessageID)
}
