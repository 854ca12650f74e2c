package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// plainInserts write one row into each table checkRewrites covers, with the state bound
// as ?1 and the number as ?2; the other columns are what their NOT NULLs need.
var plainInserts = map[string]string{
	"messages": `INSERT INTO messages (campaign, round, destination, message_id, bulk_id, text_hash, state, created_at, sending_at, updated_at)
		VALUES ('c', 1, ?2, 'm1', 'b1', 1, ?1, 't', 't', 't')`,
	"conversions": `INSERT INTO conversions (campaign, round, destination, message_id, state, source, submitted_at, updated_at)
		VALUES ('c', 1, ?2, 'm1', ?1, 'events.csv:2', 't', 't')`,
}

// accepted are the states each table's CHECK accepts.
var accepted = map[string][]string{
	"messages":    {"sending", "sent", "failed", "unknown", "abandoned", "capped"},
	"conversions": {"submitting", "converted", "failed", "unknown"},
}

// tempState is a new state in a temporary directory, and its path.
func tempState(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "smsform.db")
	return openState(t, path), path
}

// openState opens the state at path, creating it if there is none, until the test ends.
func openState(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// ephemeralTables counts the temporary B-trees SQLite's program for q opens: a plain
// one-row INSERT opens one only for a CHECK's list.
func ephemeralTables(t *testing.T, s *Store, q string) int {
	t.Helper()
	rows, err := s.db.QueryContext(context.Background(), "EXPLAIN "+q, "sent", "+41790000001")
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var addr int
		var op string
		var p1, p2, p3, p4, p5, comment any
		if err := rows.Scan(&addr, &op, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
			t.Fatal(err)
		}
		if op == "OpenEphemeral" {
			n++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// definition is the CREATE TABLE of table as the file keeps it.
func definition(t *testing.T, s *Store, table string) string {
	t.Helper()
	var def string
	if err := s.db.QueryRow("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&def); err != nil {
		t.Fatal(err)
	}
	return def
}

// checkChains fails unless every table of checkRewrites has its chain, and writing a row
// into it builds no temporary B-tree.
func checkChains(t *testing.T, s *Store) {
	t.Helper()
	for _, c := range checkRewrites {
		if def := definition(t, s, c.table); !strings.Contains(def, c.chain) || strings.Contains(def, c.in) {
			t.Errorf("%s is defined as\n%s\nwant its CHECK written as %s", c.table, def, c.chain)
		}
		if n := ephemeralTables(t, s, plainInserts[c.table]); n != 0 {
			t.Errorf("a row written into %s builds %d temporary B-trees, want none", c.table, n)
		}
	}
}

// TestChecksAreChains: a new state's CHECKs on a message's and a conversion's state are
// chains of comparisons, which cost no temporary B-tree a row, and they accept exactly the
// states the lists did.
func TestChecksAreChains(t *testing.T) {
	ctx := context.Background()
	s, _ := tempState(t)
	checkChains(t, s)
	for table, q := range plainInserts {
		for i, st := range accepted[table] {
			if _, err := s.db.ExecContext(ctx, q, st, fmt.Sprintf("+4179000000%d", i)); err != nil {
				t.Errorf("a row of %s in state %q: %v", table, st, err)
			}
		}
		for i, st := range []any{"delivered", "Sent", "sent ", "", "converted" + "x", nil, 1} {
			if _, err := s.db.ExecContext(ctx, q, st, fmt.Sprintf("+4178000000%d", i)); !isConstraint(err) {
				t.Errorf("a row of %s in state %#v: %v, want a constraint failure", table, st, err)
			}
		}
	}
}

// TestOtherConnectionsSeeTheChains: a process that had the state open with the lists
// writes with the chains once another process rewrote them (the schema version tells it
// to read the schema again).
func TestOtherConnectionsSeeTheChains(t *testing.T) {
	first, path := tempState(t)
	setBackToLists(t, first)
	if n := ephemeralTables(t, first, plainInserts["messages"]); n != 1 {
		t.Fatalf("with the lists, a row builds %d temporary B-trees, want 1", n)
	}
	second := openState(t, path)
	checkChains(t, second)
	checkChains(t, first)
}

// setBackToLists writes s's CHECKs back as the lists, as an older smsform left them.
func setBackToLists(t *testing.T, s *Store) {
	t.Helper()
	var back []checkRewrite
	for _, c := range checkRewrites {
		back = append(back, checkRewrite{table: c.table, in: c.chain, chain: c.in})
	}
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := editSchema(context.Background(), tx, back); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestOlderStatesGetTheChains: a state an older smsform wrote, with the lists, has the
// chains once opened, with its rows and its serial as they were (a plan saved against it
// is still current).
func TestOlderStatesGetTheChains(t *testing.T) {
	ctx := context.Background()
	s, path := tempState(t)
	if _, err := s.db.ExecContext(ctx, plainInserts["messages"], "sent", "+41790000001"); err != nil {
		t.Fatal(err)
	}
	setBackToLists(t, s)
	for _, c := range checkRewrites {
		if n := ephemeralTables(t, s, plainInserts[c.table]); n != 1 {
			t.Fatalf("with the list, a row written into %s builds %d temporary B-trees, want 1", c.table, n)
		}
	}
	before, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openState(t, path)
	checkChains(t, s)
	if after, err := s.Version(ctx); err != nil || after != before {
		t.Errorf("version %+v, %v after the rewrite; want %+v", after, err, before)
	}
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM messages WHERE state = 'sent'").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d messages (%v), want the one written before", n, err)
	}
	var check string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}
}

// TestUnparsableEditRollsBack: an edit SQLite cannot parse fails inside its transaction,
// and the state opens afterwards with its definition as it was.
func TestUnparsableEditRollsBack(t *testing.T) {
	ctx := context.Background()
	s, path := tempState(t)
	c := checkRewrites[0]
	def := definition(t, s, c.table)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := editSchema(ctx, tx, []checkRewrite{{table: c.table, in: c.chain, chain: "CHECK (state = )"}}); err == nil {
		t.Error("an edit that does not parse succeeded")
	}
	tx.Rollback()
	s.Close()

	s = openState(t, path) // fails the test if the state no longer opens
	if got := definition(t, s, c.table); got != def {
		t.Errorf("after the failed edit, %s is defined as\n%s\nwant\n%s", c.table, got, def)
	}
	checkChains(t, s)
}
