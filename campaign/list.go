package campaign

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// Recipients are a campaign's recipients in file order, kept compactly: each is encoded into
// a run of bytes (its number's digits, hash, parts, line, variant and where its vars are: a
// dozen or two bytes, where a struct with its strings took over a hundred). The vars of a
// destinations_file are written once for every campaign that names it. Past a few MB the
// bytes go to unlinked temporary files, so ten million recipients cost the process an index
// of a few MB rather than gigabytes. At and All decode them again; a nil *Recipients holds
// none.
//
// Appending is for the loader only; once loaded, Recipients are read-only and safe for
// concurrent use.
type Recipients struct {
	n     int
	index []int64 // offset of every blockRecs-th record
	names []*[]string
	ids   map[*[]string]uint64 // index in names, plus 1

	recs *spillLog // the records
	own  *spillLog // the vars of inline recipients
	csv  *spillLog // the vars of the destinations_file's rows, shared with other campaigns

	mu    sync.Mutex
	cur   [2]cursor          // over recs and vars, for At
	cache [cacheBlocks]block // recently decoded blocks, for At
	clock int
}

const (
	// recordFields are the varints of a record after its hash (see add).
	recordFields = 8
	// blockRecs records share one index entry: At decodes at most this many to find one.
	blockRecs = 32
	// cacheBlocks decoded blocks are kept for At (apply's workers read a few apart).
	cacheBlocks = 8
)

type block struct {
	first int // index of its first record; -1 when empty
	recs  []Recipient
}

// newRecipients returns an empty list whose CSV rows' vars are in csv (nil: none).
func newRecipients(csv *spillLog) *Recipients {
	rs := &Recipients{ids: map[*[]string]uint64{}, recs: &spillLog{}, own: &spillLog{}, csv: csv}
	for i := range rs.cache {
		rs.cache[i].first = -1
	}
	return rs
}

// Len is the number of recipients.
func (rs *Recipients) Len() int {
	if rs == nil {
		return 0
	}
	return rs.n
}

// add appends a recipient, whose E.164 number's digits are key. A recipient from the CSV
// has its vars at byte csvAt of the shared log; csvAt < 0 for an inline one.
func (rs *Recipients) add(r Recipient, key uint64, csvAt int64) error {
	id := uint64(0)
	if r.Vars.names != nil {
		var ok bool
		if id, ok = rs.ids[r.Vars.names]; !ok {
			rs.names = append(rs.names, r.Vars.names)
			id = uint64(len(rs.names))
			rs.ids[r.Vars.names] = id
		}
	}
	flags := byte(0)
	if r.FromCSV {
		flags |= 1
	}
	varsAt := csvAt
	if csvAt < 0 {
		var err error
		if varsAt, err = add(rs.own, r.Vars.values); err != nil {
			return err
		}
	} else {
		flags |= 2
	}
	// The record: its length (a byte), the hash (8 bytes), then the fields of recordFields.
	var b [1 + 8 + recordFields*binary.MaxVarintLen64]byte
	e := binary.LittleEndian.AppendUint64(b[:1], r.Hash)
	for _, v := range [recordFields]uint64{key, uint64(r.Parts), uint64(r.Line), uint64(uint8(r.Variant)), uint64(flags), id, uint64(varsAt), uint64(len(r.Vars.values))} {
		e = binary.AppendUvarint(e, v)
	}
	e[0] = byte(len(e) - 1)
	if rs.n%blockRecs == 0 {
		rs.index = append(rs.index, rs.recs.size())
	}
	if _, err := add(rs.recs, e); err != nil {
		return err
	}
	rs.n++
	return nil
}

var errCorrupt = errors.New("a record does not decode")

// decode reads the record at byte off of the records (through cursors over the records
// and over the vars), returning it and the offset of the next.
func (rs *Recipients) decode(recs, vars *cursor, off int64) (Recipient, int64, error) {
	h, next, err := rs.head(recs, off)
	if err != nil {
		return Recipient{}, 0, err
	}
	r, err := rs.full(h, vars)
	return r, next, err
}

// recordHead is a record's hash and fields (recordFields: key, parts, line, variant,
// flags, names id, vars offset, vars length), checked.
type recordHead struct {
	hash uint64
	vals [recordFields]uint64
}

// head reads the record at byte off of the records as far as its fields, returning them
// and the offset of the next.
func (rs *Recipients) head(recs *cursor, off int64) (recordHead, int64, error) {
	var h recordHead
	e, next, err := record(recs, off)
	if err != nil {
		return h, 0, err
	}
	h.hash = binary.LittleEndian.Uint64(e)
	e = e[8:]
	for i := range h.vals {
		var k int
		if h.vals[i], k = binary.Uvarint(e); k <= 0 {
			return h, 0, errCorrupt
		}
		e = e[k:]
	}
	if h.vals[5] > uint64(len(rs.names)) || h.vals[7] > MaxCSVBytes {
		return h, 0, errCorrupt
	}
	return h, next, nil
}

// full is the recipient of a record's head, its vars read through vars.
func (rs *Recipients) full(h recordHead, vars *cursor) (Recipient, error) {
	key, flags, id := h.vals[0], h.vals[4], h.vals[5]
	from := rs.own
	if flags&2 != 0 {
		from = rs.csv
	}
	vars.over(from)
	values, err := vars.bytes(int64(h.vals[6]), int64(h.vals[7]))
	if err != nil {
		return Recipient{}, err
	}
	// One string holds the number and the values: one allocation per recipient.
	var sb strings.Builder
	var digits [21]byte
	sb.Grow(len(digits) + len(values))
	sb.WriteByte('+')
	sb.Write(strconv.AppendUint(digits[:0], key, 10))
	to := sb.Len()
	sb.Write(values)
	s := sb.String()
	r := Recipient{To: s[:to], Hash: h.hash, Parts: int32(h.vals[1]), Line: int32(h.vals[2]), Variant: int8(h.vals[3]), FromCSV: flags&1 != 0}
	if id > 0 {
		r.Vars = Vars{names: rs.names[id-1], values: s[to:]}
	}
	return r, nil
}

// record returns the bytes of the record at byte off of the records, its hash first, and
// the offset of the next.
func record(recs *cursor, off int64) ([]byte, int64, error) {
	head, err := recs.bytes(off, 1)
	if err != nil {
		return nil, 0, err
	}
	n := int64(head[0])
	e, err := recs.bytes(off+1, n)
	if err != nil {
		return nil, 0, err
	}
	if len(e) < 8 {
		return nil, 0, errCorrupt
	}
	return e, off + 1 + n, nil
}

// At returns recipient i (0 <= i < Len). It panics on an index out of range, as a slice
// does, and when a temporary file cannot be read back (a disk that loses what it was just
// given: nothing after that can be trusted).
func (rs *Recipients) At(i int) Recipient {
	if i < 0 || i >= rs.Len() {
		panic(fmt.Sprintf("campaign: recipient %d of %d", i, rs.Len()))
	}
	first := i - i%blockRecs
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, b := range rs.cache {
		if b.first == first && i-first < len(b.recs) { // a block read while loading may have grown
			return b.recs[i-first]
		}
	}
	b := &rs.cache[rs.clock]
	rs.clock = (rs.clock + 1) % cacheBlocks
	b.first, b.recs = -1, b.recs[:0]
	rs.cur[0].over(rs.recs)
	off := rs.index[first/blockRecs]
	for k := first; k < min(first+blockRecs, rs.n); k++ {
		r, next, err := rs.decode(&rs.cur[0], &rs.cur[1], off)
		if err != nil {
			readBackFailed(k, err)
		}
		b.recs, off = append(b.recs, r), next
	}
	b.first = first
	return b.recs[i-first]
}

// All yields the recipients in order with their index, decoding them one after the other.
func (rs *Recipients) All() iter.Seq2[int, Recipient] { return rs.From(0) }

// From is All from recipient lo on.
func (rs *Recipients) From(lo int) iter.Seq2[int, Recipient] {
	return func(yield func(int, Recipient) bool) {
		if lo >= rs.Len() {
			return
		}
		var recs, vars cursor
		recs.over(rs.recs)
		first := lo - lo%blockRecs
		off := rs.index[first/blockRecs]
		for i := first; i < rs.n; i++ {
			r, next, err := rs.decode(&recs, &vars, off)
			if err != nil {
				readBackFailed(i, err)
			}
			off = next
			if i < lo {
				continue
			}
			if !yield(i, r) {
				return
			}
		}
	}
}

// readBackFailed stops the run when recipient i cannot be read back from the temporary
// file the recipients are kept in: what was written there is gone, and nothing can go on.
func readBackFailed(i int, err error) {
	panic(fmt.Sprintf("campaign: read recipient %d back from the temporary file of recipients: %v; "+
		"is the disk of the temporary directory full or failing? Free space there, or set TMPDIR to another disk, and run again", i, err))
}

// A Peek is a recipient of a pass in order (Peeks), decoded only as far as comparing it
// with the state needs: its number's digits, hash and variant. Recipient reads the rest, its
// number as text and its vars, once: a re-plan of messages recorded unchanged never does.
// A Peek is valid until the pass moves on.
type Peek struct {
	i    int // its index
	rs   *Recipients
	h    recordHead
	vars *cursor
	r    Recipient
	read bool
}

// Key is the recipient's number as its E.164 digits (+41790000001 is 41790000001).
func (p *Peek) Key() uint64 { return p.h.vals[0] }

// Hash is the recipient's text hash (Recipient.Hash).
func (p *Peek) Hash() uint64 { return p.h.hash }

// Variant is the recipient's variant (Recipient.Variant).
func (p *Peek) Variant() int8 { return int8(p.h.vals[3]) }

// Recipient is the whole recipient, as All yields it. It panics when a temporary file
// cannot be read back, as All does.
func (p *Peek) Recipient() Recipient {
	if !p.read {
		r, err := p.rs.full(p.h, p.vars)
		if err != nil {
			readBackFailed(p.i, err)
		}
		p.r, p.read = r, true
	}
	return p.r
}

// Peeks yields the recipients in order with their index, as All does, each as a Peek.
func (rs *Recipients) Peeks() iter.Seq2[int, *Peek] { return rs.PeeksOf(0, rs.Len()) }

// PeeksOf is Peeks of the recipients [lo, hi), bounds outside the list cut to it: passes
// over parts of a list, one goroutine each, read it at once.
func (rs *Recipients) PeeksOf(lo, hi int) iter.Seq2[int, *Peek] {
	return func(yield func(int, *Peek) bool) {
		lo, hi := max(lo, 0), min(hi, rs.Len())
		if lo >= hi {
			return
		}
		var recs, vars cursor
		recs.over(rs.recs)
		p := new(Peek)
		first := lo - lo%blockRecs
		off := rs.index[first/blockRecs]
		for i := first; i < hi; i++ {
			h, next, err := rs.head(&recs, off)
			if err != nil {
				readBackFailed(i, err)
			}
			off = next
			if i < lo {
				continue
			}
			*p = Peek{i: i, rs: rs, h: h, vars: &vars}
			if !yield(i, p) {
				return
			}
		}
	}
}

// Keys yields the recipients' numbers in order, as E.164 digits (+41790000001 is
// 41790000001), with their index: All without decoding the rest of each record, for a
// pass that needs only the numbers (the caps' check of a million recipients).
func (rs *Recipients) Keys() iter.Seq2[int, uint64] {
	return func(yield func(int, uint64) bool) {
		var recs cursor
		recs.over(rs.recs)
		var off int64
		for i := range rs.Len() {
			e, next, err := record(&recs, off)
			key, k := uint64(0), 0
			if err == nil {
				if key, k = binary.Uvarint(e[8:]); k <= 0 {
					err = errCorrupt
				}
			}
			if err != nil {
				readBackFailed(i, err)
			}
			if !yield(i, key) {
				return
			}
			off = next
		}
	}
}

// String lists the recipients, for diagnostics (a test's failure message).
func (rs *Recipients) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range rs.All() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%+v", r)
	}
	b.WriteByte(']')
	return b.String()
}

// spillLog is a log of bytes that is appended to and read back by offset. The first
// memBytes stay in memory; past them, the log moves to an unlinked temporary file, and
// only the tail still to be written is kept in memory.
type spillLog struct {
	mem     []byte
	file    *os.File
	written int64 // bytes in file
}

// memBytes a log keeps in memory before it spills (and writes at once when spilled).
const memBytes = 1 << 20

func (l *spillLog) size() int64 { return l.written + int64(len(l.mem)) }

// add adds b to l and returns its offset.
func add[B string | []byte](l *spillLog, b B) (int64, error) {
	off := l.size()
	if len(l.mem)+len(b) > memBytes {
		if err := l.flush(); err != nil {
			return 0, err
		}
	}
	if len(b) > memBytes {
		_, err := l.file.WriteAt([]byte(b), l.written)
		l.written += int64(len(b))
		return off, err
	}
	l.mem = append(l.mem, b...)
	return off, nil
}

// flush writes the bytes in memory to the temporary file, making it first.
func (l *spillLog) flush() error {
	if l.file == nil {
		f, err := os.CreateTemp("", "smsform-recipients-*")
		if err != nil {
			return fmt.Errorf("recipients past %d MB are kept in a temporary file, which cannot be made: %w; set TMPDIR to a writable directory with room (about 25 bytes a recipient, plus the vars)", memBytes>>20, err)
		}
		// Unlinked at once: nothing is left behind, even by a killed run, and the space is
		// freed when the file is closed, when the log is collected. A system that cannot
		// unlink an open file (Windows) has it removed then instead.
		name := f.Name()
		if os.Remove(name) == nil {
			name = ""
		}
		l.file = f
		runtime.AddCleanup(l, func(f *os.File) {
			f.Close()
			if name != "" {
				os.Remove(name)
			}
		}, f)
	}
	if _, err := l.file.WriteAt(l.mem, l.written); err != nil {
		return fmt.Errorf("write recipients to a temporary file: %w; free space in TMPDIR or set it to a directory with room (about 25 bytes a recipient, plus the vars)", err)
	}
	l.written += int64(len(l.mem))
	l.mem = l.mem[:0]
	return nil
}

// cursor reads a spillLog through a window of its bytes.
type cursor struct {
	log   *spillLog
	buf   []byte
	start int64 // offset of buf[0]
}

// window is how many bytes a cursor reads from a temporary file at once.
const window = 64 << 10

// over points c at l.
func (c *cursor) over(l *spillLog) {
	if c.log != l {
		*c = cursor{log: l, buf: c.buf[:0]}
	}
}

// bytes returns the n bytes at off, valid until the next call.
func (c *cursor) bytes(off, n int64) ([]byte, error) {
	l := c.log
	if off < 0 || n < 0 || off+n > l.size() {
		return nil, errCorrupt
	}
	if n == 0 { // a recipient without vars
		return nil, nil
	}
	if off >= l.written { // in memory
		return l.mem[off-l.written : off-l.written+n], nil
	}
	if off >= c.start && off+n <= c.start+int64(len(c.buf)) {
		return c.buf[off-c.start : off-c.start+n], nil
	}
	if off+n > l.written { // across the end of the file: one copy of both parts
		b := make([]byte, n)
		k, err := l.file.ReadAt(b[:l.written-off], off)
		if err != nil || int64(k) != l.written-off {
			return nil, fmt.Errorf("%w: %v", errCorrupt, err)
		}
		copy(b[k:], l.mem)
		return b, nil
	}
	size := min(max(n, window), l.written-off)
	if int64(cap(c.buf)) < size {
		c.buf = make([]byte, size)
	}
	c.buf = c.buf[:size]
	k, err := l.file.ReadAt(c.buf, off)
	if int64(k) < n {
		return nil, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	c.buf, c.start = c.buf[:k], off
	return c.buf[:n], nil
}
