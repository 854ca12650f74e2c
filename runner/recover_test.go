package runner_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// TestLockRecoversInterrupted: taking the lock records what a run that died left in flight
// as unknown, once; a second run is refused while the lock is held.
func TestLockRecoversInterrupted(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	ghosts := []state.Outgoing{
		{Key: state.Key{Campaign: "otp", Round: 1, To: "+41790000001"}, MessageID: "sf-1", BulkID: "b-1", Parts: 1},
		{Key: state.Key{Campaign: "otp", Round: 1, To: "+41790000002"}, MessageID: "sf-2", BulkID: "b-1", Parts: 1},
	}
	if _, err := s.MarkSending(ctx, ghosts); err != nil {
		t.Fatal(err)
	}
	release, n, err := runner.Lock(ctx, s, "apply", 0)
	if err != nil || n != 2 {
		t.Fatalf("Lock = %d, %v; want the 2 messages left in flight", n, err)
	}
	if got := stateOf(t, s, state.Filter{}); len(got) != 2 || got["+41790000001"].State != state.Unknown || got["+41790000002"].State != state.Unknown {
		t.Errorf("after Lock: %+v, want both unknown", got)
	}
	// Another run, with its own connection to the same state, waits for nobody.
	other, err := sqlite.Open(ctx, s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var locked *state.LockedError
	if _, _, err := runner.Lock(ctx, other, "refresh", 0); !errors.As(err, &locked) {
		t.Errorf("second Lock while held: %v, want a *state.LockedError", err)
	}
	release()
	release, n, err = runner.Lock(ctx, other, "refresh", 0)
	if err != nil || n != 0 {
		t.Fatalf("Lock after release = %d, %v; want nothing left to recover", n, err)
	}
	release()
}

// TestConvertRecoversInterrupted: conversions a dead run left "submitting" are recorded as
// unknown, reported through Recovered, and never submitted again.
func TestConvertRecoversInterrupted(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
	id := otpID("+41790000001")
	left := state.Conversion{Key: state.Key{Campaign: "otp", Round: 1, To: "+41790000001"}, MessageID: id, Source: "events.csv:2"}
	if err := s.MarkSubmitting(ctx, []state.Conversion{left}); err != nil {
		t.Fatal(err)
	}
	path := eventsFile(t, "events.csv", "messageId\n"+id+"\n"+otpID("+41790000002")+"\n")
	conv := &countingConverter{api: client}
	recovered := 0
	res, err := runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{Recovered: func(n int) { recovered += n }})
	if err != nil {
		t.Fatal(err)
	}
	if recovered != 1 {
		t.Errorf("Recovered told of %d, want 1", recovered)
	}
	if res.Submitted != 1 || res.PreviouslyUnknown != 1 || conv.total() != 1 {
		t.Errorf("result %+v, %d submitted; want only the other message's conversion", res, conv.total())
	}
	if got := conversionsOf(t, s)[id]; got != state.ConvUnknown {
		t.Errorf("the interrupted conversion is %q, want unknown", got)
	}
	// A run with nothing left submitting reports nothing.
	recovered = 0
	if _, err := runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{Recovered: func(n int) { recovered += n }}); err != nil || recovered != 0 {
		t.Errorf("rerun: recovered %d, %v", recovered, err)
	}
}

// TestLoadInputs: apply's one argument that is a saved plan loads the plan's paths; one
// made with another state is stale; plan (allowSaved false) reads its arguments as
// campaign paths.
func TestLoadInputs(t *testing.T) {
	ctx := context.Background()
	dir := writeFiles(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	set, err := runner.LoadInputs([]string{dir}, s.Path(), sameNames, false, nil)
	if err != nil || set.Saved != nil || len(set.Set.Campaigns) != 1 {
		t.Fatalf("LoadInputs(dir) = %+v, %v", set, err)
	}
	p, err := runner.PlanFrom(ctx, s, set.Set, now, runner.PlanOptions{RetryFailed: true}, nil)
	if err != nil || p.Summary.Send != 3 {
		t.Fatalf("PlanFrom: %+v, %v", p, err)
	}
	file := filepath.Join(t.TempDir(), "p.plan")
	if err := p.Save(file, []string{dir}, s.Path(), runner.PlanOptions{RetryFailed: true}, now); err != nil {
		t.Fatal(err)
	}
	in, err := runner.LoadInputs([]string{file}, s.Path(), sameNames, true, nil)
	if err != nil || in.Saved == nil || !in.Saved.RetryFailed || len(in.Paths) != 1 || in.Paths[0] != dir || len(in.Set.Campaigns) != 1 {
		t.Fatalf("LoadInputs(plan) = %+v, %v", in, err)
	}
	if err := in.Saved.Check(p); err != nil {
		t.Errorf("fresh plan: %v", err)
	}
	if _, err := runner.LoadInputs([]string{file}, filepath.Join(t.TempDir(), "other.db"), sameNames, true, nil); !errors.Is(err, runner.ErrStalePlan) {
		t.Errorf("with another state: %v, want ErrStalePlan", err)
	}
	// For plan, a plan file is no campaign file.
	if _, err := runner.LoadInputs([]string{file}, s.Path(), sameNames, false, nil); err == nil {
		t.Error("plan accepted a saved plan as campaign files")
	}
}

// sameNames compares states by their path, as state/backend does for files.
var sameNames = runner.StateNames{
	Same: func(a, b string) bool { return a == b },
	Name: func(s string) string { return s },
}

// TestRunApplySavedPlan: applying a saved plan takes what it decided (-retry-failed) from
// the plan, not from the run; its outcome counts what is left of unknown outcome.
func TestRunApplySavedPlan(t *testing.T) {
	ctx := context.Background()
	dir := writeFiles(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{RejectTo: []string{"41790000002"}}, nil)
	in, err := runner.LoadInputs([]string{dir}, s.Path(), sameNames, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runner.RunApply(ctx, runner.ApplyRun{Store: s, Set: in.Set, Connect: func() (runner.API, error) { return client, nil }})
	if err != nil || out.Result.Sent != 2 || out.Result.Failed != 1 || out.Result.Unresolved != 0 {
		t.Fatalf("first apply: %+v, %v", out.Result, err)
	}
	p, err := runner.PlanFrom(ctx, s, in.Set, time.Now(), runner.PlanOptions{RetryFailed: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "p.plan")
	if err := p.Save(file, []string{dir}, s.Path(), runner.PlanOptions{RetryFailed: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	saved, err := runner.LoadInputs([]string{file}, s.Path(), sameNames, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The run's own options say nothing of retrying: the saved plan decides.
	out, err = runner.RunApply(ctx, runner.ApplyRun{Store: s, Set: saved.Set, Saved: saved.Saved, Connect: func() (runner.API, error) { return client, nil }})
	if err != nil || !out.Applied || out.Plan.Summary.Send != 1 || out.Result.Failed != 1 {
		t.Errorf("saved plan with retry_failed: plan %+v, result %+v, %v; want the failed message sent again", out.Plan.Summary, out.Result, err)
	}
}
