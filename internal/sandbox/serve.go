package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smsform/smsform/internal/infobip"
)

// ServeHTTP answers one request: auth, then Latency, then routing, then TooManyRate, then the
// endpoint (which applies ErrorRate and DropRate to sends).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	endpoint, method, arg, v3 := route(r.URL)
	s.count(endpoint)
	if endpoint == EndpointSandbox {
		s.serveSandbox(w, r)
		return
	}
	if !s.authorized(r) {
		s.mu.Lock()
		s.stats.Unauthorized++
		s.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Invalid login details", nil, v3)
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
		writeError(w, http.StatusNotFound, "NOT_FOUND", "Resource not found: "+r.URL.Path, nil, v3)
		return
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", fmt.Sprintf("Method %s is not allowed here, use %s", r.Method, method), nil, v3)
		return
	}
	var body []byte
	if endpoint == EndpointSend {
		// Read the whole body before any fault, so a client always sees its request written.
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
		if err != nil {
			s.badRequest(w, "Cannot read request body: "+err.Error(), nil, v3)
			return
		}
	}
	if opts := s.options(); s.roll(opts.TooManyRate, FaultTooMany) {
		secs := int(math.Ceil(opts.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, "TOO_MANY_REQUESTS", "Too many requests", nil, v3)
		return
	}
	switch endpoint {
	case EndpointSend:
		s.serveSend(w, body, v3)
	case EndpointLogs:
		s.serveLogs(w, r, false, v3)
	case EndpointReports:
		s.serveLogs(w, r, true, v3)
	case EndpointInbound:
		s.serveInbound(w, r)
	case EndpointLogEnd:
		s.serveLogEnd(w, arg)
	}
}

// route maps a URL to an endpoint, the method it takes, for /ct/1/log/end the messageId,
// and whether it is a v3 endpoint (which answers errors in the v3 shape).
func route(u *url.URL) (endpoint, method, arg string, v3 bool) {
	switch p := u.Path; p {
	case infobip.PathMessages:
		return EndpointSend, http.MethodPost, "", true
	case infobip.PathLogs:
		return EndpointLogs, http.MethodGet, "", true
	case infobip.PathReports:
		return EndpointReports, http.MethodGet, "", true
	case "/sms/2/text/advanced", "/sms/1/text/advanced":
		return EndpointSend, http.MethodPost, "", false
	case "/sms/1/logs":
		return EndpointLogs, http.MethodGet, "", false
	case "/sms/1/reports":
		return EndpointReports, http.MethodGet, "", false
	case infobip.PathInbound:
		return EndpointInbound, http.MethodGet, "", false
	default:
		if strings.HasPrefix(p, "/sandbox/") {
			return EndpointSandbox, "", "", false
		}
		const prefix = "/ct/1/log/end/"
		raw := u.EscapedPath()
		if strings.HasPrefix(raw, prefix) {
			seg := raw[len(prefix):]
			if id, err := url.PathUnescape(seg); err == nil && seg != "" && !strings.Contains(seg, "/") {
				return EndpointLogEnd, http.MethodPost, id, false
			}
		}
		return EndpointUnknown, "", "", strings.HasPrefix(p, "/sms/3/")
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
			writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method "+r.Method+" is not allowed here", nil, false)
		}
	case "/sandbox/stats":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method "+r.Method+" is not allowed here", nil, false)
			return
		}
		st := s.Stats()
		writeJSON(w, http.StatusOK, &st)
	case "/sandbox/inbound":
		s.serveQueueInbound(w, r)
	case "/sandbox/events":
		s.serveEvents(w, r)
	default:
		writeError(w, http.StatusNotFound, "NOT_FOUND", "Resource not found: "+r.URL.Path, nil, false)
	}
}

func (s *Server) badRequest(w http.ResponseWriter, text string, verr map[string][]string, v3 bool) {
	s.mu.Lock()
	s.stats.BadRequests++
	s.mu.Unlock()
	writeError(w, http.StatusBadRequest, "BAD_REQUEST", text, verr, v3)
}

// v3Codes are the errorCode values of the v3 error shape, by HTTP status.
var v3Codes = map[int]string{400: "E400", 401: "E401", 403: "E403", 404: "E404", 405: "E405", 429: "E429", 500: "E500"}

// writeError answers an error in the shape of the endpoint's generation: v3's
// {errorCode, description, action, violations}, or the older requestError.
func writeError(w http.ResponseWriter, status int, code, text string, verr map[string][]string, v3 bool) {
	if v3 {
		e := infobip.V3Error{ErrorCode: v3Codes[status], Description: text}
		if e.ErrorCode == "" {
			e.ErrorCode = "E" + strconv.Itoa(status)
		}
		fields := make([]string, 0, len(verr))
		for f := range verr {
			fields = append(fields, f)
		}
		slices.Sort(fields)
		for _, f := range fields {
			for _, v := range verr[f] {
				e.Violations = append(e.Violations, infobip.Violation{Property: f, Violation: v})
			}
		}
		writeJSON(w, status, &e)
		return
	}
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
