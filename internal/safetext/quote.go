package safetext

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxShown bounds the bytes of a value read from outside that Quote shows (and Clip, given
// it): an error
// names the value it is about, but a CSV field or a plan file's value may be megabytes.
const MaxShown = 64

// Quote returns s quoted as %q quotes it, cut after MaxShown bytes with its length said.
func Quote(s string) string {
	if len(s) <= MaxShown {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(s[:cut(s)]), len(s))
}

// cut is where to cut s, at most MaxShown bytes, not inside a character.
func cut(s string) int {
	n := MaxShown
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}
