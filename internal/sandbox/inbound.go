package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/smsform/smsform/internal/infobip"
)

// Inbound is a reply to queue: what a subscriber texted to the account's number.
type Inbound struct {
	From string `json:"from"` // international digits, '+' allowed
	Text string `json:"text"`
	To   string `json:"to,omitempty"` // the account's number; a sandbox default if empty
}

// sandboxNumber is the number inbound replies are addressed to unless told otherwise.
const sandboxNumber = "41793026700"

// QueueInbound queues a reply, to be handed out once by GET /sms/1/inbox/reports.
func (s *Server) QueueInbound(in Inbound) error {
	from := strings.TrimPrefix(strings.TrimSpace(in.From), "+")
	if !digits(from, 3, 64) {
		return fmt.Errorf("from must be 3 to 64 digits in international format, got %q", in.From)
	}
	if strings.TrimSpace(in.Text) == "" {
		return fmt.Errorf("text must not be blank")
	}
	to := in.To
	if to == "" {
		to = sandboxNumber
	}
	text := strings.TrimSpace(in.Text)
	keyword, clean, _ := strings.Cut(text, " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inbound = append(s.inbound, infobip.InboundMessage{
		MessageID: s.newIDLocked(), From: from, To: to, Text: in.Text, CleanText: clean,
		Keyword: strings.ToUpper(keyword), ReceivedAt: s.now().UTC().Format(infobip.SendAtLayout), SmsCount: 1,
		Price: &infobip.Price{PricePerMessage: 0, Currency: "EUR"},
	})
	return nil
}

// serveQueueInbound answers POST /sandbox/inbound with a JSON body {from, text}.
func (s *Server) serveQueueInbound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method "+r.Method+" is not allowed here", nil, false)
		return
	}
	var in Inbound
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	if err == nil {
		err = s.QueueInbound(in)
	}
	if err != nil {
		s.badRequest(w, err.Error(), nil, false)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// serveInbound answers GET /sms/1/inbox/reports: queued replies, each handed out once.
func (s *Server) serveInbound(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for name := range q {
		if name != "limit" {
			s.badRequest(w, "Unknown query parameter(s): "+name, nil, false)
			return
		}
	}
	limit := MaxLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			s.badRequest(w, fmt.Sprintf("limit must be a number from 1 to %d, got %q", MaxLimit, l), nil, false)
			return
		}
		limit = n
	}
	s.mu.Lock()
	n := min(limit, len(s.inbound))
	out := infobip.InboundResponse{Results: append([]infobip.InboundMessage{}, s.inbound[:n]...)}
	s.inbound = s.inbound[n:]
	out.MessageCount, out.PendingMessageCount = n, len(s.inbound)
	s.stats.Inbound += n
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, &out)
}
