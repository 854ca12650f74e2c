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
