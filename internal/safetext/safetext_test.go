package safetext

import (
	"bytes"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain text, ok: 1", "plain text, ok: 1"},
		{"Grüße", "Grüße"},
		{`quote " and \ stay`, `quote " and \ stay`},
		{"x\n::error title=Approved::Security review passed\n", `x\n::error title=Approved::Security review passed\n`},
		{"::error::forged", `\x3a:error::forged`},
		{"  ::warning::forged", `  \x3a:warning::forged`},
		{"a::b", "a::b"},
		{"\x1b[2Jcleared", `\x1b[2Jcleared`},
		{"tab\there\r", `tab\there\r`},
		{"del\x7f", `del\x7f`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"rtl\u202eevil", `rtl\u202eevil`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"", ""},
	} {
		got := Escape(tc.in)
		if got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := Escape(got); again != got {
			t.Errorf("Escape is not idempotent on %q: %q", got, again)
		}
		if strings.ContainsAny(got, "\n\r\x1b") {
			t.Errorf("Escape(%q) = %q still holds a line break or ESC", tc.in, got)
		}
	}
}

func TestLines(t *testing.T) {
	t.Parallel()
	got := Lines("first\n::error::x\nthird \x1b")
	if want := "first\n\\x3a:error::x\nthird \\x1b"; got != want {
		t.Errorf("Lines = %q, want %q", got, want)
	}
}

// TestWriter: whatever the writes' boundaries, no line of the output starts with "::", and
// other bytes pass unchanged.
func TestWriter(t *testing.T) {
	t.Parallel()
	in := "ok\n::error::a\n  ::warning::b\r::c\nx::y\n:\n: :\n::"
	want := "ok\n:\\x3a:error::a\n  :\\x3a:warning::b\r:\\x3a:c\nx::y\n:\n: :\n:\\x3a:"
	for size := 1; size <= len(in); size++ {
		var out bytes.Buffer
		w := NewWriter(&out)
		for i := 0; i < len(in); i += size {
			n, err := w.Write([]byte(in[i:min(i+size, len(in))]))
			if err != nil || n != min(size, len(in)-i) {
				t.Fatalf("Write: %d, %v", n, err)
			}
		}
		if out.String() != want {
			t.Fatalf("writes of %d bytes: got %q, want %q", size, out.String(), want)
		}
	}
}

func BenchmarkWriter(b *testing.B) {
	line := []byte(strings.Repeat(`{"action":"send","to":"+41793026731","text":"Hi Ann"}`+"\n", 1000))
	w := NewWriter(&bytes.Buffer{})
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		w.w.(*bytes.Buffer).Reset()
		w.Write(line)
	}
}
