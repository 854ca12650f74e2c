package state

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ConversionState is where a conversion stands. Like a send, it is recorded "submitting"
// before its request and settled after; one whose answer was lost is "unknown" and is not
// submitted again on its own, since Infobip may count a repeat twice.
type ConversionState string

// The conversion states.
const (
	Submitting  ConversionState = "submitting"
	Converted   ConversionState = "converted"
	ConvFailed  ConversionState = "failed"
	ConvUnknown ConversionState = "unknown"
)

// Trackable is what convert needs of a recorded message to match an event to it.
type Trackable struct {
	Campaign  string
	Round     int
	To        string
	MessageID string
	State     State
	Tracked   bool
	// Conversion is the state of its conversion, "" when none was submitted.
	Conversion ConversionState
}

// MessageIndex holds every recorded message compactly (16 bytes each, and 4 more for each
// order it is searched in, 8 more for its messageId's), to match event rows against in
// memory instead of one query per row. A messageId derived from the message's key
// (MessageID, at attempt 0: nearly every one) is not kept but derived again when needed.
type MessageIndex struct {
	msgs      []indexed
	campaigns []string          // interned campaign ids
	campIndex map[string]uint16 // campaign id -> its index in campaigns
	// byID is message indexes sorted by the first 8 bytes of their messageId (idPrefix,
	// by message), and byTo by campaign, number and latest round first: sorted slices, not
	// maps, which at ten million messages held as much again as the messages themselves.
	// Each is sorted when first used: an export names its messages by messageId or by
	// number, seldom both.
	byID, byTo         []int32
	idPrefix           []uint64
	sortByID, sortByTo sync.Once
	// kept holds the messageIds in smsform's form that are not derived from the key at
	// attempt 0 (a retry's, a resend's), by message index, ascending.
	kept []keptID
	// others holds the messageIds not in smsform's own form (none, unless written by hand).
	others   map[string]int32
	otherIDs map[int32]string
}

type indexed struct {
	to       uint64 // E.164 digits
	round    int32
	campaign uint16
	state    uint8
	conv     uint8 // the conversion's code (convCodes), with indexedTracked and indexedKept
}

// keptID is a messageId MessageIndex keeps: its 16 bytes, of message i.
type keptID struct {
	i  int32
	id [16]byte
}

// indexedKept is the bit of indexed.conv set when the messageId is in kept or others, not
// derived from the key.
const indexedKept = 0x40

// indexedTracked is the bit of indexed.conv set when the message was sent with tracking.
const indexedTracked = 0x80

// convMask keeps the conversion's code of indexed.conv.
const convMask = 0x3f

var convCodes = []ConversionState{"", Submitting, Converted, ConvFailed, ConvUnknown}

// convCodeOf is the one-byte form of a conversion state read as bytes.
func convCodeOf(c []byte) uint8 {
	for i, s := range convCodes {
		if string(c) == string(s) {
			return uint8(i)
		}
	}
	return 0
}

// Len is the number of messages indexed.
func (x *MessageIndex) Len() int { return len(x.msgs) }

// Get returns message i.
func (x *MessageIndex) Get(i int32) Trackable {
	m := &x.msgs[i]
	id, other := x.otherIDs[i]
	if !other {
		k := x.idOf(i)
		id = "sf-" + hex.EncodeToString(k[:])
	}
	return Trackable{
		Campaign: x.campaigns[m.campaign], Round: int(m.round), To: NumberText(m.to),
		MessageID: id, State: stateCodes[m.state], Tracked: m.conv&indexedTracked != 0, Conversion: convCodes[m.conv&convMask],
	}
}

// idOf is the 16 bytes of message i's messageId, one in smsform's form (not in others):
// kept, or derived from its key.
func (x *MessageIndex) idOf(i int32) [16]byte {
	m := &x.msgs[i]
	if m.conv&indexedKept != 0 {
		if j, ok := slices.BinarySearchFunc(x.kept, i, func(k keptID, i int32) int { return cmp.Compare(k.i, i) }); ok {
			return x.kept[j].id
		}
	}
	return derivedID(x.campaigns[m.campaign], m.round, m.to)
}

// derivedID is the 16 bytes of the messageId smsform gives the first attempt of the
// message to the E.164 number whose digits are to (MessageID), with no string made.
func derivedID(campaign string, round int32, to uint64) [16]byte {
	var digits [24]byte
	return messageIDSum(campaign, int(round), strconv.AppendUint(append(digits[:0], '+'), to, 10), 0)
}

// Status is what convert decides on of message i: its state, whether it was sent with
// tracking, and its conversion's state; Get without making strings.
func (x *MessageIndex) Status(i int32) (State, bool, ConversionState) {
	m := &x.msgs[i]
	return stateCodes[m.state], m.conv&indexedTracked != 0, convCodes[m.conv&convMask]
}

// ByMessageID finds a message by its messageId: as written, or, for one of smsform's, in
// lower case, as smsform writes them (an export may not).
func (x *MessageIndex) ByMessageID(id string) (int32, bool) {
	if i, ok := x.others[id]; ok {
		return i, true
	}
	k, ok := idKey(id)
	if !ok {
		if k, ok = idKey(strings.ToLower(id)); !ok {
			return 0, false
		}
	}
	x.sortByID.Do(x.sortIDs)
	// Messages whose ids share the first 8 bytes are told apart by all 16.
	p := binary.BigEndian.Uint64(k[:8])
	j, _ := slices.BinarySearchFunc(x.byID, p, func(i int32, p uint64) int { return cmp.Compare(x.idPrefix[i], p) })
	for ; j < len(x.byID) && x.idPrefix[x.byID[j]] == p; j++ {
		if i := x.byID[j]; x.idOf(i) == k {
			return i, true
		}
	}
	return 0, false
}

// ByNumber finds the message a campaign's latest round sent to an E.164 number.
func (x *MessageIndex) ByNumber(campaign, to string) (int32, bool) {
	k, ok := NumberKey(to)
	c, known := x.campIndex[campaign]
	if !ok || !known {
		return 0, false
	}
	x.sortByTo.Do(x.sortNumbers)
	j, found := slices.BinarySearchFunc(x.byTo, toKey{c, k}, func(i int32, k toKey) int { return x.msgs[i].toKey().compare(k) })
	if !found {
		return 0, false
	}
	return x.byTo[j], true // the first of the number's messages: its latest round
}

// toKey is what byTo is sorted by, before the round.
type toKey struct {
	campaign uint16
	to       uint64
}

func (m *indexed) toKey() toKey { return toKey{m.campaign, m.to} }

func (k toKey) compare(o toKey) int {
	if c := cmp.Compare(k.campaign, o.campaign); c != 0 {
		return c
	}
	return cmp.Compare(k.to, o.to)
}

// HasCampaign reports whether anything of the campaign is recorded.
func (x *MessageIndex) HasCampaign(campaign string) bool {
	_, ok := x.campIndex[campaign]
	return ok
}

// idKey is the 16 bytes an smsform messageId ("sf-" and 32 lower-case hex digits) is
// made of; any other messageId is kept as it is (MessageIndex.others).
func idKey[T ~string | ~[]byte](id T) (k [16]byte, ok bool) {
	if len(id) != 3+2*len(k) || string(id[:3]) != "sf-" {
		return k, false
	}
	for i := range k {
		hi, lo := unhex(id[3+2*i]), unhex(id[4+2*i])
		if hi > 0xf || lo > 0xf {
			return k, false
		}
		k[i] = hi<<4 | lo
	}
	return k, true
}

// unhex is a lower-case hex digit's value, 0xff for any other byte: Get writes the id back
// in lower case, so an upper-case one must stay as it was written.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return 0xff
}

// Conversion is one conversion to record: of the message with the key and messageId.
type Conversion struct {
	Key
	MessageID  string
	State      ConversionState
	ProcessKey string
	Error      string
	Source     string
}

// IndexBuilder assembles a MessageIndex from rows in any order (rows grouped by campaign
// spare a lookup of the campaign per row).
type IndexBuilder struct {
	x    *MessageIndex
	last uint16 // the campaign of the row added last
	err  error
}

// maxIndexedCampaigns is how many campaigns an index tells apart (indexed.campaign).
const maxIndexedCampaigns = 1 << 16

// NewIndexBuilder starts an index of total messages (sized up front: growing a slice of
// millions by doubling would briefly hold two copies).
func NewIndexBuilder(total int) *IndexBuilder {
	return &IndexBuilder{x: &MessageIndex{msgs: make([]indexed, 0, total), campIndex: map[string]uint16{}}}
}

// Add indexes one message with the state of its conversion ("" when none). The bytes are
// not kept: a backend may pass buffers it reuses.
func (b *IndexBuilder) Add(campaign []byte, round int32, to, id, st []byte, tracked bool, conv []byte) {
	x := b.x
	m := indexed{round: round, state: stateCodeOf(st), conv: convCodeOf(conv)}
	if tracked {
		m.conv |= indexedTracked
	}
	n, ok := numberKeyOf(to)
	if !ok {
		return // not a number: no event can match it
	}
	m.to = n
	i := int32(len(x.msgs))
	if len(x.campaigns) == 0 || x.campaigns[b.last] != string(campaign) {
		c, ok := x.campIndex[string(campaign)]
		if !ok {
			if len(x.campaigns) == maxIndexedCampaigns {
				// A campaign sharing another's number would match its events.
				b.err = fmt.Errorf("the state records more than %d campaigns, more than convert can tell apart: nothing was submitted; please report this limit", maxIndexedCampaigns)
				return
			}
			c = uint16(len(x.campaigns))
			x.campaigns = append(x.campaigns, string(campaign))
			x.campIndex[string(campaign)] = c
		}
		b.last = c
	}
	m.campaign = b.last
	// The id is kept only when it cannot be derived again from what is indexed: the
	// number as NumberText writes it, the campaign, the round, attempt 0.
	if k, ok := idKey(id); !ok {
		if x.others == nil {
			x.others, x.otherIDs = map[string]int32{}, map[int32]string{}
		}
		x.others[string(id)], x.otherIDs[i] = i, string(id)
		m.conv |= indexedKept
	} else if k != derivedID(x.campaigns[m.campaign], round, n) {
		x.kept = append(x.kept, keptID{i, k})
		m.conv |= indexedKept
	}
	x.msgs = append(x.msgs, m)
}

// Index is the finished index.
func (b *IndexBuilder) Index() (*MessageIndex, error) {
	if b.err != nil {
		return nil, b.err
	}
	return b.x, nil
}

func (x *MessageIndex) sortIDs() {
	x.byID = make([]int32, 0, len(x.msgs)-len(x.otherIDs))
	x.idPrefix = make([]uint64, len(x.msgs))
	for i := range x.msgs {
		if _, other := x.otherIDs[int32(i)]; other {
			continue
		}
		k := x.idOf(int32(i))
		x.idPrefix[i] = binary.BigEndian.Uint64(k[:8])
		x.byID = append(x.byID, int32(i))
	}
	slices.SortFunc(x.byID, func(a, b int32) int { return cmp.Compare(x.idPrefix[a], x.idPrefix[b]) })
}

func (x *MessageIndex) sortNumbers() {
	x.byTo = make([]int32, len(x.msgs))
	for i := range x.byTo {
		x.byTo[i] = int32(i)
	}
	slices.SortFunc(x.byTo, func(a, b int32) int {
		ma, mb := &x.msgs[a], &x.msgs[b]
		if c := ma.toKey().compare(mb.toKey()); c != 0 {
			return c
		}
		return cmp.Compare(mb.round, ma.round) // the latest round first
	})
}
