package runner

import (
	"context"
	"errors"
	"time"

	"golang.org/x/time/rate"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/state"
)

// logsWindow is how far back Infobip's logs reach.
const logsWindow = 48 * time.Hour

// DeliveryOptions tune RefreshDelivery.
type DeliveryOptions struct {
	Campaign string
	Limiter  *rate.Limiter // nil: Infobip's 120 requests a minute
	Now      time.Time
}

// DeliveryResult counts what RefreshDelivery learned.
type DeliveryResult struct {
	Checked int `json:"checked"` // sent messages still pending, within the logs' 48 hours
	Updated int `json:"updated"` // now final: delivered, undelivered, expired or rejected
}

// RefreshDelivery reads the delivery status of sent messages that are still pending from
// Infobip's logs (re-readable, unlike delivery reports), a request's messages at a time by
// bulkId, and stores what changed.
func RefreshDelivery(ctx context.Context, store *state.Store, logs LogReader, opts DeliveryOptions) (DeliveryResult, error) {
	var res DeliveryResult
	awaiting, err := store.AwaitingDelivery(ctx, opts.Campaign, opts.Now.Add(-logsWindow))
	if err != nil || len(awaiting) == 0 {
		return res, err
	}
	res.Checked = len(awaiting)
	lim := opts.Limiter
	if lim == nil {
		lim = rate.NewLimiter(LogsRate, 1)
	}
	pending := make([]state.Pending, len(awaiting))
	want := make(map[string]state.Key, len(awaiting))
	for i, a := range awaiting {
		pending[i] = state.Pending{Key: a.Key, MessageID: a.MessageID, BulkID: a.BulkID}
		want[a.MessageID] = a.Key
	}
	var batch []state.Delivery
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := store.RecordDeliveries(context.WithoutCancel(ctx), batch)
		batch = batch[:0]
		return err
	}
	lookup := func(q infobip.LogsQuery) (map[string]bool, error) {
		if err := lim.Wait(ctx); err != nil {
			return nil, err
		}
		resp, err := logs.Logs(ctx, q)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, e := range resp.Results {
			seen[e.MessageID] = true
			key, ok := want[e.MessageID]
			if !ok || e.Status.GroupID == infobip.GroupPending || e.Status.GroupID == 0 {
				continue
			}
			res.Updated++
			batch = append(batch, state.Delivery{Key: key, MessageID: e.MessageID, StatusGroup: e.Status.GroupID,
				StatusID: e.Status.ID, StatusName: e.Status.Name, DoneAt: e.DoneAt})
		}
		return seen, nil
	}
	bulks, rest := splitByBulk(pending)
	for bulk, members := range bulks {
		seen, err := lookup(infobip.LogsQuery{BulkIDs: []string{bulk}, Limit: logsMaxResults})
		if err != nil {
			return res, errors.Join(err, flush())
		}
		// Members missing from the answer (cut at the limit, or accepted under an earlier
		// request's bulkId, as a resend proven by status 23 is) are asked for by id.
		for _, m := range members {
			if !seen[m.MessageID] {
				rest = append(rest, m)
			}
		}
		if len(batch) >= 1000 {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	for _, q := range idQueries(rest) {
		if _, err := lookup(q); err != nil {
			return res, errors.Join(err, flush())
		}
	}
	return res, flush()
}
