package runner

import (
	"context"
	"errors"
	"time"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state"
)

// Request is one request of messages: one campaign round's messages sharing its options. It
// says what to send in smsform's terms; a Sender maps it to an API's wire format.
type Request struct {
	// BulkID names the request, deterministically (see BulkID).
	BulkID string
	// Campaign is the campaign id, which the API can file the messages under.
	Campaign     string
	From         string
	Validity     time.Duration // 0: the API's default
	SendAt       time.Time     // zero: at once
	Window       *TimeWindow   // nil: any time
	NotifyURL    string
	CallbackData string
	// TrackingType, when not empty, turns on conversion tracking under this name.
	TrackingType string
	Speed        *SpeedLimit
	Messages     []OutMessage
}

// OutMessage is one message to one phone.
type OutMessage struct {
	ID   string // the deterministic messageId
	To   string // E.164, with '+'
	Text string
	// Variant is the name of the experiment's variant the text is, "" without variants:
	// the API can file the message under it.
	Variant string
}

// TimeWindow restricts delivery to some days, from one time of day to another (UTC),
// in minutes after midnight.
type TimeWindow struct {
	Days     []string
	From, To int
}

// SpeedLimit caps how fast the API hands the request's messages to operators.
type SpeedLimit struct {
	Amount int
	Unit   string // MINUTE, HOUR or DAY
}

// Bounds on the API's texts that are stored with a message: nothing but the API bounds
// them, and a refused request's error is stored with each of its messages.
const (
	maxReason     = 500 // a reason: the API's error text, with what smsform says of it
	maxStatusName = 100 // a status name, such as REJECTED_DUPLICATE_MESSAGE_ID
	maxTimeText   = 64  // a time as the API wrote it (doneAt)
	maxProcessKey = 64  // a conversion's process key (32 hex digits)
)

// reasonText is a reason as it is stored and shown: escaped, and bounded with a marker.
func reasonText(s string) string { return safetext.Clip(s, maxReason) }

// Status is the API's status of one message: its group (1 pending, 2 undeliverable,
// 3 delivered, 4 expired, 5 rejected) and the finer status within it.
type Status struct {
	Group       int
	ID          int
	Name        string
	Description string
}

// The status groups apply and refresh tell apart (package state holds them all, with what
// they mean for the record).
const (
	GroupPending  = state.GroupPending
	GroupRejected = state.GroupRejected
)

// Rejected reports whether the API refused the message.
func (s Status) Rejected() bool { return s.Group == GroupRejected }

// DuplicateMessageID reports whether the API refused the message because its messageId was
// used before: proof that an earlier send with that id went through.
func (s Status) DuplicateMessageID() bool { return state.DuplicateMessageID(s.Group, s.ID) }

// Answer is the API's answer about one message of a request.
type Answer struct {
	MessageID string
	Status    Status
	SmsCount  int // 0 when the API did not say
}

// Sender sends one request and answers per message. An error says nothing was answered; it
// should be a *SendError saying what may have become of the request (anything else is
// taken as an unknown outcome).
type Sender interface {
	Send(ctx context.Context, req *Request) ([]Answer, error)
}

// SendFailure says what a failed request may have done.
type SendFailure uint8

const (
	// OutcomeUnknown: the API may have acted on the request (a 5xx, no answer after the
	// request was written, an answer that cannot be read).
	OutcomeUnknown SendFailure = iota
	// NothingSent: the request provably did nothing (it never left, 429s past the retries,
	// a wrong address); the messages stay unsent.
	NothingSent
	// CredentialsRefused: 401/403; nothing was done, and no other request will fare better.
	CredentialsRefused
	// RequestRefused: the API refused the request as a whole (a 4xx): sent again unchanged
	// it fails the same way.
	RequestRefused
)

// SendError is a Sender's failure with what it may have done.
type SendError struct {
	Failure SendFailure
	Err     error
	// Hint, if set, says what to check (named variables, never their values).
	Hint string
}

func (e *SendError) Error() string { return e.Err.Error() }

func (e *SendError) Unwrap() error { return e.Err }

// failureOf classifies a Sender's error.
func failureOf(err error) (SendFailure, string) {
	var se *SendError
	if errors.As(err, &se) {
		return se.Failure, se.Hint
	}
	return OutcomeUnknown, ""
}

// LogQuery selects entries of the API's message logs: by messageIds or bulkIds (within the
// API's 2048-character limit), a page at a time.
type LogQuery struct {
	MessageIDs []string
	BulkIDs    []string
	Limit      int
	// Cursor is the previous page's Next; empty asks for the first page.
	Cursor string
}

// LogEntry is one message as the API's logs know it.
type LogEntry struct {
	MessageID string
	BulkID    string
	Status    Status
	SmsCount  int
	DoneAt    string
}

// LogPage is one page of log entries; Next, when set, asks for the next page.
type LogPage struct {
	Entries []LogEntry
	Next    string
}

// LogReader reads the API's message logs (re-readable; the last 48 hours).
type LogReader interface {
	Logs(ctx context.Context, q LogQuery) (LogPage, error)
}
