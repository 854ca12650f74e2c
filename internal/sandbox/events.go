package sandbox

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The sandbox can play the product too: GET /sandbox/events writes an event export for
// the messages it received, the CSV `smsform convert` reads, in which each message converts
// with a propensity given per experiment variant or per text. Whether a message converts
// is a pure function of the seed and its messageId, so the same seed gives the same events
// whatever the order the messages arrived in: a demo or a test is reproducible.

// EventOptions say how likely each received message is to convert.
type EventOptions struct {
	// Seed makes another draw of the same propensities.
	Seed uint64
	// ByVariant are propensities by experiment variant: the part of a message's
	// campaignReferenceId after its colon (smsform files a variant's messages under
	// "<campaign>:<variant>").
	ByVariant map[string]float64
	// ByText are propensities by a part of the text: the first (in byte order) that the
	// message's text contains applies, after ByVariant.
	ByText map[string]float64
	// Default is the propensity of a message that matches neither.
	Default float64
	// Event names the event of each row ("purchase" when empty).
	Event string
}

// Propensity is the chance that a message converts.
func (o EventOptions) Propensity(r Received) float64 {
	if _, v, ok := strings.Cut(r.CampaignReference, ":"); ok {
		if p, ok := o.ByVariant[v]; ok {
			return p
		}
	}
	keys := make([]string, 0, len(o.ByText))
	for k := range o.ByText {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(r.Text, k) {
			return o.ByText[k]
		}
	}
	return o.Default
}

// converts draws whether the message converts: a uniform number from SHA-256 of the seed
// and its messageId, under its propensity.
func (o EventOptions) converts(r Received) bool {
	h := sha256.New()
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], o.Seed)
	h.Write(seed[:])
	h.Write([]byte(r.MessageID))
	var sum [sha256.Size]byte
	u := float64(binary.BigEndian.Uint64(h.Sum(sum[:0]))>>11) / (1 << 53)
	return u < o.Propensity(r)
}

// WriteEvents writes the event export: a header `messageId,event,timestamp` and one row
// per received message (its first delivery) that converts, an hour after it was accepted,
// in the order received.
func (s *Server) WriteEvents(w io.Writer, o EventOptions) error {
	event := o.Event
	if event == "" {
		event = "purchase"
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"messageId", "event", "timestamp"})
	for _, r := range s.Received() {
		if r.Copy != 1 || !o.converts(r) {
			continue
		}
		cw.Write([]string{r.MessageID, event, r.AcceptedAt.Add(time.Hour).UTC().Format(time.RFC3339)})
	}
	cw.Flush()
	return cw.Error()
}

// ParsePropensities reads NAME=RATE pairs (rates from 0 to 1) into a map.
func ParsePropensities(pairs []string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		rate, err := strconv.ParseFloat(v, 64)
		if !ok || k == "" || err != nil || math.IsNaN(rate) || rate < 0 || rate > 1 {
			return nil, fmt.Errorf("%q: want NAME=RATE with a rate from 0 to 1, such as personal=0.08", p)
		}
		out[k] = rate
	}
	return out, nil
}

// serveEvents answers GET /sandbox/events?seed=N&variant=NAME=RATE&text=PART=RATE&default=RATE
// (variant and text repeated at will) with the event export as CSV.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method "+r.Method+" is not allowed here", nil, false)
		return
	}
	q := r.URL.Query()
	var o EventOptions
	var err error
	if v := q.Get("seed"); v != "" {
		if o.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "seed: want a whole number", nil, false)
			return
		}
	}
	if v := q.Get("default"); v != "" {
		if o.Default, err = strconv.ParseFloat(v, 64); err != nil || o.Default < 0 || o.Default > 1 {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "default: want a rate from 0 to 1", nil, false)
			return
		}
	}
	if o.ByVariant, err = ParsePropensities(q["variant"]); err == nil {
		o.ByText, err = ParsePropensities(q["text"])
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", err.Error(), nil, false)
		return
	}
	o.Event = q.Get("event")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	s.WriteEvents(w, o)
}
