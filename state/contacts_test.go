package state

import (
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
