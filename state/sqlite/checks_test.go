package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// plainInserts write one row into each table checkRewrites covers, with the state bound
// as ?1; the other columns are what their NOT NULLs need.
var plainInserts = map[string]string{
	"messages": `INSERT INTO messages (campaign, round, destination, message_id, bulk_id, text_hash, state, created_at, sending_at, updated_at)
		VALUES ('c', 1, '+41790000001', 'm1', 'b1', 1, ?1, 't', 't', 't')`,
	"conversions": `INSERT INTO conversions (campaign, round, destination, message_id, state, source, submitted_at, updated_at)
		VALUES ('c', 1, '+41790000001', 'm1', ?1, 'events.csv:2', 't', 't')`,
}

// ephemeralTables counts the temporary B-trees SQLite's program for q opens: a plain
// one-row INSERT opens one only for a CHECK's list.
func ephemeralTables(t *testing.T, s *Store, q string) int {
	t.Helper()
	rows, err := s.db.QueryContext(context.Background(), "EXPLAIN "+q, "sent")
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
// chains of comparisons, which cost no temporary B-tree a row, and they still refuse any
// other state.
func TestChecksAreChains(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "smsform.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkChains(t, s)
	for table, q := range plainInserts {
		if _, err := s.db.ExecContext(ctx, q, "delivered"); !isConstraint(err) {
			t.Errorf("a row of %s in state 'delivered': %v, want a CHECK constraint failure", table, err)
		}
		if _, err := s.db.ExecContext(ctx, q, "sent"); table == "messages" && err != nil {
			t.Errorf("a message in state 'sent': %v", err)
		}
	}
}

// TestOlderStatesGetTheChains: a state an older smsform wrote, with the lists, has the
// chains once opened, with its rows and its serial as they were (a plan saved against it
// is still current).
func TestOlderStatesGetTheChains(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smsform.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, plainInserts["messages"], "sent"); err != nil {
		t.Fatal(err)
	}
	// Back to the lists, as an older smsform left them.
	var back []checkRewrite
	for _, c := range checkRewrites {
		back = append(back, checkRewrite{table: c.table, in: c.chain, chain: c.in})
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := editSchema(ctx, tx, back); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
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

	s, err = OpenExisting(ctx, path, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
	path := filepath.Join(t.TempDir(), "smsform.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
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

	s, err = OpenExisting(ctx, path, func(string) {})
	if err != nil {
		t.Fatalf("after the failed edit: %v", err)
	}
	defer s.Close()
	if got := definition(t, s, c.table); got != def {
		t.Errorf("after the failed edit, %s is defined as\n%s\nwant\n%s", c.table, got, def)
	}
	checkChains(t, s)
}
