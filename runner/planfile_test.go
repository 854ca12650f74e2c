package runner_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

func TestSavedPlanRoundTrip(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	snap := state.NewSnapshot(state.Version{Lineage: "abc", Serial: 4}, nil)
	opts := runner.PlanOptions{RetryFailed: true}
	p, err := runner.MakePlan(set, snap, now, opts)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "plan.out")
	if err := p.Save(path, []string{"campaigns/"}, "smsform.db", opts, now); err != nil {
		t.Fatal(err)
	}
	sp, ok, err := runner.ReadSavedPlan(path)
	if err != nil || !ok {
		t.Fatalf("ReadSavedPlan = %v, %v", ok, err)
	}
	if sp.Version != runner.PlanFileVersion || sp.Inputs != set.Digest || sp.State != snap.Version || sp.StatePath != "smsform.db" ||
		sp.Digest != p.Digest() || !sp.RetryFailed || sp.Summary != p.Summary || !sp.CreatedAt.Equal(now) ||
		len(sp.Paths) != 1 || sp.Paths[0] != "campaigns/" {
		t.Errorf("read back %+v", sp)
	}
	// The same files and state plan the same again.
	again, _ := runner.MakePlan(set, snap, now, opts)
	if err := sp.Check(again); err != nil {
		t.Errorf("Check of an unchanged plan: %v", err)
	}
}

func TestReadSavedPlanNotAPlan(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"otp.yaml":   otpYAML,
		"other.json": `{"format": "something-else", "format_version": "1"}`,
		"list.json":  `[1, 2]`,
	})
	for _, name := range []string{"otp.yaml", "other.json", "list.json"} {
		sp, ok, err := runner.ReadSavedPlan(filepath.Join(dir, name))
		if ok || err != nil || sp != nil {
			t.Errorf("ReadSavedPlan(%s) = %v, %v, %v; want not a plan, no error", name, sp, ok, err)
		}
	}
	if _, _, err := runner.ReadSavedPlan(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadSavedPlan of a missing file: %v", err)
	}
}

func TestReadSavedPlanOtherFormatVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.out")
	if err := os.WriteFile(path, []byte(`{"format": "smsform-plan", "format_version": "99"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, ok, err := runner.ReadSavedPlan(path)
	if !ok || err == nil || !strings.Contains(err.Error(), "99") {
		t.Errorf("ReadSavedPlan of format 99 = %v, %v", ok, err)
	}
}

// TestReadSavedPlanUntrusted: a plan file may come from anywhere. A FIFO or a device is
// refused at once, a file over MaxPlanBytes is not read whole, and what apply would show of
// a plan (its format, paths, state name and lineage) is bounded: a plan plan -out cannot
// have written is refused, quoting nothing of it.
func TestReadSavedPlanUntrusted(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plan := func(fields string) string {
		return `{"format": "smsform-plan", "format_version": "` + runner.PlanFileVersion + `", ` + fields + `}`
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 300<<10)
	for _, tt := range []struct {
		name, path, says string
	}{
		{"FIFO", fifo, "is not a regular file"},
		{"symlink to /dev/zero", zero, "outside"},
		{"/dev/zero", "/dev/zero", "into /proc, /sys or /dev"},
		{"over the bound", write("big", `{"format": "smsform-plan", "paths": ["`+strings.Repeat("x", runner.MaxPlanBytes)+`"]}`), "the limit is 1048576"},
		{"long format version", write("version", `{"format": "smsform-plan", "format_version": "`+long+`"}`), `has format "xxxx`},
		{"a path with a line break", write("nl", plan(`"paths": ["a\n::error::forged"]`)), "a campaign path over 4096 bytes or with control characters"},
		{"a long path", write("longpath", plan(`"paths": ["`+long+`"]`)), "a campaign path over 4096 bytes"},
		{"many paths", write("paths", plan(`"paths": [`+strings.Repeat(`"a",`, 2000)+`"a"]`)), "it names 2001 campaign paths; the limit is 1024"},
		{"a long state path", write("state", plan(`"state_path": "`+long+`"`)), "its state is named in over 4096 bytes"},
		{"a long lineage", write("lineage", plan(`"state": {"lineage": "`+long+`"}`)), "its state lineage is over 64 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runner.ReadSavedPlan(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("ReadSavedPlan: %v, want an error saying %q", err, tt.says)
			}
			if len(err.Error()) > 1000 || strings.Contains(err.Error(), "::error") {
				t.Errorf("the error shows the file's content (%d bytes): %.300s", len(err.Error()), err)
			}
		})
	}
}

func TestSavedPlanCheckStale(t *testing.T) {
	files := map[string]string{"otp.yaml": otpYAML}
	set := load(t, files)
	v := state.Version{Lineage: "abc", Serial: 4}
	p, _ := runner.MakePlan(set, state.NewSnapshot(v, nil), now, runner.PlanOptions{})
	path := filepath.Join(t.TempDir(), "plan.out")
	if err := p.Save(path, nil, "smsform.db", runner.PlanOptions{}, now); err != nil {
		t.Fatal(err)
	}
	sp, _, err := runner.ReadSavedPlan(path)
	if err != nil {
		t.Fatal(err)
	}

	edited := load(t, map[string]string{"otp.yaml": strings.Replace(otpYAML, "your PIN", "the PIN", 1)})
	r := set.Campaigns[0].Recipients.At(0)
	tests := []struct {
		name  string
		fresh func() *runner.Plan
		says  string
	}{
		{"files changed", func() *runner.Plan {
			p, _ := runner.MakePlan(edited, state.NewSnapshot(v, nil), now, runner.PlanOptions{})
			return p
		}, "campaign files changed"},
		{"state serial changed", func() *runner.Plan {
			p, _ := runner.MakePlan(set, state.NewSnapshot(state.Version{Lineage: "abc", Serial: 5}, nil), now, runner.PlanOptions{})
			return p
		}, "state changed"},
		{"other state file", func() *runner.Plan {
			p, _ := runner.MakePlan(set, state.NewSnapshot(state.Version{Lineage: "def", Serial: 4}, nil), now, runner.PlanOptions{})
			return p
		}, "another state file"},
		{"different decisions", func() *runner.Plan {
			recs := map[state.Key]state.Record{{Campaign: "otp", Round: 1, To: r.To}: {State: state.Sent, Hash: r.Hash}}
			p, _ := runner.MakePlan(set, state.NewSnapshot(v, recs), now, runner.PlanOptions{})
			return p
		}, "different result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sp.Check(tt.fresh())
			if !errors.Is(err, runner.ErrStalePlan) {
				t.Fatalf("Check = %v, want ErrStalePlan", err)
			}
			if !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), "plan -out") && !strings.Contains(err.Error(), "--state") {
				t.Errorf("error %q should say %q and what to do", err, tt.says)
			}
		})
	}
}

// TestSavedPlanAgainstRealState: a write to the state after saving makes the plan stale.
func TestSavedPlanAgainstRealState(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	p := planFromStore(t, set, s, runner.PlanOptions{})
	path := filepath.Join(t.TempDir(), "plan.out")
	if err := p.Save(path, nil, s.Path(), runner.PlanOptions{}, now); err != nil {
		t.Fatal(err)
	}
	sp, _, _ := runner.ReadSavedPlan(path)
	if err := sp.Check(planFromStore(t, set, s, runner.PlanOptions{})); err != nil {
		t.Fatalf("unchanged state: %v", err)
	}
	o := state.Outgoing{Key: state.Key{Campaign: "other", Round: 1, To: "+41790000001"}, MessageID: "x", BulkID: "b"}
	if _, err := s.MarkSending(t.Context(), []state.Outgoing{o}); err != nil {
		t.Fatal(err)
	}
	if err := sp.Check(planFromStore(t, set, s, runner.PlanOptions{})); !errors.Is(err, runner.ErrStalePlan) {
		t.Errorf("after a write to the state: %v, want ErrStalePlan", err)
	}
}
