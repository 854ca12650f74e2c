package state

import (
	"cmp"
	"slices"
	"sync/atomic"
	"time"
)

// Contact is one marketing message a frequency cap counts: recorded sent, sending or
// unknown (it may have reached the phone), at the time it went out.
type Contact struct {
	Campaign string
	Round    int
	At       time.Time
}

// Contacts are the marketing messages of the whole state that a plan's caps count, by
// number and time: one sorted array of 16-byte entries (ten million of them are 160 MB and
// one sort), searched by number, instead of a map of slices.
type Contacts struct {
	entries []contactEntry // sorted by number, then time
	rounds  []Round        // interned campaign rounds
	ids     map[Round]uint64
	last    uint64 // the round of the row added last: rows come by round
	// repeats: batches in flight were added, whose messages may be rows too (a resend).
	repeats bool
	lastAt  timeMemo     // the time AddRow read last
	next    atomic.Int64 // where the last lookup ended (search)
}

// contactEntry is one message: its number's digits, and its time (Unix milliseconds, in
// the high atBits) above its campaign round (an index into rounds).
type contactEntry struct {
	to   uint64
	when uint64
}

const (
	roundBits = 20 // a million campaign rounds
	atBits    = 64 - roundBits
	// atSpan is the range of times an entry holds: 2⁴⁴ ms from 1970, until the year 2527;
	// a time outside it (a state edited by hand) is clamped to its edge.
	atSpan = int64(1) << atBits
)

func (e contactEntry) round() uint64 { return e.when & (1<<roundBits - 1) }

// NewContacts starts an empty index, sized for n messages.
func NewContacts(n int) *Contacts {
	return &Contacts{entries: make([]contactEntry, 0, n), ids: map[Round]uint64{}}
}

// AddRow indexes one message from the columns a backend reads; the bytes are not kept.
// at is the time it went out as FormatTime writes it.
func (c *Contacts) AddRow(campaign []byte, round int32, to, at []byte) {
	k, ok := numberKeyOf(to)
	if !ok {
		return
	}
	id := c.last
	if len(c.rounds) == 0 || c.rounds[id].Round != int(round) || c.rounds[id].Campaign != string(campaign) {
		r := Round{Campaign: string(campaign), Round: int(round)}
		var ok bool
		if id, ok = c.ids[r]; !ok {
			if len(c.rounds) == 1<<roundBits {
				return // more campaign rounds than a plan can hold: not counted
			}
			id = uint64(len(c.rounds))
			c.rounds = append(c.rounds, r)
			c.ids[r] = id
		}
		c.last = id
	}
	ms := min(max(c.lastAt.unixMilli(at), 0), atSpan-1)
	c.entries = append(c.entries, contactEntry{to: k, when: uint64(ms)<<roundBits | id})
}

// unixMilli reads a time as FormatTime writes it (2006-01-02T15:04:05.000Z) into Unix
// milliseconds, digit by digit: a million of them through time.Parse cost a quarter of a
// second. Anything else (fields out of range included) goes through ParseTime.
func unixMilli(b []byte) int64 {
	if len(b) != len(timeLayout) || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[19] != '.' || b[23] != 'Z' {
		return ParseTime(string(b)).UnixMilli()
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, sec, ms := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2), num(20, 3)
	if min(y, mo, d, h, mi, sec, ms) < 0 {
		return ParseTime(string(b)).UnixMilli()
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ms*int(time.Millisecond), time.UTC)
	// time.Date normalises what time.Parse refuses (a 31 April, a minute 61).
	if t.Year() != y || t.Month() != time.Month(mo) || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != sec {
		return ParseTime(string(b)).UnixMilli()
	}
	return t.UnixMilli()
}

// A timeMemo reads times with unixMilli, remembering the last one: the messages of a
// batch share their time, so that rows read in key order repeat it hundreds of times.
type timeMemo struct {
	text [len(timeLayout)]byte
	ms   int64
	ok   bool
}

func (m *timeMemo) unixMilli(b []byte) int64 {
	if m.ok && string(b) == string(m.text[:]) {
		return m.ms
	}
	ms := unixMilli(b)
	if len(b) == len(m.text) {
		copy(m.text[:], b)
		m.ms, m.ok = ms, true
	}
	return ms
}

// AddInFlight indexes the marketing messages of batches in flight (another run is sending
// them, or died while it did) not yet among the rows, at or after since.
func (c *Contacts) AddInFlight(batches []Batch, since time.Time) {
	for _, b := range batches {
		for _, m := range b.Messages {
			if m.Purpose == Transactional {
				continue
			}
			at := m.SendAt
			if at == "" {
				at = FormatTime(b.CreatedAt)
			}
			if !ParseTime(at).After(since) {
				continue
			}
			c.AddRow([]byte(m.Campaign), int32(m.Round), []byte(m.To), []byte(at))
			c.repeats = true
		}
	}
}

// Sort finishes the index: by number, then time. A message both in flight and a row (a
// resend) is kept once, at its latest time.
func (c *Contacts) Sort() {
	if c.repeats {
		slices.SortFunc(c.entries, func(a, b contactEntry) int {
			return cmp.Or(cmp.Compare(a.to, b.to), cmp.Compare(a.round(), b.round()), cmp.Compare(b.when, a.when))
		})
		c.entries = slices.CompactFunc(c.entries, func(a, b contactEntry) bool {
			return a.to == b.to && a.round() == b.round()
		})
	}
	slices.SortFunc(c.entries, func(a, b contactEntry) int {
		return cmp.Or(cmp.Compare(a.to, b.to), cmp.Compare(a.when, b.when))
	})
}

// Len is the number of messages indexed.
func (c *Contacts) Len() int {
	if c == nil {
		return 0
	}
	return len(c.entries)
}

// Of returns the messages indexed for an E.164 number, earliest first; nil when none.
func (c *Contacts) Of(to string) []Contact {
	var out []Contact
	c.Each(to, func(x Contact) { out = append(out, x) })
	return out
}

// Each calls fn with every message indexed for an E.164 number, earliest first, without
// allocating: what a plan of a million recipients calls once per recipient.
func (c *Contacts) Each(to string, fn func(Contact)) {
	if k, ok := NumberKey(to); ok {
		c.EachKey(k, fn)
	}
}

// EachKey is Each for a number given as its E.164 digits (NumberKey).
func (c *Contacts) EachKey(k uint64, fn func(Contact)) {
	if c == nil || len(c.entries) == 0 {
		return
	}
	i := c.search(k)
	for ; i < len(c.entries) && c.entries[i].to == k; i++ {
		e := c.entries[i]
		r := c.rounds[e.round()]
		fn(Contact{Campaign: r.Campaign, Round: r.Round, At: time.UnixMilli(int64(e.when >> roundBits)).UTC()})
	}
	c.next.Store(int64(i))
}

// search returns where the entries of number k begin (or would). A plan looks numbers up
// in the order of its recipients, usually the order of the numbers (a file sorted by
// number): where the last lookup ended is tried first, before a binary search.
func (c *Contacts) search(k uint64) int {
	e := c.entries
	if i := int(c.next.Load()); i <= len(e) && (i == 0 || e[i-1].to < k) && (i == len(e) || e[i].to >= k) {
		return i
	}
	i, _ := slices.BinarySearchFunc(e, k, func(e contactEntry, k uint64) int { return cmp.Compare(e.to, k) })
	return i
}
