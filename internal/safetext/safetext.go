// Package safetext makes text read from campaign files, CSVs, the state or Infobip safe to
// print. A campaign file may come from an unreviewed pull request and its plan is printed in
// CI logs, where a raw escape sequence rewrites the terminal and a line starting with "::" is
// read by GitHub Actions as a workflow command (::error, ::add-mask, ...).
package safetext

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every control character (C0, DEL, C1), every invisible formatting
// character (bidirectional overrides, zero-width joiners) and every invalid UTF-8 byte written
// as a Go escape (\n, \x1b, \u202e), and a leading "::" (after blanks) written as "\x3a:", so
// that no output line can start a CI log command. Printable text, quotes and backslashes are
// kept as they are, which makes Escape idempotent.
func Escape(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	lead := true // only blanks so far: a "::" here would start the line
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		case lead && r == ':' && strings.HasPrefix(s[i:], "::"):
			b.WriteString(`\x3a`)
		default:
			b.WriteString(s[i : i+size])
		}
		if r != ' ' {
			lead = false
		}
		i += size
	}
	return b.String()
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

// clean reports whether Escape would return s unchanged, without allocating.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return !strings.HasPrefix(strings.TrimLeft(s, " "), "::")
}

// unsafeRune reports a character that is invisible or changes how a terminal shows the text
// around it: C1 controls, and Unicode format characters (category Cf, such as U+202E).
func unsafeRune(r rune) bool {
	return (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// Writer guards a stream: a line that starts (after blanks) with "::" gets "\x3a" written
// between its two colons. It is the last line of defence behind Escape, for output that prints
// a value at the start of a line.
type Writer struct {
	w io.Writer
	// state: 0 inside a line, 1 at a line start (only blanks so far), 2 after one ':' there.
	state int
}

// NewWriter guards w; the first byte written is at the start of a line.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w, state: 1} }

// Write writes p, changed only where a line would start with "::". It reports len(p) on
// success, as callers expect of a pass-through.
func (g *Writer) Write(p []byte) (int, error) {
	start := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\n' || c == '\r':
			g.state = 1
		case g.state == 0:
			// Skip to the next line break quickly: nothing else matters inside a line.
			j := indexLineBreak(p[i:])
			if j < 0 {
				i = len(p)
				continue
			}
			i += j - 1
		case c == ' ' || c == '\t':
			if g.state == 2 {
				g.state = 0
			}
		case c == ':' && g.state == 1:
			g.state = 2
		case c == ':' && g.state == 2:
			// p[i-1] (or the previous write's last byte) was the line's first colon.
			if i > start {
				if _, err := g.w.Write(p[start:i]); err != nil {
					return start, err
				}
			}
			if _, err := io.WriteString(g.w, `\x3a`); err != nil {
				return i, err
			}
			start = i
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
	return len(p), nil
}

func indexLineBreak(p []byte) int {
	for i, c := range p {
		if c == '\n' || c == '\r' {
			return i
		}
	}
	return -1
}
