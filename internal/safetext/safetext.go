// Package safetext makes text read from campaign files, CSVs, the state or Infobip safe to
// print. A campaign file may come from an unreviewed pull request and its plan is printed in
// CI logs, where a raw escape sequence rewrites the terminal, a line starting with "::" is
// read by GitHub Actions as a workflow command (::error, ::add-mask, ...), and so is "##[",
// the runner's older form (##[error], ##[add-mask], ##[stop-commands]), anywhere in a line.
package safetext

import (
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every control character (C0, DEL, C1), every invisible formatting
// character (bidirectional overrides, zero-width joiners) and every invalid UTF-8 byte written
// as a Go escape (\n, \x1b, \u202e), a leading "::" (after blanks) written as "\x3a:", and
// the "[" of every "##[" written as "\u005b", so that no output line can hold a CI log
// command. Printable text, quotes and backslashes are kept as they are, which makes Escape
// idempotent.
func Escape(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	escape(&b, s, -1)
	return b.String()
}

// Clip returns s escaped as Escape does, in at most limit bytes (limit is at least 64):
// when the escaped text is longer, as much of it as fits before "... (cut: N bytes in all)",
// never cut inside a character or an escape. It is for texts from outside that nobody
// bounds (Infobip's error texts), where they are stored or printed. Clip(Clip(s, n), n) is
// Clip(s, n).
func Clip(s string, limit int) string {
	limit = max(limit, 64)
	if len(s) <= limit && clean(s) {
		return s
	}
	var b strings.Builder
	if escape(&b, s, limit) == len(s) {
		return b.String()
	}
	marker := "... (cut: " + strconv.Itoa(len(s)) + " bytes in all)"
	b.Reset()
	escape(&b, s, limit-len(marker))
	b.WriteString(marker)
	return b.String()
}

// escape writes s, escaped, into b, and stops before an escape or character that would take
// b past limit bytes (limit < 0: no limit). It returns how many bytes of s it wrote.
func escape(b *strings.Builder, s string, limit int) int {
	var buf [12]byte
	lead := true // only blanks so far: a "::" here would start the line
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var out []byte
		switch {
		case r == utf8.RuneError && size <= 1:
			out = hexEscape(buf[:0], `\x`, rune(s[i]), 2)
		case r == '\n':
			out = append(buf[:0], `\n`...)
		case r == '\r':
			out = append(buf[:0], `\r`...)
		case r == '\t':
			out = append(buf[:0], `\t`...)
		case r < 0x20 || r == 0x7f:
			out = hexEscape(buf[:0], `\x`, r, 2)
		case unsafeRune(r):
			out = hexEscape(buf[:0], `\u`, r, 4)
		case lead && r == ':' && strings.HasPrefix(s[i:], "::"):
			out = append(buf[:0], `\x3a`...)
		case r == '[' && i >= 2 && s[i-2:i] == "##":
			out = append(buf[:0], bracket...)
		}
		n := len(out)
		if out == nil {
			n = size
		}
		if limit >= 0 && b.Len()+n > limit {
			return i
		}
		if out == nil {
			b.WriteString(s[i : i+size])
		} else {
			b.Write(out)
		}
		if r != ' ' {
			lead = false
		}
		i += size
	}
	return len(s)
}

// hexEscape appends prefix and v in at least digits lowercase hex digits, as fmt's %0Nx.
func hexEscape(dst []byte, prefix string, v rune, digits int) []byte {
	for d := digits; d < 8 && v>>(4*d) != 0; d++ {
		digits = d + 1
	}
	dst = append(dst, prefix...)
	for k := digits - 1; k >= 0; k-- {
		dst = append(dst, "0123456789abcdef"[(v>>(4*k))&0xf])
	}
	return dst
}

// Lines escapes each line of s on its own, keeping the line breaks: for messages that are
// meant to span lines (a list of problems) but hold text from outside.
func Lines(s string) string {
	if clean(s) {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Escape(l)
	}
	return strings.Join(lines, "\n")
}

// JSON returns the JSON text b with every C1 control and invisible formatting character
// (such as U+202E, which reorders the text around it) written as a \u escape, as Escape
// writes them: encoding/json leaves them raw in strings, and a JSON document is printed to
// terminals and CI logs as any other output. JSON holds such characters only inside
// strings, where the escape means the same character, so the document keeps its meaning.
// b is returned as it is when it holds none; invalid UTF-8 is left as it is.
func JSON(b []byte) []byte {
	var out []byte
	done := 0
	for i := 0; i < len(b); {
		if b[i] < 0xc2 { // ASCII, or not the first byte of an unsafe character
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError && unsafeRune(r) {
			if out == nil {
				out = make([]byte, 0, len(b)+16)
			}
			out = append(out, b[done:i]...)
			out = hexEscape(out, `\u`, r, 4)
			done = i + size
		}
		i += size
	}
	if out == nil {
		return b
	}
	return append(out, b[done:]...)
}

// clean reports whether Escape would return s unchanged, without allocating.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return !strings.HasPrefix(strings.TrimLeft(s, " "), "::") && !strings.Contains(s, "##[")
}

// bracket is what the "[" of "##[" is written as, by Escape and by Writer: a Go escape that
// is also a JSON one, so that a JSON document guarded by Writer stays valid and means the
// same text.
const bracket = `\u005b`

// unsafeRune reports a character that is invisible or changes how a terminal shows the text
// around it: C1 controls, and Unicode format characters (category Cf, such as U+202E).
func unsafeRune(r rune) bool {
	return (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// Writer guards a stream: a line that starts (after blanks) with "::" gets "\x3a" written
// between its two colons, and the "[" of "##[" anywhere is written "\u005b" (as Escape
// writes it), also when a write ends between the "#" and the "[". It is the last line of
// defence behind Escape, for output that prints a value Escape did not see. Inside a JSON
// string "\u005b" is "[", so JSON output passes through valid and unchanged in meaning;
// "::" never starts a line of JSON.
type Writer struct {
	w io.Writer
	// state: 0 inside a line, 1 at a line start (only blanks so far), 2 after one ':' there.
	state int
	// hashes counts the '#' bytes (up to two) that the last write ended with.
	hashes int
}

// NewWriter guards w; the first byte written is at the start of a line.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w, state: 1} }

// Write writes p, changed only where a line would start with "::" or hold "##[". It
// reports len(p) on success, as callers expect of a pass-through.
func (g *Writer) Write(p []byte) (int, error) {
	start := 0
	// put writes what came before p[i], then s in place of p[i].
	put := func(i int, s string) error {
		if i > start {
			if _, err := g.w.Write(p[start:i]); err != nil {
				return err
			}
		}
		_, err := io.WriteString(g.w, s)
		start = i + 1
		return err
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\n' || c == '\r':
			g.state = 1
		case c == '[' && g.hashesBefore(p, i) >= 2:
			if err := put(i, bracket); err != nil {
				return i, err
			}
			g.state = 0
		case g.state == 0:
			// Skip to the next byte that matters: a line break, or a '[' (after "##").
			j := indexSpecial(p[i+1:])
			if j < 0 {
				i = len(p)
				continue
			}
			i += j // the loop's i++ lands on it
		case c == ' ' || c == '\t':
			if g.state == 2 {
				g.state = 0
			}
		case c == ':' && g.state == 1:
			g.state = 2
		case c == ':' && g.state == 2:
			// p[i-1] (or the previous write's last byte) was the line's first colon: this
			// one is written after "\x3a".
			if err := put(i, `\x3a:`); err != nil {
				return i, err
			}
			g.state = 0
		default:
			g.state = 0
		}
	}
	if start < len(p) {
		if _, err := g.w.Write(p[start:]); err != nil {
			return start, err
		}
	}
	g.hashes = g.hashesBefore(p, len(p))
	return len(p), nil
}

// hashesBefore counts the '#' bytes (up to two) right before p[i], counting those the last
// write ended with when p starts with them.
func (g *Writer) hashesBefore(p []byte, i int) int {
	n := 0
	for k := i - 1; k >= 0; k-- {
		if p[k] != '#' {
			return n
		}
		if n++; n == 2 {
			return n
		}
	}
	return min(n+g.hashes, 2)
}

// indexSpecial finds the next line break or '['.
func indexSpecial(p []byte) int {
	for i, c := range p {
		if c == '\n' || c == '\r' || c == '[' {
			return i
		}
	}
	return -1
}
