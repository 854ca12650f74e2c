package state

import (
	"slices"
	"time"
)

// Record is what the plan needs of a recorded message.
type Record struct {
	State   State
	Hash    uint64
	Attempt int
	Error   string // for failed messages, Infobip's reason
	// SendingAt is when the latest send attempt was recorded; an unknown outcome is only
	// resent a grace period after it.
	SendingAt time.Time
}

// Snapshot is the recorded messages of some campaign rounds, read once for a plan.
type Snapshot struct {
	Version Version
	// OptOuts are the active opt-outs, by number, read with the messages.
	OptOuts map[string]OptOut
	// Contacts are the marketing messages frequency caps count, when the campaigns have a
	// cap (read apart, with Reader.Contacts); nil otherwise.
	Contacts *Contacts
	rounds   map[Round]*Recorded
	// trials are what the state holds of the experiment rounds read (see Trial).
	trials map[Round]*Trial
}

var stateCodes = []State{"", Sending, Sent, Failed, Unknown, Abandoned, Capped}

func stateCode(st State) uint8 { return codeOf(stateCodes, st) }

// StateCodes lists the states a message is recorded in by their one-byte codes: a state's
// code is its index, and 0 is none of them. A backend may read a state as its code, which
// costs less than text a million times over (PutCodedRow).
func StateCodes() []State { return slices.Clone(stateCodes) }

// stateCodeOf is stateCode of a state read as bytes, without making a string of them.
func stateCodeOf(st []byte) uint8 {
	for i, s := range stateCodes {
		if string(st) == string(s) {
			return uint8(i)
		}
	}
	return 0
}

// codeOf is v's index in table, 0 (the empty value) when absent: the one-byte form of a
// state in the compact snapshot and index.
func codeOf[T comparable](table []T, v T) uint8 { return uint8(max(slices.Index(table, v), 0)) }

// Round returns the recorded messages of a round (nil, which holds none, if it was not read).
func (s *Snapshot) Round(r Round) *Recorded { return s.rounds[r] }

// Records returns the recorded messages of a round as a map by E.164 number; for tests and
// tools, as it builds the map.
func (s *Snapshot) Records(r Round) map[string]Record {
	if s.rounds[r] == nil {
		return nil
	}
	out := map[string]Record{}
	s.rounds[r].Each(func(to string, rec Record) { out[to] = rec })
	return out
}

// NewSnapshot builds a snapshot from records, for tests and tools.
func NewSnapshot(v Version, recs map[Key]Record) *Snapshot {
	b := NewSnapshotBuilder(v)
	for k, r := range recs {
		b.Round(Round{k.Campaign, k.Round}).Put(k.To, r)
	}
	return b.Snapshot()
}

// SnapshotBuilder assembles a Snapshot as a backend reads it, round by round.
type SnapshotBuilder struct{ snap *Snapshot }

// NewSnapshotBuilder starts a snapshot of the state at version v.
func NewSnapshotBuilder(v Version) *SnapshotBuilder {
	return &SnapshotBuilder{snap: &Snapshot{Version: v, rounds: map[Round]*Recorded{}}}
}

// Round marks round r as read (a round read with no rows holds none) and returns its
// records, for Put and PutRow.
func (b *SnapshotBuilder) Round(r Round) *Recorded {
	recs := b.snap.rounds[r]
	if recs == nil {
		recs = &Recorded{}
		b.snap.rounds[r] = recs
	}
	return recs
}

// Has reports whether round r was read.
func (b *SnapshotBuilder) Has(r Round) bool { return b.snap.rounds[r] != nil }

// InFlight counts the messages of batches in flight as sending, over what the rows said:
// another run is sending them, or one died while it was.
func (b *SnapshotBuilder) InFlight(batches []Batch) {
	for _, bt := range batches {
		for _, m := range bt.Messages {
			if recs := b.snap.rounds[Round{m.Campaign, m.Round}]; recs != nil {
				recs.Put(m.To, Record{State: Sending, Hash: m.Hash, Attempt: m.Attempt, SendingAt: bt.CreatedAt})
			}
		}
	}
}

// OptOuts sets the active opt-outs read with the messages.
func (b *SnapshotBuilder) OptOuts(list []OptOut) { b.snap.OptOuts = OptedOut(list) }

// Snapshot is the finished snapshot.
func (b *SnapshotBuilder) Snapshot() *Snapshot { return b.snap }
