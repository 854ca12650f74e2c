package backend_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/smsform/smsform/internal/pgtest"
	"github.com/smsform/smsform/state/backend"
	"github.com/smsform/smsform/state/statetest"
)

// TestSameListings: the same content, batches in flight included, lists the same rows on
// both backends, with every filter of statetest.ListingFilters: those that exclude
// "sending" among them.
func TestSameListings(t *testing.T) {
	ctx := context.Background()
	var got [2][][]string
	for i, spec := range []string{filepath.Join(t.TempDir(), "st.db"), pgtest.NewDatabase(t)} {
		if _, err := backend.Init(ctx, spec); err != nil {
			t.Fatal(err)
		}
		s, err := backend.Open(ctx, spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		statetest.FillListings(t, s)
		for _, f := range statetest.ListingFilters() {
			msgs, err := s.List(ctx, f)
			if err != nil {
				t.Fatalf("%s: List(%+v): %v", backend.Kind(spec), f, err)
			}
			var rows []string
			for _, m := range msgs {
				m.CreatedAt, m.UpdatedAt = "", "" // when each backend recorded them
				rows = append(rows, fmt.Sprintf("%+v", m))
			}
			got[i] = append(got[i], rows)
		}
	}
	for j, f := range statetest.ListingFilters() {
		if !slices.Equal(got[0][j], got[1][j]) {
			t.Errorf("List(%+v):\nSQLite     %q\nPostgreSQL %q", f, got[0][j], got[1][j])
		}
	}
}
