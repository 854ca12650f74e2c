package campaign

import (
	"encoding/binary"
	"regexp/syntax"
	"slices"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// The country of a number whose calling code several countries share (+1, +7, +44) is the
// first of them, in libphonenumber's order, whose leading digits start the national number
// or whose patterns accept it as a number of some type. libphonenumber answers by running
// up to a dozen regular expressions per country, every time: 8 µs for a +1 number, 14 times
// what the rest of a plan spends on it. A regionTable answers the same question from the
// same metadata by walking the digits through a deterministic automaton built from those
// regular expressions, one state per digit, each state built the first time a number
// reaches it and kept: the same answer, for every number, in constant time.

// maxRegionStates bounds the states one calling code's table keeps, about 300 bytes each;
// numbers reaching past them (which only numbers made to reach them would) are answered by
// libphonenumber, as before.
const maxRegionStates = 50_000

// maxNationalLength is the longest national number libphonenumber reads
// (MAX_LENGTH_FOR_NSN); a table answers numbers up to that length.
const maxNationalLength = 17

var (
	regionTablesMu sync.Mutex
	regionTables   = map[int]*regionTable{}
	metadata       = sync.OnceValue(func() map[string]*phonenumbers.PhoneMetadata {
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

// sharedRegion is phonenumbers.GetRegionCodeForNumber for the national number (digits,
// without a leading zero) of a calling code several regions share, "" where no region
// claims it; ok is false where the table cannot answer and libphonenumber must.
func sharedRegion(cc int, national string) (region string, ok bool) {
	if len(national) == 0 || len(national) > maxNationalLength {
		return "", false
	}
	regionTablesMu.Lock()
	t, built := regionTables[cc]
	if !built {
		t = newRegionTable(phonenumbers.GetRegionCodesForCountryCode(cc))
		regionTables[cc] = t
	}
	regionTablesMu.Unlock()
	if t == nil {
		return "", false
	}
	return t.lookup(national)
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

// A regionState is where the digits read so far leave every automaton: for each, its
// active instructions, and for a leading-digits automaton whether it has matched already.
type regionState struct {
	depth   int
	sets    [][]uint32
	matched []bool
	next    [10]*regionState
	answer  string
	decided bool
}

// newRegionTable builds the table of regions from their metadata, or nil where a pattern
// uses what the automaton does not read (an anchor or a word boundary).
func newRegionTable(regions []string) *regionTable {
	meta := metadata()
	if len(regions) < 2 || meta == nil {
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
		if len(prog.Inst) > 0xffff {
			return 0, false // a state's key counts instructions in two bytes
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
	start := &regionState{sets: make([][]uint32, len(t.progs)), matched: make([]bool, len(t.progs))}
	for i, prog := range t.progs {
		start.sets[i] = closure(prog, nil, uint32(prog.Start))
		start.matched[i] = t.prefix[i] && hasMatch(prog, start.sets[i])
	}
	t.start = t.intern(start)
	return t
}

// lookup walks national's digits through the table.
func (t *regionTable) lookup(national string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.start
	for i := 0; i < len(national); i++ {
		d := national[i] - '0'
		if d > 9 {
			return "", false
		}
		if s.next[d] == nil {
			if len(t.states) >= maxRegionStates {
				return "", false
			}
			s.next[d] = t.intern(t.step(s, national[i]))
		}
		s = s.next[d]
	}
	if !s.decided {
		s.answer, s.decided = t.decide(s), true
	}
	return s.answer, true
}

// step is the state after reading one more digit.
func (t *regionTable) step(s *regionState, c byte) *regionState {
	n := &regionState{depth: s.depth + 1, sets: make([][]uint32, len(t.progs)), matched: make([]bool, len(t.progs))}
	for i, prog := range t.progs {
		var set []uint32
		for _, pc := range s.sets[i] {
			inst := &prog.Inst[pc]
			if inst.Op != syntax.InstMatch && inst.MatchRune(rune(c)) {
				set = closure(prog, set, inst.Out)
			}
		}
		slices.Sort(set)
		n.matched[i] = s.matched[i] || t.prefix[i] && hasMatch(prog, set)
		if !n.matched[i] {
			// Once leading digits have matched, what follows does not matter.
			n.sets[i] = set
		}
	}
	return n
}

// intern returns the state already kept for s's key, or keeps s.
func (t *regionTable) intern(s *regionState) *regionState {
	// The depth, then per automaton whether it matched and its instructions, counted.
	b := []byte{byte(s.depth)}
	for i, set := range s.sets {
		m := byte(0)
		if s.matched[i] {
			m = 1
		}
		b = append(b, m, byte(len(set)>>8), byte(len(set)))
		for _, pc := range set {
			b = binary.BigEndian.AppendUint32(b, pc)
		}
	}
	key := string(b)
	if kept, ok := t.states[key]; ok {
		return kept
	}
	t.states[key] = s
	return s
}

// decide is getRegionCodeForNumberFromRegionList at the end of a number.
func (t *regionTable) decide(s *regionState) string {
	full := func(p patternRule) bool {
		if len(p.lengths) > 0 && !slices.Contains(p.lengths, int32(s.depth)) {
			return false
		}
		return hasMatch(t.progs[p.prog], s.sets[p.prog])
	}
	for _, r := range t.regions {
		if r.leading >= 0 {
			if s.matched[r.leading] {
				return r.code
			}
			continue
		}
		if full(r.general) && slices.ContainsFunc(r.types, full) {
			return r.code
		}
	}
	return ""
}

// closure adds pc and what it reaches without reading a digit to set, keeping only the
// instructions that read one or match.
func closure(prog *syntax.Prog, set []uint32, pc uint32) []uint32 {
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
			if !slices.Contains(set, pc) {
				set = append(set, pc)
			}
		}
	}
	return set
}

func hasMatch(prog *syntax.Prog, set []uint32) bool {
	return slices.ContainsFunc(set, func(pc uint32) bool { return prog.Inst[pc].Op == syntax.InstMatch })
}
