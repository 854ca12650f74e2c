package campaign

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestRecipientsRoundTrip: what goes into a list comes back out alike, through At in any
// order and through All and From, in memory and past the spill to temporary files, with
// vars of its own (inline) and shared with another list (a destinations_file's).
func TestRecipientsRoundTrip(t *testing.T) {
	names := []string{"name", "code"}
	shared := &spillLog{}
	a, b := newRecipients(shared), newRecipients(shared)
	var want []Recipient
	const n = 60_000 // over 2 MB of vars: both logs spill
	for i := range n {
		r := Recipient{
			To:   "+4179" + fmt.Sprintf("%07d", i),
			Hash: rand.Uint64(), Parts: int32(i % 7), Line: int32(i + 2),
			Variant: int8(i%3 - 1), FromCSV: i%5 != 0,
		}
		at := int64(-1)
		if r.FromCSV {
			r.Vars = NewVars(&names, "Name"+strconv.Itoa(i), fmt.Sprintf("%040d", i))
			off, err := add(shared, r.Vars.values)
			if err != nil {
				t.Fatal(err)
			}
			at = off
		} else {
			r.Vars = VarsOf(map[string]string{"inline": strconv.Itoa(i)})
		}
		want = append(want, r)
		for _, l := range []*Recipients{a, b} {
			if err := l.add(r, 4179_0000000+uint64(i), at); err != nil {
				t.Fatal(err)
			}
		}
	}
	if shared.file == nil || a.recs.file == nil || a.own.size() == 0 {
		t.Fatalf("nothing spilled: vars %d bytes, records %d bytes", shared.size(), a.recs.size())
	}
	same := func(got, want Recipient) bool {
		return got.To == want.To && got.Hash == want.Hash && got.Parts == want.Parts && got.Line == want.Line &&
			got.Variant == want.Variant && got.FromCSV == want.FromCSV &&
			fmt.Sprint(got.Vars.Names(), got.Vars.Values()) == fmt.Sprint(want.Vars.Names(), want.Vars.Values())
	}
	for _, l := range []*Recipients{a, b} {
		if l.Len() != n {
			t.Fatalf("Len %d, want %d", l.Len(), n)
		}
		seen := 0
		for i, r := range l.All() {
			if i != seen || !same(r, want[i]) {
				t.Fatalf("All: %d: %+v, want %d: %+v", i, r, seen, want[i])
			}
			seen++
		}
		if seen != n {
			t.Fatalf("All yielded %d, want %d", seen, n)
		}
		seen = 0
		for i, key := range l.Keys() {
			if to := "+" + strconv.FormatUint(key, 10); i != seen || to != want[i].To {
				t.Fatalf("Keys: %d: %s, want %d: %s", i, to, seen, want[i].To)
			}
			seen++
		}
		if seen != n {
			t.Fatalf("Keys yielded %d, want %d", seen, n)
		}
		for i := range l.Keys() {
			if i > 0 {
				t.Fatal("Keys went on after its loop stopped")
			}
			break
		}
		// Peeks: the number, hash and variant at once; the whole recipient of every third
		// only, its vars read skipping the others', as a plan reads those it sends.
		seen = 0
		for i, p := range l.Peeks() {
			if to := "+" + strconv.FormatUint(p.Key(), 10); i != seen || to != want[i].To || p.Hash() != want[i].Hash || p.Variant() != want[i].Variant {
				t.Fatalf("Peeks: %d: %+v, want %d: %+v", i, p, seen, want[i])
			}
			if i%3 == 0 {
				first, again := p.Recipient(), p.Recipient() // read once, kept
				if !same(first, want[i]) || !same(again, want[i]) {
					t.Fatalf("Peeks: %d: Recipient() = %+v, then %+v, want %+v", i, first, again, want[i])
				}
			}
			seen++
		}
		if seen != n {
			t.Fatalf("Peeks yielded %d, want %d", seen, n)
		}
		// PeeksOf: parts of the list, bounds on and off its index's blocks, read at once by
		// goroutines of their own (as a plan's parts are); each part yields exactly its own.
		bounds := [][2]int{{0, 0}, {0, 1}, {1, 31}, {31, 33}, {32, 64}, {33, 200}, {n - 1, n}, {n - 40, n + 5}, {n, n}, {5, 4}, {-40, 3}}
		errs := make(chan error, 2*len(bounds))
		for _, b := range bounds {
			seq := l.PeeksOf(b[0], b[1])
			check := func() {
				k := max(b[0], 0)
				for i, p := range seq {
					if i != k || p.Key() != 4179_0000000+uint64(i) || p.Hash() != want[i].Hash || !same(p.Recipient(), want[i]) {
						errs <- fmt.Errorf("PeeksOf(%d, %d): %d: %+v, want %d: %+v", b[0], b[1], i, p.Recipient(), k, want[i])
						return
					}
					k++
				}
				if wantEnd := max(b[0], 0, min(b[1], n)); k != wantEnd {
					errs <- fmt.Errorf("PeeksOf(%d, %d) ended at %d, want %d", b[0], b[1], k, wantEnd)
					return
				}
				errs <- nil
			}
			go check() // one sequence ranged by two goroutines at once
			go check()
		}
		for range 2 * len(bounds) {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		for _, i := range rand.Perm(n)[:5000] {
			if r := l.At(i); !same(r, want[i]) {
				t.Fatalf("At(%d) = %+v, want %+v", i, r, want[i])
			}
		}
		for _, lo := range []int{0, 1, 31, 32, 33, n - 1, n} {
			k := lo
			for i, r := range l.From(lo) {
				if i != k || !same(r, want[i]) {
					t.Fatalf("From(%d): %d: %+v, want %d", lo, i, r, k)
				}
				k++
				if k > lo+40 {
					break
				}
			}
			if lo < n && k == lo {
				t.Errorf("From(%d) yielded nothing", lo)
			}
		}
	}
	var none *Recipients
	if none.Len() != 0 {
		t.Error("a nil list is not empty")
	}
	for range none.All() {
		t.Error("a nil list yields")
	}
}

// TestSeenTable: numbers are found again, whatever their fingerprints share, across growth;
// a fingerprint that matches is only a match when the caller confirms it.
func TestSeenTable(t *testing.T) {
	tab := newSeenTable(0)
	const n = 200_000
	key := func(i int) uint64 { return 41_790_000_000 + uint64(i)*7919 }
	for i := range n {
		if v, dup := tab.add(key(i), uint32(i+1), func(v uint32) bool { return key(int(v-1)) == key(i) }); dup {
			t.Fatalf("number %d: found (value %d) before it was added", i, v)
		}
	}
	if tab.n != n {
		t.Fatalf("%d numbers, want %d", tab.n, n)
	}
	ahead := []uint64{key(0), key(n / 2), key(n - 1), 12345} // touching adds nothing, even a number not there
	for _, k := range ahead {
		tab.touched += tab.firstSlot(k)
	}
	if tab.n != n {
		t.Fatalf("touch: %d numbers, want %d", tab.n, n)
	}
	for i := range n {
		v, dup := tab.add(key(i), 0, func(v uint32) bool { return key(int(v-1)) == key(i) })
		if !dup || v != uint32(i+1) {
			t.Fatalf("number %d: value %d, found %v; want %d", i, v, dup, i+1)
		}
	}
	// A caller that never confirms: every number is new, and added.
	if _, dup := tab.add(key(1), 9, func(uint32) bool { return false }); dup || tab.n != n+1 {
		t.Errorf("an unconfirmed fingerprint was taken for a match (%d numbers)", tab.n)
	}
	slots := 0
	for i := range tab.shards {
		slots += len(tab.shards[i].slots)
	}
	if load := float64(tab.n) / float64(slots); load > maxLoad || load < maxLoad/4 {
		t.Errorf("load %.2f over %d slots", load, slots)
	}
}

// BenchmarkSeenTableAdd adds ten million numbers, in order as a sorted file has them, to a
// table sized for them, one chunk of a file's rows after another, as loading does: with
// and without touching the chunk's slots first. ns/op is per number.
func BenchmarkSeenTableAdd(b *testing.B) {
	const n = 10_000_000
	for _, touch := range []bool{false, true} {
		b.Run(fmt.Sprintf("touch=%v", touch), func(b *testing.B) {
			var tab *seenTable
			keys := make([]uint64, chunkRows)
			i := n
			for b.Loop() {
				if i == n {
					b.StopTimer()
					tab, i = newSeenTable(n+n/8), 0
					b.StartTimer()
				}
				for j := range keys {
					keys[j] = 41_750_000_000 + uint64(i+j)*3
				}
				if touch {
					for _, k := range keys {
						tab.touched += tab.firstSlot(k)
					}
				}
				for j, k := range keys {
					tab.add(k, uint32(i+j+1), func(uint32) bool { return false })
				}
				i += chunkRows
				if i > n-chunkRows {
					i = n
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*chunkRows), "ns/number")
		})
	}
}
