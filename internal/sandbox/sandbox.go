// Package sandbox is a local Infobip-compatible API server: the fake that smsform's tests send
// to, and a new user's playground (`smsform sandbox`).
//
// It serves the endpoints smsform uses with Infobip's shapes, statuses and errors (the wire
// types of package infobip), keeps what it accepted in memory, moves messages from PENDING to
// DELIVERED after Options.DeliveryDelay (a scheduled one only after its sendAt), and injects
// faults (latency, 429s, 500s, answers dropped after accepting, lagging logs) so that crash
// safety can be seen at work.
//
// Endpoints:
//
//	POST /sms/3/messages                                 send (v3, current)
//	GET  /sms/3/logs                                     re-readable logs, cursor paging, 48 h
//	GET  /sms/3/reports                                  delivery reports, each handed out once
//	POST /sms/2/text/advanced (and /sms/1/text/advanced)  send (older generations)
//	GET  /sms/1/logs, /sms/1/reports                     older logs and reports
//	GET  /sms/1/inbox/reports                            inbound replies, each handed out once
//	POST /ct/1/log/end/{messageId}                       conversion
//	GET  /sandbox/messages                               every accepted message (no auth)
//	DELETE /sandbox/messages                             forget everything (no auth)
//	GET  /sandbox/stats                                  counters (no auth)
//	POST /sandbox/inbound                                queue an inbound reply {from, text} (no auth)
//	GET  /sandbox/events                                 an event export in which messages convert
//	                                                     with a propensity per variant or text (no auth)
//
// Like a default Infobip account, a messageId accepted before is accepted and delivered
// again: a double send, counted in Stats.DoubleSends and marked in Received.Copy. Only with
// Options.IdempotencyWindow (an account where Infobip enabled idempotent sending) is a repeat
// within that window of the first acceptance rejected with status 23
// REJECTED_DUPLICATE_MESSAGE_ID and not delivered.
//
// Other rules a test can rely on: a destination starting with "999", or listed in
// Options.RejectTo, is rejected per message (status 52 REJECTED_DESTINATION); a text over 25
// parts or 4000 bytes is rejected per message (status 25 REJECTED_MESSAGE_TOO_LONG). None of
// the rejected ones is recorded.
package sandbox

import (
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/smsform/smsform/internal/infobip"
)

// ProcessKey is the processKey every successful conversion answers with: the sandbox
// account's one tracking process, 32 upper-case hex characters like Infobip's.
const ProcessKey = "FD8A0CA63CD2B1D455C0EE5B824CABE5"

// Endpoint names, the keys of Stats.Requests.
const (
	EndpointSend    = "send"
	EndpointLogs    = "logs"
	EndpointReports = "reports"
	EndpointLogEnd  = "logend"
	EndpointInbound = "inbound"
	EndpointSandbox = "sandbox"
	EndpointUnknown = "unknown"
)

// Fault kinds, the keys of Stats.Faults.
const (
	FaultLatency = "latency"
	FaultTooMany = "too_many"
	FaultError   = "error"
	FaultDrop    = "drop"
)

// Limits of the API the sandbox enforces.
const (
	MaxTextBytes     = 4000
	MaxQueryIDsChars = 2048
	DefaultLimit     = 50
	MaxLimit         = 1000
	maxMessageIDLen  = 200
	maxBulkIDLen     = 100
	maxCallbackData  = 4000
	maxBodyBytes     = 64 << 20
)

// Options configures a Server. The zero value is a well-behaved API that accepts any
// credentials and delivers at once.
type Options struct {
	// APIKey, if set, is the only key accepted ("Authorization: App <APIKey>"); anything
	// else is answered 401 UNAUTHORIZED. Empty accepts any Authorization header that is
	// present; a request without one is still 401.
	APIKey string
	// DeliveryDelay is how long after acceptance a message moves from PENDING
	// (PENDING_ENROUTE in logs) to DELIVERED (DELIVERED_TO_HANDSET). 0 means at once.
	DeliveryDelay time.Duration
	// Latency is added before answering every API request.
	Latency time.Duration
	// ErrorRate is the fraction of send requests answered 500 GENERAL_ERROR without
	// accepting anything.
	ErrorRate float64
	// TooManyRate is the fraction of API requests (any endpoint) answered 429
	// TOO_MANY_REQUESTS with a Retry-After header, without doing anything.
	TooManyRate float64
	// RetryAfter is the Retry-After of those 429s, sent as whole seconds rounded up.
	// 0 means 1s.
	RetryAfter time.Duration
	// DropRate is the fraction of send requests that are accepted (recorded) and then get
	// no answer: the connection is closed.
	DropRate float64
	// LogsLag is how long after acceptance a message starts to appear in /sms/1/logs.
	LogsLag time.Duration
	// Rand drives the fault rates and generated ids; nil means seeded from the clock.
	// Tests pass a seeded one for determinism. The server guards it with its mutex.
	Rand *rand.Rand
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// IdempotencyWindow, when positive, makes the account idempotent: a messageId repeated
	// within this long of its first acceptance is rejected (status 23) instead of delivered
	// again. Zero is Infobip's default: every repeat is a new message.
	IdempotencyWindow time.Duration
	// RejectTo lists destinations (international digits, no '+') rejected per message with
	// status 52 REJECTED_DESTINATION, as an operator refusing a number would.
	RejectTo []string
}

// Received is one accepted message (one destination of one message object).
type Received struct {
	BulkID             string              `json:"bulkId"`
	MessageID          string              `json:"messageId"`
	To                 string              `json:"to"`
	From               string              `json:"from,omitempty"`
	Text               string              `json:"text"`
	Tracking           *infobip.Tracking   `json:"tracking,omitempty"`
	ValidityPeriod     int                 `json:"validityPeriod,omitempty"`
	SendAt             string              `json:"sendAt,omitempty"`
	DeliveryTimeWindow *infobip.TimeWindow `json:"deliveryTimeWindow,omitempty"`
	SpeedLimit         *infobip.SpeedLimit `json:"sendingSpeedLimit,omitempty"`
	NotifyURL          string              `json:"notifyUrl,omitempty"`
	CallbackData       string              `json:"callbackData,omitempty"`
	CampaignReference  string              `json:"campaignReferenceId,omitempty"`
	SmsCount           int                 `json:"smsCount"`
	AcceptedAt         time.Time           `json:"acceptedAt"`
	// Copy is 1 for the first delivery of a messageId, 2 and more for the same messageId
	// delivered again: a double send.
	Copy int `json:"copy"`
	// Converted counts the successful POST /ct/1/log/end calls for the message.
	Converted int `json:"converted"`
}

// Stats are the server's counters since New or Reset.
type Stats struct {
	// Requests counts requests by endpoint (Endpoint* constants), whatever their answer.
	Requests map[string]int `json:"requests"`
	// Accepted counts recorded messages.
	Accepted int `json:"accepted"`
	// Duplicates counts destinations rejected with status 23 (duplicate messageId, within
	// the idempotency window).
	Duplicates int `json:"duplicates"`
	// DoubleSends counts messages delivered again under a messageId accepted before: what a
	// default account does with a repeat, and what smsform must never cause.
	DoubleSends int `json:"doubleSends"`
	// DeliveriesPerPhone lists, for each phone that received some messageId more than once,
	// how many deliveries it received in all (empty when nobody got a double).
	DeliveriesPerPhone map[string]int `json:"deliveriesPerPhone"`
	// Rejected counts other per-destination rejections (999 numbers, texts too long).
	Rejected int `json:"rejected"`
	// Unauthorized counts 401 answers.
	Unauthorized int `json:"unauthorized"`
	// BadRequests counts 400 answers.
	BadRequests int `json:"badRequests"`
	// Conversions counts successful POST /ct/1/log/end calls.
	Conversions int `json:"conversions"`
	// Inbound counts inbound replies handed out by /sms/1/inbox/reports.
	Inbound int `json:"inbound"`
	// Reports counts delivery reports handed out by /sms/1/reports and /sms/3/reports.
	Reports int `json:"reports"`
	// Faults counts injected faults by kind (Fault* constants).
	Faults map[string]int `json:"faults"`
}

// msgOpts are the request's and a message object's options. They rarely differ between the
// message objects of one request, so consecutive equal ones share one msgOpts.
type msgOpts struct {
	bulkID       string
	tracking     *infobip.Tracking
	speed        *infobip.SpeedLimit
	validity     int
	sendAt       string
	window       *infobip.TimeWindow
	notifyURL    string
	callbackData string
	campaignRef  string
	due          int64 // sendAt in Unix nanoseconds; 0 when not scheduled
}

func sameWindow(a, b *infobip.TimeWindow) bool {
	if a == nil || b == nil {
		return a == b
	}
	sameTime := func(x, y *infobip.TimeOfDay) bool { return x == y || x != nil && y != nil && *x == *y }
	return slices.Equal(a.Days, b.Days) && sameTime(a.From, b.From) && sameTime(a.To, b.To)
}

// msgInfo is what the destinations of one message object share, stored once.
type msgInfo struct {
	opts     *msgOpts
	from     string
	text     string
	smsCount int
}

// record is one accepted destination; kept small so a million of them fit easily.
type record struct {
	info       *msgInfo
	messageID  string
	to         string
	acceptedAt int64 // Unix nanoseconds
	converted  int32
	copy       int32 // 0 for the first delivery of its messageId
	reported   bool
}

func (r *record) accepted() time.Time { return time.Unix(0, r.acceptedAt).UTC() }

// dueAt is when the message leaves for the phone: its sendAt, or its acceptance.
func (r *record) dueAt() int64 { return max(r.acceptedAt, r.info.opts.due) }

// span is a run of records [start, end) accepted under one bulkId in one request.
type span struct{ start, end int }

// Server is the fake API. It implements http.Handler and is safe for concurrent use.
type Server struct {
	opts Options
	now  func() time.Time

	mu              sync.Mutex
	rng             *rand.Rand
	records         []record
	byID            map[string]int   // the first record of a messageId
	copies          map[string][]int // the later records of a messageId delivered again
	byBulk          map[string][]span
	duplicates      []string
	inbound         []infobip.InboundMessage // queued replies, handed out once
	firstUnreported int                      // every record before it has been handed out as a report
	stats           Stats
}

// New returns a server with opts.
func New(opts Options) *Server {
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = time.Second
	}
	s := &Server{opts: opts, now: opts.Now, rng: opts.Rand}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rng == nil {
		seed := uint64(time.Now().UnixNano())
		s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
	s.resetLocked()
	return s
}

// Reset forgets every message, duplicate and counter.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

func (s *Server) resetLocked() {
	s.records = nil
	s.byID = make(map[string]int)
	s.copies = make(map[string][]int)
	s.inbound = nil
	s.byBulk = make(map[string][]span)
	s.duplicates = nil
	s.firstUnreported = 0
	s.stats = Stats{Requests: map[string]int{}, Faults: map[string]int{}, DeliveriesPerPhone: map[string]int{}}
}

// Received returns a copy of every accepted message in arrival order.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Received, len(s.records))
	var c copier
	for i := range s.records {
		out[i] = c.received(&s.records[i])
	}
	return out
}

// Duplicates returns the messageId of every destination rejected with status 23
// (REJECTED_DUPLICATE_MESSAGE_ID), once per rejection, in order.
func (s *Server) Duplicates() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.duplicates)
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Requests = make(map[string]int, len(s.stats.Requests))
	for k, v := range s.stats.Requests {
		st.Requests[k] = v
	}
	st.Faults = make(map[string]int, len(s.stats.Faults))
	for k, v := range s.stats.Faults {
		st.Faults[k] = v
	}
	st.DeliveriesPerPhone = make(map[string]int, len(s.stats.DeliveriesPerPhone))
	for k, v := range s.stats.DeliveriesPerPhone {
		st.DeliveriesPerPhone[k] = v
	}
	return st
}

// copier deep-copies the shared parts of records, once per distinct pointer in a row, so
// copying a million messages sent in big requests costs few allocations.
type copier struct {
	lastT, copyT *infobip.Tracking
	lastW, copyW *infobip.TimeWindow
	lastS, copyS *infobip.SpeedLimit
}

func (c *copier) received(r *record) Received {
	in := r.info.opts
	if in.tracking != c.lastT {
		c.lastT, c.copyT = in.tracking, cloneTracking(in.tracking)
	}
	if in.window != c.lastW {
		c.lastW, c.copyW = in.window, cloneWindow(in.window)
	}
	if in.speed != c.lastS {
		c.lastS, c.copyS = in.speed, cloneSpeed(in.speed)
	}
	return Received{
		BulkID:             in.bulkID,
		MessageID:          r.messageID,
		To:                 r.to,
		From:               r.info.from,
		Text:               r.info.text,
		Tracking:           c.copyT,
		ValidityPeriod:     in.validity,
		SendAt:             in.sendAt,
		DeliveryTimeWindow: c.copyW,
		SpeedLimit:         c.copyS,
		NotifyURL:          in.notifyURL,
		CallbackData:       in.callbackData,
		SmsCount:           r.info.smsCount,
		AcceptedAt:         r.accepted(),
		Converted:          int(r.converted),
		CampaignReference:  in.campaignRef,
		Copy:               int(r.copy) + 1,
	}
}

func cloneTracking(t *infobip.Tracking) *infobip.Tracking {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func cloneSpeed(sl *infobip.SpeedLimit) *infobip.SpeedLimit {
	if sl == nil {
		return nil
	}
	c := *sl
	return &c
}

func cloneWindow(w *infobip.TimeWindow) *infobip.TimeWindow {
	if w == nil {
		return nil
	}
	c := infobip.TimeWindow{Days: slices.Clone(w.Days)}
	if w.From != nil {
		f := *w.From
		c.From = &f
	}
	if w.To != nil {
		t := *w.To
		c.To = &t
	}
	return &c
}
