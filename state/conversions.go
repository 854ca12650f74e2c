package state

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"
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

// MessageIndex holds every recorded message compactly (40 bytes each), to match event rows
// against in memory instead of one query per row.
type MessageIndex struct {
	msgs      []indexed
	campaigns []string                    // interned campaign ids
	byID      []int32                     // message indexes sorted by messageId
	byTo      map[string]map[uint64]int32 // campaign -> number -> its latest round's message
	// others holds the messageIds not in smsform's own form (none, unless written by hand).
	others   map[string]int32
	otherIDs map[int32]string
}

type indexed struct {
	id       [16]byte // an smsform messageId is "sf-" and these 16 bytes in hex
	to       uint64   // E.164 digits
	round    int32
	campaign uint16
	state    uint8
	conv     uint8
	tracked  bool
}

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
		id = "sf-" + hex.EncodeToString(m.id[:])
	}
	return Trackable{
		Campaign: x.campaigns[m.campaign], Round: int(m.round), To: NumberText(m.to),
		MessageID: id, State: stateCodes[m.state], Tracked: m.tracked, Conversion: convCodes[m.conv],
	}
}

// ByMessageID finds a message by its messageId.
func (x *MessageIndex) ByMessageID(id string) (int32, bool) {
	k, ok := idKey(id)
	if !ok {
		i, ok := x.others[id]
		return i, ok
	}
	j, found := slices.BinarySearchFunc(x.byID, k, func(i int32, k [16]byte) int { return bytes.Compare(x.msgs[i].id[:], k[:]) })
	if !found {
		return 0, false
	}
	return x.byID[j], true
}

// ByNumber finds the message a campaign's latest round sent to an E.164 number.
func (x *MessageIndex) ByNumber(campaign, to string) (int32, bool) {
	k, ok := NumberKey(to)
	if !ok {
		return 0, false
	}
	i, ok := x.byTo[campaign][k]
	return i, ok
}

// HasCampaign reports whether anything of the campaign is recorded.
func (x *MessageIndex) HasCampaign(campaign string) bool { return x.byTo[campaign] != nil }

func idKey(id string) ([16]byte, bool) {
	var k [16]byte
	hexPart, ok := strings.CutPrefix(id, "sf-")
	if !ok || len(hexPart) != 32 {
		return k, false
	}
	_, err := hex.Decode(k[:], []byte(hexPart))
	return k, err == nil
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

// IndexBuilder assembles a MessageIndex from rows that come ordered by campaign and round.
type IndexBuilder struct {
	x     *MessageIndex
	sizes map[string]int
}

// NewIndexBuilder starts an index; sizes (messages per campaign, may be nil) lets it size
// its maps up front, as a million-entry map grown by doubling briefly holds two copies.
func NewIndexBuilder(total int, sizes map[string]int) *IndexBuilder {
	return &IndexBuilder{x: &MessageIndex{msgs: make([]indexed, 0, total), byTo: map[string]map[uint64]int32{}}, sizes: sizes}
}

// Add indexes one message with the state of its conversion ("" when none). The bytes are
// not kept: a backend may pass buffers it reuses.
func (b *IndexBuilder) Add(campaign []byte, round int32, to, id, st []byte, tracked bool, conv []byte) {
	x := b.x
	m := indexed{round: round, state: stateCodeOf(st), conv: convCodeOf(conv), tracked: tracked}
	n, ok := NumberKey(string(to))
	if !ok {
		return // not a number: no event can match it
	}
	m.to = n
	i := int32(len(x.msgs))
	if k, ok := idKey(string(id)); ok {
		m.id = k
	} else {
		if x.others == nil {
			x.others, x.otherIDs = map[string]int32{}, map[int32]string{}
		}
		x.others[string(id)], x.otherIDs[i] = i, string(id)
	}
	if len(x.campaigns) == 0 || x.campaigns[len(x.campaigns)-1] != string(campaign) {
		x.campaigns = append(x.campaigns, string(campaign))
		x.byTo[string(campaign)] = make(map[uint64]int32, b.sizes[string(campaign)])
	}
	m.campaign = uint16(len(x.campaigns) - 1)
	x.msgs = append(x.msgs, m)
	x.byTo[x.campaigns[m.campaign]][n] = i // rows come in round order: the latest round wins
}

// Index is the finished index.
func (b *IndexBuilder) Index() *MessageIndex {
	x := b.x
	x.byID = make([]int32, 0, len(x.msgs))
	for i := range x.msgs {
		if _, other := x.otherIDs[int32(i)]; !other {
			x.byID = append(x.byID, int32(i))
		}
	}
	slices.SortFunc(x.byID, func(a, b int32) int { return bytes.Compare(x.msgs[a].id[:], x.msgs[b].id[:]) })
	return x
}
