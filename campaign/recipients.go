package campaign

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// MaxTextBytes is the longest text Infobip accepts, in bytes.
const MaxTextBytes = 4000

// seenNumber remembers where a number was first written, to merge or refuse repeats.
type seenNumber struct {
	pos      string
	varsHash uint64
}

// loadRecipients normalises, de-duplicates and renders the inline and CSV recipients.
// digest takes the CSV bytes, for saved-plan staleness.
func (c *Campaign) loadRecipients(ps *problems, digest hash.Hash) {
	seen := map[uint64]seenNumber{}
	r := c.NewRenderer()
	for i, d := range c.Destinations {
		names := make([]string, 0, len(d.Vars))
		for n := range d.Vars {
			names = append(names, n)
		}
		slices.Sort(names)
		values := make([]string, len(names))
		for j, n := range names {
			values[j] = d.Vars[n]
		}
		rec := Recipient{Vars: Vars{Names: names, Values: values}, Line: int32(c.Line(fmt.Sprintf("destinations[%d].to", i)))}
		c.addRecipient(ps, r, seen, rec, d.To, fmt.Sprintf("destinations[%d].to", i))
	}
	if c.DestinationsFile != "" {
		c.CSVFile = c.DestinationsFile
		if !filepath.IsAbs(c.CSVFile) {
			c.CSVFile = filepath.Join(filepath.Dir(c.File), c.DestinationsFile)
		}
		c.loadCSV(ps, r, seen, digest)
	}
	c.Recipients = slices.Clip(c.Recipients)
}

func (c *Campaign) loadCSV(ps *problems, r *Renderer, seen map[uint64]seenNumber, digest hash.Hash) {
	f, err := os.Open(c.CSVFile)
	if err != nil {
		c.problem(ps, "destinations_file", "cannot read %s: %v", c.CSVFile, errors.Unwrap(err))
		return
	}
	defer f.Close()
	fmt.Fprintf(digest, "%s\x00", c.CSVFile)
	br := bufio.NewReaderSize(io.TeeReader(f, digest), 64<<10)
	// Spreadsheets often start a CSV with a byte-order mark; the CSV reader would take it
	// for part of the first header cell (and for a stray quote before "to").
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\uFEFF")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	header, err := cr.Read()
	if err == io.EOF {
		ps.add(c.CSVFile, 1, "", "the file is empty; it needs a header row with a `to` column")
		return
	}
	if err != nil {
		csvProblem(ps, c.CSVFile, err)
		return
	}
	header = slices.Clone(header)
	toCol := -1
	var names []string
	var cols []int
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch {
		case h == "":
			ps.add(c.CSVFile, 1, "", "column %d has no name in the header", i+1)
		case h == "to" && toCol >= 0:
			ps.add(c.CSVFile, 1, "to", "the column is named twice in the header")
		case h == "to":
			toCol = i
		case slices.Contains(names, h):
			ps.add(c.CSVFile, 1, h, "the column is named twice in the header")
		default:
			names = append(names, h)
			cols = append(cols, i)
		}
	}
	if toCol < 0 {
		ps.add(c.CSVFile, 1, "to", "the header has no `to` column (found: %s)", strings.Join(header, ", "))
		return
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			csvProblem(ps, c.CSVFile, err)
			if errors.Is(err, csv.ErrFieldCount) {
				continue
			}
			return
		}
		line, _ := cr.FieldPos(0)
		// One slice per row for the values; the field strings share the row's memory.
		values := make([]string, len(cols))
		for j, col := range cols {
			values[j] = row[col]
		}
		rec := Recipient{Vars: Vars{Names: names, Values: values}, Line: int32(line), FromCSV: true}
		c.addRecipient(ps, r, seen, rec, row[toCol], "to")
	}
}

func csvProblem(ps *problems, file string, err error) {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		ps.add(file, pe.Line, "", "CSV: %v", pe.Err)
		return
	}
	ps.add(file, 0, "", "CSV: %v", err)
}

// addRecipient normalises the number, merges repeats and renders the text.
func (c *Campaign) addRecipient(ps *problems, r *Renderer, seen map[uint64]seenNumber, rec Recipient, raw, field string) {
	pos := c.Pos(rec)
	file, line := c.File, int(rec.Line)
	if rec.FromCSV {
		file = c.CSVFile
	}
	e164, msg := Normalize(raw, c.DefaultRegion)
	if msg != "" {
		ps.add(file, line, field, "%s", msg)
		return
	}
	rec.To = e164
	key, _ := strconv.ParseUint(e164[1:], 10, 64)
	vh := rec.Vars.hash()
	if first, dup := seen[key]; dup {
		if first.varsHash != vh {
			ps.add(file, line, field, "%s is also at %s with different vars; a number gets one message per campaign", e164, first.pos)
		}
		return // the same number with the same vars is sent once
	}
	seen[key] = seenNumber{pos: pos, varsHash: vh}
	if c.tmpl == nil {
		c.Recipients = append(c.Recipients, rec)
		return // the template did not parse; that is reported once, on text
	}
	text, err := r.Render(rec)
	if err != nil {
		ps.add(file, line, "text", "%v", err)
		return
	}
	parts, enc := Parts(text)
	switch {
	case text == "":
		ps.add(file, line, "text", "renders to an empty text for %s", e164)
		return
	case parts > MaxParts:
		ps.add(file, line, "text", "renders to %d SMS parts (%s, %d chars) for %s; the limit is %d", parts, enc, utf8.RuneCountInString(text), e164, MaxParts)
		return
	case len(text) > MaxTextBytes:
		ps.add(file, line, "text", "renders to %d bytes for %s; the limit is %d", len(text), e164, MaxTextBytes)
		return
	}
	rec.Parts = int32(parts)
	rec.Hash = r.hash(text)
	c.Recipients = append(c.Recipients, rec)
}

// Normalize turns a written number into E.164, or says what is wrong with it.
func Normalize(raw, region string) (string, string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "is required"
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil {
		if region == "" && !strings.HasPrefix(raw, "+") {
			return "", fmt.Sprintf("%q has no country code: write it as +<country><number>, or set default_region", raw)
		}
		return "", fmt.Sprintf("%q is not a phone number: %v", raw, err)
	}
	if !phonenumbers.IsValidNumber(num) {
		where := region
		if r := phonenumbers.GetRegionCodeForNumber(num); r != "" && r != "ZZ" {
			where = r
		}
		if where == "" {
			return "", fmt.Sprintf("%q is not a valid number", raw)
		}
		return "", fmt.Sprintf("%q is not a valid number for %s", raw, where)
	}
	return phonenumbers.Format(num, phonenumbers.E164), ""
}

// hash is order-independent, so inline vars and CSV columns compare equal.
func (v Vars) hash() uint64 {
	var sum uint64
	h := fnv.New64a()
	for i, n := range v.Names {
		h.Reset()
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(v.Values[i]))
		sum += h.Sum64()
	}
	return sum
}

// Renderer renders one campaign's texts. It reuses its buffers, so it is not safe for
// concurrent use: make one per goroutine.
type Renderer struct {
	c    *Campaign
	buf  bytes.Buffer
	vars map[string]string
	opts []byte
	sha  hash.Hash
}

// NewRenderer makes a renderer for the campaign.
func (c *Campaign) NewRenderer() *Renderer {
	return &Renderer{c: c, vars: map[string]string{}, opts: []byte(c.options()), sha: sha256.New()}
}

// Render executes the text template over the recipient's vars.
func (r *Renderer) Render(rec Recipient) (string, error) {
	r.buf.Reset()
	if err := r.c.tmpl.Execute(&r.buf, rec.Vars.Map(r.vars)); err != nil {
		return "", renderError(err)
	}
	return r.buf.String(), nil
}

// hash is the fingerprint of a rendered text with the campaign's send options, as stored
// in state to notice a changed message.
func (r *Renderer) hash(text string) uint64 {
	r.sha.Reset()
	r.sha.Write(r.opts)
	r.sha.Write([]byte(text))
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(r.sha.Sum(sum[:0]))
}

// renderError turns text/template's wording into the spec's.
func renderError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, `map has no entry for key "`); i >= 0 {
		name := strings.TrimSuffix(msg[i+len(`map has no entry for key "`):], `"`)
		return fmt.Errorf("missing var %q for this recipient (add a %s column or vars entry)", name, name)
	}
	if i := strings.Index(msg, "executing "); i >= 0 {
		msg = msg[i:]
	}
	return fmt.Errorf("template: %s", msg)
}
