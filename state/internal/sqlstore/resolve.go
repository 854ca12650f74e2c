package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/smsform/smsform/state"
)

// Resolve records a person's decision about messages of unknown (or abandoned) outcome and
// returns the keys it applied to. Who decided and when is kept with each message.
func (q *Queries) Resolve(ctx context.Context, r state.Resolution) ([]state.Key, error) {
	var keys []state.Key
	ts := state.FormatTime(time.Now())
	where := "state IN ('unknown', 'abandoned')"
	var args []any
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
	set := `state = 'unknown', resolution = 'unsent'`
	note := "decided unsent by %s at %s: apply sends it again, same messageId"
	if r.Sent {
		set = `state = 'sent', resolution = 'sent'`
		note = "outcome was unknown; decided sent by %s at %s"
	}
	err := q.write(ctx, func(tx *sql.Tx) (int64, error) {
		rows, err := q.query(ctx, sqlDB{tx}, "SELECT campaign, round, destination FROM messages WHERE "+where, args...)
		keys, err = scanAll(rows, err, func(k *state.Key) []any { return []any{&k.Campaign, &k.Round, &k.To} }, nil)
		if err != nil {
			return 0, err
		}
		return affected(tx.ExecContext(ctx, q.d.SQL("UPDATE messages SET "+set+", resolved_by = ?, resolved_at = ?, updated_at = ?, error = ? WHERE "+where),
			append([]any{r.By, ts, ts, fmt.Sprintf(note, r.By, ts)}, args...)...))
	})
	return keys, err
}
