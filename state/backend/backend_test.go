package backend_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/backend"
)

func TestChoice(t *testing.T) {
	for spec, pg := range map[string]bool{
		"smsform.db": false, "/var/lib/smsform/smsform.db": false, "postgres.db": false, "./postgres://x": false,
		"postgres://u@h/db": true, "postgresql://u@h/db?sslmode=require": true,
	} {
		if got := backend.Kind(spec) == "postgres"; got != pg {
			t.Errorf("Kind(%q) = %q; want postgres: %v", spec, backend.Kind(spec), pg)
		}
	}
	if got := backend.Name("postgres://u:pw-5up3r@h/db"); strings.Contains(got, "pw-5up3r") {
		t.Errorf("Name shows the password: %s", got)
	}
	if !backend.Same("postgres://u:pw@h/db", "postgres://u@h/db") || backend.Same("postgres://u@h/db", "postgres://u@h/other") {
		t.Error("Same compares URLs wrongly")
	}
	dir := t.TempDir()
	if !backend.Same(filepath.Join(dir, "st.db"), filepath.Join(dir, ".", "st.db")) || backend.Same("a.db", "b.db") {
		t.Error("Same compares paths wrongly")
	}
}

// TestOpenMissing: no backend creates a state on open; the error says to run init.
func TestOpenMissing(t *testing.T) {
	_, err := backend.Open(context.Background(), filepath.Join(t.TempDir(), "st.db"), nil)
	if !errors.Is(err, state.ErrNoState) || !strings.Contains(err.Error(), "smsform init") {
		t.Errorf("Open of a missing file: %v", err)
	}
}

// TestUnreachableServer: an error about a PostgreSQL state says what to check and never
// shows the password.
func TestUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = backend.Open(context.Background(), "postgres://u:pw-5up3r@"+addr+"/db?sslmode=disable&connect_timeout=5", nil)
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "pw-5up3r") || !strings.Contains(err.Error(), "postgres://u@"+addr) || !strings.Contains(err.Error(), "check the URL") {
		t.Errorf("error %q: want the URL without its password and what to check", err)
	}
	if _, err := backend.Migrate(context.Background(), "a.db", "./a.db", 0, nil); err == nil || !strings.Contains(err.Error(), "the same state") {
		t.Errorf("Migrate of a state onto itself: %v", err)
	}
}
