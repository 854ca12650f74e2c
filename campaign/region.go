package campaign

import (
	"encoding/binary"
	"regexp/syntax"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// Whether a number is valid, and the country of a number whose calling code several
// countries share (+1, +7, +44), come from libphonenumber's metadata: the country is the
// first of them, in libphonenumber's order, whose leading digits start the national number
// or whose patterns accept it as a number of some type, and the number is valid where its
// country's patterns accept it. libphonenumber answers by running up to a dozen regular
// expressions per country, every time: 8 µs for a +1 number, 14 times what the rest of a
// plan spends on it, and most of what validate spends on a Swiss one. A regionTable answers
// the same questions from the same metadata by walking the digits through a deterministic
// automaton built from those regular expressions, one state per digit, each state built the
// first time a number reaches it and kept: the same answers, for every number, in constant
// time.

// maxRegionStates bounds the states one calling code's table keeps. Every state any digits
// can reach, for every calling code, is about 26,000 (10 MB; TestRegionTablesBounded), the
// largest table far below the bound: it is there in case new metadata made one explode,
// and past it libphonenumber answers, as before.
const maxRegionStates = 10_000

// maxNationalLength is the longest national number libphonenumber reads
// (MAX_LENGTH_FOR_NSN); a table answers numbers up to that length.
const maxNationalLength = 17

var (
	regionTablesMu sync.Mutex
	// regionTables holds each calling code's table once built (a table of no regions where
	// none can be built), read without a lock.
	regionTables [1000]atomic.Pointer[regionTable]
	metadata     = sync.OnceValue(func() map[string]*phonenumbers.PhoneMetadata {
		coll, err := phonenumbers.MetadataCollection()
		if err != nil {
			return nil
		}
		m := map[string]*phonenumbers.PhoneMetadata{}
		for _, md := range coll.GetMetadata() {
			m[md.GetId()] = md
		}
		return m
	})
)

// numberRegion is phonenumbers.GetRegionCodeForNumber for the national number (digits,
// without a leading zero) of calling code cc ("" where no region claims it), and
// phonenumbers.IsValidNumber; ok is false where the table cannot answer and libphonenumber
// must.
func numberRegion(cc int, national string) (region string, valid, ok bool) {
	if len(national) == 0 || len(national) > maxNationalLength || cc <= 0 || cc >= len(regionTables) {
		return "", false, false
	}
	t := regionTables[cc].Load()
	if t == nil {
		regionTablesMu.Lock()
		if t = regionTables[cc].Load(); t == nil {
			if t = newRegionTable(phonenumbers.GetRegionCodesForCountryCode(cc)); t == nil {
				t = &regionTable{}
			}
			regionTables[cc].Store(t)
		}
		regionTablesMu.Unlock()
	}
	if t.start == nil {
		return "", false, false
	}
	s, ok := t.lookup(national)
	if !ok {
		return "", false, false
	}
	return s.region, s.valid, true
}

// A regionTable decides the region of a calling code's national numbers: regions in
// libphonenumber's order, each with the automata of its leading digits or of its number
// patterns.
type regionTable struct {
	progs   []*syntax.Prog
	prefix  []bool // the automaton of leading digits: a match of the first digits is enough
	regions []regionRule

	mu     sync.Mutex
	start  *regionState
	states map[string]*regionState
}

// A regionRule is one region: either its leading digits (a prefix match), or its general
// pattern and the patterns of its number types (a full match, each within its lengths).
type regionRule struct {
	code    string
	leading int // index in progs, or -1
	general patternRule
	types   []patternRule
}

type patternRule struct {
	prog    int
	lengths []int32 // empty: any length
}

// A regionState is where the digits read so far leave the automata: the instructions still
// active (automaton<<16 | instruction, sorted; an automaton that can no longer match has
// none), and the leading-digits automata that have matched already. It holds only what is
// alive, a few dozen entries, however many regions share the calling code.
type regionState struct {
	depth   int
	active  []uint32
	matched []uint16
	next    [10]atomic.Pointer[regionState] // built once, then read without the lock
	region  string                          // the region of a number ending here; "": none
	valid   bool                            // whether such a number is valid for its region
}

// newRegionTable builds the table of a calling code's regions from their metadata, or nil
// where a pattern uses what the automaton does not read (an anchor or a word boundary), or
// for the non-geographical codes (+800, +882), whose metadata is kept apart.
func newRegionTable(regions []string) *regionTable {
	meta := metadata()
	if len(regions) == 0 || meta == nil || slices.Contains(regions, phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY) {
		return nil
	}
	t := &regionTable{states: map[string]*regionState{}}
	compile := func(pattern string) (int, bool) {
		re, err := syntax.Parse(pattern, syntax.Perl)
		if err != nil {
			return 0, false
		}
		prog, err := syntax.Compile(re.Simplify())
		if err != nil {
			return 0, false
		}
		if len(prog.Inst) > 0xffff || len(t.progs) >= 0xffff {
			return 0, false // a state's entries hold each in 16 bits
		}
		for _, inst := range prog.Inst {
			if inst.Op == syntax.InstEmptyWidth {
				return 0, false
			}
		}
		t.progs = append(t.progs, prog)
		t.prefix = append(t.prefix, false)
		return len(t.progs) - 1, true
	}
	for _, code := range regions {
		md := meta[code]
		if md == nil {
			// GetRegionCodeForNumber would not find it either: libphonenumber has
			// metadata for every region it lists; a table without it would guess.
			return nil
		}
		r := regionRule{code: code, leading: -1}
		if ld := md.GetLeadingDigits(); ld != "" {
			i, ok := compile(ld)
			if !ok {
				return nil
			}
			r.leading, t.prefix[i] = i, true
		}
		// The types getNumberTypeHelper tries; a number of any of them is valid.
		descs := []*phonenumbers.PhoneNumberDesc{md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(),
			md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetFixedLine()}
		if !md.GetSameMobileAndFixedLinePattern() {
			descs = append(descs, md.GetMobile())
		}
		i, ok := compile(md.GetGeneralDesc().GetNationalNumberPattern())
		if !ok {
			return nil
		}
		r.general = patternRule{prog: i, lengths: md.GetGeneralDesc().GetPossibleLength()}
		for _, d := range descs {
			i, ok := compile(d.GetNationalNumberPattern())
			if !ok {
				return nil
			}
			r.types = append(r.types, patternRule{prog: i, lengths: d.GetPossibleLength()})
		}
		t.regions = append(t.regions, r)
	}
	start := &regionState{}
	for i, prog := range t.progs {
		start.active = closure(prog, uint32(i), start.active, uint32(prog.Start))
	}
	slices.Sort(start.active)
	start = t.matchLeading(start)
	t.start = t.intern(start)
	return t
}

// lookup walks national's digits through the table; only a step not taken before takes
// the lock.
func (t *regionTable) lookup(national string) (*regionState, bool) {
	s := t.start
	for i := 0; i < len(national); i++ {
		d := national[i] - '0'
		if d > 9 {
			return nil, false
		}
		next := s.next[d].Load()
		if next == nil {
			if next = t.build(s, national[i]); next == nil {
				return nil, false
			}
		}
		s = next
	}
	return s, true
}

// build keeps the state after s and c, or returns nil where the table is full.
func (t *regionTable) build(s *regionState, c byte) *regionState {
	t.mu.Lock()
	defer t.mu.Unlock()
	if next := s.next[c-'0'].Load(); next != nil {
		return next
	}
	if len(t.states) >= maxRegionStates {
		return nil
	}
	next := t.intern(t.step(s, c))
	s.next[c-'0'].Store(next)
	return next
}

// step is the state after reading one more digit.
func (t *regionTable) step(s *regionState, c byte) *regionState {
	n := &regionState{depth: s.depth + 1, matched: s.matched}
	for _, e := range s.active {
		i, pc := e>>16, e&0xffff
		prog := t.progs[i]
		if inst := &prog.Inst[pc]; inst.Op != syntax.InstMatch && inst.MatchRune(rune(c)) {
			n.active = closure(prog, i, n.active, inst.Out)
		}
	}
	slices.Sort(n.active)
	return t.matchLeading(n)
}

// matchLeading moves the leading-digits automata that match where s is into s.matched:
// once they have matched, what follows does not matter.
func (t *regionTable) matchLeading(s *regionState) *regionState {
	var newly []uint16
	for _, e := range s.active {
		if i := e >> 16; t.prefix[i] && t.progs[i].Inst[e&0xffff].Op == syntax.InstMatch {
			newly = append(newly, uint16(i))
		}
	}
	if len(newly) == 0 {
		return s
	}
	s.matched = slices.Compact(slices.Sorted(slices.Values(slices.Concat(s.matched, newly))))
	s.active = slices.DeleteFunc(s.active, func(e uint32) bool { return slices.Contains(s.matched, uint16(e>>16)) })
	return s
}

// intern returns the state already kept for s's key, or keeps s.
func (t *regionTable) intern(s *regionState) *regionState {
	b := make([]byte, 0, 1+4+4*len(s.active)+2*len(s.matched))
	b = append(b, byte(s.depth))
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.active)))
	for _, e := range s.active {
		b = binary.BigEndian.AppendUint32(b, e)
	}
	for _, i := range s.matched {
		b = binary.BigEndian.AppendUint16(b, i)
	}
	key := string(b)
	if kept, ok := t.states[key]; ok {
		return kept
	}
	s.region, s.valid = t.decide(s)
	t.states[key] = s
	return s
}

// decide is GetRegionCodeForNumber and IsValidNumber at the end of a number: the only
// region of a calling code, or the first whose leading digits start the number or whose
// patterns accept it; valid where the region's patterns accept it.
func (t *regionTable) decide(s *regionState) (string, bool) {
	full := func(p patternRule) bool {
		if len(p.lengths) > 0 && !slices.Contains(p.lengths, int32(s.depth)) {
			return false
		}
		return slices.ContainsFunc(s.active, func(e uint32) bool {
			return int(e>>16) == p.prog && t.progs[p.prog].Inst[e&0xffff].Op == syntax.InstMatch
		})
	}
	validFor := func(r regionRule) bool { return full(r.general) && slices.ContainsFunc(r.types, full) }
	if len(t.regions) == 1 {
		return t.regions[0].code, validFor(t.regions[0])
	}
	for _, r := range t.regions {
		if r.leading >= 0 {
			if slices.Contains(s.matched, uint16(r.leading)) {
				return r.code, validFor(r)
			}
			continue
		}
		if validFor(r) {
			return r.code, true
		}
	}
	return "", false
}

// closure adds pc of automaton i, and what it reaches without reading a digit, to set,
// keeping only the instructions that read one or match.
func closure(prog *syntax.Prog, i uint32, set []uint32, pc uint32) []uint32 {
	stack := []uint32{pc}
	seen := map[uint32]bool{}
	for len(stack) > 0 {
		pc, stack = stack[len(stack)-1], stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		inst := &prog.Inst[pc]
		switch inst.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, inst.Out, inst.Arg)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, inst.Out)
		case syntax.InstFail:
		default:
			if e := i<<16 | pc; !slices.Contains(set, e) {
				set = append(set, e)
			}
		}
	}
	return set
}
