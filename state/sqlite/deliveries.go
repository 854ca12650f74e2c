package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/internal/sqlstore"
)

// RecordDeliveries stores delivery statuses of sent messages; the messages stay sent.
func (s *Store) RecordDeliveries(ctx context.Context, ds []state.Delivery) error {
	ts := state.FormatTime(time.Now())
	return s.withLazyTx(ctx, func(tx *sql.Tx) error { // statuses can be read again
		stmt, err := tx.PrepareContext(ctx, `UPDATE messages SET status_group = ?, status_id = ?, status_name = ?,
			done_at = ?, updated_at = ? WHERE campaign = ? AND round = ? AND destination = ? AND message_id = ? AND state = 'sent'`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range ds {
			if _, err := stmt.ExecContext(ctx, d.StatusGroup, d.StatusID, sqlstore.Null(d.StatusName), sqlstore.Null(d.DoneAt), ts, d.Campaign, d.Round, d.To, d.MessageID); err != nil {
				return err
			}
		}
		return nil
	})
}
