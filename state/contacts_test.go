package state

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestUnixMilli: the digit-by-digit reading agrees with ParseTime, and falls back to it.
func TestUnixMilli(t *testing.T) {
	for _, s := range []string{"2026-12-07T10:24:54.889Z", "2000-02-29T23:59:59.999Z", "1970-01-01T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "garbage", "2026-12-07T1a:24:54.889Z"} {
		if got, want := unixMilli([]byte(s)), ParseTime(s).UnixMilli(); got != want && ParseTime(s) != (time.Time{}) {
			t.Errorf("unixMilli(%q) = %d, ParseTime %d", s, got, want)
		}
	}
}

// TestUnixMilliOutOfRange: fields time.Parse refuses are not normalised by time.Date
// (a 31 April is not a 1 May): every reading equals ParseTime's exactly, the zero time's
// included, as the snapshot keeps it.
func TestUnixMilliOutOfRange(t *testing.T) {
	for _, s := range []string{"2026-04-31T10:00:00.000Z", "2026-02-29T10:00:00.000Z", "2024-02-29T10:00:00.000Z", "2026-12-07T24:00:00.000Z",
		"2026-12-07T23:60:00.000Z", "2026-12-07T23:59:60.000Z", "2026-00-07T10:00:00.000Z", "2026-12-00T10:00:00.000Z", "0000-01-01T00:00:00.000Z",
		"2026-13-01T00:00:00.000Z", "", "2026-12-07T10:24:54.889+01:00"} {
		if got, want := unixMilli([]byte(s)), ParseTime(s).UnixMilli(); got != want {
			t.Errorf("unixMilli(%q) = %d, ParseTime %d", s, got, want)
		}
	}
}

// TestNumberKeyOf: the digits read from bytes are numberKey's, for numbers and for what
// is none.
func TestNumberKeyOf(t *testing.T) {
	for _, s := range []string{"+41790000001", "+1", "+999999999999999", "+9999999999999999999", "+18446744073709551615", "+18446744073709551616",
		"+99999999999999999999", "", "+", "41790000001", "+4179 0000001", "++4179", "+-4179", "+4179000000a", "+0041"} {
		k, ok := numberKeyOf([]byte(s))
		wk, wok := NumberKey(s)
		if k != wk || ok != wok {
			t.Errorf("numberKeyOf(%q) = %d, %v; numberKey %d, %v", s, k, ok, wk, wok)
		}
	}
}

// TestContactsByNumber: Of lists a number's messages earliest first, across campaigns; a
// message both recorded and in flight (a resend) counts once, at its latest time;
// transactional messages in flight and those before since are left out.
func TestContactsByNumber(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, time.UTC) }
	c := NewContacts(0)
	c.AddRow([]byte("b"), 1, []byte("+41790000001"), []byte(FormatTime(at(5))))
	c.AddRow([]byte("a"), 1, []byte("+41790000001"), []byte(FormatTime(at(9))))
	c.AddRow([]byte("a"), 1, []byte("+41790000002"), []byte(FormatTime(at(1))))
	c.AddRow([]byte("a"), 1, []byte("not a number"), []byte(FormatTime(at(1))))
	c.AddInFlight([]Batch{{CreatedAt: at(10), Messages: []Outgoing{
		{Key: Key{Campaign: "b", Round: 1, To: "+41790000001"}},
		{Key: Key{Campaign: "otp", Round: 1, To: "+41790000001"}, Purpose: Transactional},
		{Key: Key{Campaign: "c", Round: 1, To: "+41790000001"}, SendAt: FormatTime(at(2))},
	}}}, at(3))
	c.Sort()
	got := c.Of("+41790000001")
	want := []Contact{{"a", 1, at(9)}, {"b", 1, at(10)}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("Of = %v, want %v", got, want)
	}
	if c.Len() != 3 || len(c.Of("+41790000002")) != 1 || c.Of("+41790000003") != nil {
		t.Errorf("%d indexed", c.Len())
	}
}

// TestTimeMemo: a remembered time is the one unixMilli reads, whether the text repeats,
// changes, or is no time at all.
func TestTimeMemo(t *testing.T) {
	var m timeMemo
	for _, s := range []string{"2026-12-07T10:24:54.889Z", "2026-12-07T10:24:54.889Z", "2026-12-07T10:24:54.890Z",
		"garbage", "2026-12-07T10:24:54.890Z", "2026-04-31T10:00:00.000Z", "2026-04-31T10:00:00.000Z", "", "2026-12-07T10:24:54.889Z"} {
		if got, want := m.unixMilli([]byte(s)), unixMilli([]byte(s)); got != want {
			t.Errorf("timeMemo.unixMilli(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestContactsLookupOrder: a number's messages are the same whatever order numbers are
// looked up in, where the last lookup ended being tried first: in order, numbers without
// messages included (before the first, between, after the last), backwards, and shuffled.
func TestContactsLookupOrder(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, time.UTC) }
	num := func(i int) string { return fmt.Sprintf("+4179%07d", i) }
	c := NewContacts(0)
	want := map[string]int{}
	for i := 10; i <= 1000; i += 10 {
		for h := range (i / 10) % 4 { // 0 to 3 messages
			c.AddRow([]byte("a"), 1, []byte(num(i)), []byte(FormatTime(at(h))))
			want[num(i)]++
		}
	}
	c.Sort()
	var queries []int
	for i := range 1011 {
		queries = append(queries, i)
	}
	backwards := slices.Clone(queries)
	slices.Reverse(backwards)
	shuffled := slices.Clone(queries)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for name, order := range map[string][]int{"in order": queries, "backwards": backwards, "shuffled": shuffled} {
		for _, i := range order {
			got := c.Of(num(i))
			if len(got) != want[num(i)] {
				t.Fatalf("%s: %s has %d messages, want %d", name, num(i), len(got), want[num(i)])
			}
			for h, x := range got {
				if !x.At.Equal(at(h)) {
					t.Fatalf("%s: %s's message %d at %v, want %v", name, num(i), h, x.At, at(h))
				}
			}
		}
	}
}
