package infobip

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	const key = "s3cr3t-k3y-value"
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // variable names the error must name
		secrets []string // values it must not contain
	}{
		{"api key", map[string]string{EnvBaseURL: "https://x.api.infobip.com", EnvAPIKey: key}, nil, nil},
		{"basic", map[string]string{EnvBaseURL: " https://x.api.infobip.com ", EnvUsername: "u", EnvPassword: "p"}, nil, nil},
		{"no base url", map[string]string{EnvAPIKey: key}, []string{EnvBaseURL}, []string{key}},
		{"blank base url", map[string]string{EnvBaseURL: "  ", EnvAPIKey: key}, []string{EnvBaseURL}, []string{key}},
		{"no credentials", map[string]string{EnvBaseURL: "https://x.api.infobip.com"}, []string{EnvAPIKey, EnvUsername, EnvPassword}, nil},
		{"username only", map[string]string{EnvBaseURL: "https://x.api.infobip.com", EnvUsername: "alice-the-user"}, []string{EnvAPIKey, EnvPassword}, []string{"alice-the-user"}},
		{"password only", map[string]string{EnvBaseURL: "https://x.api.infobip.com", EnvPassword: "hunter2-password"}, []string{EnvAPIKey, EnvUsername}, []string{"hunter2-password"}},
		{"nothing", map[string]string{}, []string{EnvBaseURL}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ConfigFromEnv(env(tt.env))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.BaseURL != "https://x.api.infobip.com" || cfg.APIKey != tt.env[EnvAPIKey] || cfg.Username != tt.env[EnvUsername] || cfg.Password != tt.env[EnvPassword] {
					t.Errorf("config %+v from %v", cfg, tt.env)
				}
				return
			}
			if !errors.Is(err, ErrCredentials) {
				t.Fatalf("error %v, want one wrapping ErrCredentials", err)
			}
			for _, v := range tt.wantErr {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("error %q does not name %s", err, v)
				}
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains the value %q", err, s)
				}
			}
		})
	}
}

func TestNewBaseURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://xyz.api.infobip.com", true},
		{"https://xyz.api.infobip.com/", true},
		{"HTTPS://xyz.api.infobip.com", true},
		{"https://10.0.0.1:8443/prefix", true},
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.1", true},
		{"http://127.9.9.9:1", true},
		{"http://localhost:4000", true},
		{"http://[::1]:4000", true},
		{"http://xyz.api.infobip.com", false},
		{"http://10.0.0.1:8080", false},
		{"http://0.0.0.0:8080", false},
		{"http://127.0.0.1.nip.io", false},
		{"http://localhost.example.com", false},
		{"ftp://127.0.0.1", false},
		{"xyz.api.infobip.com", false},
		{"https://", false},
		{"", false},
		{"://bad", false},
	}
	for _, tt := range tests {
		c, err := New(Config{BaseURL: tt.url, APIKey: "k"})
		if tt.ok && (err != nil || c == nil) {
			t.Errorf("New(%q): %v, want a client", tt.url, err)
		}
		if !tt.ok {
			if err == nil {
				t.Errorf("New(%q) accepted it", tt.url)
			} else if !strings.Contains(err.Error(), EnvBaseURL) {
				t.Errorf("New(%q): %q does not name %s", tt.url, err, EnvBaseURL)
			}
		}
	}
}

// recorder is an httptest server that answers with handle and keeps every request.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
	n    atomic.Int32
}

func serve(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r)
		rec.body = append(rec.body, body)
		rec.mu.Unlock()
		handle(w, r, int(rec.n.Add(1)))
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) bodies() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.body)
}

func (r *recorder) requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// client builds a client whose sleeps are recorded instead of waited.
func client(t *testing.T, cfg Config) (*Client, *[]time.Duration) {
	t.Helper()
	if cfg.APIKey == "" && cfg.Username == "" {
		cfg.APIKey = "test-key"
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	slept := &[]time.Duration{}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		*slept = append(*slept, d)
		mu.Unlock()
		return ctx.Err()
	}
	return c, slept
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

var okResponse = MessagesResponse{BulkID: "b", Messages: []MessageStatus3{{Destination: "41790000001", MessageID: "m1", Details: &MessageDetails{MessageCount: 1},
	Status: Status{GroupID: GroupPending, ID: StatusPendingAccepted, Name: "PENDING_ACCEPTED"}}}}

func sendReq() *MessagesRequest {
	return &MessagesRequest{
		Messages: []MessageV3{{Sender: "InfoSMS", Content: TextContent{Text: "hi"}, Destinations: []Destination{{To: "41790000001", MessageID: "m1"}}}},
		Options:  &RequestOptionsV3{Schedule: &Schedule{BulkID: "b"}},
	}
}

func TestSendRequest(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, 200, okResponse) })
	c, _ := client(t, Config{BaseURL: srv.URL + "/", APIKey: "KEY123"})
	resp, err := c.Send(context.Background(), sendReq())
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Messages) != 1 || resp.Messages[0].MessageID != "m1" || resp.Messages[0].Status.ID != StatusPendingAccepted {
		t.Errorf("response %+v", resp)
	}
	r := srv.requests()[0]
	if r.Method != http.MethodPost || r.URL.Path != "/sms/3/messages" {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "App KEY123" {
		t.Errorf("Authorization %q, want %q", got, "App KEY123")
	}
	if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Accept") != "application/json" {
		t.Errorf("headers %v", r.Header)
	}
	var body MessagesRequest
	if err := json.Unmarshal(srv.bodies()[0], &body); err != nil || body.Options.Schedule.BulkID != "b" || body.Messages[0].Destinations[0].MessageID != "m1" {
		t.Errorf("body %s: %v", srv.bodies()[0], err)
	}
}

func TestBasicAuth(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, 200, LogsResponse{}) })
	c, _ := client(t, Config{BaseURL: srv.URL, Username: "alice", Password: "p:ss wörd"})
	if _, err := c.Logs(context.Background(), LogsQuery{}); err != nil {
		t.Fatal(err)
	}
	r := srv.requests()[0]
	user, pass, ok := r.BasicAuth()
	if !ok || user != "alice" || pass != "p:ss wörd" {
		t.Errorf("basic auth %q %q %v from %q", user, pass, ok, r.Header.Get("Authorization"))
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:p:ss wörd"))
	if got := r.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization %q, want %q", got, want)
	}
}

func TestAPIKeyWinsOverBasic(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, 200, LogsResponse{}) })
	c, _ := client(t, Config{BaseURL: srv.URL, APIKey: "K", Username: "u", Password: "p"})
	if _, err := c.Logs(context.Background(), LogsQuery{}); err != nil {
		t.Fatal(err)
	}
	if got := srv.requests()[0].Header.Get("Authorization"); got != "App K" {
		t.Errorf("Authorization %q", got)
	}
}

func TestBaseURLPathPrefix(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, 200, LogsResponse{}) })
	c, _ := client(t, Config{BaseURL: srv.URL + "/proxy/"})
	if _, err := c.Logs(context.Background(), LogsQuery{MessageIDs: []string{"a", "b"}, BulkIDs: []string{"x"}, Limit: 7}); err != nil {
		t.Fatal(err)
	}
	r := srv.requests()[0]
	if r.URL.Path != "/proxy/sms/3/logs" {
		t.Errorf("path %q", r.URL.Path)
	}
	q := r.URL.Query()
	if !slices.Equal(q["messageId"], []string{"a", "b"}) || q.Get("bulkId") != "x" || q.Get("limit") != "7" || q.Get("useCursor") != "true" || q.Has("cursor") {
		t.Errorf("query %q", r.URL.RawQuery)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	target := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, 200, okResponse) })
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, target.URL+"/sms/2/text/advanced", http.StatusFound)
	})
	c, slept := client(t, Config{BaseURL: srv.URL})
	_, err := c.Send(context.Background(), sendReq())
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusFound {
		t.Fatalf("Send to a redirecting server: %v, want an APIError with status 302", err)
	}
	if n := len(target.requests()); n != 0 {
		t.Errorf("the Location was requested %d times", n)
	}
	if n := len(srv.requests()); n != 1 || len(*slept) != 0 {
		t.Errorf("%d requests, %d retries; want 1 and none", n, len(*slept))
	}
	if OutcomeUnknown(err) {
		t.Error("a 302 is not an unknown outcome")
	}
}

func Test429RetryAfterRetried(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n <= 2 {
			w.Header().Set("Retry-After", "7")
			writeJSON(w, http.StatusTooManyRequests, NewErrorBody("TOO_MANY_REQUESTS", "Too many requests"))
			return
		}
		writeJSON(w, 200, okResponse)
	})
	c, slept := client(t, Config{BaseURL: srv.URL, MaxRetries: 3})
	resp, err := c.Send(context.Background(), sendReq())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Messages[0].MessageID != "m1" {
		t.Errorf("response %+v", resp)
	}
	if want := []time.Duration{7 * time.Second, 7 * time.Second}; !slices.Equal(*slept, want) {
		t.Errorf("slept %v, want %v", *slept, want)
	}
	// The same body each time, so the same messageIds.
	if b := srv.bodies(); len(b) != 3 || string(b[0]) != string(b[1]) || string(b[1]) != string(b[2]) {
		t.Errorf("bodies differ between retries: %q", b)
	}
}

func Test429Backoff(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, http.StatusTooManyRequests, NewErrorBody("TOO_MANY_REQUESTS", "Too many requests"))
	})
	c, slept := client(t, Config{BaseURL: srv.URL, MaxRetries: 5, Backoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond})
	_, err := c.Send(context.Background(), sendReq())
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 || ae.Code != "TOO_MANY_REQUESTS" {
		t.Fatalf("error %v, want the last 429", err)
	}
	if OutcomeUnknown(err) {
		t.Error("a 429 is not an unknown outcome")
	}
	if n := len(srv.requests()); n != 6 {
		t.Errorf("%d requests, want 1 + MaxRetries 5", n)
	}
	// Jittered in [d/2, d), d doubling up to MaxBackoff.
	bases := []time.Duration{100, 200, 400, 400, 400}
	if len(*slept) != len(bases) {
		t.Fatalf("slept %v", *slept)
	}
	for i, d := range *slept {
		base := bases[i] * time.Millisecond
		if d < base/2 || d >= base {
			t.Errorf("retry %d waited %v, want in [%v, %v)", i, d, base/2, base)
		}
	}
}

func TestRetryAfterDate(t *testing.T) {
	when := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", when)
			writeJSON(w, http.StatusTooManyRequests, NewErrorBody("TOO_MANY_REQUESTS", "Too many requests"))
			return
		}
		writeJSON(w, 200, okResponse)
	})
	c, slept := client(t, Config{BaseURL: srv.URL, MaxRetries: 1})
	if _, err := c.Send(context.Background(), sendReq()); err != nil {
		t.Fatal(err)
	}
	if len(*slept) != 1 || (*slept)[0] < 80*time.Second || (*slept)[0] > 90*time.Second {
		t.Errorf("slept %v, want about 90s", *slept)
	}
}

func TestParseRetryAfter(t *testing.T) {
	base := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 3 ", 3 * time.Second, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"Mon, 01 Jun 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Mon, 01 Jun 2026 11:00:00 GMT", 0, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, base)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestRetryAfterHuge: a Retry-After too large for a time.Duration must wait the cap, not
// overflow into a negative wait (an immediate retry).
func TestRetryAfterHuge(t *testing.T) {
	c, _ := client(t, Config{BaseURL: "https://x.api.infobip.com"})
	for _, v := range []string{"1e30", "Inf", "9999999999999"} {
		d, retry := c.retryable(&APIError{StatusCode: 429, RetryAfter: v}, time.Second)
		if !retry {
			t.Errorf("Retry-After %q: not retried", v)
			continue
		}
		if d <= 0 || d > 5*time.Minute {
			t.Errorf("Retry-After %q gives a wait of %v (float seconds overflow time.Duration); want it capped at 5m", v, d)
		}
	}
}

func Test5xxNotRetried(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504} {
		srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
			writeJSON(w, status, NewErrorBody("GENERAL_ERROR", "Something went wrong. Please contact support."))
		})
		c, slept := client(t, Config{BaseURL: srv.URL, MaxRetries: 5})
		_, err := c.Send(context.Background(), sendReq())
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != status || ae.Code != "GENERAL_ERROR" || !strings.Contains(ae.Text, "Something went wrong") {
			t.Errorf("%d: error %v", status, err)
		}
		if !OutcomeUnknown(err) {
			t.Errorf("%d: OutcomeUnknown = false, want true", status)
		}
		if n := len(srv.requests()); n != 1 || len(*slept) != 0 {
			t.Errorf("%d: %d requests and %d retries, want 1 and 0", status, n, len(*slept))
		}
	}
}

func Test4xx(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		b := NewErrorBody("BAD_REQUEST", "Bad request")
		b.RequestError.ServiceException.ValidationErrors = map[string][]string{
			"messages[0].text":                 {"must not be blank"},
			"messages[0].destinations[0].to":   {"must be 3 to 64 digits", "must not be blank"},
			"messages[0].destinations[0].zzzz": {"z"},
		}
		writeJSON(w, 400, b)
	})
	c, slept := client(t, Config{BaseURL: srv.URL})
	_, err := c.Send(context.Background(), sendReq())
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 {
		t.Fatalf("error %v", err)
	}
	want := "infobip: HTTP 400 BAD_REQUEST: Bad request (messages[0].destinations[0].to: must be 3 to 64 digits; messages[0].destinations[0].to: must not be blank; messages[0].destinations[0].zzzz: z; messages[0].text: must not be blank)"
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	if OutcomeUnknown(err) || errors.Is(err, ErrCredentials) || len(*slept) != 0 {
		t.Errorf("a 400: unknown %v, credentials %v, retries %d", OutcomeUnknown(err), errors.Is(err, ErrCredentials), len(*slept))
	}
}

func TestCredentialsRefused(t *testing.T) {
	const key = "the-secret-api-key-9876"
	for _, status := range []int{401, 403} {
		srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
			writeJSON(w, status, NewErrorBody("UNAUTHORIZED", "Invalid login details"))
		})
		c, slept := client(t, Config{BaseURL: srv.URL, APIKey: key})
		_, err := c.Send(context.Background(), sendReq())
		if !errors.Is(err, ErrCredentials) {
			t.Fatalf("%d: error %v, want ErrCredentials", status, err)
		}
		msg := err.Error()
		if strings.Contains(msg, key) || strings.Contains(msg, base64.StdEncoding.EncodeToString([]byte(key))) {
			t.Errorf("%d: error %q contains the key", status, msg)
		}
		for _, v := range []string{EnvAPIKey, EnvUsername, EnvPassword, "Invalid login details"} {
			if !strings.Contains(msg, v) {
				t.Errorf("%d: error %q does not mention %s", status, msg, v)
			}
		}
		if OutcomeUnknown(err) || len(*slept) != 0 || len(srv.requests()) != 1 {
			t.Errorf("%d: unknown %v, %d retries", status, OutcomeUnknown(err), len(*slept))
		}
	}
}

func TestDecodeAPIError(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name string
		body string
		want APIError
	}{
		{
			name: "requestError",
			body: `{"requestError":{"serviceException":{"messageId":"BAD_REQUEST","text":"Bad request","validationErrors":{"b":["2"],"a":["1","0"]}}}}`,
			want: APIError{StatusCode: 400, Code: "BAD_REQUEST", Text: "Bad request", Details: []string{"a: 0", "a: 1", "b: 2"}},
		},
		{
			name: "requestError without validation",
			body: `{"requestError":{"serviceException":{"messageId":"UNAUTHORIZED","text":"Invalid login details"}}}`,
			want: APIError{StatusCode: 400, Code: "UNAUTHORIZED", Text: "Invalid login details"},
		},
		{
			name: "errorCode",
			body: `{"errorCode":"E400","description":"Request cannot be processed.","action":"Check the syntax, violations and adjust the request.","violations":[{"property":"messages[0].destinations[0].to","violation":"must not be null"},{"property":"x","violation":"y"}],"resources":[]}`,
			want: APIError{StatusCode: 400, Code: "E400", Text: "Request cannot be processed.", Details: []string{
				"Check the syntax, violations and adjust the request.", "messages[0].destinations[0].to: must not be null", "x: y"}},
		},
		{
			name: "errorCode description only",
			body: `{"description":"Too many requests"}`,
			want: APIError{StatusCode: 400, Text: "Too many requests"},
		},
		{
			name: "HTML",
			body: "<html><body><h1>502 Bad Gateway</h1></body></html>\n",
			want: APIError{StatusCode: 400, Text: "<html><body><h1>502 Bad Gateway</h1></body></html>"},
		},
		{
			name: "long text is cut",
			body: long,
			want: APIError{StatusCode: 400, Text: strings.Repeat("x", 200) + "..."},
		},
		{
			name: "empty",
			body: "",
			want: APIError{StatusCode: 400},
		},
		{
			name: "JSON of another shape",
			body: `{"error":"nope"}`,
			want: APIError{StatusCode: 400, Text: `{"error":"nope"}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeAPIError(400, []byte(tt.body))
			if got.StatusCode != tt.want.StatusCode || got.Code != tt.want.Code || got.Text != tt.want.Text || !slices.Equal(got.Details, tt.want.Details) {
				t.Errorf("decode(%s) =\n%#v\nwant\n%#v", tt.body, *got, tt.want)
			}
		})
	}
}

// TestDecodeAPIErrorCutsRunes: cutting a long non-JSON body must not split a UTF-8
// character, or the error shown to the user is not valid UTF-8.
func TestDecodeAPIErrorCutsRunes(t *testing.T) {
	body := strings.Repeat("é", 150) // 300 bytes; byte 200 is in the middle of nothing, byte 199 splits one
	body = "x" + body
	e := decodeAPIError(502, []byte(body))
	if !utf8.ValidString(e.Error()) {
		t.Errorf("decodeAPIError cuts a non-JSON body at byte 200 inside a UTF-8 character: %q", e.Text[190:])
	}
}

func TestErrorThroughClient(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html>Bad Gateway</html>")
	})
	c, _ := client(t, Config{BaseURL: srv.URL})
	_, err := c.Logs(context.Background(), LogsQuery{})
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 502 || ae.Text != "<html>Bad Gateway</html>" {
		t.Fatalf("error %#v", err)
	}
	if err.Error() != "infobip: HTTP 502: <html>Bad Gateway</html>" {
		t.Errorf("error %q", err)
	}
}

func TestUndecodableSuccess(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) { io.WriteString(w, "not json") })
	c, slept := client(t, Config{BaseURL: srv.URL})
	_, err := c.Send(context.Background(), sendReq())
	// The API answered 2xx: it may have acted, so the outcome is unknown, never "not sent".
	var te *TransportError
	if !errors.As(err, &te) || !te.Written || !OutcomeUnknown(err) || NothingDone(err) || !strings.Contains(err.Error(), "cannot be read") {
		t.Errorf("error %v", err)
	}
	if len(*slept) != 0 || len(srv.requests()) != 1 {
		t.Errorf("a 200 that does not decode was retried")
	}
}

// closedAddr returns an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestTransportErrorNotWritten(t *testing.T) {
	c, slept := client(t, Config{BaseURL: "http://" + closedAddr(t), MaxRetries: 3})
	_, err := c.Send(context.Background(), sendReq())
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T), want a TransportError", err, err)
	}
	if te.Written {
		t.Error("Written = true for a refused connection")
	}
	if OutcomeUnknown(err) {
		t.Error("OutcomeUnknown = true for a refused connection")
	}
	if !strings.Contains(err.Error(), "request not sent") {
		t.Errorf("error %q", err)
	}
	if len(*slept) != 3 {
		t.Errorf("retried %d times, want MaxRetries 3", len(*slept))
	}
}

// TestTransportErrorWritten: the server reads the whole request, then hangs up without an
// answer. The API may have acted on it: no retry, outcome unknown.
func TestTransportErrorWritten(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		conn.Close()
	})
	c, slept := client(t, Config{BaseURL: srv.URL, MaxRetries: 3})
	_, err := c.Send(context.Background(), sendReq())
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T), want a TransportError", err, err)
	}
	if !te.Written {
		t.Error("Written = false after the server read the request")
	}
	if !OutcomeUnknown(err) {
		t.Error("OutcomeUnknown = false")
	}
	if !strings.Contains(err.Error(), "no answer after the request was sent") {
		t.Errorf("error %q", err)
	}
	if n := len(srv.requests()); n != 1 || len(*slept) != 0 {
		t.Errorf("%d requests, %d retries; want 1 and none", n, len(*slept))
	}
}

func TestTimeoutAfterWriteIsUnknown(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) { <-release })
	defer close(release)
	c, slept := client(t, Config{BaseURL: srv.URL, Timeout: 50 * time.Millisecond, MaxRetries: 3})
	_, err := c.Send(context.Background(), sendReq())
	if !OutcomeUnknown(err) {
		t.Errorf("a timeout after the request was written: %v, OutcomeUnknown false", err)
	}
	if len(*slept) != 0 {
		t.Errorf("retried %d times", len(*slept))
	}
}

func TestCanceledContextNotRetried(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) { writeJSON(w, 200, okResponse) })
	c, slept := client(t, Config{BaseURL: srv.URL, MaxRetries: 3})
	_, err := c.Send(ctx, sendReq())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if OutcomeUnknown(err) || len(*slept) != 0 || len(srv.requests()) != 0 {
		t.Errorf("unknown %v, %d retries, %d requests", OutcomeUnknown(err), len(*slept), len(srv.requests()))
	}
}

func TestLogEnd(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeJSON(w, 200, ConversionResponse{ProcessKey: "PK"})
	})
	c, _ := client(t, Config{BaseURL: srv.URL})
	resp, err := c.LogEnd(context.Background(), "sf-0123abc_x.y")
	if err != nil || resp.ProcessKey != "PK" {
		t.Fatalf("LogEnd = %+v, %v", resp, err)
	}
	r := srv.requests()[0]
	if r.Method != http.MethodPost || r.URL.EscapedPath() != "/ct/1/log/end/sf-0123abc_x.y" {
		t.Errorf("request %s %s", r.Method, r.URL.EscapedPath())
	}

	for _, id := range []string{"", "a/b", "..", ".", "../x", "a%2Fb", "a?b=c", "a#b", "a b", strings.Repeat("a", 201), "é"} {
		if _, err := c.LogEnd(context.Background(), id); err == nil {
			t.Errorf("LogEnd(%q) accepted it", id)
		}
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("%d requests; refused ids must not reach the server", n)
	}
}

func TestValidMessageID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"sf-0123456789abcdef0123456789abcdef", true},
		{"A_b-c.d", true},
		{"a..b", true},
		{"...", true},
		{".x", true},
		{strings.Repeat("a", 200), true},
		{strings.Repeat("a", 201), false},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"/", false},
		{"a\\b", false},
		{"a%2f", false},
		{"a b", false},
		{"a\x00", false},
		{"ä", false},
		{"a+b", false},
		{"a:b", false},
	}
	for _, tt := range tests {
		if got := ValidMessageID(tt.id); got != tt.ok {
			t.Errorf("ValidMessageID(%q) = %v, want %v", tt.id, got, tt.ok)
		}
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		s        Status
		rejected bool
		dup      bool
	}{
		{Status{GroupID: GroupPending, ID: StatusPendingAccepted}, false, false},
		{Status{GroupID: GroupRejected, ID: 52}, true, false},
		{Status{GroupID: GroupRejected, ID: StatusRejectedDuplicateMsgID}, true, true},
		{Status{GroupID: GroupDelivered, ID: StatusRejectedDuplicateMsgID}, false, false},
	}
	for _, tt := range tests {
		if tt.s.Rejected() != tt.rejected || tt.s.DuplicateMessageID() != tt.dup {
			t.Errorf("%+v: Rejected %v DuplicateMessageID %v", tt.s, tt.s.Rejected(), tt.s.DuplicateMessageID())
		}
	}
}

func FuzzDecodeAPIError(f *testing.F) {
	f.Add(400, []byte(`{"requestError":{"serviceException":{"messageId":"BAD_REQUEST","text":"Bad request","validationErrors":{"a":["1"]}}}}`))
	f.Add(400, []byte(`{"errorCode":"E400","description":"d","action":"a","violations":[{"property":"p","violation":"v"}]}`))
	f.Add(502, []byte("<html>Bad Gateway</html>"))
	f.Add(500, []byte(""))
	f.Add(429, []byte(`{"requestError":{"serviceException":null}}`))
	f.Add(400, []byte(`{"violations":[null],"errorCode":"x"}`))
	f.Add(400, []byte(`{"requestError":{"serviceException":{"validationErrors":{"a":null},"text":"t"}}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := decodeAPIError(status, body)
		if e == nil {
			t.Fatal("nil error")
		}
		if e.StatusCode != status {
			t.Errorf("status %d, want %d", e.StatusCode, status)
		}
		msg := e.Error()
		if !strings.HasPrefix(msg, "infobip: HTTP ") {
			t.Errorf("message %q", msg)
		}
		if len(e.Text) > 200+len("...") && !json.Valid(body) {
			t.Errorf("text of a non-JSON body is %d bytes", len(e.Text))
		}
	})
}

func TestNothingDone(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("%w refused", ErrCredentials), true},
		{&APIError{StatusCode: 429}, true},
		{&APIError{StatusCode: 404}, true},
		{&APIError{StatusCode: 302}, true},
		{&APIError{StatusCode: 400}, false},
		{&APIError{StatusCode: 500}, false},
		{&TransportError{Err: errors.New("refused"), Written: false}, true},
		{&TransportError{Err: errors.New("reset"), Written: true}, false},
		{errors.New("anything else"), false},
	} {
		if got := NothingDone(tc.err); got != tc.want {
			t.Errorf("NothingDone(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
