package campaign

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/smsform/smsform/internal/safetext"
)

// A suppression list is a CSV file kept in the repository beside the campaigns: numbers
// that must never get a marketing text (people who asked by e-mail, at a shop counter, or
// were opted out by another tool). Its header names a `number` (or `to`) column; `reason`
// and `date` (YYYY-MM-DD) are optional; other columns (a name, a ticket) are ignored.

// Suppression is one number of a suppression list.
type Suppression struct {
	Number string    // E.164, with '+'
	Source string    // FILE:LINE it was read from
	Date   time.Time // the date column, UTC midnight; zero when not given
	Reason string    // the reason column; may be empty
}

// SuppressionList is one suppression list file, read once however many campaigns name it.
type SuppressionList struct {
	File    string        // as resolved from the campaign file
	Region  string        // the default_region its numbers were read with
	Entries []Suppression // in file order, each number once (its first line)
	index   map[string]int
}

// Find returns the entry for an E.164 number.
func (l *SuppressionList) Find(number string) (Suppression, bool) {
	i, ok := l.index[number]
	if !ok {
		return Suppression{}, false
	}
	return l.Entries[i], true
}

// Suppressed returns the first entry, in the order of suppression_lists, that suppresses
// the number for this campaign. Transactional campaigns are never suppressed.
func (c *Campaign) Suppressed(number string) (Suppression, bool) {
	if !c.IsMarketing() {
		return Suppression{}, false
	}
	for _, l := range c.Suppressions {
		if s, ok := l.Find(number); ok {
			return s, true
		}
	}
	return Suppression{}, false
}

// suppressionLists reads each list once per default_region (a list's national numbers
// depend on it), for every campaign that names it.
type suppressionLists struct {
	byKey map[string]*SuppressionList
}

func (s *suppressionLists) load(c *Campaign, ps *problems, digest hash.Hash) {
	for i, name := range c.SuppressionLists {
		if strings.TrimSpace(name) == "" {
			continue // reported by validate
		}
		file := name
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(c.File), name)
		}
		key := realPath(file) + "\x00" + c.DefaultRegion
		l, ok := s.byKey[key]
		if !ok {
			l = &SuppressionList{File: file, Region: c.DefaultRegion, index: map[string]int{}}
			s.byKey[key] = l
			if msg := l.read(c.root, ps, digest); msg != "" {
				c.problem(ps, fmt.Sprintf("suppression_lists[%d]", i), "cannot read %s: %s", safetext.Escape(file), msg)
			}
		}
		c.Suppressions = append(c.Suppressions, l)
	}
}

// all lists every list read, sorted by file.
func (s *suppressionLists) all() []*SuppressionList {
	out := make([]*SuppressionList, 0, len(s.byKey))
	for _, l := range s.byKey {
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b *SuppressionList) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return strings.Compare(a.Region, b.Region)
	})
	return out
}

// read loads the list; problems inside the file go to ps, and a file that cannot be
// opened comes back as a message for the campaign's field.
func (l *SuppressionList) read(root string, ps *problems, digest hash.Hash) string {
	if root == "" {
		root = realPath(filepath.Dir(l.File))
	}
	f, err := openConfined(l.File, root, MaxCSVBytes)
	if err != nil {
		return fileProblem(err, root, "split it into several lists")
	}
	defer f.Close()
	fmt.Fprintf(digest, "%s\x00%s\x00", l.File, l.Region)
	br := bufio.NewReaderSize(io.TeeReader(io.LimitReader(f, MaxCSVBytes), digest), 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\uFEFF")) {
		br.Discard(3)
	}
	cr := csv.NewReader(&csvLines{r: br, line: 1})
	cr.FieldsPerRecord = -1 // a short row is reported below, at its line
	header, err := cr.Read()
	if err == io.EOF {
		ps.add(l.File, 1, "", "the file is empty; it needs a header row with a `number` column (and optional `reason` and `date` columns)")
		return ""
	}
	if err != nil {
		csvProblem(ps, l.File, err)
		return ""
	}
	numCol, reasonCol, dateCol := -1, -1, -1
	for i, h := range header {
		if !utf8.ValidString(h) || strings.ContainsFunc(h, isControl) {
			ps.add(l.File, 1, "", "the header is not UTF-8 text (or holds control characters); is this a CSV file? Save it as UTF-8 CSV")
			return ""
		}
		col := &numCol
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "number", "to":
		case "reason":
			col = &reasonCol
		case "date":
			col = &dateCol
		default:
			continue
		}
		if *col >= 0 {
			ps.add(l.File, 1, strings.TrimSpace(h), "the column is named twice in the header (number and to are the same column)")
			return ""
		}
		*col = i
	}
	if numCol < 0 {
		ps.add(l.File, 1, "number", "the header has no `number` column; the first line must name the columns, such as: number,reason,date")
		return ""
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return ""
		}
		if err != nil {
			csvProblem(ps, l.File, err)
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				continue
			}
			return ""
		}
		line, _ := cr.FieldPos(0)
		cell := func(col int) string {
			if col < 0 || col >= len(row) {
				return ""
			}
			return strings.TrimSpace(row[col])
		}
		if slices.ContainsFunc(row, func(v string) bool { return !utf8.ValidString(v) }) {
			ps.add(l.File, line, "", "is not UTF-8 text; save the file as UTF-8 CSV")
			continue
		}
		e164, msg := Normalize(cell(numCol), l.Region)
		if msg != "" {
			ps.add(l.File, line, "number", "%s", msg)
			continue
		}
		s := Suppression{Number: e164, Source: fmt.Sprintf("%s:%d", l.File, line), Reason: cell(reasonCol)}
		if d := cell(dateCol); d != "" {
			t, err := time.Parse(time.DateOnly, d)
			if err != nil {
				ps.add(l.File, line, "date", "%q must be a date YYYY-MM-DD, such as 2026-11-30", d)
				continue
			}
			s.Date = t
		}
		if _, dup := l.index[e164]; dup {
			continue // the first line that names a number is its source
		}
		l.index[e164] = len(l.Entries)
		l.Entries = append(l.Entries, s)
	}
}
