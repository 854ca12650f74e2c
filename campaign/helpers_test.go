package campaign_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsform/smsform/campaign"
)

// lines joins its arguments as the lines of a file, so a test reads line numbers off the
// argument list.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// writeFiles writes files (name relative to dir -> content) into dir, creating directories.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// want is one expected problem: File relative to the test directory, Line and Field
// exactly, Msg a substring of the problem's wording ($DIR stands for the directory).
type want struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (w want) String() string {
	return fmt.Sprintf("%s:%d: %s: ...%s...", w.File, w.Line, w.Field, w.Msg)
}

// validationError returns err as a *campaign.ValidationError or fails the test.
func validationError(t testing.TB, err error) *campaign.ValidationError {
	t.Helper()
	var ve *campaign.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v (%T), want a *campaign.ValidationError", err, err)
	}
	return ve
}

// checkProblems asserts that err lists exactly the wanted problems, in order.
func checkProblems(t testing.TB, dir string, err error, wants []want) {
	t.Helper()
	if len(wants) == 0 {
		if err != nil {
			t.Fatalf("Load: unexpected error:\n%v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Load: no error, want %d problem(s): %v", len(wants), wants)
	}
	ve := validationError(t, err)
	ok := len(ve.Problems) == len(wants) && ve.Dropped == 0
	for i := 0; ok && i < len(wants); i++ {
		ok = matches(dir, ve.Problems[i], wants[i])
	}
	if !ok {
		var b strings.Builder
		for _, w := range wants {
			fmt.Fprintf(&b, "\n  %v", w)
		}
		t.Fatalf("problems:\n%v\nwant (file:line: field: ...substring...):%s", err, b.String())
	}
}

func matches(dir string, p campaign.Problem, w want) bool {
	return p.File == filepath.Join(dir, filepath.FromSlash(w.File)) &&
		p.Line == w.Line &&
		p.Field == w.Field &&
		strings.Contains(p.Msg, strings.ReplaceAll(w.Msg, "$DIR", dir))
}

// loadCase is files to load and the problems expected, in order; nil: none.
type loadCase struct {
	name  string
	files map[string]string
	want  []want
}

// runLoadCases loads each case's files from a directory of its own, in parallel, and
// checks its problems.
func runLoadCases(t *testing.T, cases []loadCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			_, err := campaign.Load(dir)
			checkProblems(t, dir, err, tc.want)
		})
	}
}

// mustLoad loads paths and fails the test on any error.
func mustLoad(t testing.TB, paths ...string) *campaign.Set {
	t.Helper()
	set, err := campaign.Load(paths...)
	if err != nil {
		t.Fatalf("Load(%v): %v", paths, err)
	}
	return set
}

// loadOne writes files into a new temporary directory, loads it and returns its only
// campaign.
func loadOne(t testing.TB, files map[string]string) *campaign.Campaign {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	set := mustLoad(t, dir)
	if len(set.Campaigns) != 1 {
		t.Fatalf("loaded %d campaigns, want 1", len(set.Campaigns))
	}
	return set.Campaigns[0]
}
