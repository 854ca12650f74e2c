package sqlstore

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestDialect: the shared text of a query becomes each dialect's.
func TestDialect(t *testing.T) {
	q := `SELECT a FROM t WHERE b = ? AND c IN (?, ?) ORDER BY d COLLATE "C"`
	if got, want := SQLite.SQL(q), `SELECT a FROM t WHERE b = ? AND c IN (?, ?) ORDER BY d`; got != want {
		t.Errorf("SQLite:\n%s\nwant\n%s", got, want)
	}
	if got, want := Postgres.SQL(q), `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) ORDER BY d COLLATE "C"`; got != want {
		t.Errorf("Postgres:\n%s\nwant\n%s", got, want)
	}
}

// TestMigrations: a backend's migrations are the shared ones and its own in one sequence,
// in its dialect; a number missing or given twice is refused.
func TestMigrations(t *testing.T) {
	own := fstest.MapFS{"migrations/0001_init.sql": {Data: []byte("CREATE TABLE meta (key TEXT)")}, "migrations/0002_x.sql": {Data: []byte("SELECT 1")},
		"migrations/0006_y.sql": {Data: []byte("SELECT 1")}}
	for _, d := range []Dialect{SQLite, Postgres} {
		ms, err := Migrations(own, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 7 || ms[0].Name != "0001_init.sql" || ms[3].Version != 4 || ms[4].Name != "0005_experiments.sql" || ms[6].Name != "0007_unresolved.sql" {
			t.Fatalf("Migrations = %+v", ms)
		}
		if opt := ms[3].SQL; strings.Contains(opt, "{{") || !strings.Contains(opt, d.identity) {
			t.Errorf("0004 in %+v:\n%s", d, opt)
		}
	}
	for name, fsys := range map[string]fstest.MapFS{
		"missing": {"migrations/0001_init.sql": {}},
		"twice":   {"migrations/0001_init.sql": {}, "migrations/0002_x.sql": {}, "migrations/0003_y.sql": {}},
	} {
		if _, err := Migrations(fsys, SQLite); err == nil || !strings.Contains(err.Error(), "out of sequence") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
