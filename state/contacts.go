package state

import (
	"cmp"
	"slices"
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
// number and time: one sorted array of 24-byte entries (a million of them are 24 MB and
// one sort), searched by number, instead of a map of slices.
type Contacts struct {
	entries   []contactEntry // sorted by number, then time
	campaigns []string       // interned campaign ids
	ids       map[string]int32
	last      int32 // the campaign of the row added last: rows come by campaign
	// repeats: batches in flight were added, whose messages may be rows too (a resend).
	repeats bool
}

type contactEntry struct {
	to       uint64 // E.164 digits
	at       int64  // Unix milliseconds
	campaign int32
	round    int32
}

// NewContacts starts an empty index, sized for n messages.
func NewContacts(n int) *Contacts {
	return &Contacts{entries: make([]contactEntry, 0, n), ids: map[string]int32{}}
}

// AddRow indexes one message from the columns a backend reads; the bytes are not kept.
// at is the time it went out as FormatTime writes it.
func (c *Contacts) AddRow(campaign []byte, round int32, to, at []byte) {
	k, ok := numberKeyOf(to)
	if !ok {
		return
	}
	id := c.last
	if len(c.campaigns) == 0 || c.campaigns[id] != string(campaign) {
		var ok bool
		if id, ok = c.ids[string(campaign)]; !ok {
			id = int32(len(c.campaigns))
			c.campaigns = append(c.campaigns, string(campaign))
			c.ids[string(campaign)] = id
		}
		c.last = id
	}
	c.entries = append(c.entries, contactEntry{to: k, at: unixMilli(at), campaign: id, round: round})
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
			return cmp.Or(cmp.Compare(a.to, b.to), cmp.Compare(a.campaign, b.campaign), cmp.Compare(a.round, b.round), cmp.Compare(b.at, a.at))
		})
		c.entries = slices.CompactFunc(c.entries, func(a, b contactEntry) bool {
			return a.to == b.to && a.campaign == b.campaign && a.round == b.round
		})
	}
	slices.SortFunc(c.entries, func(a, b contactEntry) int {
		return cmp.Or(cmp.Compare(a.to, b.to), cmp.Compare(a.at, b.at), cmp.Compare(a.campaign, b.campaign), cmp.Compare(a.round, b.round))
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
	if c == nil || len(c.entries) == 0 {
		return
	}
	k, ok := NumberKey(to)
	if !ok {
		return
	}
	i, _ := slices.BinarySearchFunc(c.entries, k, func(e contactEntry, k uint64) int { return cmp.Compare(e.to, k) })
	for ; i < len(c.entries) && c.entries[i].to == k; i++ {
		e := c.entries[i]
		fn(Contact{Campaign: c.campaigns[e.campaign], Round: int(e.round), At: time.UnixMilli(e.at).UTC()})
	}
}
