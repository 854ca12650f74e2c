package campaign

import (
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

// suppressionLists reads each list file once, however many campaigns name it, into one
// SuppressionList per default_region (a list's national numbers depend on it).
type suppressionLists struct {
	byKey map[string]*SuppressionList // by the file after symlinks, the root and the region
	files map[string]*listFile        // by the file after symlinks and the root
	order []*listFile
}

// listFile is one suppression list file, the lists read from it and who names it.
type listFile struct {
	file  string             // as the first campaign names it; problems of the file itself are here
	root  string             // the campaign root it must resolve inside
	lists []*SuppressionList // one per region
	users []listUse
}

// listUse is one campaign's field naming a list file: a file that cannot be read is a
// problem at each.
type listUse struct {
	c     *Campaign
	field string
	file  string
}

// add notes the lists a campaign names; read reads them.
func (s *suppressionLists) add(c *Campaign) {
	root := c.root
	if root == "" {
		root = realPath(filepath.Dir(c.File))
	}
	for i, name := range c.SuppressionLists {
		if strings.TrimSpace(name) == "" {
			continue // reported by validate
		}
		file := name
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(c.File), name)
		}
		fileKey := realPath(file) + "\x00" + root
		lf, ok := s.files[fileKey]
		if !ok {
			lf = &listFile{file: file, root: root}
			s.files[fileKey] = lf
			s.order = append(s.order, lf)
		}
		lf.users = append(lf.users, listUse{c: c, field: fmt.Sprintf("suppression_lists[%d]", i), file: file})
		key := fileKey + "\x00" + c.DefaultRegion
		l, ok := s.byKey[key]
		if !ok {
			l = &SuppressionList{File: file, Region: c.DefaultRegion, index: map[string]int{}}
			s.byKey[key] = l
			lf.lists = append(lf.lists, l)
		}
		c.Suppressions = append(c.Suppressions, l)
	}
}

// read reads every list file noted.
func (s *suppressionLists) read(ps *problems, digest hash.Hash) {
	for _, lf := range s.order {
		lf.read(ps, digest)
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

// read loads the file into each of its lists; problems inside the file go to ps, and a
// file that cannot be opened is a problem at every campaign field that names it.
func (lf *listFile) read(ps *problems, digest hash.Hash) {
	f, err := openConfined(lf.file, lf.root, MaxCSVBytes)
	if err != nil {
		msg := fileProblem(err, lf.root, "split it into several lists")
		for _, u := range lf.users {
			u.c.problem(ps, u.field, "cannot read %s: %s", safetext.Escape(u.file), msg)
		}
		return
	}
	defer f.Close()
	for _, l := range lf.lists {
		fmt.Fprintf(digest, "%s\x00%s\x00", l.File, l.Region)
	}
	cr := NewCSVReader(io.TeeReader(io.LimitReader(f, MaxCSVBytes), digest))
	cr.FieldsPerRecord = -1 // a short row is reported below, at its line
	header, err := cr.Read()
	if err == io.EOF {
		ps.add(lf.file, 1, "", "the file is empty; it needs a header row with a `number` column (and optional `reason` and `date` columns)")
		return
	}
	if err != nil {
		csvProblem(ps, lf.file, err)
		return
	}
	numCol, reasonCol, dateCol := -1, -1, -1
	for i, h := range header {
		if !utf8.ValidString(h) || strings.ContainsFunc(h, isControl) {
			ps.add(lf.file, 1, "", "the header is not UTF-8 text (or holds control characters); is this a CSV file? Save it as UTF-8 CSV")
			return
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
			ps.add(lf.file, 1, strings.TrimSpace(h), "the column is named twice in the header (number and to are the same column)")
			return
		}
		*col = i
	}
	if numCol < 0 {
		ps.add(lf.file, 1, "number", "the header has no `number` column; the first line must name the columns, such as: number,reason,date")
		return
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			csvProblem(ps, lf.file, err)
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				continue
			}
			return
		}
		line, _ := cr.FieldPos(0)
		cell := func(col int) string {
			if col < 0 || col >= len(row) {
				return ""
			}
			return strings.TrimSpace(row[col])
		}
		if slices.ContainsFunc(row, func(v string) bool { return !utf8.ValidString(v) }) {
			ps.add(lf.file, line, "", "is not UTF-8 text; save the file as UTF-8 CSV")
			continue
		}
		for _, l := range lf.lists {
			l.add(ps, line, cell(numCol), cell(reasonCol), cell(dateCol))
		}
	}
}

// add adds the row at line, unless its number is already listed.
func (l *SuppressionList) add(ps *problems, line int, number, reason, date string) {
	e164, msg := Normalize(number, l.Region)
	if msg != "" {
		ps.add(l.File, line, "number", "%s", msg)
		return
	}
	s := Suppression{Number: e164, Source: fmt.Sprintf("%s:%d", l.File, line), Reason: reason}
	if date != "" {
		t, err := time.Parse(time.DateOnly, date)
		if err != nil {
			ps.add(l.File, line, "date", "%s must be a date YYYY-MM-DD, such as 2026-11-30", safetext.Quote(date))
			return
		}
		s.Date = t
	}
	if _, dup := l.index[e164]; dup {
		return // the first line that names a number is its source
	}
	l.index[e164] = len(l.Entries)
	l.Entries = append(l.Entries, s)
}
