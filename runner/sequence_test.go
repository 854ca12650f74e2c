package runner_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// fakeClock is a clock a test moves; the sandbox and the run share it, offset from the
// real time the state records with.
type fakeClock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.d)
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.d += d
	c.mu.Unlock()
}

func applyRun(t *testing.T, s *sqlite.Store, api runner.API, clk *fakeClock, window time.Duration, yaml string) runner.ApplyOutcome {
	t.Helper()
	return lockedApply(t, runner.ApplyRun{
		Store: s, Set: load(t, map[string]string{"otp.yaml": yaml}),
		Connect:   func() (runner.API, error) { return api, nil },
		Reconcile: runner.ReconcileOptions{Grace: 10 * time.Minute, Window: window, Limiter: rate.NewLimiter(rate.Inf, 1)},
		Now:       clk.Now,
	})
}

// lockedApply runs run as every run that writes does: the lock first, which recovers what
// a dead run left in flight.
func lockedApply(t *testing.T, run runner.ApplyRun) runner.ApplyOutcome {
	t.Helper()
	release, _, err := runner.Lock(context.Background(), run.Store, "apply", 0)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer release()
	out, err := runner.RunApply(context.Background(), run)
	if err != nil {
		t.Fatalf("RunApply: %v", err)
	}
	return out
}

// TestRunApplyDefaultAccount: on a default account (a repeated messageId is delivered again),
// messages whose answers were lost are never sent again by apply: found in the logs they are
// recorded; while the logs lag they stay unknown, however long; nobody gets a second copy.
func TestRunApplyDefaultAccount(t *testing.T) {
	clk := &fakeClock{}
	sb, client := startSandbox(t, sandbox.Options{Now: clk.Now, DropRate: 1, LogsLag: time.Hour}, nil)
	s := openStore(t)
	if out := applyRun(t, s, client, clk, 0, otpYAML); !out.Applied || out.Result.Unknown != 3 {
		t.Fatalf("first apply: %+v", out.Result)
	}
	sb.SetFaults(sandbox.Faults{LogsLag: time.Hour})
	clk.Advance(30 * time.Minute) // past -unknown-grace, the logs still lag
	out := applyRun(t, s, client, clk, 0, otpYAML)
	if out.Applied || out.Reconciliation.Waiting != 3 || out.Plan.Summary.Unknown != 3 || out.Plan.Summary.Send != 0 {
		t.Errorf("while the logs lag: applied %v, reconciliation %+v, plan %+v", out.Applied, out.Reconciliation, out.Plan.Summary)
	}
	clk.Advance(time.Hour) // the logs catch up
	out = applyRun(t, s, client, clk, 0, otpYAML)
	if out.Reconciliation.Found != 3 || out.Plan.Summary.Noop != 3 {
		t.Errorf("once the logs show them: %+v, plan %+v", out.Reconciliation, out.Plan.Summary)
	}
	if st := sb.Stats(); st.DoubleSends != 0 || st.Accepted != 3 {
		t.Errorf("sandbox %+v: want each phone to have received one message", st)
	}
}

// TestRunApplyIdempotentWindow: declared idempotent, an unknown the logs do not show is sent
// again with the same messageId after the grace; the account drops the copy of one that had
// gone through, and sends one that had not. Each phone gets one message.
func TestRunApplyIdempotentWindow(t *testing.T) {
	clk := &fakeClock{}
	sb, client := startSandbox(t, sandbox.Options{Now: clk.Now, LogsLag: 48 * time.Hour, IdempotencyWindow: 24 * time.Hour}, nil)
	s := openStore(t)
	ctx := context.Background()
	// Infobip accepted all three; the answers were lost.
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	p := planFromStore(t, set, s, runner.PlanOptions{})
	sb.SetFaults(sandbox.Faults{DropRate: 1, LogsLag: 48 * time.Hour})
	if res, err := runner.Apply(ctx, p, client, s, runner.ApplyOptions{BatchSize: 2}); err != nil || res.Unknown != 3 {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	sb.SetFaults(sandbox.Faults{LogsLag: 48 * time.Hour})
	clk.Advance(11 * time.Minute)
	out := applyRun(t, s, client, clk, 24*time.Hour, otpYAML)
	if out.Reconciliation.Resend != 3 || out.Result.Sent != 3 {
		t.Errorf("resend: %+v, result %+v", out.Reconciliation, out.Result)
	}
	if st := sb.Stats(); st.DoubleSends != 0 || st.Duplicates != 3 || st.Accepted != 3 {
		t.Errorf("sandbox %+v: want the three copies refused (status 23), nothing delivered twice", st)
	}
}

// TestUnknownOlderThanLogsNeedsPerson: a message of unknown outcome whose first attempt is
// older than the logs' 48 hours is never resent, even on an idempotent account, until a
// person decides with state resolve; decided unsent, the next apply sends it, same messageId.
func TestUnknownOlderThanLogsNeedsPerson(t *testing.T) {
	clk := &fakeClock{}
	sb, client := startSandbox(t, sandbox.Options{Now: clk.Now, IdempotencyWindow: 72 * time.Hour}, nil)
	s := openStore(t)
	ctx := context.Background()
	// The run died after recording the batch in flight: nothing reached Infobip.
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	var ghosts []state.Outgoing
	for _, r := range set.Campaigns[0].Recipients.All() {
		ghosts = append(ghosts, state.Outgoing{Key: state.Key{Campaign: "otp", Round: 1, To: r.To},
			MessageID: runner.MessageID("otp", 1, r.To, 0), BulkID: "otp-r1-x", Hash: r.Hash, Parts: 1})
	}
	if _, err := s.MarkSending(ctx, ghosts); err != nil {
		t.Fatal(err)
	}
	clk.Advance(49 * time.Hour)
	out := applyRun(t, s, client, clk, 72*time.Hour, otpYAML)
	if out.Applied || out.Reconciliation.NeedsPerson != 3 || out.Plan.Summary.Unknown != 3 {
		t.Errorf("49h later: applied %v, %+v, plan %+v", out.Applied, out.Reconciliation, out.Plan.Summary)
	}
	if len(sb.Received()) != 0 {
		t.Fatalf("sent without a person's decision: %+v", sb.Received())
	}
	if _, err := s.Resolve(ctx, state.Resolution{Targets: []string{ghosts[0].To}, By: "ann"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(ctx, state.Resolution{Sent: true, Targets: []string{ghosts[1].MessageID}, By: "ann"}); err != nil {
		t.Fatal(err)
	}
	out = applyRun(t, s, client, clk, 72*time.Hour, otpYAML)
	if out.Result.Sent != 1 || out.Plan.Summary.Unknown != 1 || out.Plan.Summary.Noop != 1 {
		t.Errorf("after resolve: result %+v, plan %+v", out.Result, out.Plan.Summary)
	}
	got := sb.Received()
	if len(got) != 1 || got[0].MessageID != ghosts[0].MessageID {
		t.Errorf("received %+v, want only the message decided unsent, with its messageId", got)
	}
	// Its decision is used up: lost again, it would not be resent on its own.
	if u, _ := s.Undecided(ctx); len(u) != 1 || u[0].To != ghosts[2].To {
		t.Errorf("undecided %+v", u)
	}
}
