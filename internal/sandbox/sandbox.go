// Package sandbox is a local Infobip-compatible API server: the fake that smsform's tests send
// to, and a new user's playground (`smsform sandbox`).
//
// It serves the endpoints smsform uses with Infobip's shapes, statuses and errors (the wire
// types of package infobip), keeps what it accepted in memory, moves messages from PENDING to
// DELIVERED after Options.DeliveryDelay, and injects faults (latency, 429s, 500s, answers
// dropped after accepting) so that crash safety can be seen at work.
//
// Endpoints:
//
//	POST /sms/2/text/advanced (and /sms/1/text/advanced)  send
//	GET  /sms/1/logs                                     re-readable logs
//	GET  /sms/1/reports                                  delivery reports, each handed out once
//	POST /ct/1/log/end/{messageId}                       conversion
//	GET  /sandbox/messages                               every accepted message (no auth)
//	DELETE /sandbox/messages                             forget everything (no auth)
//	GET  /sandbox/stats                                  counters (no auth)
//
// Sandbox rules a test can rely on: a destination starting with "999", or listed in
// Options.RejectTo, is rejected per message (status 52 REJECTED_DESTINATION); a messageId ever accepted before is rejected per message
// (status 23 REJECTED_DUPLICATE_MESSAGE_ID); a text over 25 parts or 4000 bytes is rejected
// per message (status 25 REJECTED_MESSAGE_TOO_LONG). None of the rejected ones is recorded.
package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smsform/smsform/campaign"
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
	SmsCount           int                 `json:"smsCount"`
	AcceptedAt         time.Time           `json:"acceptedAt"`
	// Converted counts the successful POST /ct/1/log/end calls for the message.
	Converted int `json:"converted"`
}

// Stats are the server's counters since New or Reset.
type Stats struct {
	// Requests counts requests by endpoint (Endpoint* constants), whatever their answer.
	Requests map[string]int `json:"requests"`
	// Accepted counts recorded messages.
	Accepted int `json:"accepted"`
	// Duplicates counts destinations rejected with status 23 (duplicate messageId).
	Duplicates int `json:"duplicates"`
	// Rejected counts other per-destination rejections (999 numbers, texts too long).
	Rejected int `json:"rejected"`
	// Unauthorized counts 401 answers.
	Unauthorized int `json:"unauthorized"`
	// BadRequests counts 400 answers.
	BadRequests int `json:"badRequests"`
	// Conversions counts successful POST /ct/1/log/end calls.
	Conversions int `json:"conversions"`
	// Reports counts delivery reports handed out by /sms/1/reports.
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
}

func (o *msgOpts) sameMessageOpts(m *infobip.Message) bool {
	return o.validity == m.ValidityPeriod && o.sendAt == m.SendAt && o.notifyURL == m.NotifyURL &&
		o.callbackData == m.CallbackData && sameWindow(o.window, m.DeliveryTimeWindow)
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
	reported   bool
}

func (r *record) accepted() time.Time { return time.Unix(0, r.acceptedAt).UTC() }

// span is a run of records [start, end) accepted under one bulkId in one request.
type span struct{ start, end int }

// Server is the fake API. It implements http.Handler and is safe for concurrent use.
type Server struct {
	opts Options
	now  func() time.Time

	mu              sync.Mutex
	rng             *rand.Rand
	records         []record
	byID            map[string]int
	byBulk          map[string][]span
	duplicates      []string
	firstUnreported int // every record before it has been handed out as a report
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
	s.byBulk = make(map[string][]span)
	s.duplicates = nil
	s.firstUnreported = 0
	s.stats = Stats{Requests: map[string]int{}, Faults: map[string]int{}}
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

// ServeHTTP answers one request: auth, then Latency, then routing, then TooManyRate, then the
// endpoint (which applies ErrorRate and DropRate to sends).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	endpoint, method, arg := route(r.URL)
	s.count(endpoint)
	if endpoint == EndpointSandbox {
		s.serveSandbox(w, r)
		return
	}
	if !s.authorized(r) {
		s.mu.Lock()
		s.stats.Unauthorized++
		s.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Invalid login details", nil)
		return
	}
	if d := s.options().Latency; d > 0 {
		s.fault(FaultLatency)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if endpoint == EndpointUnknown {
		writeError(w, http.StatusNotFound, "NOT_FOUND", "Resource not found: "+r.URL.Path, nil)
		return
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", fmt.Sprintf("Method %s is not allowed here, use %s", r.Method, method), nil)
		return
	}
	var body []byte
	if endpoint == EndpointSend {
		// Read the whole body before any fault, so a client always sees its request written.
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			s.badRequest(w, "Cannot read request body: "+err.Error(), nil)
			return
		}
	}
	if opts := s.options(); s.roll(opts.TooManyRate, FaultTooMany) {
		secs := int(math.Ceil(opts.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Too many requests", nil)
		return
	}
	switch endpoint {
	case EndpointSend:
		s.serveSend(w, body)
	case EndpointLogs:
		s.serveLogs(w, r, false)
	case EndpointReports:
		s.serveLogs(w, r, true)
	case EndpointLogEnd:
		s.serveLogEnd(w, arg)
	}
}

// route maps a URL to an endpoint, the method it takes and, for /ct/1/log/end, the messageId.
func route(u *url.URL) (endpoint, method, arg string) {
	switch p := u.Path; p {
	case "/sms/2/text/advanced", "/sms/1/text/advanced":
		return EndpointSend, http.MethodPost, ""
	case "/sms/1/logs":
		return EndpointLogs, http.MethodGet, ""
	case "/sms/1/reports":
		return EndpointReports, http.MethodGet, ""
	default:
		if strings.HasPrefix(p, "/sandbox/") {
			return EndpointSandbox, "", ""
		}
		const prefix = "/ct/1/log/end/"
		raw := u.EscapedPath()
		if strings.HasPrefix(raw, prefix) {
			seg := raw[len(prefix):]
			if id, err := url.PathUnescape(seg); err == nil && seg != "" && !strings.Contains(seg, "/") {
				return EndpointLogEnd, http.MethodPost, id
			}
		}
		return EndpointUnknown, "", ""
	}
}

// Faults are the fault-injection settings, changeable while the server runs.
type Faults struct {
	Latency     time.Duration
	ErrorRate   float64
	TooManyRate float64
	DropRate    float64
	LogsLag     time.Duration
}

// SetFaults changes the fault injection of a running server, so a test can break the API
// and mend it again without losing what it received.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Latency, s.opts.ErrorRate, s.opts.TooManyRate, s.opts.DropRate, s.opts.LogsLag =
		f.Latency, f.ErrorRate, f.TooManyRate, f.DropRate, f.LogsLag
}

// options reads the settings that SetFaults may change.
func (s *Server) options() Options {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if s.opts.APIKey == "" {
		return strings.TrimSpace(h) != ""
	}
	return h == "App "+s.opts.APIKey
}

func (s *Server) count(endpoint string) {
	s.mu.Lock()
	s.stats.Requests[endpoint]++
	s.mu.Unlock()
}

func (s *Server) fault(kind string) {
	s.mu.Lock()
	s.stats.Faults[kind]++
	s.mu.Unlock()
}

// roll decides whether a fault of probability rate happens, counting it if it does. It draws
// from Rand only for rates strictly between 0 and 1.
func (s *Server) roll(rate float64, kind string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rollLocked(rate, kind)
}

func (s *Server) rollLocked(rate float64, kind string) bool {
	hit := false
	switch {
	case rate <= 0:
	case rate >= 1:
		hit = true
	default:
		hit = s.rng.Float64() < rate
	}
	if hit {
		s.stats.Faults[kind]++
	}
	return hit
}

// Statuses the sandbox answers with.
var (
	statusAccepted = infobip.Status{GroupID: infobip.GroupPending, GroupName: "PENDING", ID: infobip.StatusPendingAccepted,
		Name: "PENDING_ACCEPTED", Description: "Message sent to next instance"}
	statusEnroute = infobip.Status{GroupID: infobip.GroupPending, GroupName: "PENDING", ID: 7,
		Name: "PENDING_ENROUTE", Description: "Message sent to next instance"}
	statusDelivered = infobip.Status{GroupID: infobip.GroupDelivered, GroupName: "DELIVERED", ID: infobip.StatusDeliveredToHandset,
		Name: "DELIVERED_TO_HANDSET", Description: "Message delivered to handset"}
	statusDuplicate = infobip.Status{GroupID: infobip.GroupRejected, GroupName: "REJECTED", ID: infobip.StatusRejectedDuplicateMsgID,
		Name: "REJECTED_DUPLICATE_MESSAGE_ID", Description: "Message ID is not unique"}
	statusTooLong = infobip.Status{GroupID: infobip.GroupRejected, GroupName: "REJECTED", ID: infobip.StatusRejectedTooLong,
		Name: "REJECTED_MESSAGE_TOO_LONG", Description: "Message is too long"}
	statusBadDestination = infobip.Status{GroupID: infobip.GroupRejected, GroupName: "REJECTED", ID: 52,
		Name: "REJECTED_DESTINATION", Description: "Invalid destination address"}
	noError = infobip.Status{GroupID: 0, GroupName: "OK", ID: 0, Name: "NO_ERROR", Description: "No Error"}
	price   = &infobip.Price{PricePerMessage: 0.01, Currency: "EUR"}
)

func (s *Server) serveSend(w http.ResponseWriter, body []byte) {
	if s.roll(s.options().ErrorRate, FaultError) {
		writeError(w, http.StatusInternalServerError, "GENERAL_ERROR", "Something went wrong. Please contact support.", nil)
		return
	}
	var req infobip.SendRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.badRequest(w, "Invalid request body: "+err.Error(), nil)
		return
	}
	if verr := validateSend(&req); len(verr) > 0 {
		s.badRequest(w, "Bad request", verr)
		return
	}

	// Work out everything that needs no lock: parts and the shared options.
	tracking := cloneTracking(req.Tracking)
	speed := cloneSpeed(req.SendingSpeedLimit)
	bulkID := clip(req.BulkID, maxBulkIDLen)
	opts := make([]*msgOpts, len(req.Messages))
	parts := make([]int, len(req.Messages))
	ndest := 0
	for i := range req.Messages {
		m := &req.Messages[i]
		parts[i], _ = campaign.Parts(m.Text)
		if i > 0 && opts[i-1].sameMessageOpts(m) {
			opts[i] = opts[i-1]
		} else {
			opts[i] = &msgOpts{
				bulkID: bulkID, tracking: tracking, speed: speed, validity: m.ValidityPeriod, sendAt: m.SendAt,
				window: cloneWindow(m.DeliveryTimeWindow), notifyURL: m.NotifyURL, callbackData: m.CallbackData,
			}
		}
		ndest += len(m.Destinations)
	}
	resp := infobip.SendResponse{BulkID: bulkID, Messages: make([]infobip.SentStatus, 0, ndest)}

	s.mu.Lock()
	if resp.BulkID == "" {
		resp.BulkID = s.newIDLocked()
		for _, o := range opts {
			o.bulkID = resp.BulkID
		}
	}
	now := s.now().UnixNano()
	start := len(s.records)
	for i := range req.Messages {
		m := &req.Messages[i]
		tooLong := parts[i] > campaign.MaxParts || len(m.Text) > MaxTextBytes
		var info *msgInfo // allocated when the first destination is accepted
		for _, d := range m.Destinations {
			id := clip(d.MessageID, maxMessageIDLen)
			if id == "" {
				id = s.newIDLocked()
			}
			st := infobip.SentStatus{To: d.To, MessageID: id}
			_, dup := s.byID[id]
			switch {
			case dup:
				st.Status = statusDuplicate
				s.duplicates = append(s.duplicates, id)
				s.stats.Duplicates++
			case strings.HasPrefix(d.To, "999") || slices.Contains(s.opts.RejectTo, d.To):
				st.Status = statusBadDestination
				s.stats.Rejected++
			case tooLong:
				st.Status = statusTooLong
				s.stats.Rejected++
			default:
				st.Status = statusAccepted
				if req.IncludeSmsCountInResponse {
					st.SmsCount = parts[i]
				}
				if info == nil {
					info = &msgInfo{opts: opts[i], from: m.From, text: m.Text, smsCount: parts[i]}
				}
				s.byID[id] = len(s.records)
				s.records = append(s.records, record{info: info, messageID: id, to: d.To, acceptedAt: now})
				s.stats.Accepted++
			}
			resp.Messages = append(resp.Messages, st)
		}
	}
	if end := len(s.records); end > start {
		s.byBulk[resp.BulkID] = append(s.byBulk[resp.BulkID], span{start, end})
	}
	drop := s.rollLocked(s.opts.DropRate, FaultDrop)
	s.mu.Unlock()

	if drop {
		dropConnection(w)
		return
	}
	writeJSON(w, http.StatusOK, &resp)
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	// HTTP/2 or a wrapped writer: abort the response, which resets the stream or closes the
	// connection.
	panic(http.ErrAbortHandler)
}

// newIDLocked generates an id no accepted message has; s.mu must be held.
func (s *Server) newIDLocked() string {
	for {
		id := fmt.Sprintf("%016x%016x", s.rng.Uint64(), s.rng.Uint64())
		if _, taken := s.byID[id]; !taken {
			return id
		}
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// validateSend returns Infobip-style validation errors: field path -> problems.
func validateSend(req *infobip.SendRequest) map[string][]string {
	verr := map[string][]string{}
	add := func(field, problem string) { verr[field] = append(verr[field], problem) }
	if len(req.Messages) == 0 {
		add("messages", "must not be empty")
	}
	for i, m := range req.Messages {
		mp := fmt.Sprintf("messages[%d]", i)
		if len(m.Destinations) == 0 {
			add(mp+".destinations", "must not be empty")
		}
		for j, d := range m.Destinations {
			dp := fmt.Sprintf("%s.destinations[%d].to", mp, j)
			switch {
			case d.To == "":
				add(dp, "must not be blank")
			case !digits(d.To, 3, 64):
				add(dp, "must be 3 to 64 digits, international format without '+'")
			}
		}
		if strings.TrimSpace(m.Text) == "" {
			add(mp+".text", "must not be blank")
		}
		if m.SendAt != "" {
			if _, err := time.Parse(infobip.SendAtLayout, m.SendAt); err != nil {
				add(mp+".sendAt", "must have the format yyyy-MM-dd'T'HH:mm:ss.SSSZ")
			}
		}
		if m.ValidityPeriod < 0 {
			add(mp+".validityPeriod", "must not be negative")
		}
		if len(m.CallbackData) > maxCallbackData {
			add(mp+".callbackData", "must be at most 4000 characters")
		}
	}
	return verr
}

func digits(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// query is a parsed /sms/1/logs or /sms/1/reports query.
type query struct {
	messageIDs    []string
	bulkIDs       []string
	to, from      string
	generalStatus string
	limit         int
}

func parseQuery(raw string) (query, string) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return query{}, "Invalid query: " + err.Error()
	}
	q := query{limit: DefaultLimit}
	for _, name := range []string{"messageId", "bulkId"} {
		joined := strings.Join(vals[name], ",")
		if len(joined) > MaxQueryIDsChars {
			return q, fmt.Sprintf("%s must be at most %d characters, got %d", name, MaxQueryIDsChars, len(joined))
		}
		var ids []string
		for _, id := range strings.Split(joined, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
		if name == "messageId" {
			q.messageIDs = ids
		} else {
			q.bulkIDs = ids
		}
	}
	q.to = strings.TrimPrefix(strings.TrimSpace(vals.Get("to")), "+")
	q.from = strings.TrimSpace(vals.Get("from"))
	q.generalStatus = strings.ToUpper(strings.TrimSpace(vals.Get("generalStatus")))
	if l := vals.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			return q, fmt.Sprintf("limit must be a number from 1 to %d, got %q", MaxLimit, l)
		}
		q.limit = n
	}
	return q, ""
}

func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request, reports bool) {
	q, problem := parseQuery(r.URL.RawQuery)
	if problem != "" {
		s.badRequest(w, problem, nil)
		return
	}
	out := infobip.LogsResponse{Results: []infobip.LogEntry{}}
	s.mu.Lock()
	now := s.now()
	start := 0
	if reports {
		for s.firstUnreported < len(s.records) && s.records[s.firstUnreported].reported {
			s.firstUnreported++
		}
		start = s.firstUnreported
	}
	s.eachLocked(&q, start, func(rec *record) bool {
		delivered := s.deliveredLocked(rec, now)
		if reports {
			if !delivered || rec.reported {
				return true
			}
		} else if s.opts.LogsLag > 0 && now.UnixNano()-rec.acceptedAt < int64(s.opts.LogsLag) {
			return true
		}
		if q.to != "" && rec.to != q.to || q.from != "" && rec.info.from != q.from {
			return true
		}
		e := s.entryLocked(rec, delivered)
		if q.generalStatus != "" && e.Status.GroupName != q.generalStatus {
			return true
		}
		if reports {
			rec.reported = true
			s.stats.Reports++
		}
		out.Results = append(out.Results, e)
		return len(out.Results) < q.limit
	})
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, &out)
}

// eachLocked calls fn with the records the query's messageId and bulkId filters select, in
// acceptance order, from index start on, until fn returns false.
func (s *Server) eachLocked(q *query, start int, fn func(*record) bool) {
	if len(q.messageIDs) == 0 && len(q.bulkIDs) == 0 {
		for i := start; i < len(s.records); i++ {
			if !fn(&s.records[i]) {
				return
			}
		}
		return
	}
	var idx []int
	if len(q.messageIDs) > 0 {
		var bulks map[string]bool
		if len(q.bulkIDs) > 0 {
			bulks = make(map[string]bool, len(q.bulkIDs))
			for _, b := range q.bulkIDs {
				bulks[b] = true
			}
		}
		for _, id := range q.messageIDs {
			if i, ok := s.byID[id]; ok && i >= start && (bulks == nil || bulks[s.records[i].info.opts.bulkID]) {
				idx = append(idx, i)
			}
		}
	} else {
		for _, b := range q.bulkIDs {
			for _, sp := range s.byBulk[b] {
				for i := max(sp.start, start); i < sp.end; i++ {
					idx = append(idx, i)
				}
			}
		}
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		if !fn(&s.records[i]) {
			return
		}
	}
}

func (s *Server) deliveredLocked(rec *record, now time.Time) bool {
	return s.opts.DeliveryDelay <= 0 || now.UnixNano()-rec.acceptedAt >= int64(s.opts.DeliveryDelay)
}

func (s *Server) entryLocked(rec *record, delivered bool) infobip.LogEntry {
	e := infobip.LogEntry{
		BulkID:    rec.info.opts.bulkID,
		MessageID: rec.messageID,
		To:        rec.to,
		From:      rec.info.from,
		Text:      rec.info.text,
		SentAt:    rec.accepted().Format(infobip.SendAtLayout),
		SmsCount:  rec.info.smsCount,
		Price:     price,
		Status:    statusEnroute,
		Error:     &noError,
	}
	if delivered {
		e.Status = statusDelivered
		e.DoneAt = rec.accepted().Add(max(s.opts.DeliveryDelay, 0)).Format(infobip.SendAtLayout)
	}
	return e
}

func (s *Server) serveLogEnd(w http.ResponseWriter, messageID string) {
	s.mu.Lock()
	i, ok := s.byID[messageID]
	if ok {
		rec := &s.records[i]
		if t := rec.info.opts.tracking; t != nil && t.Track == "SMS" {
			rec.converted++
			s.stats.Conversions++
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, &infobip.ConversionResponse{ProcessKey: ProcessKey})
			return
		}
	}
	s.mu.Unlock()
	text := "No message with this messageId"
	if ok {
		text = "Message was not sent with conversion tracking (tracking.track SMS)"
	}
	writeError(w, http.StatusNotFound, "NOT_FOUND", text, nil)
}

// serveSandbox answers the sandbox's own helper endpoints, which need no credentials.
func (s *Server) serveSandbox(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/sandbox/messages":
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			writeJSON(w, http.StatusOK, s.Received())
		case http.MethodDelete:
			s.Reset()
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "GET, HEAD, DELETE")
			writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method "+r.Method+" is not allowed here", nil)
		}
	case "/sandbox/stats":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method "+r.Method+" is not allowed here", nil)
			return
		}
		st := s.Stats()
		writeJSON(w, http.StatusOK, &st)
	default:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "Resource not found: "+r.URL.Path, nil)
	}
}

func (s *Server) badRequest(w http.ResponseWriter, text string, verr map[string][]string) {
	s.mu.Lock()
	s.stats.BadRequests++
	s.mu.Unlock()
	writeError(w, http.StatusBadRequest, "BAD_REQUEST", text, verr)
}

func writeError(w http.ResponseWriter, status int, code, text string, verr map[string][]string) {
	b := infobip.NewErrorBody(code, text)
	if len(verr) > 0 {
		b.RequestError.ServiceException.ValidationErrors = verr
	}
	writeJSON(w, status, &b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = json.Marshal(infobip.NewErrorBody("GENERAL_ERROR", "encode answer: "+err.Error()))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)+1))
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}
