package campaign

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
)

// lookalike is a character that forces a whole text into UCS-2 (70 characters a part
// instead of 160) although GSM-7 has one that reads the same. Word processors and phones
// put them in by themselves: a curly apostrophe typed as ', a dash typed as -.
type lookalike struct {
	name string // the Unicode name
	with string // the GSM-7 replacement; "" removes it
}

// lookalikes are the characters Lint warns about.
var lookalikes = map[rune]lookalike{
	'\u2018': {"LEFT SINGLE QUOTATION MARK", "'"},
	'\u2019': {"RIGHT SINGLE QUOTATION MARK", "'"},
	'\u201A': {"SINGLE LOW-9 QUOTATION MARK", "'"},
	'\u201B': {"SINGLE HIGH-REVERSED-9 QUOTATION MARK", "'"},
	'\u2032': {"PRIME", "'"},
	'\u00B4': {"ACUTE ACCENT", "'"},
	'\u0060': {"GRAVE ACCENT", "'"},
	'\u201C': {"LEFT DOUBLE QUOTATION MARK", `"`},
	'\u201D': {"RIGHT DOUBLE QUOTATION MARK", `"`},
	'\u201E': {"DOUBLE LOW-9 QUOTATION MARK", `"`},
	'\u2033': {"DOUBLE PRIME", `"`},
	'\u00AB': {"LEFT-POINTING DOUBLE ANGLE QUOTATION MARK", `"`},
	'\u00BB': {"RIGHT-POINTING DOUBLE ANGLE QUOTATION MARK", `"`},
	'\u2010': {"HYPHEN", "-"},
	'\u2011': {"NON-BREAKING HYPHEN", "-"},
	'\u2012': {"FIGURE DASH", "-"},
	'\u2013': {"EN DASH", "-"},
	'\u2014': {"EM DASH", "-"},
	'\u2212': {"MINUS SIGN", "-"},
	'\u2026': {"HORIZONTAL ELLIPSIS", "..."},
	'\u00A0': {"NO-BREAK SPACE", " "},
	'\u2007': {"FIGURE SPACE", " "},
	'\u2009': {"THIN SPACE", " "},
	'\u202F': {"NARROW NO-BREAK SPACE", " "},
	'\u200B': {"ZERO WIDTH SPACE", ""},
	'\u00AD': {"SOFT HYPHEN", ""},
	'\u2060': {"WORD JOINER", ""},
	'\uFEFF': {"ZERO WIDTH NO-BREAK SPACE", ""},
}

// describeReplacement names what to write instead.
func describeReplacement(with string) string {
	switch with {
	case "":
		return "remove it"
	case " ":
		return "write a plain space"
	}
	return fmt.Sprintf("write %s instead", with)
}

// Lint returns warnings about the campaign's text, each at FILE:LINE: text: for every
// character that forces UCS-2 where GSM-7 has an equivalent: its name and code, where it
// first appears in the text, what to write instead and how many SMS parts it costs across
// the campaign — the parts of every recipient's text as it is, less the parts with that
// character replaced, exactly (every recipient's text is rendered both ways).
func (c *Campaign) Lint() []Problem {
	if c.tmpl == nil {
		return nil
	}
	type found struct {
		r           rune
		line, col   int // in the text, 1-based
		occurrences int
	}
	var order []*found
	seen := map[rune]*found{}
	line, col := 1, 0
	for _, r := range c.Text {
		col++
		if r == '\n' {
			line, col = line+1, 0
			continue
		}
		if _, ok := lookalikes[r]; !ok {
			continue
		}
		if f := seen[r]; f != nil {
			f.occurrences++
			continue
		}
		f := &found{r: r, line: line, col: col, occurrences: 1}
		seen[r] = f
		order = append(order, f)
	}
	if len(order) == 0 {
		return nil
	}
	now := 0
	for _, rec := range c.Recipients {
		now += int(rec.Parts)
	}
	multiline := strings.Contains(c.Text, "\n")
	var out []Problem
	all := c.Text
	for _, f := range order {
		l := lookalikes[f.r]
		all = strings.ReplaceAll(all, string(f.r), l.with)
		where := fmt.Sprintf("column %d", f.col)
		if multiline {
			where = fmt.Sprintf("line %d of the text, column %d", f.line, f.col)
		}
		times := ""
		if f.occurrences > 1 {
			times = fmt.Sprintf(" (%d times; the first shown)", f.occurrences)
		}
		msg := fmt.Sprintf("%s: U+%04X %s (%s)%s forces UCS-2 encoding; %s (GSM-7)", where, f.r, l.name, printable(f.r), times, describeReplacement(l.with))
		if with, ok := c.partsWith(strings.ReplaceAll(c.Text, string(f.r), l.with)); ok {
			msg += fmt.Sprintf(": it costs %d SMS %s across the campaign (%d with it, %d without)", now-with, plural(now-with, "part", "parts"), now, with)
		}
		out = append(out, Problem{File: c.File, Line: c.Line("text"), Field: "text", Msg: msg})
	}
	if len(order) > 1 {
		if with, ok := c.partsWith(all); ok {
			out = append(out, Problem{File: c.File, Line: c.Line("text"), Field: "text",
				Msg: fmt.Sprintf("replacing all %d of these characters saves %d SMS %s across the campaign (%d now, %d after)", len(order), now-with, plural(now-with, "part", "parts"), now, with)})
		}
	}
	return out
}

// printable shows a character in a message; the invisible ones are shown by name only.
func printable(r rune) string {
	switch r {
	case '\u00A0', '\u2007', '\u2009', '\u202F', '\u200B', '\u00AD', '\u2060', '\uFEFF':
		return "invisible"
	}
	return string(r)
}

// partsWith sums the SMS parts of every recipient's text rendered from text instead of the
// campaign's; false if text does not render for everyone (then no cost is claimed). The
// recipients are split over the cores, as when they are loaded.
func (c *Campaign) partsWith(text string) (int, bool) {
	t, problem := parseText(text)
	if problem != "" {
		return 0, false
	}
	alt := *c
	alt.tmpl = t
	workers := max(1, min(runtime.GOMAXPROCS(0), len(c.Recipients)/chunkRows))
	totals := make([]int, workers)
	failed := make([]bool, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := alt.NewRenderer()
			lo, hi := w*len(c.Recipients)/workers, (w+1)*len(c.Recipients)/workers
			for _, rec := range c.Recipients[lo:hi] {
				s, err := r.Render(rec)
				if err != nil {
					failed[w] = true
					return
				}
				n, _ := Parts(s)
				totals[w] += n
			}
		}()
	}
	wg.Wait()
	total := 0
	for w := range workers {
		if failed[w] {
			return 0, false
		}
		total += totals[w]
	}
	return total, true
}

// LintSet is Lint over every campaign of the set, with the set's own warnings, sorted by
// file and line.
func LintSet(set *Set) []Problem {
	out := append([]Problem(nil), set.Warnings...)
	for _, c := range set.Campaigns {
		out = append(out, c.Lint()...)
	}
	sortProblems(out)
	return out
}
