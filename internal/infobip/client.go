package infobip

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/smsform/smsform/internal/safetext"
)

// Environment variables the credentials come from. They are read nowhere else.
const (
	EnvBaseURL  = "INFOBIP_BASE_URL"
	EnvAPIKey   = "INFOBIP_API_KEY"
	EnvUsername = "INFOBIP_USERNAME"
	EnvPassword = "INFOBIP_PASSWORD"
)

// ErrCredentials marks a missing or refused credential; its message names the variables to
// check and never their values.
var ErrCredentials = errors.New("infobip credentials")

// Config says where the API is and how to authenticate.
type Config struct {
	BaseURL  string
	APIKey   string
	Username string
	Password string
	// Timeout bounds one HTTP exchange. Zero means 60s.
	Timeout time.Duration
	// MaxRetries bounds retries of 429s and of requests that never left. Zero means 8.
	MaxRetries int
	// Backoff is the first retry delay, doubled each time up to MaxBackoff. Zero means 500ms.
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// ConfigFromEnv reads the INFOBIP_* variables.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		BaseURL:  strings.TrimSpace(getenv(EnvBaseURL)),
		APIKey:   getenv(EnvAPIKey),
		Username: getenv(EnvUsername),
		Password: getenv(EnvPassword),
	}
	if cfg.BaseURL == "" {
		return cfg, fmt.Errorf("%w: %s is not set; set it to your account's base URL (https://xxxxx.api.infobip.com) or to a local sandbox (http://127.0.0.1:PORT from `smsform sandbox`)", ErrCredentials, EnvBaseURL)
	}
	if cfg.APIKey == "" && (cfg.Username == "" || cfg.Password == "") {
		return cfg, fmt.Errorf("%w: set %s, or both %s and %s", ErrCredentials, EnvAPIKey, EnvUsername, EnvPassword)
	}
	return cfg, nil
}

// Client talks to one Infobip account. It is safe for concurrent use.
type Client struct {
	base *url.URL
	auth string
	http *http.Client
	cfg  Config
	// sleep waits between retries; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// ParseBaseURL checks a base URL: https, except for loopback addresses (the sandbox), so
// credentials never cross a network in clear text; a host; and nothing that may be a
// credential. An '@' anywhere is refused, not only before the host: a password holding a
// '/' ("https://user:pa/ss@host") puts its '@' in what a URL parser takes for the path, and
// the parser's errors, net/http's and smsform's would print it. A query or a fragment is
// refused too (an API key would sit there; smsform sets the query itself). No error quotes
// a value that may hold one.
func ParseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if strings.Contains(raw, "@") {
		return nil, fmt.Errorf("%s holds a user or password (an '@'), which smsform does not print or use; set it to the bare base URL, such as https://xxxxx.api.infobip.com, and put credentials in %s, or %s and %s",
			EnvBaseURL, EnvAPIKey, EnvUsername, EnvPassword)
	}
	if strings.ContainsAny(raw, "?#") {
		return nil, fmt.Errorf("%s holds a query or a fragment ('?' or '#'), which may carry a credential and which smsform does not use; set it to the bare base URL, such as https://xxxxx.api.infobip.com, and put credentials in %s, or %s and %s",
			EnvBaseURL, EnvAPIKey, EnvUsername, EnvPassword)
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" {
		if len(raw) > 200 {
			raw = raw[:200] + "..."
		}
		return nil, fmt.Errorf("%s %q is not a URL like https://xxxxx.api.infobip.com", EnvBaseURL, raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%s must use https (http is allowed only for a loopback sandbox), got host %q", EnvBaseURL, u.Host)
		}
	default:
		return nil, fmt.Errorf("%s must start with https://, got scheme %q", EnvBaseURL, u.Scheme)
	}
	return u, nil
}

// New checks the configuration (see ParseBaseURL) and builds a client.
func New(cfg Config) (*Client, error) {
	u, err := ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 8
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	c := &Client{base: u, cfg: cfg, sleep: sleepCtx}
	if cfg.APIKey != "" {
		c.auth = "App " + cfg.APIKey
	} else {
		c.auth = "Basic " + basicAuth(cfg.Username, cfg.Password)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	// HTTP/2 stays on (one connection carries the parallel requests); what keeps it from
	// replaying a POST is the body without GetBody (see once). HTTP/1.1 never replays a
	// POST without an Idempotency-Key header, which is never set.
	c.http = &http.Client{
		Timeout:   cfg.Timeout,
		Transport: transport,
		// A redirect would resend the credentials and the body to another place; refuse it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// TransportError is a failure to get an answer. Written says whether the request had been
// fully written when it failed: if it had, the API may have acted on it.
type TransportError struct {
	Err     error
	Written bool
}

// maxTransportText bounds the text of a transport error, which may quote an answer that
// cannot be read.
const maxTransportText = 600

func (e *TransportError) Error() string {
	text := safetext.Clip(e.Err.Error(), maxTransportText)
	if e.Written {
		return "infobip: no answer after the request was sent: " + text
	}
	return "infobip: request not sent: " + text
}

func (e *TransportError) Unwrap() error { return e.Err }

// OutcomeUnknown reports whether err leaves it open whether the API acted on the request: a
// 5xx answer, or no answer after the request was written.
func OutcomeUnknown(err error) bool {
	var te *TransportError
	if errors.As(err, &te) {
		return te.Written
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500
	}
	return false
}

// NothingDone reports whether err proves the API did nothing with the request: refused
// credentials, a 429 past the retries, a redirect or a 404 (a wrong base URL), or a request
// that never left.
func NothingDone(err error) bool {
	if errors.Is(err, ErrCredentials) {
		return true
	}
	var te *TransportError
	if errors.As(err, &te) {
		return !te.Written
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode == http.StatusNotFound ||
			(ae.StatusCode >= 300 && ae.StatusCode < 400)
	}
	return false
}

// Send posts one request of messages to POST /sms/3/messages. 429s and requests that never
// left are retried with the same body (so the same messageIds); anything else is returned to
// the caller to classify.
func (c *Client) Send(ctx context.Context, req *MessagesRequest) (*MessagesResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	// An answer has an entry per destination, and smsform sends one destination a message:
	// room for them up front, instead of the decoder growing the slice (and copying it) a
	// dozen times per request.
	out := MessagesResponse{Messages: make([]MessageStatus3, 0, len(req.Messages))}
	if err := c.do(ctx, http.MethodPost, PathMessages, nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// The v3 paths.
const (
	PathMessages = "/sms/3/messages"
	PathLogs     = "/sms/3/logs"
	PathReports  = "/sms/3/reports"
)

// LogsQuery selects log entries. Infobip limits the ids of one query to 2048 characters.
type LogsQuery struct {
	MessageIDs []string
	BulkIDs    []string
	Limit      int
	// Cursor is the previous page's nextCursor; empty asks for the first page.
	Cursor string
}

func (q LogsQuery) values(cursor bool) url.Values {
	v := url.Values{}
	// Repeated parameters, as the v3 description of the multi-valued filters has them.
	for _, id := range q.MessageIDs {
		v.Add("messageId", id)
	}
	for _, id := range q.BulkIDs {
		v.Add("bulkId", id)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if cursor {
		v.Set("useCursor", "true")
		if q.Cursor != "" {
			v.Set("cursor", q.Cursor)
		}
	}
	return v
}

// Logs reads one page of GET /sms/3/logs (the last 48 hours, re-readable). The answer's
// Cursor.NextCursor, when set, goes into the next query's Cursor.
func (c *Client) Logs(ctx context.Context, q LogsQuery) (*LogsResponse, error) {
	var out LogsResponse
	if err := c.do(ctx, http.MethodGet, PathLogs, q.values(true), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Reports pulls GET /sms/3/reports. Each report is handed out once, so callers must store
// what they get before asking again.
func (c *Client) Reports(ctx context.Context, q LogsQuery) (*DeliveryReportsResponse, error) {
	var out DeliveryReportsResponse
	if err := c.do(ctx, http.MethodGet, PathReports, q.values(false), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LogEnd records a conversion for a message sent with tracking.
func (c *Client) LogEnd(ctx context.Context, messageID string) (*ConversionResponse, error) {
	if !ValidMessageID(messageID) {
		return nil, fmt.Errorf("infobip: refusing messageId %q: only letters, digits, '-', '_' and '.' are allowed", messageID)
	}
	var out ConversionResponse
	if err := c.do(ctx, http.MethodPost, "/ct/1/log/end/"+url.PathEscape(messageID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ValidMessageID reports whether id is safe to put into a URL path: 1-200 characters of
// letters, digits, '-', '_' and '.', and not a dot segment.
func ValidMessageID(id string) bool {
	if id == "" || len(id) > 200 || id == "." || id == ".." {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

// Do makes one call of the API with the client's credentials, retries and error decoding:
// for endpoints the typed methods do not cover (the older generations, in tests and in the
// benchmark). body is sent as JSON when not nil; the answer is decoded into out.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body []byte, out any) error {
	return c.do(ctx, method, path, query, body, out)
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte, out any) error {
	backoff := c.cfg.Backoff
	for attempt := 0; ; attempt++ {
		err := c.once(ctx, method, path, query, body, out)
		if err == nil {
			return nil
		}
		wait, retry := c.retryable(err, backoff)
		if !retry || attempt >= c.cfg.MaxRetries {
			return err
		}
		if err := c.sleep(ctx, wait); err != nil {
			return err
		}
		backoff = min(backoff*2, c.cfg.MaxBackoff)
	}
}

// retryable says whether an error may be retried with the same request and how long to
// wait. Only answers that prove nothing was done qualify: a 429, or a request that was never
// fully written. A 5xx or a lost answer is not retried here: the caller must reconcile.
func (c *Client) retryable(err error, backoff time.Duration) (time.Duration, bool) {
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests {
		if d, ok := parseRetryAfter(ae.RetryAfter, time.Now()); ok {
			return min(d, maxRetryAfter), true
		}
		return jitter(backoff), true
	}
	var te *TransportError
	if errors.As(err, &te) && !te.Written && !errors.Is(err, context.Canceled) {
		return jitter(backoff), true
	}
	return 0, false
}

// maxRetryAfter caps how long a Retry-After can make a run wait.
const maxRetryAfter = 5 * time.Minute

// jitter spreads retries of parallel workers: a delay in [d/2, d).
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)))
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		if secs > maxRetryAfter.Seconds() { // also keeps huge values from overflowing
			return maxRetryAfter, true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func (c *Client) once(ctx context.Context, method, path string, query url.Values, body []byte, out any) error {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		// Not a *bytes.Reader: http.NewRequest would set GetBody for one, and with GetBody
		// Go's HTTP/2 transport resends a request on its own after a refused stream or a
		// GOAWAY, even when the body had been written. A POST that may have been acted on
		// must come back to the caller as an unknown outcome instead.
		rd = &onceReader{r: bytes.NewReader(body)}
	}
	// Set by the transport's goroutine, read here after a failure that may not wait for it.
	// Only a write that succeeded counts: WroteRequest also reports failed writes.
	var written atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			written.Store(true)
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, u.String(), rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "smsform")
	if body != nil {
		req.ContentLength = int64(len(body)) // known, so no chunked encoding
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// url.Error text carries the URL only, never the Authorization header.
		consumed := false
		if or, ok := rd.(*onceReader); ok {
			consumed = or.consumed.Load()
		}
		return &TransportError{Err: err, Written: written.Load() || consumed}
	}
	defer resp.Body.Close()
	data, err := readBody(resp)
	if err != nil {
		return &TransportError{Err: err, Written: true}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := decodeAPIError(resp.StatusCode, data)
		ae.RetryAfter = resp.Header.Get("Retry-After")
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return fmt.Errorf("%w refused (%v); check %s, or %s and %s, and that the key may use %s", ErrCredentials, ae, EnvAPIKey, EnvUsername, EnvPassword, path)
		}
		return ae
	}
	if out == nil {
		return nil
	}
	if err := decodeAnswer(data, out); err != nil {
		// A 2xx whose body cannot be read (a proxy's page, a cut answer): the API may well
		// have acted on the request, so its outcome is unknown, never "not sent".
		return &TransportError{Err: fmt.Errorf("answer of %s %s (HTTP %d) cannot be read: %w", method, path, resp.StatusCode, err), Written: true}
	}
	return nil
}

// maxAnswer is the most of an answer's body read; the rest is ignored (and the answer then
// cannot be decoded). presizeAnswer is the most allocated up front on the word of a
// Content-Length header, which the answer itself sets.
const (
	maxAnswer     = 64 << 20
	presizeAnswer = 1 << 20
)

// readBody reads an answer's body, at most maxAnswer bytes of it, into a buffer sized by its
// Content-Length when that is given and small: a send answer of 500 messages read by
// io.ReadAll from 512 bytes up took twice its size in buffers it grew through.
func readBody(resp *http.Response) ([]byte, error) {
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 {
		buf.Grow(int(min(n, presizeAnswer)) + bytes.MinRead) // room to see the end without growing
	}
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxAnswer))
	return buf.Bytes(), err
}

// answerOptions read an answer as encoding/json did before (names matched in any case, a
// repeated name or invalid UTF-8 tolerated), through the decoder of encoding/json/v2, which
// takes a third of the time and half the allocations: an apply of a million messages spent
// a seventh of its CPU decoding send answers (BenchmarkDecodeAnswer).
var answerOptions = jsonv2.JoinOptions(jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// decodeAnswer decodes a 2xx answer's body into out.
func decodeAnswer(data []byte, out any) error { return jsonv2.Unmarshal(data, out, answerOptions) }

// onceReader hides the rewindable reader under it from net/http, and notes when the
// transport has read all of it: from then on the request may have reached the API, even if
// the transport's write trace has not said so yet (HTTP/2 reports it from another goroutine).
type onceReader struct {
	r        *bytes.Reader
	consumed atomic.Bool
}

func (o *onceReader) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	if o.r.Len() == 0 {
		o.consumed.Store(true)
	}
	return n, err
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
