package campaign

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/smsform/smsform/internal/safetext"
)

// MaxProblems is how many problems a ValidationError keeps; the rest are only counted, so a
// broken CSV of a million rows does not flood the terminal.
const MaxProblems = 200

// Problem is one thing wrong with the input, at a place a user can open.
type Problem struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// String reads FILE:LINE: field: problem. Every part is escaped: a file name, a key or a
// CSV header may hold control characters or a "::" that a CI log would run as a command.
func (p Problem) String() string {
	loc := safetext.Escape(p.File)
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, p.Line)
	}
	if p.Field == "" {
		return loc + ": " + safetext.Escape(p.Msg)
	}
	return loc + ": " + safetext.Escape(p.Field) + ": " + safetext.Escape(p.Msg)
}

// ValidationError lists every problem found; nothing is sent while one exists.
type ValidationError struct {
	Problems []Problem // sorted by file and line, at most MaxProblems
	Dropped  int       // problems found beyond MaxProblems
	// Subject names what was read, for the heading; "the campaign files" when empty.
	Subject string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
	}
	if e.Dropped > 0 {
		fmt.Fprintf(&b, "\n... and %d more problems (`smsform validate -all` lists every one, `-json` too)", e.Dropped)
	}
	return b.String()
}

// Count is the number of problems found, kept or not.
func (e *ValidationError) Count() int { return len(e.Problems) + e.Dropped }

// problems collects Problems while loading.
type problems struct {
	list    []Problem
	dropped int
	all     bool // keep every problem (Options.AllProblems)
}

func (ps *problems) add(file string, line int, field, format string, args ...any) {
	if !ps.all && len(ps.list) >= MaxProblems {
		ps.dropped++
		return
	}
	ps.list = append(ps.list, Problem{File: file, Line: line, Field: clipped(field, 2*maxQuoted), Msg: fmt.Sprintf(format, args...)})
}

// maxQuoted bounds what a problem quotes of a value from a file: a key, an id or a number
// may be a megabyte long, and a problem says where and what, not the whole of it.
const maxQuoted = 64

// clipped is s cut to at most n bytes, on a character boundary, with "..." after.
func clipped(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sortProblems(ps.list)
	ps.list = slices.Compact(ps.list) // the same problem found twice is shown once
	return &ValidationError{Problems: ps.list, Dropped: ps.dropped}
}

// sortProblems orders problems by file and line, keeping the order of those on one line.
func sortProblems(list []Problem) {
	slices.SortStableFunc(list, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
}
