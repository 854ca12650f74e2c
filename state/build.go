package state

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// The builders below let another backend (package state/postgres) produce the compact
// read models that plan and convert work on, from the rows it reads, without this package
// exposing their layout.

// SnapshotBuilder assembles a Snapshot row by row.
type SnapshotBuilder struct{ snap *Snapshot }

// NewSnapshotBuilder starts a snapshot of the state at version v.
func NewSnapshotBuilder(v Version) *SnapshotBuilder {
	return &SnapshotBuilder{snap: &Snapshot{Version: v, rounds: map[Round]*Recorded{}}}
}

// Round marks round r as read (a round read with no rows holds none) and returns its
// records, for Put.
func (b *SnapshotBuilder) Round(r Round) *Recorded {
	recs := b.snap.rounds[r]
	if recs == nil {
		recs = &Recorded{recs: map[uint64]compact{}}
		b.snap.rounds[r] = recs
	}
	return recs
}

// Has reports whether round r was read.
func (b *SnapshotBuilder) Has(r Round) bool { return b.snap.rounds[r] != nil }

// Put records one message of a round.
func (r *Recorded) Put(to string, rec Record) { r.put(to, rec) }

// InFlight counts the messages of batches in flight as sending, over what the rows said:
// another run is sending them, or one died while it was.
func (b *SnapshotBuilder) InFlight(batches []Batch) {
	for _, bt := range batches {
		for _, m := range bt.Messages {
			if recs := b.snap.rounds[Round{m.Campaign, m.Round}]; recs != nil {
				recs.put(m.To, Record{State: Sending, Hash: m.Hash, Attempt: m.Attempt, SendingAt: bt.CreatedAt})
			}
		}
	}
}

// Snapshot is the finished snapshot.
func (b *SnapshotBuilder) Snapshot() *Snapshot { return b.snap }

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
	m := indexed{round: round, state: stateCode(State(st)), conv: convCode(ConversionState(conv)), tracked: tracked}
	n, ok := numberKey(string(to))
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

// SortedByKey returns a copy of rows in primary-key order (campaign, round, number), the
// order in which every backend writes them.
func SortedByKey[T any](rows []T, key func(T) Key) []T { return sortedByKey(rows, key) }

// CheckOutgoing makes the checks the messages table makes, before a batch is recorded: a
// batch that could not be settled must not be sent.
func CheckOutgoing(msgs []Outgoing) error {
	for _, m := range msgs {
		if m.Round < 1 || m.Attempt < 0 || m.Campaign == "" || m.To == "" || m.MessageID == "" {
			return fmt.Errorf("record %q as sending: campaign, number, messageId, round >= 1 and attempt >= 0 are required", m.MessageID)
		}
	}
	return nil
}

// MergeInFlight adds the messages of batches in flight, as "sending", to a listing read
// with f: a run is sending them now, or died while it was (the next run that takes the
// lock settles them).
func MergeInFlight(out []Message, batches []Batch, f Filter) []Message {
	if len(f.States) > 0 && !slices.Contains(f.States, Sending) || len(batches) == 0 {
		return out
	}
	at := map[Key]int{}
	for i, m := range out {
		at[m.Key] = i
	}
	for _, b := range batches {
		for _, o := range b.Messages {
			if (f.Campaign != "" && o.Campaign != f.Campaign) || (f.MessageID != "" && o.MessageID != f.MessageID) || (f.To != "" && o.To != f.To) {
				continue
			}
			m := Message{Key: o.Key, Attempt: o.Attempt, MessageID: o.MessageID, BulkID: o.BulkID, State: Sending,
				SmsCount: o.Parts, TrackingType: o.TrackingType, CreatedAt: FormatTime(b.CreatedAt), UpdatedAt: FormatTime(b.CreatedAt)}
			if i, ok := at[o.Key]; ok {
				m.CreatedAt = out[i].CreatedAt // a resend of a recorded message
				out[i] = m
				continue
			}
			at[o.Key] = len(out)
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Message) int {
		return cmp.Or(strings.Compare(a.Campaign, b.Campaign), cmp.Compare(a.Round, b.Round), strings.Compare(a.To, b.To))
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out
}
