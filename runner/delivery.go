package runner

import (
	"context"
	"errors"
	"time"

	"golang.org/x/time/rate"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state"
)

// logsWindow is how far back Infobip's logs reach.
const logsWindow = 48 * time.Hour

// DeliveryOptions tune RefreshDelivery.
type DeliveryOptions struct {
	Campaign string
	Limiter  *rate.Limiter // nil: Infobip's 120 requests a minute
	Now      time.Time
	// Progress, if set, is called as statuses are read, and once at the end, with the
	// messages read and the total.
	Progress func(done, total int)
}

// DeliveryResult counts what RefreshDelivery learned.
type DeliveryResult struct {
	Checked int `json:"checked"` // sent messages still pending, within the logs' 48 hours
	Updated int `json:"updated"` // now final: delivered, undelivered, expired or rejected
	// Stopped, when set, says why the logs were not read to their end (see lookupLogs).
	Stopped string `json:"stopped,omitempty"`
}

// RefreshDelivery reads the delivery status of sent messages that are still pending from
// Infobip's logs (re-readable, unlike delivery reports), a request's messages at a time by
// bulkId, and stores what changed.
func RefreshDelivery(ctx context.Context, store state.Store, logs LogReader, opts DeliveryOptions) (DeliveryResult, error) {
	var res DeliveryResult
	pending, err := store.AwaitingDelivery(ctx, opts.Campaign, opts.Now.Add(-logsWindow))
	if err != nil || len(pending) == 0 {
		return res, err
	}
	res.Checked = len(pending)
	want := make(map[string]state.Key, len(pending))
	for _, p := range pending {
		want[p.MessageID] = p.Key
	}
	var batch []state.Delivery
	read := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := store.RecordDeliveries(context.WithoutCancel(ctx), batch)
		batch = batch[:0]
		return err
	}
	res.Stopped, err = lookupLogs(ctx, logs, opts.Limiter, pending, true, func(e LogEntry) error {
		key, ok := want[e.MessageID]
		if ok && opts.Progress != nil {
			read++
			opts.Progress(min(read, len(pending)), len(pending))
		}
		if !ok || e.Status.Group == GroupPending || e.Status.Group == 0 {
			return nil
		}
		res.Updated++
		batch = append(batch, state.Delivery{Key: key, MessageID: e.MessageID, StatusGroup: e.Status.Group,
			StatusID: e.Status.ID, StatusName: safetext.Clip(e.Status.Name, maxStatusName), DoneAt: safetext.Clip(e.DoneAt, maxTimeText)})
		if len(batch) >= 1000 {
			return flush()
		}
		return nil
	})
	if opts.Progress != nil && err == nil {
		opts.Progress(len(pending), len(pending))
	}
	// What was read before a failure is kept: statuses are stored as they come.
	return res, errors.Join(err, flush())
}
