package state

import (
	"time"
)

// Reply is one inbound SMS a subscriber sent to the account's number, as the API handed it
// out (once).
type Reply struct {
	MessageID  string
	From       string // E.164, with '+'
	To         string
	Text       string
	Keyword    string
	ReceivedAt time.Time
	// OptOut, when set, is the opt-out the reply asks for: recorded only when the reply
	// itself is new, so a reply seen twice opts out once.
	OptOut *OptOut
}

// OptOut is a number that asked for no more marketing texts. A removed one stays, with who
// removed it and when, as history.
type OptOut struct {
	Number        string    `json:"number"`
	Source        string    `json:"source"`
	ReplyID       string    `json:"reply_id,omitempty"`
	AddedBy       string    `json:"added_by,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	ReceivedAt    time.Time `json:"since"`
	RecordedAt    time.Time `json:"recorded_at"`
	RemovedBy     string    `json:"removed_by,omitempty"`
	RemovedAt     time.Time `json:"removed_at,omitzero"`
	RemovedReason string    `json:"removed_reason,omitempty"`
}

// Removed reports whether the opt-out was lifted.
func (o OptOut) Removed() bool { return !o.RemovedAt.IsZero() }

// ReplyCounts says what recording a pull of replies added: replies new to the state and
// the opt-outs they made.
type ReplyCounts struct {
	Replies int `json:"replies"`
	OptOuts int `json:"opt_outs"`
}

// TestSend is one message `smsform test-send` sent: apart from the campaigns' messages.
type TestSend struct {
	MessageID string    `json:"message_id"`
	To        string    `json:"to"`
	Campaign  string    `json:"campaign"`
	Text      string    `json:"text"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	Outcome   string    `json:"outcome"`
}

// SideTables is what a state holds beside messages and conversions, copied whole by
// `smsform state migrate`: opt-outs (history included, in the order recorded), inbound
// replies, test sends and experiments' decisions. They are small next to the messages.
type SideTables struct {
	OptOuts   []OptOut
	Replies   []Reply
	TestSends []TestSend
	// Decisions are the experiments' recorded decisions.
	Decisions []Decision
}

// OptedOut indexes active opt-outs by number.
func OptedOut(list []OptOut) map[string]OptOut {
	m := make(map[string]OptOut, len(list))
	for _, o := range list {
		if !o.Removed() {
			m[o.Number] = o
		}
	}
	return m
}
