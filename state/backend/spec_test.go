package backend_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsform/smsform/state/backend"
)

// TestSpecs: a postgres URL is recognised whatever its scheme's case; a URL of another
// scheme and a key=value connection string are refused, not taken for file paths; none is
// printed with its credentials.
func TestSpecs(t *testing.T) {
	const pw = "pw-5up3r"
	for _, spec := range []string{"POSTGRES://u:" + pw + "@h/db", "PostgreSQL://u@h/db?sslpassword=" + pw, " postgres://u:" + pw + "@h/db"} {
		if backend.Kind(spec) != "postgres" {
			t.Errorf("Kind(%q) = %q, want postgres", spec, backend.Kind(spec))
		}
		if got := backend.Name(spec); strings.Contains(got, pw) || !strings.HasPrefix(got, "postgres") {
			t.Errorf("Name(%q) = %q", spec, got)
		}
	}
	if !backend.Same("POSTGRES://u:"+pw+"@h/db?sslmode=require&sslpassword="+pw, "postgres://u@h/db?sslmode=require") {
		t.Error("Same: one URL with and without its credentials differ")
	}
	ctx := context.Background()
	for _, spec := range []string{"mysql://u:" + pw + "@h/db", "file:///tmp/x.db", "host=h password=" + pw, "dbname=x user=u"} {
		_, err := backend.Open(ctx, spec, nil)
		if !errors.Is(err, backend.ErrSpec) || strings.Contains(err.Error(), pw) {
			t.Errorf("Open(%q): %v; want ErrSpec, without the password", spec, err)
		}
		if _, err := backend.Init(ctx, spec); !errors.Is(err, backend.ErrSpec) {
			t.Errorf("Init(%q): %v; want ErrSpec", spec, err)
		}
		if got := backend.Name(spec); strings.Contains(got, pw) {
			t.Errorf("Name(%q) = %q", spec, got)
		}
	}
	// A file whose name looks like a setting is still a file, written as a path.
	dir := t.TempDir()
	if _, err := backend.Init(ctx, filepath.Join(dir, "user=bob.db")); err != nil {
		t.Errorf("Init of ./user=bob.db: %v", err)
	}
}
