package state_test

import (
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/smsform/smsform/state"
)

// recordedRows are n rows as a backend reads them: numbers as bytes, sendingAt as
// FormatTime writes it, over a few hours.
func recordedRows(n int) (tos, ats [][]byte) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tos, ats = make([][]byte, n), make([][]byte, n)
	for i := range n {
		tos[i] = []byte("+4179" + strconv.Itoa(1_000_000_0+i*7))
		ats[i] = []byte(state.FormatTime(start.Add(time.Duration(i) * 10 * time.Millisecond)))
	}
	return tos, ats
}

func fillRecorded(r *state.Recorded, tos, ats [][]byte) {
	for i, to := range tos {
		r.PutCodedRow(to, int64(1+i%3), int64(uint64(i)*0x9e3779b97f4a7c15), int32(i%2), nil, ats[i])
	}
}

// BenchmarkRecordedPut reads a round of a million recorded messages as a backend does
// (PutCodedRow), and reports the heap the finished round holds per message.
func BenchmarkRecordedPut(b *testing.B) {
	const n = 1_000_000
	tos, ats := recordedRows(n)
	var perEntry float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := newRecorded()
		fillRecorded(r, tos, ats)
		runtime.GC()
		runtime.ReadMemStats(&after)
		if r.Len() != n {
			b.Fatalf("Len = %d, want %d", r.Len(), n)
		}
		perEntry = float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / n
		runtime.KeepAlive(r)
	}
	b.ReportMetric(perEntry, "heap-B/entry")
}

// BenchmarkRecordedGet looks up numbers of a round of a million recorded messages, by
// their E.164 text (Get) and by their digits (GetKey), in the order they were put.
func BenchmarkRecordedGet(b *testing.B) {
	const n = 1_000_000
	tos, ats := recordedRows(n)
	r := newRecorded()
	fillRecorded(r, tos, ats)
	texts, keys := make([]string, n), make([]uint64, n)
	for i, to := range tos {
		texts[i] = string(to)
		keys[i] = key(b, texts[i])
	}
	for _, bm := range []struct {
		name  string
		found func(i int) bool
	}{
		{"text", func(i int) bool { _, ok := r.Get(texts[i]); return ok }},
		{"key", func(i int) bool { _, ok := r.GetKey(keys[i]); return ok }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if !bm.found(i) {
					b.Fatalf("%s not found", texts[i])
				}
				if i++; i == n {
					i = 0
				}
			}
		})
	}
}

func newRecorded() *state.Recorded {
	return state.NewSnapshotBuilder(state.Version{}).Round(state.Round{Campaign: "c", Round: 1})
}

func key(t testing.TB, to string) uint64 {
	t.Helper()
	k, ok := state.NumberKey(to)
	if !ok {
		t.Fatalf("NumberKey(%q) refused", to)
	}
	return k
}

// TestRecordedPutGet: a message put is got back by its number and by its digits, a second
// put of the number replaces it (its error included), and what was never put is missing.
func TestRecordedPutGet(t *testing.T) {
	r := newRecorded()
	at := state.Now()
	first := state.Record{State: state.Failed, Hash: 1<<63 + 5, Attempt: 2, Error: "REJECTED", SendingAt: at}
	r.Put("+41790000001", first)
	r.Put("+41790000002", state.Record{State: state.Sent, Hash: 9})
	if got, ok := r.Get("+41790000001"); !ok || got != first {
		t.Errorf("Get = %+v, %v; want %+v", got, ok, first)
	}
	if got, ok := r.GetKey(41790000001); !ok || got != first {
		t.Errorf("GetKey = %+v, %v; want %+v", got, ok, first)
	}
	second := state.Record{State: state.Sent, Hash: 3, Attempt: 3, SendingAt: at.Add(time.Second)}
	r.Put("+41790000001", second)
	if got, ok := r.Get("+41790000001"); !ok || got != second {
		t.Errorf("after a second Put, Get = %+v, %v; want %+v (no error left from the first)", got, ok, second)
	}
	if r.Len() != 2 {
		t.Errorf("Len = %d, want 2: a number put twice is one message", r.Len())
	}
	for _, to := range []string{"+41790000003", "+4179000000", "41790000001", "", "+"} {
		if got, ok := r.Get(to); ok {
			t.Errorf("Get(%q) = %+v; never put", to, got)
		}
	}
	if got, ok := r.GetKey(41790000003); ok {
		t.Errorf("GetKey(41790000003) = %+v; never put", got)
	}
}

// noMessage fails t if r finds a message or a slot for to, by text or digits.
func noMessage(t *testing.T, r *state.Recorded, to string) {
	t.Helper()
	k := key(t, to)
	if rec, ok := r.Get(to); ok {
		t.Errorf("Get(%s) = %+v; want none", to, rec)
	}
	if rec, ok := r.GetKey(k); ok {
		t.Errorf("GetKey(%d) = %+v; want none", k, rec)
	}
	if s, ok := r.Slot(k); ok {
		t.Errorf("Slot(%d) = %d; want none", k, s)
	}
}

// TestRecordedZeroNumber: +0 (digits 0) is no number: never recorded, never found.
func TestRecordedZeroNumber(t *testing.T) {
	r := newRecorded()
	r.Put("+0", state.Record{State: state.Sent})
	r.PutRow([]byte("+000"), []byte("sent"), 1, 0, nil, nil)
	r.PutCodedRow([]byte("+0"), 2, 1, 0, nil, nil)
	if r.Len() != 0 {
		t.Errorf("Len = %d after putting +0: want 0", r.Len())
	}
	noMessage(t, r, "+0")
	r.Put("+41790000001", state.Record{State: state.Sent})
	noMessage(t, r, "+0") // not taken for an empty slot
}

// TestRecordedGrows: a table grown through many doublings from empty holds every message
// put, overwritten ones at their last values, and nothing else.
func TestRecordedGrows(t *testing.T) {
	const n = 200_000
	r := newRecorded()
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	rec := func(i int, pass uint64) state.Record {
		rec := state.Record{State: state.StateCodes()[1+i%6], Hash: uint64(i)*0x9e3779b97f4a7c15 + pass, Attempt: i % 5,
			SendingAt: base.Add(time.Duration(i) * time.Millisecond)}
		if i%7 == 0 {
			rec.Error = "error " + strconv.Itoa(i)
		}
		return rec
	}
	// Numbers of one country, consecutive, and from all over the range of E.164.
	number := func(i int) string {
		if i%2 == 0 {
			return "+4179" + strconv.Itoa(1_000_000+i)
		}
		return "+" + strconv.FormatUint(1+uint64(i)*4_999_999_999, 10)
	}
	for i := range n {
		r.Put(number(i), rec(i, 0))
		if i%3 == 0 && i > 0 { // overwrite an earlier one while growing
			r.Put(number(i/2), rec(i/2, 1))
		}
	}
	if r.Len() != n {
		t.Fatalf("Len = %d, want %d", r.Len(), n)
	}
	for i := range n {
		want := rec(i, 0)
		for _, j := range []int{2 * i, 2*i + 1} { // the puts of i/2 overwrote i
			if j%3 == 0 && j > 0 && j < n {
				want = rec(i, 1)
			}
		}
		if got, ok := r.Get(number(i)); !ok || got != want {
			t.Fatalf("Get(%s) = %+v, %v; want %+v", number(i), got, ok, want)
		}
	}
	for i := n; i < n+1000; i++ {
		if got, ok := r.Get(number(i)); ok {
			t.Fatalf("Get(%s) = %+v; never put", number(i), got)
		}
	}
}

// TestRecordedSendingAt: sendingAt is kept to the millisecond however far it is from the
// other messages' (before or after, either side of the 32-bit range the table codes it in),
// and the zero time stays none; a message moved near again loses its far time.
func TestRecordedSendingAt(t *testing.T) {
	r := newRecorded()
	base := time.Date(2026, 3, 1, 9, 0, 0, 123_000_000, time.UTC)
	const ms = time.Millisecond
	times := map[string]time.Time{
		"+41790000001": base,
		"+41790000002": base.Add(ms),
		"+41790000003": base.Add(-ms),
		"+41790000004": base.Add((1<<31 - 1) * ms),  // the furthest after that fits
		"+41790000005": base.Add((1 << 31) * ms),    // the first that does not
		"+41790000006": base.Add((-1<<31 + 1) * ms), // the furthest before that fits
		"+41790000007": base.Add((-1 << 31) * ms),   // the first that does not
		"+41790000008": base.AddDate(-30, 0, 0),
		"+41790000009": time.UnixMilli(0).UTC(),
		"+41790000010": {},
		"+41790000011": base.AddDate(3, 0, 0),
	}
	r.Put("+41790000001", state.Record{State: state.Sending, SendingAt: base}) // first: the table's base
	for to, at := range times {
		r.Put(to, state.Record{State: state.Sending, SendingAt: at})
	}
	r.PutRow([]byte("+41790000012"), []byte("unknown"), 0, 0, nil, []byte(state.FormatTime(base.AddDate(0, 2, 0))))
	times["+41790000012"] = base.AddDate(0, 2, 0)
	r.PutRow([]byte("+41790000013"), []byte("unknown"), 0, 0, nil, nil)
	times["+41790000013"] = time.Time{}
	for to, want := range times {
		got, ok := r.Get(to)
		if !ok || !got.SendingAt.Equal(want) || got.SendingAt.IsZero() != want.IsZero() {
			t.Errorf("%s: SendingAt = %v, %v; want %v", to, got.SendingAt, ok, want)
		}
	}
	// Far, then near, then none: each put replaces the time.
	for _, at := range []time.Time{base.AddDate(5, 0, 0), base.Add(time.Hour), {}, base.AddDate(-5, 0, 0)} {
		r.Put("+41790000011", state.Record{State: state.Unknown, SendingAt: at})
		if got, _ := r.Get("+41790000011"); !got.SendingAt.Equal(at) || got.SendingAt.IsZero() != at.IsZero() {
			t.Errorf("after a Put at %v: SendingAt = %v", at, got.SendingAt)
		}
	}
}

// TestRecordedSlots: every recorded number has one slot of its own in [0, Slots()); Slot,
// At and EachSlot agree on it, and a number put again keeps it.
func TestRecordedSlots(t *testing.T) {
	r := newRecorded()
	want := map[string]state.Record{}
	for i := range 5000 {
		to := "+1202555" + strconv.Itoa(10000+i)
		rec := state.Record{State: state.Sent, Hash: uint64(i), Attempt: i % 3}
		r.Put(to, rec)
		want[to] = rec
	}
	slots := map[int]string{}
	r.EachSlot(func(slot int, to string, rec state.Record) {
		if slot < 0 || slot >= r.Slots() {
			t.Errorf("%s: slot %d outside [0, %d)", to, slot, r.Slots())
		}
		if other, ok := slots[slot]; ok {
			t.Errorf("slot %d holds %s and %s", slot, other, to)
		}
		slots[slot] = to
		if rec != want[to] {
			t.Errorf("EachSlot gave %s %+v, want %+v", to, rec, want[to])
		}
		if s, ok := r.Slot(key(t, to)); !ok || s != slot {
			t.Errorf("Slot(%s) = %d, %v; EachSlot said %d", to, s, ok, slot)
		}
		if gto, grec, ok := r.At(slot); !ok || gto != to || grec != rec {
			t.Errorf("At(%d) = %s %+v %v; EachSlot said %s %+v", slot, gto, grec, ok, to, rec)
		}
	})
	if len(slots) != len(want) {
		t.Errorf("EachSlot visited %d messages, want %d", len(slots), len(want))
	}
	empty := 0
	for slot := range r.Slots() {
		if _, ok := slots[slot]; !ok {
			empty++
			if to, rec, ok := r.At(slot); ok {
				t.Errorf("At(%d) = %s %+v; EachSlot skipped it", slot, to, rec)
			}
		}
	}
	if empty != 0 {
		t.Errorf("%d empty slots among %d: slots are the messages' places in order", empty, r.Slots())
	}
	for _, slot := range []int{-1, r.Slots()} {
		if _, _, ok := r.At(slot); ok {
			t.Errorf("At(%d) found a message outside [0, %d)", slot, r.Slots())
		}
	}
	before, ok := r.Slot(120255512500)
	if !ok {
		t.Fatal("Slot(120255512500) found no slot")
	}
	r.Put("+120255512500", state.Record{State: state.Failed, Error: "again"})
	if after, ok := r.Slot(120255512500); !ok || after != before {
		t.Errorf("a number put again moved from slot %d to %d", before, after)
	}
	if _, ok := r.Slot(120255509999); ok {
		t.Error("Slot found a number never put")
	}
	n := 0
	r.Each(func(string, state.Record) { n++ })
	if n != len(want) {
		t.Errorf("Each visited %d messages, want %d", n, len(want))
	}
}

// TestRecordedNil: a round not read (nil) holds no message.
func TestRecordedNil(t *testing.T) {
	var r *state.Recorded
	if r.Len() != 0 || r.Slots() != 0 {
		t.Errorf("nil: Len %d, Slots %d", r.Len(), r.Slots())
	}
	noMessage(t, r, "+41790000001")
	if _, _, ok := r.At(0); ok {
		t.Error("nil: At(0) found a message")
	}
	if _, _, ok := r.Finder().Find(41790000001); ok {
		t.Error("nil: a Finder found a message")
	}
	r.Each(func(to string, _ state.Record) { t.Errorf("nil: Each gave %s", to) })
	r.EachSlot(func(_ int, to string, _ state.Record) { t.Errorf("nil: EachSlot gave %s", to) })
}

// TestRecordedZeroValue: a Recorded not made by a SnapshotBuilder records messages too.
func TestRecordedZeroValue(t *testing.T) {
	var r state.Recorded
	r.Put("+41790000001", state.Record{State: state.Sent, Hash: 1})
	if got, ok := r.Get("+41790000001"); !ok || got.Hash != 1 || r.Len() != 1 {
		t.Errorf("Get = %+v, %v; Len %d", got, ok, r.Len())
	}
}

// TestRecordedAttempts: every attempt an int32 holds is kept, however large or negative,
// and every state with it; a number put again with a small attempt loses its large one.
func TestRecordedAttempts(t *testing.T) {
	r := newRecorded()
	attempts := []int{0, 1, 1<<29 - 2, 1<<29 - 1, 1 << 29, math.MaxInt32, -1, math.MinInt32}
	for i, a := range attempts {
		for code, st := range state.StateCodes() {
			to := "+4179" + strconv.Itoa(1_000_000+i*100+code)
			r.Put(to, state.Record{State: st, Attempt: a, Hash: uint64(a)})
			if got, ok := r.Get(to); !ok || got.Attempt != a || got.State != st || got.Hash != uint64(a) {
				t.Errorf("attempt %d, state %q: Get = %+v, %v", a, st, got, ok)
			}
		}
	}
	for _, a := range []int{math.MaxInt32, 2, -5, 0} {
		r.PutCodedRow([]byte("+41791000000"), 2, 7, int32(a), nil, nil)
		if got, _ := r.Get("+41791000000"); got.Attempt != a || got.State != state.Sent {
			t.Errorf("after a put with attempt %d: %+v", a, got)
		}
	}
}

// TestRecordedConcurrentReads: a planner may read a round from several goroutines (run
// with -race).
func TestRecordedConcurrentReads(t *testing.T) {
	r := newRecorded()
	for i := range 10_000 {
		r.Put("+4179"+strconv.Itoa(1_000_000+i), state.Record{State: state.Sent, Hash: uint64(i)})
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 10_000 {
				k := uint64(41791_000_000 + i)
				if rec, ok := r.GetKey(k); !ok || rec.Hash != uint64(i) {
					t.Errorf("goroutine %d: GetKey(%d) = %+v, %v", g, k, rec, ok)
					return
				}
				if s, ok := r.Slot(k); !ok {
					t.Errorf("goroutine %d: no slot for %d", g, k)
				} else if _, _, ok := r.At(s); !ok {
					t.Errorf("goroutine %d: At(%d) empty", g, s)
				}
			}
			n := 0
			r.EachSlot(func(int, string, state.Record) { n++ })
			if n != r.Len() {
				t.Errorf("goroutine %d: EachSlot gave %d of %d", g, n, r.Len())
			}
		})
	}
	wg.Wait()
}

// TestRecordedLookupOrder: numbers looked up in the table's order, against it, in random
// order and among numbers never recorded find what was put, whatever the last lookup found.
func TestRecordedLookupOrder(t *testing.T) {
	const n = 20_000
	r := newRecorded()
	number := func(i int) string { return "+4179" + strconv.Itoa(1_000_000+2*i) } // odd ones never put
	for i := range n {
		r.Put(number(i), state.Record{State: state.Sent, Hash: uint64(i)})
	}
	// A Finder, with a hint of its own, finds the same while Get moves the table's hint.
	var f *state.Finder
	check := func(order string, i int) {
		t.Helper()
		got, ok := r.Get(number(i))
		if !ok || got.Hash != uint64(i) {
			t.Fatalf("%s: Get(%s) = %+v, %v; want hash %d", order, number(i), got, ok, i)
		}
		k, _ := state.NumberKey(number(n - 1 - i))
		if _, got, ok := f.Find(k); !ok || got.Hash != uint64(n-1-i) {
			t.Fatalf("%s: Finder.Find(%s) = %+v, %v; want hash %d", order, number(n-1-i), got, ok, n-1-i)
		}
		missing := "+4179" + strconv.Itoa(1_000_000+2*i+1)
		if got, ok := r.Get(missing); ok {
			t.Fatalf("%s: Get(%s) = %+v; never put", order, missing, got)
		}
		mk, _ := state.NumberKey(missing)
		if _, got, ok := f.Find(mk); ok {
			t.Fatalf("%s: Finder.Find(%s) = %+v; never put", order, missing, got)
		}
	}
	f = r.Finder()
	for i := range n {
		check("ascending", i)
	}
	f = r.Finder()
	for i := n - 1; i >= 0; i-- {
		check("descending", i)
	}
	f = r.Finder()
	for _, i := range rand.Perm(n) {
		check("random", i)
	}
	f = r.Finder()
	for i := 0; i < n; i += 3 {
		check("ascending with gaps", i)
	}
}

// TestRecordedFirstReadsConcurrent: the first reads of a table put out of order, made at
// once, each find every number (the first of them sorts the table under the others).
func TestRecordedFirstReadsConcurrent(t *testing.T) {
	const n = 5000
	r := newRecorded()
	for i := n - 1; i >= 0; i-- {
		r.Put("+4179"+strconv.Itoa(1_000_000+i), state.Record{State: state.Sent, Hash: uint64(i)})
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < n; i += 97 {
				if got, ok := r.Get("+4179" + strconv.Itoa(1_000_000+i)); !ok || got.Hash != uint64(i) {
					t.Errorf("Get(%d) = %+v, %v", i, got, ok)
					return
				}
			}
		})
	}
	wg.Wait()
}
