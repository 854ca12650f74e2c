package campaign

// seenTable holds the numbers a campaign has read (their E.164 digits) with a uint32 each,
// in 8 bytes a slot: a 32-bit fingerprint of the number and the value. A fingerprint that
// matches is confirmed by the caller, who can tell the number a value stands for (see
// dedup.same), so the numbers themselves are not kept twice. Open addressing with linear
// probing, in flat arrays the garbage collector never scans, split into shards by the
// number's hash, each growing on its own, so that growing never holds two copies of the
// whole table: ten million numbers take 110 to 220 MB (shards between three quarters and
// three eighths full), where a Go map of their first sighting took about 450.
type seenTable struct {
	shards  [seenShards]seenShard
	n       int
	touched uint64 // what dedup.touch read, kept only so that the reads happen
}

const (
	seenShards = 256
	// maxLoad is the share of a shard's slots in use past which it doubles.
	maxLoad = 0.75
)

// A seenShard's slot is 0 when empty, else fingerprint<<32 | value. A fingerprint is never
// 0, and it alone says where its probe starts, so a shard grows without the numbers.
type seenShard struct {
	slots []uint64
	n     int
}

func newSeenTable(n int) *seenTable {
	t := &seenTable{}
	for i := range t.shards {
		t.shards[i].slots = make([]uint64, max(16, int(float64(n/seenShards)/maxLoad)+1))
	}
	return t
}

// locate returns the shard of number k and its fingerprint: the top byte of k's hash
// picks the shard, the low 32 bits are the fingerprint.
func (t *seenTable) locate(k uint64) (*seenShard, uint32) {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return &t.shards[k>>56], uint32(k) | 1
}

// start is where the probe for fingerprint fp starts in s.
func (s *seenShard) start(fp uint32) int { return int(uint64(fp) * uint64(len(s.slots)) >> 32) }

// add adds number k with value v, unless it is in the table: then it returns its value
// and true. same(v) tells whether the number of value v, whose fingerprint matches k's, is
// k.
func (t *seenTable) add(k uint64, v uint32, same func(v uint32) bool) (uint32, bool) {
	s, fp := t.locate(k)
	if float64(s.n+1) > maxLoad*float64(len(s.slots)) {
		old := s.slots
		s.slots = make([]uint64, 2*len(old))
		for _, e := range old {
			if e != 0 {
				s.insert(e)
			}
		}
	}
	for i := s.start(fp); ; i++ {
		if i == len(s.slots) {
			i = 0
		}
		switch e := s.slots[i]; {
		case e == 0:
			s.slots[i] = uint64(fp)<<32 | uint64(v)
			s.n++
			t.n++
			return 0, false
		case uint32(e>>32) == fp && same(uint32(e)):
			return uint32(e), true
		}
	}
}

func (s *seenShard) insert(e uint64) {
	for i := s.start(uint32(e >> 32)); ; i++ {
		if i == len(s.slots) {
			i = 0
		}
		if s.slots[i] == 0 {
			s.slots[i] = e
			return
		}
	}
}

// firstSlot is the slot where the probe of number k starts. Reading it for a chunk of
// numbers before adding them (dedup.touch) brings those slots into the cache: a table of
// ten million numbers is far larger than the cache, and such reads, independent of each
// other, go to memory together where add's go one after another.
func (t *seenTable) firstSlot(k uint64) uint64 {
	s, fp := t.locate(k)
	return s.slots[s.start(fp)]
}
