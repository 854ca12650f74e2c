package safetext

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
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
		{"Hi ##[error]Security review passed", `Hi ##\u005berror]Security review passed`},
		{"##[add-mask]x ##[stop-commands]y", `##\u005badd-mask]x ##\u005bstop-commands]y`},
		{"###[x ##[##[", `###\u005bx ##\u005b##\u005b`},
		{"#[ and # # [ and ## [ stay", "#[ and # # [ and ## [ stay"},
		{"::error::x ##[error]y", `\x3a:error::x ##\u005berror]y`},
		{"tag\U000e0001", `tag\ue0001`},
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

// TestWriterHashBracket: "##[" anywhere in a line gets its "[" written as Escape writes it,
// whatever the writes' boundaries (a write may end between the "#"s and the "[").
func TestWriterHashBracket(t *testing.T) {
	t.Parallel()
	in := "Hi ##[error]x\n##[add-mask]y ###[z #[ ## [\n::a ##[b\n##"
	want := "Hi ##\\u005berror]x\n##\\u005badd-mask]y ###\\u005bz #[ ## [\n:\\x3a:a ##\\u005bb\n##"
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

// TestWriterKeepsJSON: JSON that holds "##[" in its strings comes through the guard still
// JSON, meaning the same values, whatever the writes' boundaries.
func TestWriterKeepsJSON(t *testing.T) {
	t.Parallel()
	v := map[string]any{"text": "Hi ##[error]x \\##[y ###[", "list": []string{"##", "[", "##["}, "n": 1}
	doc, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for size := 1; size <= len(doc); size++ {
		var out bytes.Buffer
		w := NewWriter(&out)
		for i := 0; i < len(doc); i += size {
			w.Write(doc[i:min(i+size, len(doc))])
		}
		if bytes.Contains(out.Bytes(), []byte("##[")) {
			t.Fatalf("writes of %d bytes: %s", size, out.Bytes())
		}
		var got map[string]any
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("writes of %d bytes: not JSON any more: %v\n%s", size, err, out.Bytes())
		}
		if fmt.Sprint(got) != fmt.Sprint(v) {
			t.Fatalf("writes of %d bytes: decoded %v, want %v", size, got, v)
		}
	}
}

// TestClip: a text is escaped and bounded, cut only between characters and escapes, with
// the marker inside the bound; a clipped text clips to itself.
func TestClip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		limit int
		want  string
	}{
		{"Bad request", 100, "Bad request"},
		{"Bad\nrequest ##[error]", 100, `Bad\nrequest ##\u005berror]`},
		{strings.Repeat("x", 100), 100, strings.Repeat("x", 100)},
		{strings.Repeat("x", 101), 100, strings.Repeat("x", 73) + "... (cut: 101 bytes in all)"},
		{strings.Repeat("\x1b", 40), 100, strings.Repeat(`\x1b`, 18) + "... (cut: 40 bytes in all)"},
		{strings.Repeat("é", 80), 100, strings.Repeat("é", 36) + "... (cut: 160 bytes in all)"},
		{"short", 1, "short"}, // the bound is at least 64
	} {
		got := Clip(tc.in, tc.limit)
		if got != tc.want {
			t.Errorf("Clip(%.20q..., %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
		if len(got) > max(tc.limit, 64) {
			t.Errorf("Clip(%.20q..., %d) is %d bytes", tc.in, tc.limit, len(got))
		}
		if again := Clip(got, tc.limit); again != got {
			t.Errorf("Clip is not idempotent: %q, then %q", got, again)
		}
		if !utf8.ValidString(got) || Escape(got) != got {
			t.Errorf("Clip(%.20q...) = %q is not clean text", tc.in, got)
		}
	}
	huge := strings.Repeat("Bad request\n", 4<<20/12)
	if got := Clip(huge, 500); len(got) > 500 || !strings.HasSuffix(got, " bytes in all)") || strings.Contains(got, "\n") {
		t.Errorf("Clip of 4 MB: %d bytes, %q", len(got), got[max(len(got)-60, 0):])
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

// TestJSON: the characters encoding/json leaves raw that reorder or hide text are escaped,
// and the document still decodes to the same values.
func TestJSON(t *testing.T) {
	t.Parallel()
	v := map[string]string{"text": "rtl\u202eevil c1\u009b31m zero\u200bwidth Grüße ok", "plain": "nothing to do"}
	doc, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got := JSON(doc)
	if want := `{"plain":"nothing to do","text":"rtl\u202eevil c1\u009b31m zero\u200bwidth Grüße ok"}`; string(got) != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil || fmt.Sprint(back) != fmt.Sprint(v) {
		t.Errorf("decoded %v, %v; want %v", back, err, v)
	}
	clean := []byte(`{"a":"Grüße, ok"}`)
	if got := JSON(clean); &got[0] != &clean[0] {
		t.Error("JSON copied a document with nothing to escape")
	}
	if got := JSON([]byte("{\"a\":\"bad \xff\xc2\"}")); string(got) != "{\"a\":\"bad \xff\xc2\"}" {
		t.Errorf("invalid UTF-8 changed: %q", got)
	}
}
