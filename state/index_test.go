package state_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/smsform/smsform/state"
)

// TestIndexByNumber: the index finds each campaign's latest message to a number, whatever
// the order the rows come in (rounds out of order, campaigns interleaved) and the lengths of
// the numbers (whose text order is not their numeric order).
func TestIndexByNumber(t *testing.T) {
	type row = indexRow
	var rows []row
	latest := map[[2]string]string{}
	for i := range 300 {
		to := fmt.Sprintf("+41%d", 7_000_000+i*37) // 10 digits
		if i%3 == 0 {
			to = fmt.Sprintf("+1%d", 2_000_000_000+i) // 11 digits
		}
		campaign := []string{"a", "b", "c"}[i%3]
		rounds := 1 + i%4
		for r := range rounds {
			id := fmt.Sprintf("sf-%032x", i<<8|r)
			rows = append(rows, row{campaign, int32(r + 1), to, id})
		}
		latest[[2]string{campaign, to}] = fmt.Sprintf("sf-%032x", i<<8|(rounds-1))
	}
	// Upper-case hex is no smsform messageId: it is kept as written.
	upper := "sf-" + strings.Repeat("AB", 16)
	rows = append(rows, row{"d", 1, "+41799999999", upper})
	latest[[2]string{"d", "+41799999999"}] = upper
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	x := buildIndex(t, rows, true)
	for k, want := range latest {
		i, ok := x.ByNumber(k[0], k[1])
		if !ok || x.Get(i).MessageID != want {
			t.Errorf("ByNumber(%s, %s) = %v, %v; want %s", k[0], k[1], x.Get(i), ok, want)
		}
		if _, ok := x.ByNumber(k[0]+"x", k[1]); ok {
			t.Errorf("ByNumber found %s in a campaign never sent", k[1])
		}
	}
	for _, r := range rows {
		i, ok := x.ByMessageID(r.id)
		if got := x.Get(i); !ok || got.MessageID != r.id || got.Campaign != r.campaign || got.To != r.to || got.Round != int(r.round) || !got.Tracked {
			t.Errorf("ByMessageID(%s) = %+v, %v; want %+v", r.id, got, ok, r)
		}
	}
	// An export may write smsform's ids in upper case.
	if i, ok := x.ByMessageID(strings.ToUpper(rows[0].id[3:])); ok {
		t.Errorf("an id without its sf- found %+v", x.Get(i))
	}
	for _, r := range rows[:20] {
		if r.id == upper {
			continue
		}
		if i, ok := x.ByMessageID("sf-" + strings.ToUpper(r.id[3:])); !ok || x.Get(i).MessageID != r.id {
			t.Errorf("ByMessageID of %s in upper case = %v, %v", r.id, x.Get(i), ok)
		}
	}
	for _, to := range []string{"+41700000001", "+12000000001", "+1"} {
		if i, ok := x.ByNumber("a", to); ok {
			t.Errorf("ByNumber(a, %s) = %+v; want none", to, x.Get(i))
		}
	}
	if !x.HasCampaign("b") || x.HasCampaign("e") {
		t.Error("HasCampaign is wrong")
	}
}

// TestIndexCampaignLimit: an index refuses more campaigns than it tells apart, rather than
// match one campaign's events to another's messages.
func TestIndexCampaignLimit(t *testing.T) {
	b := state.NewIndexBuilder(0)
	for i := range 1<<16 + 1 {
		b.Add([]byte(fmt.Sprintf("c%d", i)), 1, []byte("+41790000001"), []byte(fmt.Sprintf("sf-%032x", i)), []byte(state.Sent), true, nil)
	}
	if x, err := b.Index(); err == nil {
		t.Fatalf("an index of %d campaigns was built: %d messages", 1<<16+1, x.Len())
	}
	b = state.NewIndexBuilder(0)
	for i := range 1 << 16 {
		b.Add([]byte(fmt.Sprintf("c%d", i)), 1, []byte("+41790000001"), []byte(fmt.Sprintf("sf-%032x", i)), []byte(state.Sent), true, nil)
	}
	x, err := b.Index()
	if err != nil {
		t.Fatal(err)
	}
	if i, ok := x.ByNumber("c65535", "+41790000001"); !ok || x.Get(i).Campaign != "c65535" {
		t.Errorf("the last campaign's message is %+v, %v", x.Get(i), ok)
	}
}

// TestIndexDerivedIDs: a messageId derived from the message's key at attempt 0 (what
// smsform writes for nearly every message) is found and given back without being kept; one
// that is not (a retry's, a number written otherwise, ids sharing their first 8 bytes) is
// kept and found as written.
func TestIndexDerivedIDs(t *testing.T) {
	rows := []indexRow{
		{"a", 1, "+41790000001", state.MessageID("a", 1, "+41790000001", 0)},
		{"a", 2, "+41790000001", state.MessageID("a", 2, "+41790000001", 0)},
		{"a", 1, "+41790000002", state.MessageID("a", 1, "+41790000002", 3)}, // retried
		{"b", 1, "+41790000001", state.MessageID("b", 1, "+41790000001", 0)},
		{"b", 1, "+041790000003", state.MessageID("b", 1, "+041790000003", 0)}, // not as NumberText writes it
		{"c", 1, "+41790000004", "sf-0123456789abcdef" + strings.Repeat("0", 16)},
		{"c", 1, "+41790000005", "sf-0123456789abcdef" + strings.Repeat("1", 16)}, // the same first 8 bytes
		{"c", 1, "+41790000006", "not-smsforms"},
	}
	x := buildIndex(t, rows, false)
	for _, r := range rows {
		i, ok := x.ByMessageID(r.id)
		if got := x.Get(i); !ok || got.MessageID != r.id || got.Campaign != r.campaign || got.Round != int(r.round) {
			t.Errorf("ByMessageID(%s) = %+v, %v; want %+v", r.id, got, ok, r)
		}
	}
	if i, ok := x.ByNumber("a", "+41790000001"); !ok || x.Get(i).MessageID != rows[1].id {
		t.Errorf("ByNumber(a, +41790000001) = %+v, %v; want round 2's %s", x.Get(i), ok, rows[1].id)
	}
	for _, id := range []string{
		state.MessageID("a", 1, "+41790000002", 0), // the retried message's first id
		state.MessageID("a", 3, "+41790000001", 0), // a round never sent
		"sf-0123456789abcdef" + strings.Repeat("2", 16),
	} {
		if i, ok := x.ByMessageID(id); ok {
			t.Errorf("ByMessageID(%s) found %+v", id, x.Get(i))
		}
	}
}

// indexRow is a recorded message as an index is built from it.
type indexRow struct {
	campaign string
	round    int32
	to, id   string
}

// buildIndex indexes rows, sent, with tracking or without.
func buildIndex(t *testing.T, rows []indexRow, tracked bool) *state.MessageIndex {
	t.Helper()
	b := state.NewIndexBuilder(len(rows))
	for _, r := range rows {
		b.Add([]byte(r.campaign), r.round, []byte(r.to), []byte(r.id), []byte(state.Sent), tracked, nil)
	}
	x, err := b.Index()
	if err != nil {
		t.Fatal(err)
	}
	return x
}
