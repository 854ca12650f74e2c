package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/internal/sqlstore"
)

// Import writes rows exported from another state in one transaction (all or nothing),
// through COPY: the fastest way into PostgreSQL.
func (s *Store) Import(ctx context.Context, export state.Export, batches []state.Batch, side state.SideTables) error {
	return s.write(ctx, true, func(tx pgx.Tx) (int64, error) {
		var n int64
		err := export(func(rows []state.MessageRow) error {
			c, err := tx.CopyFrom(ctx, pgx.Identifier{"messages"}, []string{"campaign", "round", "destination", "attempt", "message_id", "bulk_id",
				"text_hash", "state", "status_group", "status_id", "status_name", "sms_count", "tracking_type", "error", "created_at", "sending_at",
				"updated_at", "done_at", "first_message_id", "first_sending_at", "resolution", "resolved_by", "resolved_at", "variant", "held",
				"purpose", "send_at", "consent_at", "consent_source"}, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				m := rows[i]
				return []any{m.Campaign, int32(m.Round), m.To, int32(m.Attempt), m.MessageID, m.BulkID, m.Hash, string(m.State),
					m.StatusGroup, m.StatusID, m.StatusName, int32(m.SmsCount), m.TrackingType, m.Error, m.CreatedAt, m.SendingAt, m.UpdatedAt, m.DoneAt,
					m.FirstMessageID, m.FirstSendingAt, m.Resolution, m.ResolvedBy, m.ResolvedAt, m.Variant, int32(m.Held),
					m.Purpose, m.SendAt, m.ConsentAt, m.ConsentSource}, nil
			}))
			n += c
			if err != nil {
				return fmt.Errorf("copy messages: %w", err)
			}
			return nil
		}, func(rows []state.ConversionRow) error {
			c, err := tx.CopyFrom(ctx, pgx.Identifier{"conversions"}, []string{"campaign", "round", "destination", "message_id", "state",
				"process_key", "error", "source", "submitted_at", "updated_at"}, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				c := rows[i]
				return []any{c.Campaign, int32(c.Round), c.To, c.MessageID, string(c.State), c.ProcessKey, c.Error, c.Source, c.SubmittedAt, c.UpdatedAt}, nil
			}))
			n += c
			if err != nil {
				return fmt.Errorf("copy conversions: %w", err)
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		for _, b := range batches {
			data, err := sqlstore.Batch(&b)
			if err != nil {
				return 0, err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO inflight (created_at, messages) VALUES ($1, $2)", state.FormatTime(b.CreatedAt), data); err != nil {
				return 0, err
			}
			n++
		}
		k, err := importSideTables(ctx, tx, side)
		return n + k, err
	})
}

// importSideTables copies side tables from another state, recorded times kept, through
// COPY as the messages are (the opt-outs' ids are made anew, in the order recorded).
func importSideTables(ctx context.Context, tx pgx.Tx, st state.SideTables) (int64, error) {
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"opt_outs"}, []string{"number", "source", "reply_id", "added_by", "reason", "received_at",
		"recorded_at", "removed_by", "removed_at", "removed_reason"}, pgx.CopyFromSlice(len(st.OptOuts), func(i int) ([]any, error) {
		o := st.OptOuts[i]
		var removedAt *string
		if o.Removed() {
			at := state.FormatTime(o.RemovedAt)
			removedAt = &at
		}
		return []any{o.Number, o.Source, nullable(o.ReplyID), nullable(o.AddedBy), nullable(o.Reason), state.FormatTime(o.ReceivedAt),
			state.FormatTime(o.RecordedAt), nullable(o.RemovedBy), removedAt, nullable(o.RemovedReason)}, nil
	}))
	if err != nil {
		return 0, fmt.Errorf("copy opt-outs: %w", err)
	}
	at := state.FormatTime(time.Now())
	k, err := tx.CopyFrom(ctx, pgx.Identifier{"inbound"}, []string{"message_id", "sender", "receiver", "text", "keyword", "received_at", "recorded_at"},
		pgx.CopyFromSlice(len(st.Replies), func(i int) ([]any, error) {
			r := st.Replies[i]
			return []any{r.MessageID, r.From, r.To, r.Text, r.Keyword, state.FormatTime(r.ReceivedAt), at}, nil
		}))
	if n += k; err != nil {
		return n, fmt.Errorf("copy replies: %w", err)
	}
	k, err = tx.CopyFrom(ctx, pgx.Identifier{"test_sends"}, []string{"message_id", "destination", "campaign", "text", "sent_by", "sent_at", "outcome"},
		pgx.CopyFromSlice(len(st.TestSends), func(i int) ([]any, error) {
			ts := st.TestSends[i]
			return []any{ts.MessageID, ts.To, ts.Campaign, ts.Text, ts.By, state.FormatTime(ts.At), ts.Outcome}, nil
		}))
	if n += k; err != nil {
		return n, fmt.Errorf("copy test sends: %w", err)
	}
	for _, d := range st.Decisions {
		query, args, err := sqlstore.Postgres.InsertDecision(d)
		if err == nil {
			_, err = tx.Exec(ctx, query, args...)
		}
		if err != nil {
			return n, fmt.Errorf("copy the decision of %s round %d: %w", d.Campaign, d.Round.Round, err)
		}
		n++
	}
	return n, nil
}

// nullable is s, or NULL when empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
