package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/state/internal/sqlstore"
)

// TestUnresolvedReadsCanUseTheIndex: PostgreSQL can answer the reads of messages of unknown
// outcome from the partial index. Its planner scans a table as small as a test's whatever
// the indexes, so sequential scans are priced out first: a read the index cannot serve
// would still be planned as one.
func TestUnresolvedReadsCanUseTheIndex(t *testing.T) {
	ctx := context.Background()
	_, url := newState(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET enable_seqscan = off"); err != nil {
		t.Fatal(err)
	}
	for _, q := range sqlstore.UnresolvedReads(sqlstore.Postgres) {
		rows, err := conn.Query(ctx, "EXPLAIN "+q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, "messages_unresolved") || strings.Contains(plan, "Seq Scan on messages") {
			t.Errorf("%s\nis planned as\n%s\nwant a scan of messages_unresolved", q, plan)
		}
	}
}
