package campaign

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"unicode/utf8"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/internal/words"
)

// MaxTextBytes is the longest text Infobip accepts, in bytes.
const MaxTextBytes = 4000

// loadRecipients loads every campaign's recipients: its inline ones, then those of its
// destinations_file. A file that several campaigns name is read once for all of them.
// digest takes the CSV bytes, for saved-plan staleness.
func loadRecipients(cs []*Campaign, ps *problems, digest hash.Hash) {
	var files []*destinationsFile
	byKey := map[string]*destinationsFile{}
	for _, c := range cs {
		d := c.loadInline(ps)
		if c.DestinationsFile == "" {
			continue
		}
		c.CSVFile = c.DestinationsFile
		if !filepath.IsAbs(c.CSVFile) {
			c.CSVFile = filepath.Join(filepath.Dir(c.File), c.DestinationsFile)
		}
		root := c.root
		if root == "" { // a Campaign not made by Load: its own directory
			root = realPath(filepath.Dir(c.File))
		}
		// The root is part of the key: whether a campaign may read the file depends on it.
		key := realPath(c.CSVFile) + "\x00" + root
		f := byKey[key]
		if f == nil {
			f = &destinationsFile{file: c.CSVFile, root: root, vars: &spillLog{}}
			byKey[key] = f
			files = append(files, f)
		}
		f.users = append(f.users, d)
		c.Recipients.csv = f.vars
	}
	for _, f := range files {
		f.load(ps, digest)
	}
}

// loadInline normalises, de-duplicates and renders the inline recipients. The dedup it
// returns takes the CSV's recipients next, so that a number both inline and in the CSV is
// checked too.
func (c *Campaign) loadInline(ps *problems) *dedup {
	c.Recipients = newRecipients(nil)
	d := &dedup{c: c, ps: ps, seen: newSeenTable(len(c.Destinations))}
	r := c.NewRenderer()
	for i, dst := range c.Destinations {
		field := fmt.Sprintf("destinations[%d].to", i)
		vars := VarsOf(dst.Vars)
		row := prepared{rec: Recipient{Vars: vars, Line: int32(c.Line(field))}, field: field, csvAt: -1}
		names := vars.Names()
		if bad := slices.IndexFunc(names, func(n string) bool { return hasNUL(dst.Vars[n]) }); bad >= 0 {
			row.fail(Problem{File: c.File, Line: int(row.rec.Line), Field: fmt.Sprintf("destinations[%d].vars.%s", i, names[bad]), Msg: "holds a NUL character, which no SMS can carry"})
		}
		c.prepare(r, &row, dst.To)
		d.add(row)
	}
	return d
}

// prepared is one recipient after the per-row work, or the problems that stopped it.
type prepared struct {
	rec Recipient
	// problems are a pointer, nil for most rows: a million rows are prepared in chunks,
	// and a slice would make each 16 bytes bigger.
	problems *[]Problem
	field    string // where the number is written: "destinations[2].to" or "to" in a CSV
	vars     uint64 // hash of the vars, to compare repeats of a number
	// csvAt is where a CSV row's vars are in the file's shared log (destinationsFile.vars);
	// -1 for an inline recipient.
	csvAt int64
	// key is the number's E.164 digits once prepare has normalised it, else 0.
	key uint64
}

// fail records a problem of the row.
func (row *prepared) fail(p Problem) {
	if row.problems == nil {
		row.problems = &[]Problem{}
	}
	*row.problems = append(*row.problems, p)
}

// failed reports a row with a problem.
func (row *prepared) failed() bool { return row.problems != nil }

// problemList is the row's problems, in the order found.
func (row *prepared) problemList() []Problem {
	if row.problems == nil {
		return nil
	}
	return *row.problems
}

// dedup adds prepared rows in file order: a number seen before with the same vars is sent
// once, with other vars it is an error naming both places.
type dedup struct {
	c  *Campaign
	ps *problems
	// seen holds every number read, by its E.164 digits: 1 + its index in c.Recipients,
	// or 0 for a number first read on a row that failed, whose sighting is in failed.
	seen   *seenTable
	failed map[uint64]firstSeen
}

// firstSeen is where a number was first written, and a hash of its vars.
type firstSeen struct {
	vars    uint64
	line    int32
	fromCSV bool
}

// reserve makes room for n more recipients.
func (d *dedup) reserve(n int) {
	if d.seen.n == 0 {
		d.seen = newSeenTable(n + n/8) // an estimate: room for a little more
	}
}

// touch reads ahead the slots of seen that adding rows, a chunk of a file's, will read
// first (seenTable.firstSlot): at ten million numbers, adding them one read of memory after another
// was a fifth of loading's CPU, on the one goroutine that adds rows in the file's order.
func (d *dedup) touch(rows []prepared) {
	var sum uint64
	for _, row := range rows {
		if row.key != 0 {
			sum += d.seen.firstSlot(row.key)
		}
	}
	d.seen.touched += sum
}

// same tells whether the number of seen value v is key (seenTable.get).
func (d *dedup) same(key uint64, v uint32) bool {
	if v == 0 {
		_, ok := d.failed[key]
		return ok
	}
	to := d.c.Recipients.At(int(v - 1)).To
	k, _ := strconv.ParseUint(to[1:], 10, 64)
	return k == key
}

// first is where the number key was first read, whose seen value is v.
func (d *dedup) first(key uint64, v uint32) firstSeen {
	if v == 0 {
		return d.failed[key]
	}
	r := d.c.Recipients.At(int(v - 1))
	return firstSeen{vars: r.Vars.hash(), line: r.Line, fromCSV: r.FromCSV}
}

func (d *dedup) add(row prepared) {
	c := d.c
	for _, p := range row.problemList() {
		d.ps.add(p.File, p.Line, p.Field, "%s", p.Msg)
	}
	if row.failed() {
		if row.rec.To == "" {
			return
		}
		// The number is valid (the text is not): repeats of it are still checked.
	}
	file := c.fileOf(row.rec)
	key := row.key
	v := uint32(c.Recipients.Len()) + 1
	if row.failed() {
		v = 0
	}
	if v, dup := d.seen.add(key, v, func(v uint32) bool { return d.same(key, v) }); dup {
		if first := d.first(key, v); first.vars != row.vars {
			at := c.Pos(Recipient{Line: first.line, FromCSV: first.fromCSV})
			d.ps.add(file, int(row.rec.Line), row.field, "%s is also at %s with different vars; a number gets one message per campaign", row.rec.To, at)
		}
		return // the same number with the same vars is sent once
	}
	if row.failed() {
		if d.failed == nil {
			d.failed = map[uint64]firstSeen{}
		}
		d.failed[key] = firstSeen{vars: row.vars, line: row.rec.Line, fromCSV: row.rec.FromCSV}
		return
	}
	if err := c.Recipients.add(row.rec, key, row.csvAt); err != nil {
		d.ps.add(file, int(row.rec.Line), row.field, "%v", err)
	}
}

// destinationsFile is one destinations_file (after symlinks, under one campaign root) and
// the campaigns that name it. It is read and decoded once; each record is prepared (its
// number normalised, its text rendered) for each campaign, which may differ in
// default_region and text. Reading it once per campaign took three campaigns naming a 1 GB
// file 37 s and 3.5 GB (measured).
type destinationsFile struct {
	file  string   // as the first campaign names it; problems of the file itself are here
	root  string   // the campaign root it must resolve inside
	users []*dedup // one per campaign that names it, in load order
	// vars holds the vars of the file's rows, once for all the campaigns that name it.
	vars *spillLog
}

// csvChunk is a run of CSV records prepared together by one worker, for every campaign
// that names the file.
type csvChunk struct {
	seq      int
	n        int          // records read into the chunk, good or not
	raw      []string     // the good records' numbers as written
	rows     [][]prepared // per campaign (destinationsFile.users), one per good record
	problems []Problem    // of the file itself: broken quoting, not UTF-8, a NUL
	end      int64        // bytes of the file read when the chunk was full
}

// maxReserve bounds the recipients reserved from the first chunk's estimate (11 bytes of
// table each, with the headroom reserve adds): a file whose first rows are short cannot
// make Load reserve more than 176 MB, and only the part its rows fill is ever touched.
const maxReserve = 16 << 20

const chunkRows = 2048

func (f *destinationsFile) load(ps *problems, digest hash.Hash) {
	fh, err := openConfined(f.file, f.root, MaxCSVBytes)
	if err != nil {
		for _, d := range f.users {
			d.c.problem(ps, "destinations_file", "cannot read %s: %s", safetext.Escape(d.c.CSVFile), fileProblem(err, f.root, "split the recipients over several campaigns"))
		}
		return
	}
	defer fh.Close()
	for _, d := range f.users {
		fmt.Fprintf(digest, "%s\x00", d.c.CSVFile)
	}
	cr := NewCSVReader(io.TeeReader(io.LimitReader(fh, MaxCSVBytes), digest))
	header, err := cr.Read()
	if err == io.EOF {
		ps.add(f.file, 1, "", "the file is empty; it needs a header row with a `to` column")
		return
	}
	if err != nil {
		csvProblem(ps, f.file, err)
		return
	}
	if len(header) > MaxCSVColumns {
		ps.add(f.file, 1, "", "the header has %d columns; the limit is %d", len(header), MaxCSVColumns)
		return
	}
	for _, h := range header {
		if !utf8.ValidString(h) || strings.ContainsFunc(h, isControl) {
			// Not quoted: this may be any file, and its first line anything.
			ps.add(f.file, 1, "", "the header is not UTF-8 text (or holds control characters); is this a CSV file? Save it as UTF-8 CSV")
			return
		}
	}
	header = slices.Clone(header)
	toCol := -1
	var names []string
	var cols []int
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch {
		case h == "":
			ps.add(f.file, 1, "", "column %d has no name in the header", i+1)
		case h == "to" && toCol >= 0:
			ps.add(f.file, 1, "to", "the column is named twice in the header")
		case h == "to":
			toCol = i
		case slices.Contains(names, h):
			ps.add(f.file, 1, safetext.Clip(h, safetext.MaxShown), "the column is named twice in the header")
		default:
			names = append(names, h)
			cols = append(cols, i)
		}
	}
	if toCol < 0 {
		ps.add(f.file, 1, "to", "%s", noToColumn(header))
		return
	}
	for _, d := range f.users {
		// Once here rather than at every row (see checkConsent).
		if col, _ := d.c.Settings.ConsentColumns(); col != "" && d.c.IsMarketing() && d.c.Settings.ConsentRequired() && !slices.Contains(names, col) {
			ps.add(f.file, 1, safetext.Clip(col, safetext.MaxShown), "the header has no %s column, which consent.column names (%s): every recipient of the marketing campaign %s needs the time they agreed (consent.marketing: required)", safetext.Quote(col), d.c.Settings.Pos("consent.column"), d.c.ID)
		}
	}

	// Reading the CSV is fast; normalising numbers and rendering texts is not. Workers
	// prepare chunks of rows on every core, and the chunks are added back in file order.
	todo := make(chan *csvChunk, 4)
	done := make(chan *csvChunk, 4)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs := make([]*Renderer, len(f.users))
			for k, d := range f.users {
				rs[k] = d.c.NewRenderer()
			}
			for ch := range todo {
				for k, d := range f.users {
					for i := range ch.rows[k] {
						d.c.prepare(rs[k], &ch.rows[k][i], ch.raw[i])
					}
				}
				done <- ch
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	newChunk := func() *csvChunk { return &csvChunk{rows: make([][]prepared, len(f.users))} }
	rows := 0 // data rows read, good or not; written before todo is closed
	go func() {
		defer close(todo)
		seq := 0
		ch := newChunk()
		var varBuf []string
		for {
			row, err := cr.Read()
			if err == io.EOF {
				break
			}
			rows++
			ch.n++
			bad := -1
			if err == nil {
				bad = slices.IndexFunc(row, func(v string) bool { return !utf8.ValidString(v) })
			}
			switch {
			case err != nil:
				ch.problems = append(ch.problems, CSVProblem(f.file, err))
			case bad >= 0:
				line, _ := cr.FieldPos(0)
				field := "to"
				if bad != toCol {
					field = safetext.Clip(strings.TrimSpace(header[bad]), safetext.MaxShown)
				}
				ch.problems = append(ch.problems, Problem{File: f.file, Line: line, Field: field, Msg: "is not UTF-8 text; save the file as UTF-8 CSV"})
			default:
				line, _ := cr.FieldPos(0)
				values := varBuf[:0]
				for _, col := range cols {
					values = append(values, row[col])
				}
				varBuf = values
				if bad := slices.IndexFunc(values, hasNUL); bad >= 0 {
					ch.problems = append(ch.problems, Problem{File: f.file, Line: line, Field: safetext.Clip(names[bad], safetext.MaxShown), Msg: "holds a NUL character, which no SMS can carry"})
					break
				}
				// One copy of the vars, shared by every campaign that names the file.
				vars := NewVars(&names, values...)
				for k := range f.users {
					ch.rows[k] = append(ch.rows[k], prepared{rec: Recipient{Vars: vars, Line: int32(line), FromCSV: true}, field: "to"})
				}
				ch.raw = append(ch.raw, row[toCol])
			}
			if err != nil && !errors.Is(err, csv.ErrFieldCount) {
				break
			}
			if ch.n == chunkRows {
				ch.seq, seq, ch.end = seq, seq+1, cr.InputOffset()
				todo <- ch
				ch = newChunk()
			}
		}
		if ch.n > 0 {
			ch.seq = seq
			todo <- ch
		}
	}()
	var size int64
	if fi, err := fh.Stat(); err == nil {
		size = fi.Size()
	}
	pending := map[int]*csvChunk{}
	next := 0
	var at []int64
	for ch := range done {
		pending[ch.seq] = ch
		for ch, ok := pending[next]; ok; ch, ok = pending[next] {
			delete(pending, next)
			for _, p := range ch.problems {
				ps.add(p.File, p.Line, p.Field, "%s", p.Msg)
			}
			// Every good row's vars go to the shared log once, for all its campaigns.
			at = at[:0]
			for _, row := range ch.rows[0] {
				off, err := add(f.vars, row.rec.Vars.values)
				if err != nil {
					ps.add(f.file, int(row.rec.Line), "", "%v", err)
				}
				at = append(at, off)
			}
			for k, d := range f.users {
				if next == 0 && ch.end > 0 && ch.n == chunkRows {
					// Reserve for the rows the file's size suggests, so that a million
					// recipients are not copied over and over as the slice and map grow.
					d.reserve(int(min(size*chunkRows/ch.end, maxReserve)))
				}
				d.touch(ch.rows[k])
				for i, row := range ch.rows[k] {
					row.csvAt = at[i]
					d.add(row)
				}
			}
			next++
		}
	}
	if rows == 0 {
		ps.add(f.file, 1, "", "the file has a header but no recipients; add rows below the header, or remove destinations_file")
	}
}

// numberColumns are names people give the column of numbers.
var numberColumns = []string{"phone", "number", "mobile", "msisdn", "tel", "telephone", "phone_number", "destination", "recipient"}

// NumberColumn returns the first column of header named as people name a column of numbers
// (phone, mobile, msisdn, ...), trimmed, or "". A message about a header without the column
// it needs may name this one: it is one of a few known names, while the header may be any
// file's first line.
func NumberColumn(header []string) string {
	for _, h := range header {
		if slices.Contains(numberColumns, strings.ToLower(strings.TrimSpace(h))) {
			return strings.TrimSpace(h)
		}
	}
	return ""
}

// noToColumn says a header lacks `to`. It does not list the header: the file may be any
// file in the work tree (an untracked .env), and its first line anything; it names a
// column only when it is one of numberColumns.
func noToColumn(header []string) string {
	if h := NumberColumn(header); h != "" {
		return fmt.Sprintf("the header has no `to` column; rename %q, the column of numbers, to `to`", h)
	}
	return fmt.Sprintf("the header has no `to` column (it has %d %s); the first line must name the columns, the numbers' one `to`", len(header), words.Plural(len(header), "column", "columns"))
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// prepare normalises a row's number, checks its consent, assigns its variant and renders
// its text (every variant's, in an experiment), or records why it cannot be sent. It only
// touches the row, so workers can prepare rows in parallel.
func (c *Campaign) prepare(r *Renderer, row *prepared, raw string) {
	if row.failed() {
		return
	}
	rec := &row.rec
	file := c.fileOf(*rec)
	fail := func(field, format string, args ...any) {
		row.fail(Problem{File: file, Line: int(rec.Line), Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	e164, msg := Normalize(raw, c.DefaultRegion)
	if msg != "" {
		fail(row.field, "%s", msg)
		return
	}
	// A copy: a number written in E.164 comes back as a slice of the CSV record it was read
	// from, which would stay in memory, every var with it, as long as the recipient.
	rec.To = strings.Clone(e164)
	row.key, _ = strconv.ParseUint(e164[1:], 10, 64)
	row.vars = rec.Vars.hash()
	c.checkConsent(row)
	if len(c.Variants) > 0 {
		c.prepareVariants(r, row, fail)
		return
	}
	if c.tmpl == nil {
		return // the template did not parse; that is reported once, on text
	}
	if parts, hash, ok := c.renderChecked(r, rec, "text", fail); ok {
		rec.Parts, rec.Hash = int32(parts), hash
	}
}

// prepareVariants assigns the recipient its variant and renders every variant's text for
// it: a recipient held out of the test may receive any of them once a winner is decided,
// and one in the test receives another should the file name a winner later.
func (c *Campaign) prepareVariants(r *Renderer, row *prepared, fail func(field, format string, args ...any)) {
	rec := &row.rec
	if c.assign != nil {
		v, _ := c.assign.Assign(rec.To)
		rec.Variant = int8(v)
	}
	most := 0
	for i := range c.Variants {
		if c.Variants[i].tmpl == nil {
			continue // reported once, on variants[i].text
		}
		parts, hash, ok := c.renderChecked(r.variants[i], rec, fmt.Sprintf("variants[%d].text", i), fail)
		if !ok {
			continue
		}
		most = max(most, parts)
		if int(rec.Variant) == i {
			rec.Parts, rec.Hash = int32(parts), hash
		}
	}
	if rec.Held() {
		rec.Parts = int32(most)
	}
}

// renderChecked renders a recipient's text with r and checks that it can be sent: its
// parts and hash, or a problem at field (false).
func (c *Campaign) renderChecked(r *Renderer, rec *Recipient, field string, fail func(field, format string, args ...any)) (int, uint64, bool) {
	text, err := r.Render(*rec)
	if errors.Is(err, ErrTextTooLong) {
		fail(field, "renders to more than %d bytes for %s; the limit is %d", MaxTextBytes, rec.To, MaxTextBytes)
		return 0, 0, false
	}
	if err != nil {
		fail(field, "%v", err)
		return 0, 0, false
	}
	parts, enc := Parts(text)
	switch {
	case text == "":
		fail(field, "renders to an empty text for %s", rec.To)
	case parts > MaxParts:
		fail(field, "renders to %d SMS parts (%s, %d chars) for %s; the limit is %d", parts, enc, utf8.RuneCountInString(text), rec.To, MaxParts)
	case len(text) > MaxTextBytes:
		fail(field, "renders to %d bytes for %s; the limit is %d", len(text), rec.To, MaxTextBytes)
	default:
		return parts, r.hash(text), true
	}
	return 0, 0, false
}

// hash is order-independent, so inline vars and CSV columns compare equal.
func (v Vars) hash() uint64 {
	var sum uint64
	h := fnv.New64a()
	rest := v.values
	for _, n := range v.Names() {
		val, after, _ := strings.Cut(rest, "\x00")
		rest = after
		h.Reset()
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(val))
		sum += h.Sum64()
	}
	return sum
}

func hasNUL(s string) bool { return strings.IndexByte(s, 0) >= 0 }

// Renderer renders one campaign's texts. It reuses its buffers, so it is not safe for
// concurrent use: make one per goroutine.
type Renderer struct {
	c *Campaign
	// variants render each variant's text, in a campaign with variants: Render picks the
	// recipient's.
	variants []*Renderer
	buf      bytes.Buffer
	vars     map[string]string
	opts     []byte
	sha      hash.Hash

	// tmpl is the campaign's template with its formatting functions counted against
	// budget, which each rendering resets.
	tmpl   *template.Template
	budget budget

	plain plainText
	// For plain texts: the var names the indexes below were worked out for (a CSV's rows
	// share theirs), each part's var as an index into them (-1: none such), and one
	// recipient's values as offsets into its joined values.
	names  *[]string
	index  []int
	bounds []int
}

// NewRenderer makes a renderer of the texts the campaign's recipients are assigned: its
// text, or each recipient's variant (a held recipient has none: ErrHeld).
func (c *Campaign) NewRenderer() *Renderer {
	r := c.newRenderer(c.tmpl)
	if len(c.Variants) > 0 {
		r.variants = make([]*Renderer, len(c.Variants))
		for i := range c.Variants {
			r.variants[i] = c.VariantRenderer(i)
		}
	}
	return r
}

// VariantRenderer makes a renderer of variant i's text, whichever variant a recipient is
// assigned.
func (c *Campaign) VariantRenderer(i int) *Renderer { return c.newRenderer(c.Variants[i].tmpl) }

func (c *Campaign) newRenderer(t *template.Template) *Renderer {
	p := plainOf(t)
	r := &Renderer{c: c, vars: map[string]string{}, opts: []byte(c.options()), sha: sha256.New(),
		plain: p, index: make([]int, len(p))}
	if t != nil {
		// Clone shares the parsed tree; only the functions are the renderer's own.
		r.tmpl = template.Must(t.Clone()).Funcs(r.budget.funcs())
	}
	return r
}

// ErrHeld is why a held recipient's text cannot be rendered: none is theirs until the
// experiment has a winner.
var ErrHeld = errors.New("the recipient is held out of the experiment's test: no variant is theirs until a winner is decided")

// ErrTextTooLong stops a rendering that would exceed MaxTextBytes.
var ErrTextTooLong = fmt.Errorf("the text is longer than %d bytes", MaxTextBytes)

// limitedBuffer fails a write that would take it past MaxTextBytes, which stops the
// template there: a text is never built bigger than Infobip would accept.
type limitedBuffer struct{ buf *bytes.Buffer }

func (w limitedBuffer) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > MaxTextBytes {
		return 0, ErrTextTooLong
	}
	return w.buf.Write(p)
}

// Render executes the text template over the recipient's vars: the campaign's text, or,
// for a renderer of NewRenderer in a campaign with variants, the recipient's variant's
// (ErrHeld for a held recipient). A text over MaxTextBytes stops rendering with
// ErrTextTooLong.
func (r *Renderer) Render(rec Recipient) (string, error) {
	if r.variants != nil {
		if rec.Held() || int(rec.Variant) >= len(r.variants) {
			return "", ErrHeld
		}
		return r.variants[rec.Variant].Render(rec)
	}
	if r.plain != nil {
		if text, ok, err := r.renderPlain(rec.Vars); ok {
			return text, err
		}
	}
	r.buf.Reset()
	r.budget.reset()
	if err := r.tmpl.Execute(limitedBuffer{&r.buf}, rec.Vars.Map(r.vars)); err != nil {
		if errors.Is(err, ErrTextTooLong) {
			return "", ErrTextTooLong
		}
		return "", renderError(err)
	}
	return r.buf.String(), nil
}

// renderPlain renders a plain text; ok is false when the recipient lacks one of its vars,
// which the template then reports in its words.
func (r *Renderer) renderPlain(v Vars) (text string, ok bool, err error) {
	if v.names != r.names || v.names == nil {
		names := v.Names()
		for i, p := range r.plain {
			r.index[i] = -1
			if p.name == "" {
				continue
			}
			// The last of a name given twice, as in the template's map.
			for j := len(names) - 1; j >= 0 && r.index[i] < 0; j-- {
				if names[j] == p.name {
					r.index[i] = j
				}
			}
			if r.index[i] < 0 {
				r.names = nil
				return "", false, nil
			}
		}
		r.names = v.names
	}
	r.bounds = append(r.bounds[:0], 0)
	for i := 0; i < len(v.values); i++ {
		if v.values[i] == 0 {
			r.bounds = append(r.bounds, i+1)
		}
	}
	r.bounds = append(r.bounds, len(v.values)+1)
	if len(r.bounds)-1 < len(v.Names()) {
		return "", false, nil // fewer values than names: let the template decide
	}
	value := func(k int) string { return v.values[r.bounds[k] : r.bounds[k+1]-1] }
	n := 0
	for i, p := range r.plain {
		if r.index[i] < 0 {
			n += len(p.text)
		} else {
			n += len(value(r.index[i]))
		}
	}
	if n > MaxTextBytes {
		return "", true, ErrTextTooLong
	}
	var b strings.Builder
	b.Grow(n)
	for i, p := range r.plain {
		if r.index[i] < 0 {
			b.WriteString(p.text)
		} else {
			b.WriteString(value(r.index[i]))
		}
	}
	return b.String(), true, nil
}

// Weigh renders a recipient's text with r and returns its SMS parts and hash, as Load
// computes them for the text a recipient is assigned: for a recipient held out of an
// experiment's test and sent the winner, whose text Load could not know.
func (r *Renderer) Weigh(rec Recipient) (parts int, hash uint64, err error) {
	text, err := r.Render(rec)
	if err != nil {
		return 0, 0, err
	}
	parts, _ = Parts(text)
	return parts, r.hash(text), nil
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
	if i := strings.Index(msg, "error calling "); i >= 0 {
		return fmt.Errorf("the text cannot be rendered: %s", strings.TrimPrefix(msg[i:], "error "))
	}
	if i := strings.Index(msg, "executing "); i >= 0 {
		msg = msg[i:]
	}
	return fmt.Errorf("template: %s", msg)
}
