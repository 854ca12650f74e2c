package campaign

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// Recipients are a campaign's recipients in file order, kept compactly: each is encoded into
// a run of bytes (its number's digits, hash, parts, line, variant and vars: a few dozen
// bytes, where a struct with its strings took over a hundred), and past spillBytes the runs
// go to an unlinked temporary file, so ten million recipients cost the process a few MB of
// index rather than gigabytes. At and All decode them again; a nil *Recipients holds none.
//
// Appending is for the loader only; once loaded, Recipients are read-only and safe for
// concurrent use.
type Recipients struct {
	n     int
	index []int64 // offset of every blockRecs-th record
	names []*[]string
	ids   map[*[]string]uint64 // index in names

	mem   []byte   // the records, while in memory
	file  *os.File // the records past mem, once spilled
	size  int64    // bytes written to file
	spill string   // the temporary directory (empty: os.TempDir)

	mu    sync.Mutex
	cache [cacheBlocks]block // recently decoded blocks, for At
	clock int
}

const (
	// blockRecs records share one index entry: At decodes at most this many to find one.
	blockRecs = 32
	// spillBytes of records are kept in memory; the rest go to a temporary file.
	spillBytes = 16 << 20
	// cacheBlocks decoded blocks are kept for At (apply's workers read a few apart).
	cacheBlocks = 8
)

type block struct {
	first int // index of its first record; -1 when empty
	recs  []Recipient
}

// newRecipients returns an empty list, spilling past spillBytes into dir (the system's
// temporary directory when empty).
func newRecipients(dir string) *Recipients {
	rs := &Recipients{ids: map[*[]string]uint64{}, spill: dir}
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

// add appends a recipient. Its number must be E.164 ('+' and digits).
func (rs *Recipients) add(r Recipient) error {
	if rs.n%blockRecs == 0 {
		rs.index = append(rs.index, int64(len(rs.mem))+rs.size)
	}
	var err error
	rs.mem, err = rs.encode(rs.mem, r)
	if err != nil {
		return err
	}
	rs.n++
	if len(rs.mem) >= spillBytes {
		return rs.flush()
	}
	return nil
}

// flush moves the records in memory to the spill file, making it first.
func (rs *Recipients) flush() error {
	if rs.file == nil {
		f, err := os.CreateTemp(rs.spill, "smsform-recipients-*")
		if err != nil {
			return fmt.Errorf("recipients past %d MB go to a temporary file: %w", spillBytes>>20, err)
		}
		// Unlinked at once where the system allows it: nothing is left behind, even by a
		// killed run; elsewhere it is removed by Close.
		if os.Remove(f.Name()) == nil {
			rs.spill = ""
		} else {
			rs.spill = f.Name()
		}
		rs.file = f
		runtime.AddCleanup(rs, func(f *os.File) { f.Close() }, f)
	}
	if _, err := rs.file.WriteAt(rs.mem, rs.size); err != nil {
		return fmt.Errorf("write recipients to a temporary file: %w", err)
	}
	rs.size += int64(len(rs.mem))
	rs.mem = rs.mem[:0]
	return nil
}

// Close releases the temporary file, if any. The recipients are not readable afterwards.
func (rs *Recipients) Close() error {
	if rs == nil || rs.file == nil {
		return nil
	}
	err := rs.file.Close()
	if rs.spill != "" {
		os.Remove(rs.spill)
	}
	rs.file = nil
	return err
}

// encode appends the record of r: uvarint digits, hash (8 bytes), uvarint parts, uvarint
// line, variant, flags, uvarint names id, uvarint length and the values.
func (rs *Recipients) encode(b []byte, r Recipient) ([]byte, error) {
	key, err := strconv.ParseUint(strings.TrimPrefix(r.To, "+"), 10, 64)
	if err != nil || !strings.HasPrefix(r.To, "+") {
		return b, fmt.Errorf("recipient %q: not an E.164 number", r.To)
	}
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
		flags = 1
	}
	b = binary.AppendUvarint(b, key)
	b = binary.LittleEndian.AppendUint64(b, r.Hash)
	b = binary.AppendUvarint(b, uint64(r.Parts))
	b = binary.AppendUvarint(b, uint64(r.Line))
	b = append(b, byte(r.Variant), flags)
	b = binary.AppendUvarint(b, id)
	b = binary.AppendUvarint(b, uint64(len(r.Vars.values)))
	return append(b, r.Vars.values...), nil
}

var errCorrupt = errors.New("recipients: a record does not decode")

// decode reads one record from br.
func (rs *Recipients) decode(br *bufio.Reader) (Recipient, error) {
	var r Recipient
	key, err := binary.ReadUvarint(br)
	if err != nil {
		return r, err
	}
	var h [8]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return r, errCorrupt
	}
	parts, err1 := binary.ReadUvarint(br)
	line, err2 := binary.ReadUvarint(br)
	variant, err3 := br.ReadByte()
	flags, err4 := br.ReadByte()
	id, err5 := binary.ReadUvarint(br)
	n, err6 := binary.ReadUvarint(br)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil || id > uint64(len(rs.names)) || n > MaxCSVBytes {
		return r, errCorrupt
	}
	// One string holds the number and the values: one allocation per recipient.
	var sb strings.Builder
	var digits [21]byte
	sb.Grow(len(digits) + int(min(n, uint64(br.Size()))))
	sb.WriteByte('+')
	sb.Write(strconv.AppendUint(digits[:0], key, 10))
	to := sb.Len()
	for n > 0 {
		chunk, err := br.Peek(int(min(n, uint64(br.Size()))))
		if err != nil {
			return r, errCorrupt
		}
		sb.Write(chunk)
		br.Discard(len(chunk))
		n -= uint64(len(chunk))
	}
	str := sb.String()
	r = Recipient{To: str[:to], Hash: binary.LittleEndian.Uint64(h[:]), Parts: int32(parts), Line: int32(line), Variant: int8(variant), FromCSV: flags&1 != 0}
	values := str[to:]
	if id > 0 {
		r.Vars = Vars{names: rs.names[id-1], values: values}
	}
	return r, nil
}

// reader reads the records from the one at byte offset off.
func (rs *Recipients) reader(off int64) *bufio.Reader {
	var src io.Reader
	switch {
	case off >= rs.size:
		src = bytes.NewReader(rs.mem[off-rs.size:])
	default:
		src = io.MultiReader(io.NewSectionReader(rs.file, off, rs.size-off), bytes.NewReader(rs.mem))
	}
	return bufio.NewReaderSize(src, 4096)
}

// At returns recipient i (0 <= i < Len). It panics on an index out of range, as a slice
// does, and when the temporary file cannot be read back (a disk that loses what it was
// just given: nothing after that can be trusted).
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
	br := rs.reader(rs.index[first/blockRecs])
	for k := first; k < min(first+blockRecs, rs.n); k++ {
		r, err := rs.decode(br)
		if err != nil {
			panic(fmt.Sprintf("campaign: read recipient %d back from the temporary file: %v", k, err))
		}
		b.recs = append(b.recs, r)
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
		first := lo - lo%blockRecs
		br := rs.reader(rs.index[first/blockRecs])
		for i := first; i < rs.n; i++ {
			r, err := rs.decode(br)
			if err != nil {
				panic(fmt.Sprintf("campaign: read recipient %d back from the temporary file: %v", i, err))
			}
			if i < lo {
				continue
			}
			if !yield(i, r) {
				return
			}
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
