package words

import "testing"

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "messages", 1: "message", 2: "messages", -1: "messages"} {
		if got := Plural(n, "message", "messages"); got != want {
			t.Errorf("Plural(%d) = %q, want %q", n, got, want)
		}
	}
}
