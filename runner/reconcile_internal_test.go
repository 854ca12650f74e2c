package runner

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/smsform/smsform/state"
)

// TestBulkQueries: every request looked up by bulkId is in exactly one query, in the order
// of the ids; a query of several holds at most a page of the messages looked for and
// Infobip's 2048 characters of ids, and takes the next request whenever both allow.
func TestBulkQueries(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		bulks := map[string][]state.Pending{}
		for i := range rng.IntN(60) {
			id := fmt.Sprintf("%s-r1-%016x-%d", strings.Repeat("c", 1+rng.IntN(120)), rng.Uint64(), i)
			bulks[id] = make([]state.Pending, minBulkLookup+rng.IntN(700))
		}
		qs := bulkQueries(bulks)
		size := func(ids []string) (wanted, chars int) {
			for _, b := range ids {
				wanted += len(bulks[b])
				chars += len(b) + 1
			}
			return wanted, chars
		}
		if got, want := slices.Concat(qs...), slices.Sorted(maps.Keys(bulks)); !slices.Equal(got, want) {
			t.Fatalf("round %d: queries %v, want each of %v once, in order", round, qs, want)
		}
		for i, q := range qs {
			wanted, chars := size(q)
			if len(q) > 1 && (wanted > logsMaxResults || chars > logsMaxIDChars) {
				t.Fatalf("round %d: query %d of %d requests looks for %d messages in %d characters of ids", round, i, len(q), wanted, chars)
			}
			if i+1 < len(qs) {
				next := qs[i+1][0]
				if wanted+len(bulks[next]) <= logsMaxResults && chars+len(next)+1 <= logsMaxIDChars {
					t.Fatalf("round %d: query %d (%d messages, %d characters) left out %s, which fits", round, i, wanted, chars, next)
				}
			}
		}
	}
	if qs := bulkQueries(nil); len(qs) != 0 {
		t.Errorf("no bulks: %v", qs)
	}
}
