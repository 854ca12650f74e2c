package runner

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
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
	// PageSize is how many pending messages are read from the state at once; 0:
	// deliveryPage.
	PageSize int
}

// deliveryPage is how many pending messages a refresh holds at once, two pages at most:
// a state of ten million is read a page at a time (the whole list took about 900 MB a
// million). Each page's read scans the messages (about 0.7 s a million here), and is made
// while the page before is looked up, which the logs' rate limit makes last about 50
// seconds a page.
const deliveryPage = 100_000

// DeliveryResult counts what RefreshDelivery learned.
type DeliveryResult struct {
	Checked int `json:"checked"` // sent messages still pending, within the logs' 48 hours
	Updated int `json:"updated"` // now final: delivered, undelivered, expired or rejected
	// Stopped, when set, says why the logs were not read to their end (see lookupLogs).
	Stopped string `json:"stopped,omitempty"`
}

// RefreshDelivery reads the delivery status of sent messages that are still pending from
// Infobip's logs (re-readable, unlike delivery reports), by bulkId, and stores what changed.
// The pending messages are read from the state a page at a time, each request's messages
// in one page.
func RefreshDelivery(ctx context.Context, store state.Store, logs LogReader, opts DeliveryOptions) (DeliveryResult, error) {
	var res DeliveryResult
	since := opts.Now.Add(-logsWindow)
	total, err := store.CountAwaitingDelivery(ctx, opts.Campaign, since)
	if err != nil || total == 0 {
		return res, err
	}
	res.Checked = total
	size := opts.PageSize
	if size <= 0 {
		size = deliveryPage
	}
	if opts.Limiter == nil {
		// One pace for every page's lookups: lookupLogs' own would start afresh each page.
		opts.Limiter = rate.NewLimiter(LogsRate, 1)
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
	pages := readPages(ctx, store, opts.Campaign, since, size)
	defer pages.stop()
	var carry []state.Pending
	for last := false; !last && err == nil && res.Stopped == ""; {
		var page []state.Pending
		if page, err = pages.next(); err != nil {
			break
		}
		last = len(page) < size
		pending := append(carry, page...)
		carry = nil
		if !last {
			// The page may end within a request: its last request's messages wait for the
			// next page, so that each request is looked up once.
			pending, carry = cutLastRequest(pending)
		}
		want := make(map[string]state.Key, len(pending))
		for _, p := range pending {
			want[p.MessageID] = p.Key
		}
		res.Stopped, err = lookupLogs(ctx, logs, opts.Limiter, pending, true, func(e LogEntry) error {
			key, ok := want[e.MessageID]
			if ok && opts.Progress != nil {
				read++
				opts.Progress(min(read, total), total)
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
	}
	if opts.Progress != nil && err == nil {
		opts.Progress(total, total)
	}
	// What was read before a failure is kept: statuses are stored as they come.
	return res, errors.Join(err, flush())
}

// cutLastRequest splits off the messages of the last request of pending, unless they are
// all of it (a request of more messages than a page is looked up in parts).
func cutLastRequest(pending []state.Pending) (rest, last []state.Pending) {
	cut := len(pending)
	for cut > 0 && pending[cut-1].BulkID == pending[len(pending)-1].BulkID {
		cut--
	}
	if cut == 0 {
		return pending, nil
	}
	return pending[:cut], slices.Clone(pending[cut:])
}

// pageReader reads the pages of the messages awaiting delivery one ahead of their use.
type pageReader struct {
	ctx    context.Context
	pages  chan pageRead
	cancel context.CancelFunc
	ended  sync.WaitGroup
}

type pageRead struct {
	page []state.Pending
	err  error
}

// readPages starts reading the pages of size messages awaiting delivery, each after the
// last one of the page before, one page ahead of next.
func readPages(ctx context.Context, store state.Reader, campaign string, since time.Time, size int) *pageReader {
	ctx, cancel := context.WithCancel(ctx)
	r := &pageReader{ctx: ctx, pages: make(chan pageRead, 1), cancel: cancel}
	r.ended.Go(func() {
		defer close(r.pages)
		var after *state.Pending
		for {
			page, err := store.AwaitingDeliveryPage(ctx, campaign, since, after, size)
			select {
			case r.pages <- pageRead{page, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || len(page) < size {
				return
			}
			after = &page[len(page)-1]
		}
	})
	return r
}

// next is the next page; an error once the refresh is cancelled, or after the last page.
func (r *pageReader) next() ([]state.Pending, error) {
	p, ok := <-r.pages
	if !ok {
		return nil, cmp.Or(r.ctx.Err(), errors.New("read past the last page of messages awaiting delivery"))
	}
	return p.page, p.err
}

// stop ends the reading, whether or not every page was taken, and returns once nothing
// reads the state any more.
func (r *pageReader) stop() {
	r.cancel()
	r.ended.Wait()
}
