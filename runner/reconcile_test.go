package runner_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// TestReconcile: answers lost after Infobip accepted are found in its logs (by bulkId for a
// big request, by messageId for the rest); messages it never got stay unknown on a default
// account however long they wait; with a declared idempotency window they are cleared for a
// resend with the same messageId after the grace, or abandoned when their round left the files.
func TestReconcile(t *testing.T) {
	ctx := context.Background()
	set := load(t, map[string]string{
		"big.yaml": "id: big\nfrom: InfoSMS\ntext: hi\ndestinations_file: big.csv\n",
		"big.csv":  numbersCSV(25),
		"otp.yaml": otpYAML,
	})
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{DropRate: 1}, nil)
	res, err := runner.Apply(ctx, planFromStore(t, set, s, runner.PlanOptions{}), client, s, runner.ApplyOptions{})
	if err != nil || res.Unknown != 28 {
		t.Fatalf("apply with dropped answers: %+v, %v", res, err)
	}
	// Two messages that never reached Infobip: recorded, then the process died.
	ghosts := []state.Outgoing{
		{Key: state.Key{Campaign: "gone", Round: 1, To: "+41790000001"}, MessageID: runner.MessageID("gone", 1, "+41790000001", 0), BulkID: "gone-r1-x", Parts: 1},
		{Key: state.Key{Campaign: "otp", Round: 2, To: "+41790000001"}, MessageID: runner.MessageID("otp", 2, "+41790000001", 0), BulkID: "otp-r2-x", Parts: 1},
	}
	if _, err := s.MarkSending(ctx, ghosts); err != nil {
		t.Fatal(err)
	}
	if n, err := s.MarkInterrupted(ctx); n != 2 || err != nil {
		t.Fatalf("MarkInterrupted = %d, %v", n, err)
	}

	logs := &countingLogs{LogReader: client}
	opts := runner.ReconcileOptions{Grace: time.Hour, Limiter: rate.NewLimiter(rate.Inf, 1), Now: time.Now()}
	rec, err := runner.Reconcile(ctx, s, logs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Checked != 30 || rec.Found != 28 || rec.Waiting != 2 || rec.Resend != 0 || len(rec.ResendKeys) != 0 {
		t.Errorf("reconciliation %+v", rec)
	}
	if logs.calls != 2 {
		t.Errorf("%d logs requests, want 2 (one by bulkId for big, one by messageId for the rest)", logs.calls)
	}
	for _, m := range listAll(t, s) {
		switch m.Campaign {
		case "big", "otp":
			if m.Round == 1 && (m.State != state.Sent || m.StatusGroup != infobip.GroupDelivered) {
				t.Errorf("%s %s: %+v, want sent with the logs' status", m.Campaign, m.To, m)
			}
		}
	}
	if n := len(sb.Received()); n != 28 {
		t.Errorf("sandbox has %d", n)
	}

	// After the grace, on a default account: still never resent.
	opts.Now = opts.Now.Add(2 * time.Hour)
	rec, err = runner.Reconcile(ctx, s, logs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Checked != 2 || rec.Waiting != 2 || rec.Resend != 0 || len(rec.ResendKeys) != 0 {
		t.Errorf("reconciliation after the grace, no idempotency declared: %+v", rec)
	}
	// Declared idempotent: the ghosts may be sent again.
	opts.Window = 24 * time.Hour
	rec, err = runner.Reconcile(ctx, s, logs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Checked != 2 || rec.Resend != 2 || !rec.ResendKeys[ghosts[0].Key] || !rec.ResendKeys[ghosts[1].Key] {
		t.Errorf("reconciliation after the grace %+v", rec)
	}
	// Neither round is in the files: both are abandoned.
	p, err := runner.MakePlan(set, emptySnapshot(), now, runner.PlanOptions{Resend: rec.ResendKeys})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := rec.Abandon(ctx, s, p); n != 2 || err != nil {
		t.Errorf("Abandon = %d, %v", n, err)
	}
	if n, err := s.CountUnresolved(ctx); n != 0 || err != nil {
		t.Errorf("%d unresolved left, %v", n, err)
	}
}

type countingLogs struct {
	runner.LogReader
	calls int
}

func (c *countingLogs) Logs(ctx context.Context, q runner.LogQuery) (runner.LogPage, error) {
	c.calls++
	return c.LogReader.Logs(ctx, q)
}

func listAll(t *testing.T, s *sqlite.Store) []state.Message {
	t.Helper()
	msgs, err := s.List(context.Background(), state.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// clearedForResend records key's first attempt as in flight in a run that died, reconciles
// it on an idempotent account after the grace (not in the logs: cleared for a resend) and
// plans set with that.
func clearedForResend(t *testing.T, s state.Store, set *campaign.Set, key state.Key) (runner.Reconciliation, *runner.Plan) {
	t.Helper()
	ctx := context.Background()
	_, client := startSandbox(t, sandbox.Options{}, nil)
	out := state.Outgoing{Key: key, MessageID: runner.MessageID(key.Campaign, key.Round, key.To, 0), BulkID: key.Campaign + "-r1-x", Parts: 1}
	if _, err := s.MarkSending(ctx, []state.Outgoing{out}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkInterrupted(ctx); err != nil {
		t.Fatal(err)
	}
	rec, err := runner.Reconcile(ctx, s, client, runner.ReconcileOptions{Now: time.Now().Add(time.Hour), Window: 24 * time.Hour, Limiter: rate.NewLimiter(rate.Inf, 1)})
	if err != nil || !rec.ResendKeys[key] {
		t.Fatalf("Reconcile = %+v, %v", rec, err)
	}
	snap, err := s.Snapshot(ctx, runner.Rounds(set))
	if err != nil {
		t.Fatal(err)
	}
	p, err := runner.MakePlan(set, snap, time.Now(), runner.PlanOptions{Resend: rec.ResendKeys})
	if err != nil {
		t.Fatal(err)
	}
	return rec, p
}

// TestAbandonRemovedNumber: a number removed from a round still in the files, of unknown
// outcome and missing from the logs after the grace on an idempotent account, is abandoned, not left unknown forever.
func TestAbandonRemovedNumber(t *testing.T) {
	ctx := context.Background()
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	removed := state.Key{Campaign: "otp", Round: 1, To: "+41790009999"}
	rec, p := clearedForResend(t, s, set, removed)
	if n, err := rec.Abandon(ctx, s, p); n != 1 || err != nil {
		t.Fatalf("Abandon = %d, %v", n, err)
	}
	msgs, err := s.List(ctx, state.Filter{To: removed.To})
	if err != nil || len(msgs) != 1 || msgs[0].State != state.Abandoned {
		t.Fatalf("recorded %+v, %v", msgs, err)
	}
	if n, err := s.CountUnresolved(ctx); n != 0 || err != nil {
		t.Errorf("%d unresolved, %v", n, err)
	}
	// -retry-failed does not send it again: its first send may have gone through.
	snap, _ := s.Snapshot(ctx, runner.Rounds(set))
	p, _ = runner.MakePlan(set, snap, time.Now(), runner.PlanOptions{RetryFailed: true})
	if p.Summary.Orphaned != 1 || p.Summary.Send != set.Campaigns[0].Recipients.Len() {
		t.Errorf("plan %+v", p.Summary)
	}
}

// TestAbandonSuppressedNumber: a number of unknown outcome cleared for a resend that is now
// on the campaign's suppression list is not sent; it is recorded abandoned, saying so.
func TestAbandonSuppressedNumber(t *testing.T) {
	ctx := context.Background()
	set := load(t, map[string]string{
		"promo.yaml": "id: promo\nfrom: Shop\ntext: Hi\nsuppression_lists: [stop.csv]\n" +
			`destinations: [{to: "+41793026731"}, {to: "+41793026732"}]` + "\n",
		"stop.csv": "number,reason,date\n+41793026732,STOP,2026-11-30\n",
	})
	s := openStore(t)
	listed := state.Key{Campaign: "promo", Round: 1, To: "+41793026732"}
	rec, p := clearedForResend(t, s, set, listed)
	if p.Summary.Send != 1 || p.Summary.Suppressed != 1 {
		t.Fatalf("plan %+v, want the other number sent and the listed one suppressed", p.Summary)
	}
	if n, err := rec.Abandon(ctx, s, p); n != 1 || err != nil {
		t.Fatalf("Abandon = %d, %v", n, err)
	}
	msgs, err := s.List(ctx, state.Filter{To: listed.To})
	if err != nil || len(msgs) != 1 || msgs[0].State != state.Abandoned {
		t.Fatalf("recorded %+v, %v", msgs, err)
	}
	if e := msgs[0].Error; !strings.Contains(e, "+41793026732 is now suppressed (on ") || !strings.Contains(e, "stop.csv:2)") {
		t.Errorf("reason %q, want it to say the number is suppressed, on stop.csv:2", e)
	}
}
