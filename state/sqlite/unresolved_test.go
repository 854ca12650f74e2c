package sqlite

import (
	"context"
	"strings"
	"testing"

	"github.com/smsform/smsform/state/internal/sqlstore"
)

// TestUnresolvedReadsUseTheIndex: the reads of messages of unknown outcome, which apply
// makes twice a run, find them through the partial index instead of reading every message.
func TestUnresolvedReadsUseTheIndex(t *testing.T) {
	ctx := context.Background()
	s, _ := tempState(t)
	for _, q := range sqlstore.UnresolvedReads(sqlstore.SQLite) {
		rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var steps []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			steps = append(steps, detail)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		plan := strings.Join(steps, "; ")
		if !strings.Contains(plan, "INDEX messages_unresolved") || strings.Contains(plan, "SCAN messages") {
			t.Errorf("%s\nis planned as %q, want a search of messages_unresolved", q, plan)
		}
	}
}
