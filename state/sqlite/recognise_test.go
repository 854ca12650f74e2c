package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/smsform/smsform/internal/safefile"
	"github.com/smsform/smsform/state/sqlite"
)

// TestOpenExistingRecognisesAState: only a file init made is a state. An empty file, another
// file, another application's database, a blank database, a symlink or a FIFO is refused,
// saying what it is, and nothing is written into it; init makes a state only of an empty
// file or a blank database.
func TestOpenExistingRecognisesAState(t *testing.T) {
	ctx := context.Background()
	withSQL := func(t *testing.T, path string, stmts ...string) {
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, s := range append([]string{"PRAGMA journal_mode=DELETE"}, stmts...) {
			if _, err := db.Exec(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	// content is a regular file's bytes, "" for anything else (a FIFO would block a read).
	content := func(path string) string {
		if info, err := os.Lstat(path); err != nil || !info.Mode().IsRegular() {
			return ""
		}
		data, _ := os.ReadFile(path)
		return string(data)
	}
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, path string)
		want    string // in OpenExisting's error
		initErr string // in Init's error; "" when init makes a state of it
	}{
		{name: "empty file", setup: func(t *testing.T, p string) { os.WriteFile(p, nil, 0o600) },
			want: "is empty (0 bytes): it is not a state"},
		{name: "text file", setup: func(t *testing.T, p string) { os.WriteFile(p, []byte("id: c1\nfrom: InfoSMS\n"), 0o644) },
			want: "is not a SQLite database", initErr: "is not a SQLite database"},
		{name: "another application's database", setup: func(t *testing.T, p string) { withSQL(t, p, "CREATE TABLE accounts (id INTEGER)") },
			want: "is a SQLite database, but not an smsform state", initErr: "not an smsform state"},
		{name: "a database with a user_version but no lineage", setup: func(t *testing.T, p string) {
			withSQL(t, p, "CREATE TABLE meta (key TEXT, value TEXT)", "PRAGMA user_version = 2")
		},
			want: "is a SQLite database, but not an smsform state", initErr: "not an smsform state"},
		{name: "blank database", setup: func(t *testing.T, p string) { withSQL(t, p, "CREATE TABLE t (x)", "DROP TABLE t") },
			want: "is a SQLite database without smsform's tables"},
		{name: "symlink to a state", setup: func(t *testing.T, p string) {
			target := filepath.Join(t.TempDir(), "real.db")
			if _, err := sqlite.Init(ctx, target); err != nil {
				t.Fatal(err)
			}
			os.Symlink(target, p)
		}, want: "is a symbolic link", initErr: "is a symbolic link"},
		{name: "dangling symlink", setup: func(t *testing.T, p string) { os.Symlink(filepath.Join(t.TempDir(), "nothing"), p) },
			want: "is a symbolic link", initErr: "is a symbolic link"},
		{name: "FIFO", setup: func(t *testing.T, p string) { syscall.Mkfifo(p, 0o600) },
			want: "is not a regular file", initErr: "is not a regular file"},
		{name: "symlinked -wal", setup: func(t *testing.T, p string) {
			if _, err := sqlite.Init(ctx, p); err != nil {
				t.Fatal(err)
			}
			os.Symlink(filepath.Join(t.TempDir(), "x"), p+"-wal")
		}, want: "st.db-wal is a symbolic link", initErr: "st.db-wal is a symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "st.db")
			tc.setup(t, path)
			before := content(path)
			_, err := sqlite.OpenExisting(ctx, path, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !(errors.Is(err, sqlite.ErrNotState) || errors.Is(err, safefile.ErrLink)) {
				t.Fatalf("OpenExisting: %v; want ErrNotState (or ErrLink) saying %q", err, tc.want)
			}
			if content(path) != before {
				t.Errorf("OpenExisting wrote into the file it refused")
			}
			created, err := sqlite.Init(ctx, path)
			if tc.initErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.initErr) {
					t.Fatalf("Init: %v; want an error saying %q", err, tc.initErr)
				}
				if content(path) != before {
					t.Errorf("Init wrote into the file it refused")
				}
				return
			}
			if err != nil || !created {
				t.Fatalf("Init = %v, %v; want a state created", created, err)
			}
			s, err := sqlite.OpenExisting(ctx, path, nil)
			if err != nil {
				t.Fatalf("OpenExisting after init: %v", err)
			}
			s.Close()
		})
	}
}

// TestLockRefusesSymlink: a lock file that is a symbolic link is neither locked nor
// truncated, by a writer or by unlock.
func TestLockRefusesSymlink(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "st.db")
	if _, err := sqlite.Init(ctx, path); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep me\n"), 0o644)
	if err := os.Symlink(victim, sqlite.LockPath(path)); err != nil {
		t.Fatal(err)
	}
	if l, err := sqlite.AcquireLock(ctx, path, "apply", 0); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		l.Release()
		t.Errorf("AcquireLock through a symlink: %v", err)
	}
	if _, err := sqlite.Unlock(path, true); err == nil || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Errorf("Unlock through a symlink: %v", err)
	}
	if data, _ := os.ReadFile(victim); string(data) != "keep me\n" {
		t.Errorf("the link's target was written: %q", data)
	}
}
