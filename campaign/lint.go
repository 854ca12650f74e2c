package campaign

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/template"
	"unicode/utf8"

	"github.com/smsform/smsform/internal/words"
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

// Lint returns warnings about characters that force UCS-2 where GSM-7 has an equivalent.
// In the text, one at FILE:LINE: text: per character: its name and code, where it first
// appears in the text, what to write instead and how many SMS parts it costs across the
// campaign — the parts of every recipient's text as it is, less the parts with that
// character replaced, exactly (every recipient's text is rendered both ways). In the
// recipients' vars, one at the first recipient that has them (see lintVars).
//
// In a campaign with variants, each variant's text is linted the same way at
// variants[i].text, its cost counted across the variant's recipients: those the test
// assigns it, and those held out whom the weights would give it (the held receive the
// winner, which is not known yet: the weights are the expected mix).
func (c *Campaign) Lint() []Problem {
	if len(c.Variants) > 0 {
		return c.lintVariants()
	}
	if c.tmpl == nil {
		return nil
	}
	now := 0
	for _, rec := range c.Recipients.All() {
		now += int(rec.Parts)
	}
	out, fixed := c.lintText(lintBody{field: "text", text: c.Text, src: c.textSrc, scope: "across the campaign"}, now, nil)
	return append(out, c.lintVars([]string{fixed}, nil)...)
}

// lintBody is a text Lint reads: the campaign's, or a variant's.
type lintBody struct {
	field string // "text", "variants[1].text"
	text  string
	src   *textSource
	scope string // whose texts a cost is counted over, in words
}

// lintVariants lints every variant's text and the vars, each recipient's text rendered
// from its variant (by the weights, for a held one).
func (c *Campaign) lintVariants() []Problem {
	of := make([]int8, c.Recipients.Len())
	for i, rec := range c.Recipients.All() {
		of[i] = int8(c.lintVariantOf(rec))
	}
	pick := func(i int) int { return int(of[i]) }
	var out []Problem
	fixed := make([]string, len(c.Variants))
	for i := range c.Variants {
		v := &c.Variants[i]
		fixed[i] = v.Text
		if v.tmpl == nil {
			return nil
		}
		who := func(k int) int {
			if int(of[k]) == i {
				return 0
			}
			return -1
		}
		n := 0
		for _, v := range of {
			if int(v) == i {
				n++
			}
		}
		now, ok := c.partsWith([]string{v.Text}, who)
		if !ok {
			continue
		}
		body := lintBody{field: fmt.Sprintf("variants[%d].text", i), text: v.Text, src: v.src,
			scope: fmt.Sprintf("across the %d %s of variant %s", n, words.Plural(n, "recipient", "recipients"), v.Name)}
		var found []Problem
		found, fixed[i] = c.lintText(body, now, who)
		out = append(out, found...)
	}
	return append(out, c.lintVars(fixed, pick)...)
}

// lintVariantOf is the variant whose text Lint reads for a recipient: their own, or the
// one the weights give a held recipient.
func (c *Campaign) lintVariantOf(rec Recipient) int {
	if rec.Held() && c.assign != nil {
		return c.assign.Variant(rec.To)
	}
	return int(rec.Variant)
}

// lintText warns about a text's own characters, and returns the text with all of them
// replaced. now is the parts its recipients' texts take (those who picks by index, nil
// for all).
func (c *Campaign) lintText(body lintBody, now int, who func(int) int) ([]Problem, string) {
	type found struct {
		r           rune
		line, col   int // in the text, 1-based
		occurrences int
	}
	var order []*found
	seen := map[rune]*found{}
	line, col := 1, 0
	for _, r := range body.text {
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
		return nil, body.text
	}
	multiline := strings.Contains(body.text, "\n")
	var out []Problem
	all := body.text
	for _, f := range order {
		l := lookalikes[f.r]
		all = strings.ReplaceAll(all, string(f.r), l.with)
		line, where := c.Line(body.field), fmt.Sprintf("column %d of the text", f.col)
		if multiline {
			where = fmt.Sprintf("line %d of the text, column %d", f.line, f.col)
		}
		if fl, fc, ok := body.src.position(f.r, f.line, f.col); ok {
			line, where = fl, fmt.Sprintf("column %d", fc) // exactly where the file has it
		}
		times := ""
		if f.occurrences > 1 {
			times = fmt.Sprintf(" (%d times; the first shown)", f.occurrences)
		}
		msg := fmt.Sprintf("%s: U+%04X %s (%s)%s forces UCS-2 encoding; %s (GSM-7)", where, f.r, l.name, printable(f.r), times, describeReplacement(l.with))
		if with, ok := c.partsWith([]string{strings.ReplaceAll(body.text, string(f.r), l.with)}, who); ok {
			msg += fmt.Sprintf(": it costs %d SMS %s %s (%d with it, %d without)", now-with, words.Plural(now-with, "part", "parts"), body.scope, now, with)
		}
		out = append(out, Problem{File: c.File, Line: line, Field: body.field, Msg: msg})
	}
	if len(order) > 1 {
		if with, ok := c.partsWith([]string{all}, who); ok {
			out = append(out, Problem{File: c.File, Line: c.Line(body.field), Field: body.field,
				Msg: fmt.Sprintf("replacing all %d of these characters saves %d SMS %s %s (%d now, %d after)", len(order), now-with, words.Plural(now-with, "part", "parts"), body.scope, now, with)})
		}
	}
	return out, all
}

// lintVars warns, once per campaign, about look-alike characters that recipients' vars
// bring into their texts (a name typed O’Brien in the CRM): at the first such recipient,
// with how many there are and how many parts cleaning the data saves, counted on the
// texts rendered from texts (the campaign's text, or each variant's as pick chooses, with
// their own look-alikes already replaced).
func (c *Campaign) lintVars(texts []string, pick func(int) int) []Problem {
	type tally struct{ count, saved, first int }
	var tallies []tally
	c.renderAll(texts, pick, func(workers int) { tallies = make([]tally, workers) }, func(w, i int, s string) {
		if !strings.ContainsFunc(s, isLookalike) {
			return
		}
		before, _ := Parts(s)
		after, _ := Parts(replaceLookalikes(s))
		tl := &tallies[w]
		if tl.count == 0 {
			tl.first = i
		}
		tl.count++
		tl.saved += before - after
	})
	var total tally
	first := -1
	for _, tl := range tallies {
		if tl.count > 0 && first < 0 {
			first = tl.first // workers take the recipients in order: the first one's is first
		}
		total.count += tl.count
		total.saved += tl.saved
	}
	if total.count == 0 {
		return nil
	}
	rec := c.Recipients.At(first)
	field, ch := "", rune(0)
	names, values := rec.Vars.Names(), rec.Vars.Values()
	for j, v := range values {
		if i := strings.IndexFunc(v, isLookalike); i >= 0 {
			field, ch = names[j], []rune(v[i:])[0]
			break
		}
	}
	file := c.fileOf(rec)
	if !rec.FromCSV {
		field = "vars." + field
	}
	l := lookalikes[ch]
	return []Problem{{File: file, Line: int(rec.Line), Field: field, Msg: fmt.Sprintf(
		"U+%04X %s (%s) forces UCS-2 encoding for this recipient; %s (GSM-7) in the data. %d %s hold such characters (this is the first); cleaning them saves %d SMS %s across the campaign",
		ch, l.name, printable(ch), describeReplacement(l.with), total.count, words.Plural(total.count, "recipient's vars", "recipients' vars"), total.saved, words.Plural(total.saved, "part", "parts"))}}
}

// isLookalike says r is one of lookalikes. Validation asks it of every character of every
// recipient's text: the ASCII ones are answered from a table, without hashing.
func isLookalike(r rune) bool {
	if uint32(r) < utf8.RuneSelf {
		return asciiLookalikes[r]
	}
	_, ok := lookalikes[r]
	return ok
}

// asciiLookalikes marks the ASCII characters among lookalikes.
var asciiLookalikes = func() (t [utf8.RuneSelf]bool) {
	for r := range lookalikes {
		if r < utf8.RuneSelf {
			t[r] = true
		}
	}
	return t
}()

// replaceLookalikes writes every look-alike character as its GSM-7 equivalent.
func replaceLookalikes(s string) string {
	var b strings.Builder
	for _, r := range s {
		if l, ok := lookalikes[r]; ok {
			b.WriteString(l.with)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// printable shows a character in a message; the invisible ones are shown by name only.
func printable(r rune) string {
	switch r {
	case '\u00A0', '\u2007', '\u2009', '\u202F', '\u200B', '\u00AD', '\u2060', '\uFEFF':
		return "invisible"
	}
	return string(r)
}

// partsWith sums the SMS parts of recipients' texts rendered from texts instead of the
// campaign's: each recipient's from texts[who(rec)], none where who says -1 (nil: all from
// texts[0]), by the recipient's index; false if a text does not render for everyone (then
// no cost is claimed).
func (c *Campaign) partsWith(texts []string, who func(int) int) (int, bool) {
	var totals []int
	ok := c.renderAll(texts, who, func(workers int) { totals = make([]int, workers) }, func(w, _ int, s string) {
		n, _ := Parts(s)
		totals[w] += n
	})
	total := 0
	for _, n := range totals {
		total += n
	}
	return total, ok
}

// renderAll renders recipients' texts from texts (recipient i's from texts[pick(i)], skipping
// those pick gives -1; nil pick: all from texts[0]), split in order over the cores as when
// they are loaded: start learns the number of workers, each calls fn with its index, the
// recipient's and the text. False if a text does not parse or render (the rest may then
// be skipped).
func (c *Campaign) renderAll(texts []string, pick func(int) int, start func(workers int), fn func(w, i int, text string)) bool {
	tmpls := make([]*template.Template, len(texts))
	for i, text := range texts {
		t, problem := parseText(text)
		if problem != "" {
			start(1)
			return false
		}
		tmpls[i] = t
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), c.Recipients.Len()/chunkRows))
	start(workers)
	failed := make([]bool, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs := make([]*Renderer, len(tmpls))
			for i, t := range tmpls {
				rs[i] = c.newRenderer(t)
			}
			n := c.Recipients.Len()
			lo, hi := w*n/workers, (w+1)*n/workers
			for i, rec := range c.Recipients.From(lo) {
				if i >= hi {
					break
				}
				k := 0
				if pick != nil {
					if k = pick(i); k < 0 {
						continue
					}
				}
				s, err := rs[k].Render(rec)
				if err != nil {
					failed[w] = true
					return
				}
				fn(w, i, s)
			}
		}()
	}
	wg.Wait()
	return !slices.Contains(failed, true)
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
