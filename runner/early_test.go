package runner_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

// countingStore is a state whose Snapshot reads a snapshotCounter counts.
type countingStore struct {
	state.Store
	reads *snapshotCounter
}

func (s countingStore) Snapshot(ctx context.Context, rounds []state.Round) (*state.Snapshot, error) {
	return s.reads.Snapshot(ctx, rounds)
}

// applyEarly is applyRun with a read of the state begun beforehand (ApplyRun.Early).
func applyEarly(t *testing.T, s state.Store, api runner.API, clk *fakeClock, early *runner.StateRead) runner.ApplyOutcome {
	t.Helper()
	return lockedApply(t, runner.ApplyRun{
		Store: s, Early: early, Set: load(t, map[string]string{"otp.yaml": otpYAML}),
		Connect:   func() (runner.API, error) { return api, nil },
		Reconcile: runner.ReconcileOptions{Grace: 10 * time.Minute, Limiter: rate.NewLimiter(rate.Inf, 1)},
		Now:       clk.Now,
	})
}

// prefetch reads the state as apply does while the campaigns load.
func prefetch(t *testing.T, s state.Store, clk *fakeClock) *runner.StateRead {
	t.Helper()
	early := runner.PrefetchState(context.Background(), func() (state.Reader, error) { return s, nil },
		load(t, map[string]string{"otp.yaml": otpYAML}).Campaigns, clk.Now())
	early.Wait()
	return early
}

// TestApplyPlansFromItsEarlyRead: apply plans from the read begun while the campaigns
// loaded, instead of reading the state a second time.
func TestApplyPlansFromItsEarlyRead(t *testing.T) {
	clk := &fakeClock{}
	sb, client := startSandbox(t, sandbox.Options{Now: clk.Now}, nil)
	store := openStore(t)
	s := countingStore{Store: store, reads: &snapshotCounter{Reader: store}}
	out := applyEarly(t, s, client, clk, prefetch(t, s, clk))
	if out.Result.Sent != 3 || sb.Stats().Accepted != 3 {
		t.Errorf("apply: %+v, sandbox %+v; want the three messages sent", out.Result, sb.Stats())
	}
	if n := s.reads.count(); n != 1 {
		t.Errorf("the state's messages were read %d times, want once (the early read)", n)
	}
}

// TestApplyDropsAStaleEarlyRead: a read made before the state changed is not planned from:
// planned from, it would send again what was sent in between.
func TestApplyDropsAStaleEarlyRead(t *testing.T) {
	clk := &fakeClock{}
	sb, client := startSandbox(t, sandbox.Options{Now: clk.Now}, nil)
	s := openStore(t)
	early := prefetch(t, s, clk) // of the empty state
	if out := applyEarly(t, s, client, clk, nil); out.Result.Sent != 3 {
		t.Fatalf("first apply: %+v", out.Result)
	}
	out := applyEarly(t, s, client, clk, early)
	if out.Plan.Summary.Send != 0 || out.Plan.Summary.Noop != 3 {
		t.Errorf("planned from a read older than the first apply: %+v", out.Plan.Summary)
	}
	if st := sb.Stats(); st.Accepted != 3 || st.DoubleSends != 0 {
		t.Errorf("sandbox %+v: want each phone to have received one message", st)
	}
}

// TestApplySavedPlanReadsOnce: applying a saved plan plans twice, to check the saved plan
// and to send; with nothing written in between, both plan from the one early read.
func TestApplySavedPlanReadsOnce(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{}
	sb, client := startSandbox(t, sandbox.Options{Now: clk.Now}, nil)
	store := openStore(t)
	s := countingStore{Store: store, reads: &snapshotCounter{Reader: store}}
	dir := writeFiles(t, map[string]string{"otp.yaml": otpYAML})
	in, err := runner.LoadInputs([]string{dir}, store.Path(), sameNames, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := runner.PlanFrom(ctx, store, in.Set, clk.Now(), runner.PlanOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "p.plan")
	if err := p.Save(file, []string{dir}, store.Path(), runner.PlanOptions{}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	var early *runner.StateRead
	saved, err := runner.LoadInputs([]string{file}, store.Path(), sameNames, true, func(cs []*campaign.Campaign) {
		early = runner.PrefetchState(ctx, func() (state.Reader, error) { return s, nil }, cs, clk.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	early.Wait()
	out, err := runner.RunApply(ctx, runner.ApplyRun{Store: s, Early: early, Set: saved.Set, Saved: saved.Saved, Now: clk.Now,
		Connect: func() (runner.API, error) { return client, nil }})
	if err != nil || out.Result.Sent != 3 || sb.Stats().Accepted != 3 {
		t.Fatalf("apply of the saved plan: %+v, %v", out.Result, err)
	}
	if n := s.reads.count(); n != 1 {
		t.Errorf("the state's messages were read %d times, want once (the early read)", n)
	}
}

// TestEarlyReadOfCampaignsInFileOrder: the early read is of the rounds in the order of
// their files, the plan's in the order of their ids; the plan uses it all the same.
func TestEarlyReadOfCampaignsInFileOrder(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	reads := &snapshotCounter{Reader: store}
	dir := writeFiles(t, map[string]string{
		"a.yaml": strings.Replace(otpYAML, "id: otp", "id: zeta", 1),
		"b.yaml": strings.Replace(otpYAML, "id: otp", "id: alpha", 1),
	})
	var early *runner.StateRead
	in, err := runner.LoadInputs([]string{dir}, store.Path(), sameNames, false, func(cs []*campaign.Campaign) {
		early = runner.PrefetchState(ctx, func() (state.Reader, error) { return reads, nil }, cs, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	if in.Set.Campaigns[0].ID != "alpha" {
		t.Fatalf("campaigns in the order %s, %s; the test wants them sorted apart from their files", in.Set.Campaigns[0].ID, in.Set.Campaigns[1].ID)
	}
	p, err := runner.PlanFrom(ctx, reads, in.Set, time.Now(), runner.PlanOptions{}, early)
	if err != nil || p.Summary.Send != 6 {
		t.Fatalf("plan: %+v, %v", p, err)
	}
	if n := reads.count(); n != 1 {
		t.Errorf("the state's messages were read %d times, want once (the early read)", n)
	}
}
