package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuoteAndClip(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 300<<20)
	for _, tc := range []struct{ in, quote, clip string }{
		{"+41 79", `"+41 79"`, "+41 79"},
		{"a\x1b[2J", `"a\x1b[2J"`, `a\x1b[2J`},
		{"::error::x", `"::error::x"`, `\x3a:error::x`},
		{strings.Repeat("y", MaxShown), `"` + strings.Repeat("y", MaxShown) + `"`, strings.Repeat("y", MaxShown)},
		{long, `"` + strings.Repeat("x", MaxShown) + `"... (314572800 bytes)`, strings.Repeat("x", MaxShown) + "... (314572800 bytes)"},
	} {
		if got := Quote(tc.in); got != tc.quote {
			t.Errorf("Quote(%.80q) = %q, want %q", tc.in, got, tc.quote)
		}
		if got := Clip(tc.in); got != tc.clip {
			t.Errorf("Clip(%.80q) = %q, want %q", tc.in, got, tc.clip)
		}
	}
	// A cut never splits a character.
	s := "a" + strings.Repeat("é", MaxShown)
	for _, got := range []string{Quote(s), Clip(s)} {
		if !utf8.ValidString(got) || len(got) > 2*MaxShown {
			t.Errorf("cut of %q: %q", s, got)
		}
	}
}
