package state

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOrderKey: order keys sort as the numbers' digits do as text, and give the digits back.
func TestOrderKey(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var digits []string
	for range 5000 {
		n := 1 + r.IntN(15)
		d := strconv.Itoa(1 + r.IntN(9))
		for len(d) < n {
			d += strconv.Itoa(r.IntN(10))
		}
		digits = append(digits, d)
	}
	digits = append(digits, "1", "10", "100000000000000", "999999999999999", "41", "410", "4109")
	slices.SortFunc(digits, func(a, b string) int {
		ka, _ := strconv.ParseUint(a, 10, 64)
		kb, _ := strconv.ParseUint(b, 10, 64)
		oa, _ := orderKey(ka)
		ob, _ := orderKey(kb)
		switch {
		case oa < ob:
			return -1
		case oa > ob:
			return 1
		}
		return 0
	})
	if !slices.IsSorted(digits) {
		t.Error("order keys do not sort as the digits do as text")
	}
	for _, d := range digits {
		k, _ := strconv.ParseUint(d, 10, 64)
		if o, ok := orderKey(k); !ok || digitsOf(o) != k {
			t.Errorf("%s: order key %d, %v gives back %d", d, o, ok, digitsOf(o))
		}
	}
	for _, k := range []uint64{0, 1_000_000_000_000_000} {
		if _, ok := orderKey(k); ok {
			t.Errorf("orderKey(%d) accepted", k)
		}
	}
}

// TestRecordedAnyOrder: messages put in any order, some more than once, are found with their
// last record; slots follow the numbers as text and are what Slot, At and EachSlot give;
// rare values (a far sendingAt, a large attempt, a reason) survive.
func TestRecordedAnyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	want := map[string]Record{}
	var rec Recorded
	var order []string
	for i := range 3 * chunkLen {
		to := "+" + strconv.Itoa(41_000_000+r.IntN(10_000_000)) + strings.Repeat("5", r.IntN(6))
		order = append(order, to)
		if i%7 == 0 && len(order) > 1 { // put a number again
			to = order[r.IntN(len(order))]
		}
		w := Record{State: stateCodes[1+r.IntN(len(stateCodes)-1)], Hash: r.Uint64(), Attempt: r.IntN(3),
			SendingAt: base.Add(time.Duration(r.IntN(1000)) * time.Second)}
		switch i % 101 {
		case 1:
			w.Attempt = 100_000
		case 2:
			w.SendingAt = base.AddDate(0, 3, 0)
		case 3:
			w.SendingAt = time.Time{}
		case 4:
			w.State, w.Error = Failed, "REJECTED "+to
		}
		rec.Put(to, w)
		want[to] = w
	}
	if rec.Len() != len(want) {
		t.Fatalf("Len %d, want %d", rec.Len(), len(want))
	}
	for to, w := range want {
		if g, ok := rec.Get(to); !ok || g != w {
			t.Fatalf("Get(%s) = %+v, %v; want %+v", to, g, ok, w)
		}
	}
	var listed []string
	rec.EachSlot(func(slot int, to string, g Record) {
		k, _ := NumberKey(to)
		if s, ok := rec.Slot(k); !ok || s != slot {
			t.Errorf("%s in slot %d, Slot says %d, %v", to, slot, s, ok)
		}
		if at, ga, ok := rec.At(slot); !ok || at != to || ga != g {
			t.Errorf("At(%d) = %s %+v, want %s %+v", slot, at, ga, to, g)
		}
		listed = append(listed, to)
	})
	if len(listed) != len(want) || !slices.IsSorted(listed) {
		t.Errorf("EachSlot listed %d numbers, sorted %v; want %d in text order", len(listed), slices.IsSorted(listed), len(want))
	}
	if _, ok := rec.Get("+41999999999999"); ok {
		t.Error("a number never put was found")
	}
	// Put in order after reads: appended, found.
	rec.Put("+99999999999", Record{State: Sent, Hash: 7})
	if g, ok := rec.Get("+99999999999"); !ok || g.Hash != 7 || rec.Len() != len(want)+1 {
		t.Errorf("after a later put: %+v, %v, Len %d", g, ok, rec.Len())
	}
	var none *Recorded
	if _, ok := none.Get("+41790000000"); ok || none.Len() != 0 || none.Slots() != 0 {
		t.Error("a nil Recorded is not empty")
	}
	none.EachSlot(func(int, string, Record) { t.Error("a nil Recorded lists") })
}
