package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/state"
)

// Undecided lists the messages in state "unknown", oldest attempt first, with their first
// attempt and any decision a person made about them (see state.Undecided). Times are text in
// one sortable layout, so LEAST picks the earlier as SQLite's min does.
func (s *Store) Undecided(ctx context.Context) ([]state.Undecided, error) {
	rows, err := s.pool.Query(ctx, `SELECT campaign, round, destination, attempt, message_id, bulk_id, sending_at,
			CASE WHEN first_message_id = message_id THEN first_sending_at ELSE LEAST(created_at COLLATE "C", sending_at COLLATE "C") END,
			COALESCE(resolution, ''), COALESCE(resolved_by, '')
		FROM messages WHERE state = 'unknown' ORDER BY sending_at COLLATE "C", message_id COLLATE "C"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []state.Undecided
	for rows.Next() {
		var u state.Undecided
		var at, first, resolution string
		if err := rows.Scan(&u.Campaign, &u.Round, &u.To, &u.Attempt, &u.MessageID, &u.BulkID, &at, &first, &resolution, &u.ResolvedBy); err != nil {
			return nil, err
		}
		u.SendingAt = state.ParseTime(at)
		u.FirstAttemptAt = state.ParseTime(first)
		u.Unsent = resolution == "unsent"
		if !u.Unsent {
			u.ResolvedBy = ""
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// NoteFirstAttempts remembers, before messages of unknown outcome are sent again with the
// same messageId, when that messageId was first sent, and uses up a person's "unsent"
// decision. Committed durably before the resend leaves, like the in-flight record.
func (s *Store) NoteFirstAttempts(ctx context.Context, keys []state.Key) error {
	if len(keys) == 0 {
		return nil
	}
	c, r, d := make([]string, len(keys)), make([]int32, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		c[i], r[i], d[i] = k.Campaign, int32(k.Round), k.To
	}
	return s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		// SET expressions see the row as it was, so the CASE reads the old first_message_id.
		tag, err := tx.Exec(ctx, `UPDATE messages m SET
				first_sending_at = CASE WHEN m.first_message_id IS NULL OR m.first_message_id <> m.message_id
					THEN LEAST(m.created_at COLLATE "C", m.sending_at COLLATE "C") ELSE m.first_sending_at END,
				first_message_id = m.message_id, resolution = NULL
			FROM unnest($1::text[], $2::int[], $3::text[]) AS u(c, r, d)
			WHERE m.campaign = u.c AND m.round = u.r AND m.destination = u.d AND m.state = 'unknown'`, c, r, d)
		if err != nil {
			return 0, fmt.Errorf("note the first attempts of %d messages: %w", len(keys), err)
		}
		return tag.RowsAffected(), nil
	})
}

// Resolve records a person's decision about messages of unknown (or abandoned) outcome and
// returns the keys it applied to, with who decided and when kept on each message.
func (s *Store) Resolve(ctx context.Context, r state.Resolution) ([]state.Key, error) {
	var keys []state.Key
	ts := state.FormatTime(time.Now())
	err := s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		keys = keys[:0]
		where := "state IN ('unknown', 'abandoned') AND ($1 = '' OR campaign = $1) AND (cardinality($2::text[]) = 0 OR message_id = ANY($2) OR destination = ANY($2))"
		targets := r.Targets
		if targets == nil {
			targets = []string{}
		}
		rows, err := tx.Query(ctx, "SELECT campaign, round, destination FROM messages WHERE "+where, r.Campaign, targets)
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			var k state.Key
			if err := rows.Scan(&k.Campaign, &k.Round, &k.To); err != nil {
				rows.Close()
				return 0, err
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		set := `state = 'unknown', resolution = 'unsent'`
		note := "decided unsent by %s at %s: apply sends it again, same messageId"
		if r.Sent {
			set = `state = 'sent', resolution = 'sent'`
			note = "outcome was unknown; decided sent by %s at %s"
		}
		tag, err := tx.Exec(ctx, "UPDATE messages SET "+set+", resolved_by = $3, resolved_at = $4, updated_at = $4, error = $5 WHERE "+where,
			r.Campaign, targets, r.By, ts, fmt.Sprintf(note, r.By, ts))
		if err != nil {
			return 0, err
		}
		return tag.RowsAffected(), nil
	})
	return keys, err
}
