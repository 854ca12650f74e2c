package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/internal/sqlstore"
)

// Import writes rows exported from another state, in one transaction: a copy is all or
// nothing.
func (s *Store) Import(ctx context.Context, export state.Export, batches []state.Batch, side state.SideTables) error {
	return s.withTx(ctx, func(tx *sql.Tx) error {
		msgStmt, err := tx.PrepareContext(ctx, `INSERT INTO messages (campaign, round, destination, attempt, message_id, bulk_id,
			text_hash, state, status_group, status_id, status_name, sms_count, tracking_type, error, created_at, sending_at,
			updated_at, done_at, first_message_id, first_sending_at, resolution, resolved_by, resolved_at, variant, held,
			purpose, send_at, consent_at, consent_source)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer msgStmt.Close()
		convStmt, err := tx.PrepareContext(ctx, `INSERT INTO conversions (campaign, round, destination, message_id, state,
			process_key, error, source, submitted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer convStmt.Close()
		err = export(func(rows []state.MessageRow) error {
			for _, m := range rows {
				if _, err := msgStmt.ExecContext(ctx, m.Campaign, m.Round, m.To, m.Attempt, m.MessageID, m.BulkID, m.Hash, string(m.State),
					m.StatusGroup, m.StatusID, m.StatusName, m.SmsCount, m.TrackingType, m.Error, m.CreatedAt, m.SendingAt, m.UpdatedAt, m.DoneAt,
					m.FirstMessageID, m.FirstSendingAt, m.Resolution, m.ResolvedBy, m.ResolvedAt, m.Variant, m.Held,
					m.Purpose, m.SendAt, m.ConsentAt, m.ConsentSource); err != nil {
					return fmt.Errorf("copy message %s: %w", m.MessageID, err)
				}
			}
			return nil
		}, func(rows []state.ConversionRow) error {
			for _, c := range rows {
				if _, err := convStmt.ExecContext(ctx, c.Campaign, c.Round, c.To, c.MessageID, string(c.State), c.ProcessKey, c.Error,
					c.Source, c.SubmittedAt, c.UpdatedAt); err != nil {
					return fmt.Errorf("copy conversion of %s: %w", c.MessageID, err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, b := range batches {
			data, err := sqlstore.Batch(&b)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO inflight (created_at, messages) VALUES (?, ?)", state.FormatTime(b.CreatedAt), data); err != nil {
				return err
			}
		}
		return s.ImportSideTables(ctx, tx, side)
	})
}
