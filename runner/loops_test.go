package runner_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

// brokenLogs are logs that would have a reader follow them for ever, each in its own way.
var brokenLogs = map[string]struct {
	page func(n int, q runner.LogQuery) runner.LogPage
	want string
}{
	"a cursor that never changes": {
		page: func(n int, q runner.LogQuery) runner.LogPage {
			return runner.LogPage{Entries: []runner.LogEntry{{MessageID: fmt.Sprint("other-", n)}}, Next: "same"}
		},
		want: `Infobip's logs answered the cursor "same" twice; smsform stopped reading them after 2 pages`,
	},
	"cursors that come round": {
		page: func(n int, q runner.LogQuery) runner.LogPage {
			return runner.LogPage{Entries: []runner.LogEntry{{MessageID: fmt.Sprint("other-", n)}}, Next: fmt.Sprint("c", n%3)}
		},
		want: `Infobip's logs answered the cursor "c1" twice; smsform stopped reading them after 4 pages`,
	},
	"the same page with a new cursor each time": {
		page: func(n int, q runner.LogQuery) runner.LogPage {
			return runner.LogPage{Entries: []runner.LogEntry{{MessageID: "other"}}, Next: fmt.Sprint("c", n)}
		},
		want: `Infobip's logs answered the same page again (it listed no message the pages before had not); smsform stopped reading them after 2 pages`,
	},
	"new messages and cursors for ever": {
		page: func(n int, q runner.LogQuery) runner.LogPage {
			return runner.LogPage{Entries: []runner.LogEntry{{MessageID: fmt.Sprint("other-", n)}}, Next: fmt.Sprint("c", n)}
		},
		want: `Infobip's logs had more than 20 pages of 1000 for one query; smsform stopped reading them after 20 pages`,
	},
}

// serveBroken counts the pages asked for and answers them from page.
func serveBroken(calls *int, page func(int, runner.LogQuery) runner.LogPage) runner.LogReader {
	return logsFunc(func(ctx context.Context, q runner.LogQuery) (runner.LogPage, error) {
		*calls++
		return page(*calls, q), nil
	})
}

// TestRefreshDeliveryStopsOnBrokenLogs: logs that never end stop the reading with a reason
// after a few pages, instead of a refresh that runs for ever.
func TestRefreshDeliveryStopsOnBrokenLogs(t *testing.T) {
	for name, bl := range brokenLogs {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			_, client := startSandbox(t, sandbox.Options{}, nil)
			applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
			calls := 0
			res, err := runner.RefreshDelivery(context.Background(), s, serveBroken(&calls, bl.page), fastDelivery(""))
			if err != nil || res.Stopped != bl.want || res.Checked != 3 || res.Updated != 0 {
				t.Errorf("RefreshDelivery = %+v, %v; want it stopped: %s", res, err, bl.want)
			}
			if calls > 20 {
				t.Errorf("%d pages read", calls)
			}
		})
	}
}

// TestReconcileStopsOnBrokenLogs: on an idempotent account, a message the logs were not
// read far enough to find is not cleared for a resend: it waits.
func TestReconcileStopsOnBrokenLogs(t *testing.T) {
	for name, bl := range brokenLogs {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := openStore(t)
			key := state.Key{Campaign: "otp", Round: 1, To: "+41790000001"}
			out := state.Outgoing{Key: key, MessageID: runner.MessageID(key.Campaign, key.Round, key.To, 0), BulkID: "otp-r1-x", Parts: 1}
			if _, err := s.MarkSending(ctx, []state.Outgoing{out}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.MarkInterrupted(ctx); err != nil {
				t.Fatal(err)
			}
			calls := 0
			rec, err := runner.Reconcile(ctx, s, serveBroken(&calls, bl.page), runner.ReconcileOptions{Now: time.Now().Add(time.Hour), Window: 24 * time.Hour, Limiter: rate.NewLimiter(rate.Inf, 1)})
			if err != nil || rec.Stopped != bl.want {
				t.Fatalf("Reconcile = %+v, %v; want it stopped: %s", rec, err, bl.want)
			}
			if rec.Resend != 0 || len(rec.ResendKeys) != 0 || rec.Waiting != 1 || !strings.Contains(rec.Reasons[runner.Wait], "not read to their end") {
				t.Errorf("Reconcile = %+v; want the message left waiting, not resent", rec)
			}
		})
	}
}
