package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuote(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 300<<20)
	for _, tc := range []struct{ in, quote string }{
		{"+41 79", `"+41 79"`},
		{"a\x1b[2J", `"a\x1b[2J"`},
		{"::error::x", `"::error::x"`},
		{strings.Repeat("y", MaxShown), `"` + strings.Repeat("y", MaxShown) + `"`},
		{long, `"` + strings.Repeat("x", MaxShown) + `"... (314572800 bytes)`},
	} {
		if got := Quote(tc.in); got != tc.quote {
			t.Errorf("Quote(%.80q) = %q, want %q", tc.in, got, tc.quote)
		}
	}
	// A cut never splits a character.
	s := "a" + strings.Repeat("é", MaxShown)
	for _, got := range []string{Quote(s), Clip(s, MaxShown)} {
		if !utf8.ValidString(got) || len(got) > 2*MaxShown {
			t.Errorf("cut of %q: %q", s, got)
		}
	}
}
