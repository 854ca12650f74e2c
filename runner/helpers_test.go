package runner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// now is the clock every plan in these tests is made at.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// writeFiles writes name -> content into a fresh directory and returns it.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// load writes the files and loads every campaign in them.
func load(t testing.TB, files map[string]string) *campaign.Set {
	t.Helper()
	set, err := campaign.Load(writeFiles(t, files))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return set
}

// numbersCSV is a destinations file of n valid Swiss mobile numbers (+4179 and 7 digits),
// with a name column.
func numbersCSV(n int) string {
	var b strings.Builder
	b.WriteString("to,name\n")
	for i := range n {
		fmt.Fprintf(&b, "+4179%07d,N%d\n", i, i)
	}
	return b.String()
}

// openStore opens a fresh state file.
func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "smsform.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// planFromStore snapshots the store and plans set against it.
func planFromStore(t testing.TB, set *campaign.Set, s *sqlite.Store, opts runner.PlanOptions) *runner.Plan {
	t.Helper()
	snap, err := s.Snapshot(context.Background(), runner.Rounds(set))
	if err != nil {
		t.Fatal(err)
	}
	p, err := runner.MakePlan(set, snap, now, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// emptySnapshot is the snapshot of a state with nothing recorded.
func emptySnapshot() *state.Snapshot {
	return state.NewSnapshot(state.Version{Lineage: "0123456789abcdef0123456789abcdef", Serial: 1}, nil)
}
