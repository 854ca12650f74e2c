package state

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Recorded is the recorded messages of one campaign round, kept compactly for a plan of
// millions: a sorted array of 20 bytes a message (16 of key, state, attempt and text hash,
// 4 of sendingAt), in chunks of chunkLen, with nothing the garbage collector scans and no
// slack: ten million recorded messages take 200 MB, where a Go map took 670.
//
// The order is the numbers' as text ("+4179…" before "+418…"), which is the order the
// state's primary key reads them in: a backend that reads a round in that order appends,
// and a read out of order is sorted once, at the first lookup. A number is found by binary
// search, first among the chunks' first keys (a few KB, in cache), then in its chunk.
//
// Each message has a slot number in [0, Slots()), its place in the order, which stays the
// same until a number not yet recorded is put: a planner can mark the slots of the numbers
// it planned in a bitset and list the recorded numbers it did not plan (orphans) without a
// second set of numbers. Reads (Get, Slot, At, Each...) are safe from several goroutines at
// once; a Put is not, with anything.
type Recorded struct {
	chunks [][]entry
	ats    [][]uint32 // sendingAt of each entry, coded by atCode
	n      int
	firsts []uint64 // the order key of each chunk's first entry, once sorted
	sorted atomic.Bool
	mu     sync.Mutex // held while sorting
	// unsorted is set by a Put out of order: the next read sorts.
	unsorted bool
	// base is the time sendingAt codes count from (Unix milliseconds): the first one
	// recorded. A round is sent within hours, so its times fit in 32 bits around it.
	base  int64
	based bool
	// The rare values an entry has no room for, by number: a sendingAt further than 24
	// days from base, an attempt of bigAttempt or more (or negative); and failed
	// messages' reasons.
	far      map[uint64]int64
	attempts map[uint64]int32
	errs     map[uint64]string
	// lastAt is the sendingAt a Put read last.
	lastAt timeMemo
	// next is the slot after the one a lookup found last.
	next atomic.Int64
}

// entry is one recorded message: km is its order key (orderKey) above an attempt and a
// state code, so that entries sort by km; hash is the text hash.
type entry struct {
	km   uint64
	hash uint64
}

const (
	chunkLen   = 4096
	stateBits  = 3
	attemptBit = 7
	metaBits   = stateBits + attemptBit
	// bigAttempt marks an attempt kept in the attempts map.
	bigAttempt = 1<<attemptBit - 1
	// maxDigits is the most digits an order key holds: E.164's 15.
	maxDigits = 15
)

var pow10 = func() (p [maxDigits + 1]uint64) {
	p[0] = 1
	for i := 1; i <= maxDigits; i++ {
		p[i] = p[i-1] * 10
	}
	return
}()

// orderKey maps a number's digits (NumberKey) to a key whose order is the text order of
// the digits: the digits left-aligned in 15 places, then their count. It is false for 0
// and for numbers of more than 15 digits, which are no E.164 numbers.
func orderKey(k uint64) (uint64, bool) {
	if k == 0 || k >= pow10[maxDigits] {
		return 0, false
	}
	nd := 1
	for nd < maxDigits && k >= pow10[nd] {
		nd++
	}
	return (k*pow10[maxDigits-nd])<<4 | uint64(nd), true
}

// digitsOf is orderKey's inverse.
func digitsOf(order uint64) uint64 {
	nd := int(order & 15)
	return (order >> 4) / pow10[maxDigits-nd]
}

// noSendingAt is the Unix milliseconds of the zero time: no sendingAt.
var noSendingAt = time.Time{}.UnixMilli()

// Put records one message. A number that NumberKey refuses (or +0) is not recorded.
func (r *Recorded) Put(to string, rec Record) {
	k, ok := NumberKey(to)
	if !ok {
		return
	}
	at := noSendingAt
	if !rec.SendingAt.IsZero() {
		at = rec.SendingAt.UnixMilli()
	}
	r.set(k, rec.Hash, int64(rec.Attempt), stateCode(rec.State), at, rec.Error)
}

// PutRow records one message from the columns a backend reads, its text as bytes: a
// million rows are read without a million strings. The bytes are not kept (a backend may
// pass buffers it reuses).
func (r *Recorded) PutRow(to, st []byte, hash int64, attempt int32, errText, sendingAt []byte) {
	k, ok := numberKeyOf(to)
	if !ok {
		return
	}
	r.set(k, uint64(hash), int64(attempt), stateCodeOf(st), r.lastAt.unixMilli(sendingAt), string(errText))
}

// PutCodedRow is PutRow with the state as its code (StateCodes; anything else is none).
func (r *Recorded) PutCodedRow(to []byte, code int64, hash int64, attempt int32, errText, sendingAt []byte) {
	k, ok := numberKeyOf(to)
	if !ok {
		return
	}
	if code < 0 || code >= int64(len(stateCodes)) {
		code = 0
	}
	r.set(k, uint64(hash), int64(attempt), uint8(code), r.lastAt.unixMilli(sendingAt), string(errText))
}

// PutError sets the reason of a message put before, from a backend's column (the bytes
// are not kept); the number must be recorded already.
func (r *Recorded) PutError(to, errText []byte) {
	k, ok := numberKeyOf(to)
	if !ok || len(errText) == 0 {
		return
	}
	r.errs = setRare(r.errs, k, string(errText))
}

func (r *Recorded) set(k, hash uint64, attempt int64, st uint8, at int64, errText string) {
	order, ok := orderKey(k)
	if !ok {
		return
	}
	a := uint64(bigAttempt)
	if attempt >= 0 && attempt < bigAttempt {
		a = uint64(attempt)
		delete(r.attempts, k)
	} else {
		r.attempts = setRare(r.attempts, k, int32(max(min(attempt, math.MaxInt32), math.MinInt32)))
	}
	e := entry{km: order<<metaBits | a<<stateBits | uint64(st), hash: hash}
	code, near := r.atCode(at)
	if near {
		delete(r.far, k)
	} else {
		r.far = setRare(r.far, k, at)
	}
	if errText != "" {
		r.errs = setRare(r.errs, k, errText)
	} else {
		delete(r.errs, k)
	}

	if r.n > 0 {
		last := r.entryAt(r.n - 1)
		switch prev := last.km >> metaBits; {
		case order == prev:
			*last, *r.atAt(r.n - 1) = e, code
			return
		case order < prev && !r.unsorted:
			if i, found := r.search(order); found { // a number recorded again, in place
				*r.entryAt(i), *r.atAt(i) = e, code
				return
			}
			r.unsorted = true
		}
	}
	if r.n%chunkLen == 0 {
		r.chunks = append(r.chunks, make([]entry, 0, chunkLen))
		r.ats = append(r.ats, make([]uint32, 0, chunkLen))
	}
	c := len(r.chunks) - 1
	r.chunks[c], r.ats[c] = append(r.chunks[c], e), append(r.ats[c], code)
	r.n++
	r.sorted.Store(false)
}

// setRare sets m[k] = v, making the map on first use.
func setRare[V any](m map[uint64]V, k uint64, v V) map[uint64]V {
	if m == nil {
		m = map[uint64]V{}
	}
	m[k] = v
	return m
}

// atCode codes a sendingAt (Unix milliseconds) in 32 bits around base: 0 for none, and
// false for one too far from base, kept in far.
func (r *Recorded) atCode(at int64) (uint32, bool) {
	if at == noSendingAt {
		return 0, true
	}
	if !r.based {
		r.base, r.based = at, true
	}
	d := at - r.base + 1<<31
	if d <= 0 || d > math.MaxUint32 {
		return 0, false
	}
	return uint32(d), true
}

func (r *Recorded) entryAt(i int) *entry { return &r.chunks[i/chunkLen][i%chunkLen] }
func (r *Recorded) atAt(i int) *uint32   { return &r.ats[i/chunkLen][i%chunkLen] }

// ready sorts the entries if a Put left them out of order, and indexes the chunks.
func (r *Recorded) ready() {
	if r.sorted.Load() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sorted.Load() {
		return
	}
	if r.unsorted {
		r.sortEntries()
		r.unsorted = false
	}
	r.firsts = r.firsts[:0]
	for _, c := range r.chunks {
		r.firsts = append(r.firsts, c[0].km>>metaBits)
	}
	r.sorted.Store(true)
}

// sortEntries sorts the entries by number, the last put of a number winning. It holds
// them twice while it runs: the backends read a round in the order of its numbers, so rows
// out of order are a test's, a small round's or a state's edited by hand.
func (r *Recorded) sortEntries() {
	type item struct {
		e  entry
		at uint32
	}
	all := make([]item, 0, r.n)
	for i := range r.n {
		all = append(all, item{*r.entryAt(i), *r.atAt(i)})
	}
	slices.SortStableFunc(all, func(a, b item) int {
		x, y := a.e.km>>metaBits, b.e.km>>metaBits
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	r.chunks, r.ats, r.n = nil, nil, 0
	for i, it := range all {
		if i+1 < len(all) && all[i+1].e.km>>metaBits == it.e.km>>metaBits {
			continue // put again later: the later wins
		}
		if r.n%chunkLen == 0 {
			r.chunks = append(r.chunks, make([]entry, 0, chunkLen))
			r.ats = append(r.ats, make([]uint32, 0, chunkLen))
		}
		c := len(r.chunks) - 1
		r.chunks[c], r.ats[c] = append(r.chunks[c], it.e), append(r.ats[c], it.at)
		r.n++
	}
}

// search finds the slot of order key order among sorted entries, or where it would go.
func (r *Recorded) search(order uint64) (int, bool) {
	var c int
	var found bool
	if r.sorted.Load() {
		c, found = slices.BinarySearch(r.firsts, order)
	} else { // while appending in order (set): the chunks' own first keys
		c, found = slices.BinarySearchFunc(r.chunks, order, func(ch []entry, o uint64) int { return cmp.Compare(ch[0].km>>metaBits, o) })
	}
	if found {
		return c * chunkLen, true
	}
	if c == 0 {
		return 0, false
	}
	i, found := slices.BinarySearchFunc(r.chunks[c-1], order, func(e entry, o uint64) int { return cmp.Compare(e.km>>metaBits, o) })
	return (c-1)*chunkLen + i, found
}

// find returns the slot of the number with digits k.
func (r *Recorded) find(k uint64) (int, bool) {
	if r == nil {
		return 0, false
	}
	next := int(r.next.Load())
	i, found := r.findAfter(k, &next)
	if found {
		r.next.Store(int64(next))
	}
	return i, found
}

// findAfter is find with the hint next: the slot after the one found last, which it moves.
func (r *Recorded) findAfter(k uint64, next *int) (int, bool) {
	if r == nil {
		return 0, false
	}
	r.ready() // before n is read: a first sort rebuilds the entries
	if r.n == 0 {
		return 0, false
	}
	order, ok := orderKey(k)
	if !ok {
		return 0, false
	}
	// Numbers looked up in the state's order, as a campaign file sorted by number is,
	// find theirs next to the last one found.
	if h := *next; h < r.n && r.entryAt(h).km>>metaBits == order {
		*next = h + 1
		return h, true
	}
	i, found := r.search(order)
	if found {
		*next = i + 1
	}
	return i, found
}

// A Finder looks numbers up as Recorded.Find does, next to the last one it found: the
// goroutines planning parts of one campaign each hold one, where the hint the Recorded
// keeps would be moved back and forth between their parts. A Finder is for one goroutine.
type Finder struct {
	r    *Recorded
	next int
}

// Finder returns a Finder of r's messages.
func (r *Recorded) Finder() *Finder { return &Finder{r: r} }

// Find is Recorded.Find.
func (f *Finder) Find(k uint64) (slot int, rec Record, ok bool) {
	return f.r.lookup(f.r.findAfter(k, &f.next))
}

// record is the message in slot i.
func (r *Recorded) record(i int) (uint64, Record) {
	e, code := *r.entryAt(i), *r.atAt(i)
	k := digitsOf(e.km >> metaBits)
	rec := Record{State: stateCodes[e.km&(1<<stateBits-1)], Hash: e.hash, Attempt: int(e.km >> stateBits & bigAttempt), Error: r.errs[k]}
	if rec.Attempt == bigAttempt {
		rec.Attempt = int(r.attempts[k])
	}
	at, has := r.far[k]
	if !has && code != 0 {
		at, has = r.base+int64(code)-1<<31, true
	}
	if has {
		rec.SendingAt = time.UnixMilli(at).UTC()
	}
	return k, rec
}

// Get returns the record of an E.164 number.
func (r *Recorded) Get(to string) (Record, bool) {
	k, ok := NumberKey(to)
	if !ok {
		return Record{}, false
	}
	return r.GetKey(k)
}

// GetKey returns the record of the number whose digits are k (NumberKey's value): what a
// planner holding numbers as digits looks up without making strings of them.
func (r *Recorded) GetKey(k uint64) (Record, bool) {
	_, rec, ok := r.Find(k)
	return rec, ok
}

// Find is GetKey with the number's slot.
func (r *Recorded) Find(k uint64) (slot int, rec Record, ok bool) { return r.lookup(r.find(k)) }

// lookup is the slot a search found, with its record, if it found one.
func (r *Recorded) lookup(i int, found bool) (slot int, rec Record, ok bool) {
	if !found {
		return 0, Record{}, false
	}
	_, rec = r.record(i)
	return i, rec, true
}

// Slot returns the slot of the number whose digits are k, if recorded.
func (r *Recorded) Slot(k uint64) (int, bool) { return r.find(k) }

// Slots is the number of slots: Slot and EachSlot give numbers in [0, Slots()).
func (r *Recorded) Slots() int { return r.Len() }

// At returns the message in a slot, if the slot holds one.
func (r *Recorded) At(slot int) (to string, rec Record, ok bool) {
	if r == nil {
		return "", Record{}, false
	}
	r.ready()
	if slot < 0 || slot >= r.n {
		return "", Record{}, false
	}
	k, rec := r.record(slot)
	return NumberText(k), rec, true
}

// Len is the number of recorded messages.
func (r *Recorded) Len() int {
	if r == nil {
		return 0
	}
	r.ready() // a number put twice out of order is counted once
	return r.n
}

// Each calls fn for every recorded message, in the order of their numbers as text.
func (r *Recorded) Each(fn func(to string, rec Record)) {
	r.EachSlot(func(_ int, to string, rec Record) { fn(to, rec) })
}

// EachSlot calls fn for every recorded message with its slot, in slot order.
func (r *Recorded) EachSlot(fn func(slot int, to string, rec Record)) {
	if r == nil {
		return
	}
	r.ready()
	for i := range r.n {
		k, rec := r.record(i)
		fn(i, NumberText(k), rec)
	}
}
