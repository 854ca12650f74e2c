package campaign

import (
	"testing"
	"unicode/utf8"
)

// TestLookalikeTable: the ASCII table answers as the map does, for every ASCII character.
func TestLookalikeTable(t *testing.T) {
	t.Parallel()
	for r := range rune(utf8.RuneSelf) {
		_, want := lookalikes[r]
		if got := isLookalike(r); got != want {
			t.Errorf("isLookalike(%q) = %v, want %v", r, got, want)
		}
	}
	if !isLookalike('\u2019') || isLookalike('é') {
		t.Error("isLookalike beyond ASCII does not answer from lookalikes")
	}
}
