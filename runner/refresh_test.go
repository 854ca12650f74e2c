package runner_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
)

// refreshAPI reads the logs from one place and the inbound replies from another.
type refreshAPI struct {
	runner.LogReader
	runner.InboundReader
}

// TestRunRefresh: refresh looks unknown outcomes up, then reads the delivery status, then
// pulls the replies, in that order; what it leaves unknown is what makes it incomplete.
func TestRunRefresh(t *testing.T) {
	clk := &fakeClock{}
	sb, client := startSandbox(t, sandbox.Options{Now: clk.Now, DropRate: 1, LogsLag: time.Hour}, nil)
	s := openStore(t)
	if out := applyRun(t, s, client, clk, 0, otpYAML); out.Result.Unknown != 3 || out.Result.Unresolved != 3 {
		t.Fatalf("first apply: %+v", out.Result)
	}
	sw, _ := runner.NewStopWords(runner.DefaultStopWords)
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	stop := readerFunc(func() []runner.InboundReply { return nil })
	stopOnce, _ := repliesFunc(func(n int) []runner.InboundReply {
		if n > 1 {
			return nil
		}
		return []runner.InboundReply{{MessageID: "in-1", From: "+41790000002", Text: "stop", ReceivedAt: at}}
	}).pulls()
	refresh := func(in runner.InboundReader) (runner.RefreshOutcome, []string) {
		t.Helper()
		var steps []string
		release, _, err := runner.Lock(context.Background(), s, "refresh", 0)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		out, err := runner.RunRefresh(context.Background(), runner.RefreshRun{
			Store: s, API: refreshAPI{client, in}, StopWords: sw, Now: clk.Now,
			Reconcile:    runner.ReconcileOptions{Grace: 10 * time.Minute, Limiter: rate.NewLimiter(rate.Inf, 1)},
			Delivery:     runner.DeliveryOptions{Limiter: rate.NewLimiter(rate.Inf, 1)},
			Reconciled:   func(runner.Reconciliation) { steps = append(steps, "reconciled") },
			DeliveryRead: func(runner.DeliveryResult) { steps = append(steps, "delivery") },
		})
		if err != nil {
			t.Fatalf("RunRefresh: %v", err)
		}
		return out, steps
	}

	// The logs lag: nothing found, all three stay unknown; the STOP reply is recorded.
	out, steps := refresh(stopOnce)
	if out.Reconciliation.Checked != 3 || out.Reconciliation.Waiting != 3 || out.Unresolved() != 3 {
		t.Errorf("while the logs lag: %+v, unresolved %d; want 3 checked, 3 waiting", out.Reconciliation, out.Unresolved())
	}
	if out.Inbound.Replies != 1 || out.Inbound.OptOuts != 1 {
		t.Errorf("inbound %+v, want one reply, one opt-out", out.Inbound)
	}
	if want := []string{"reconciled", "delivery"}; !slices.Equal(steps, want) {
		t.Errorf("steps %v, want %v", steps, want)
	}
	if list, err := s.OptOuts(context.Background(), false); err != nil || len(list) != 1 || list[0].Number != "+41790000002" {
		t.Errorf("opt-outs %+v, %v", list, err)
	}

	// The logs catch up: found, recorded as sent, then their delivery status is read.
	sb.SetFaults(sandbox.Faults{})
	clk.Advance(2 * time.Hour)
	out, _ = refresh(stop)
	if out.Reconciliation.Found != 3 || out.Unresolved() != 0 {
		t.Errorf("once the logs show them: %+v, unresolved %d", out.Reconciliation, out.Unresolved())
	}
	if unresolved(t, s) != 0 {
		t.Errorf("%d unresolved in the state", unresolved(t, s))
	}

	// Messages sent and still pending: refresh reads their delivery status.
	if res := applyRun(t, s, client, clk, 0, newsYAML).Result; res.Sent != 2 {
		t.Fatalf("news: %+v", res)
	}
	clk.Advance(time.Minute)
	out, _ = refresh(stop)
	if out.Reconciliation.Checked != 0 || out.Delivery.Checked != 2 || out.Delivery.Updated != 2 {
		t.Errorf("after news: %+v, delivery %+v; want the two pending messages read and final", out.Reconciliation, out.Delivery)
	}
}

// failingLogs fails every logs request.
type failingLogs struct{ runner.LogReader }

func (failingLogs) Logs(context.Context, runner.LogQuery) (runner.LogPage, error) {
	return runner.LogPage{}, errors.New("logs unavailable")
}

// TestRunRefreshStopsOnError: a step that fails ends the refresh; the later steps do not run.
func TestRunRefreshStopsOnError(t *testing.T) {
	clk := &fakeClock{}
	_, client := startSandbox(t, sandbox.Options{Now: clk.Now, DropRate: 1, LogsLag: time.Hour}, nil)
	s := openStore(t)
	applyRun(t, s, client, clk, 0, otpYAML)
	pulled := 0
	in := readerFunc(func() []runner.InboundReply { pulled++; return nil })
	delivery := false
	_, err := runner.RunRefresh(context.Background(), runner.RefreshRun{
		Store: s, API: refreshAPI{failingLogs{client}, in}, Now: clk.Now,
		Reconcile:    runner.ReconcileOptions{Limiter: rate.NewLimiter(rate.Inf, 1)},
		DeliveryRead: func(runner.DeliveryResult) { delivery = true },
	})
	if err == nil || delivery || pulled != 0 {
		t.Errorf("err %v, delivery read %v, %d pulls; want the error and nothing after it", err, delivery, pulled)
	}
}
