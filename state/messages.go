package state

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Outgoing is a message about to be sent.
type Outgoing struct {
	Key
	Attempt      int    `json:"a,omitempty"`
	MessageID    string `json:"id"`
	BulkID       string `json:"b"`
	Hash         uint64 `json:"h"`
	Parts        int    `json:"p"`
	TrackingType string `json:"tt,omitempty"` // "" without tracking
	Tracked      bool   `json:"tr,omitempty"`
	// Purpose is the campaign's (Marketing, Transactional): the caps count marketing only.
	Purpose string `json:"pu,omitempty"`
	// SendAt is when the message goes out when not at once (send_at, quiet hours), as
	// FormatTime writes it; "" for at once.
	SendAt string `json:"sa,omitempty"`
	// ConsentAt and ConsentSource are the consent evidence it is sent on, "" without.
	ConsentAt     string `json:"ca,omitempty"`
	ConsentSource string `json:"cs,omitempty"`
	// Variant is the name of the experiment's variant the text is ("" without variants);
	// Held marks a recipient held out of the test and sent the winner.
	Variant string `json:"v,omitempty"`
	Held    bool   `json:"hd,omitempty"`
}

// Batch is the messages of one request, recorded as in flight by MarkSending.
type Batch struct {
	// ID names the batch in the backend that recorded it.
	ID int64
	// CreatedAt is when it was recorded (to the millisecond): the messages' sending_at.
	CreatedAt time.Time
	// Messages are the batch's messages in the state's key order; a settlement gives their
	// outcomes in this order.
	Messages []Outgoing
}

// NewBatch is msgs as one batch recorded now, in the state's key order, after the checks
// the messages table makes: a batch that could not be settled must not be sent.
func NewBatch(msgs []Outgoing) (*Batch, error) {
	for _, m := range msgs {
		if m.Round < 1 || m.Attempt < 0 || m.Campaign == "" || m.To == "" || m.MessageID == "" {
			return nil, fmt.Errorf("record %q as sending: campaign, number, messageId, round >= 1 and attempt >= 0 are required", m.MessageID)
		}
	}
	return &Batch{Messages: SortedByKey(msgs, func(m Outgoing) Key { return m.Key }), CreatedAt: Now()}, nil
}

// Settlement is a batch with the outcomes of its messages, Outcomes[i] being that of
// Batch.Messages[i].
type Settlement struct {
	Batch    *Batch
	Outcomes []Outcome
}

// CheckSettlements refuses settlements whose outcomes do not match their batches.
func CheckSettlements(items []Settlement) error {
	for _, it := range items {
		if len(it.Outcomes) != len(it.Batch.Messages) {
			return fmt.Errorf("settle: %d outcomes for %d messages", len(it.Outcomes), len(it.Batch.Messages))
		}
	}
	return nil
}

// Interrupted is the outcome of every message of a batch left in flight by a run that
// died between recording the batch and recording its answer: unknown.
func Interrupted(b Batch) []Outcome {
	outs := make([]Outcome, len(b.Messages))
	for i, m := range b.Messages {
		outs[i] = Outcome{Key: m.Key, MessageID: m.MessageID, State: Unknown, Error: "the run sending it stopped before recording the answer"}
	}
	return outs
}

// Outcome is what became of one message. The row is found by its key; MessageID guards
// against settling a newer attempt with an older answer.
type Outcome struct {
	Key
	MessageID   string
	State       State
	StatusGroup int
	StatusID    int
	StatusName  string
	SmsCount    int // 0 keeps the planned count
	Error       string
}

// Message is one recorded message in full, for `state list` and `state show`.
type Message struct {
	Key
	Attempt      int
	MessageID    string
	BulkID       string
	State        State
	StatusGroup  int
	StatusID     int
	StatusName   string
	SmsCount     int
	TrackingType string
	Error        string
	CreatedAt    string
	UpdatedAt    string
	// Purpose, SendAt, ConsentAt and ConsentSource are as recorded from Outgoing ("" in
	// messages recorded before they were).
	Purpose       string
	SendAt        string
	ConsentAt     string
	ConsentSource string
	// Variant is the experiment's variant the message was sent with ("" without); Held
	// marks one sent the winner after being held out of the test.
	Variant string
	Held    bool
}

// Filter selects messages for List.
type Filter struct {
	Campaign  string
	States    []State
	MessageID string
	To        string
	Limit     int
	// InFlight adds the messages of batches in flight, as "sending", to the recorded ones.
	InFlight bool
}

// WantsInFlight reports whether a listing with f shows messages of batches in flight:
// asked for, and not filtered out by state. Without, a backend need not read them.
func (f Filter) WantsInFlight() bool {
	return f.InFlight && (len(f.States) == 0 || slices.Contains(f.States, Sending))
}

// MergeInFlight adds the messages of batches in flight, as "sending", to a listing read
// with f: a run is sending them now, or died while it was (the next run that takes the
// lock settles them).
func MergeInFlight(out []Message, batches []Batch, f Filter) []Message {
	if !f.WantsInFlight() || len(batches) == 0 {
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
				SmsCount: o.Parts, TrackingType: o.TrackingType, CreatedAt: FormatTime(b.CreatedAt), UpdatedAt: FormatTime(b.CreatedAt),
				Purpose: o.Purpose, SendAt: o.SendAt, ConsentAt: o.ConsentAt, ConsentSource: o.ConsentSource,
				Variant: o.Variant, Held: o.Held}
			if i, ok := at[o.Key]; ok {
				m.CreatedAt = out[i].CreatedAt // a resend of a recorded message
				out[i] = m
				continue
			}
			at[o.Key] = len(out)
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Message) int { return compareKeys(a.Key, b.Key) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out
}

// Pending is a message whose outcome is unknown, or whose delivery is awaited.
type Pending struct {
	Key
	Attempt   int
	MessageID string
	BulkID    string
	SendingAt time.Time
}

// Undecided is a message of unknown outcome with what deciding about it needs.
type Undecided struct {
	Pending
	// FirstAttemptAt is when its messageId was first sent: an idempotency window runs from
	// it. It equals SendingAt until the message is resent with the same messageId. Where no
	// first attempt was noted (a state from before they were), the row's creation counts,
	// if earlier: erring early only ever means fewer automatic resends.
	FirstAttemptAt time.Time
	// Unsent is set when a person decided, after the latest attempt, that it was not sent
	// (`smsform state resolve -as unsent`): apply sends it again, with the same messageId.
	Unsent     bool
	ResolvedBy string
}

// Resolution is a person's decision about messages of unknown outcome.
type Resolution struct {
	// Sent: the message reached Infobip (say, it is in the portal): recorded as sent.
	// Otherwise unsent: the next apply sends it, with the same messageId.
	Sent bool
	// Campaign limits the decision to one campaign ("" for all).
	Campaign string
	// Targets are messageIds or E.164 numbers; empty means every unknown message (of the
	// campaign).
	Targets []string
	By      string
}

// SortedByKey returns a copy of rows in primary-key order (campaign, round, number), the
// order in which every backend writes them: a transaction then walks the B-tree once from
// left to right instead of jumping around it.
func SortedByKey[T any](rows []T, key func(T) Key) []T {
	out := slices.Clone(rows)
	slices.SortFunc(out, func(a, b T) int { return compareKeys(key(a), key(b)) })
	return out
}

// compareKeys orders keys as the state's primary key does: by campaign, round and number,
// text by its bytes.
func compareKeys(a, b Key) int {
	return cmp.Or(strings.Compare(a.Campaign, b.Campaign), cmp.Compare(a.Round, b.Round), strings.Compare(a.To, b.To))
}
