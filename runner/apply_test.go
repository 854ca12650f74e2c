package runner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/infobip/sms"
	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// fullYAML uses every send option; plain none.
const fullYAML = `id: full
from: InfoSMS
text: "Hi {{.name}}, your code is {{.code}}."
tracking: {track: SMS, type: One_Time_Pin}
validity_period: 90m30s
send_at: 2026-07-01T09:00:00Z
delivery_window: {days: [MONDAY, FRIDAY], from: "09:30", to: "17:00"}
speed_limit: {amount: 100, time_unit: MINUTE}
notify_url: https://example.com/dlr
callback_data: "campaign=full&x=1"
destinations:
  - {to: "+41 79 000 00 01", vars: {name: Ann, code: A1}}
  - {to: "+41 79 000 00 02", vars: {name: Ben, code: B2}}
  - {to: "+41 79 000 00 03", vars: {name: Cid, code: C3}}
---
id: plain
from: "41790000000"
text: "Plain text for {{.name}}"
destinations_file: plain.csv
`

// newClient is a real client of srv with quick retries, as runner sees it.
func newClient(t testing.TB, url, key string) *sms.API {
	t.Helper()
	c, err := infobip.New(infobip.Config{BaseURL: url, APIKey: key, Backoff: time.Millisecond, MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	return sms.New(c)
}

// startSandbox serves a sandbox with opts, optionally wrapped, and returns it with a client.
func startSandbox(t testing.TB, opts sandbox.Options, wrap func(http.Handler) http.Handler) (*sandbox.Server, *sms.API) {
	t.Helper()
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewPCG(1, 2))
	}
	sb := sandbox.New(opts)
	var h http.Handler = sb
	if wrap != nil {
		h = wrap(sb)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return sb, newClient(t, srv.URL, "k")
}

// startHandler serves handler and returns a client of it.
func startHandler(t testing.TB, handler http.HandlerFunc) *sms.API {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return newClient(t, srv.URL, "k")
}

// byMessageID indexes what the sandbox received, failing on a messageId received twice.
func byMessageID(t *testing.T, sb *sandbox.Server) map[string]sandbox.Received {
	t.Helper()
	m := map[string]sandbox.Received{}
	for _, r := range sb.Received() {
		if _, dup := m[r.MessageID]; dup {
			t.Errorf("messageId %s received twice", r.MessageID)
		}
		m[r.MessageID] = r
	}
	return m
}

func stateOf(t *testing.T, s *sqlite.Store, f state.Filter) map[string]state.Message {
	t.Helper()
	msgs, err := s.List(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]state.Message{}
	for _, msg := range msgs {
		m[msg.To] = msg
	}
	return m
}

// unresolved counts the messages of unknown outcome, including those of batches left in
// flight, which List does not show.
func unresolved(t *testing.T, s *sqlite.Store) int {
	t.Helper()
	n, err := s.CountUnresolved(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestApplySendsEveryMessageOnce(t *testing.T) {
	set := load(t, map[string]string{"c.yaml": fullYAML, "plain.csv": "to,name\n+41790000011,Dora\n+41790000012,Eve\n"})
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	p := planFromStore(t, set, s, runner.PlanOptions{})
	if p.Summary.Send != 5 {
		t.Fatalf("plan: %+v", p.Summary)
	}
	var progress [][2]int
	res, err := runner.Apply(context.Background(), p, client, s, runner.ApplyOptions{
		Progress: func(done, total int) { progress = append(progress, [2]int{done, total}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 5 || res.Failed != 0 || res.Unknown != 0 || res.NotSent != 0 || res.SmsParts != 5 || res.Stopped || len(res.Problems) != 0 {
		t.Errorf("result %+v", res)
	}
	if len(progress) != 2 || progress[len(progress)-1] != [2]int{5, 5} {
		t.Errorf("progress calls %v, want one per batch ending at 5 of 5", progress)
	}

	got := byMessageID(t, sb)
	if len(got) != 5 {
		t.Errorf("sandbox received %d messages, want 5", len(got))
	}
	if st := sb.Stats(); st.Requests[sandbox.EndpointSend] != 2 {
		t.Errorf("%d send requests, want one per campaign", st.Requests[sandbox.EndpointSend])
	}
	recorded := stateOf(t, s, state.Filter{})
	for _, cp := range p.Campaigns {
		c := cp.Campaign
		r := c.NewRenderer()
		for _, m := range cp.Messages {
			rec := cp.Recipient(m)
			id := runner.MessageID(c.ID, c.Round, rec.To, 0)
			g, ok := got[id]
			if !ok {
				t.Errorf("%s %s: not received", c.ID, rec.To)
				continue
			}
			text, _ := r.Render(rec)
			if g.Text != text || g.To != strings.TrimPrefix(rec.To, "+") || g.From != c.From {
				t.Errorf("%s: received text %q to %q from %q; want %q to %q from %q", id, g.Text, g.To, g.From, text, rec.To[1:], c.From)
			}
			row := recorded[rec.To]
			if row.State != state.Sent || row.MessageID != id || row.BulkID != g.BulkID || row.SmsCount != 1 ||
				row.StatusGroup != infobip.GroupPending || row.StatusID != infobip.StatusPendingAccepted || row.StatusName != "PENDING_ACCEPTED" {
				t.Errorf("%s: recorded %+v; sandbox bulkId %s", id, row, g.BulkID)
			}
			if len(g.BulkID) == 0 || len(g.BulkID) > 100 {
				t.Errorf("bulkId %q", g.BulkID)
			}
			if c.ID == "full" {
				want := sandbox.Received{
					Tracking:       &infobip.Tracking{Track: "SMS", Type: "One_Time_Pin"},
					ValidityPeriod: 91,
					SendAt:         "2026-07-01T09:00:00.000+0000",
					DeliveryTimeWindow: &infobip.TimeWindow{Days: []string{"MONDAY", "FRIDAY"},
						From: &infobip.TimeOfDay{Hour: 9, Minute: 30}, To: &infobip.TimeOfDay{Hour: 17, Minute: 0}},
					SpeedLimit:   &infobip.SpeedLimit{Amount: 100, TimeUnit: "MINUTE"},
					NotifyURL:    "https://example.com/dlr",
					CallbackData: "campaign=full&x=1",
				}
				if gj, wj := optionsJSON(g), optionsJSON(want); gj != wj {
					t.Errorf("%s options\n%s\nwant\n%s", id, gj, wj)
				}
				if row.TrackingType != "One_Time_Pin" {
					t.Errorf("tracking type recorded %q", row.TrackingType)
				}
			} else if gj := optionsJSON(g); gj != optionsJSON(sandbox.Received{}) {
				t.Errorf("%s: a campaign without options sent %s", id, gj)
			}
		}
	}

	// Idempotent: a fresh plan has nothing to send, and applying it sends nothing.
	again := planFromStore(t, set, s, runner.PlanOptions{})
	if again.Summary != (runner.Counts{Noop: 5}) {
		t.Errorf("plan after apply: %+v", again.Summary)
	}
	res, err = runner.Apply(context.Background(), again, client, s, runner.ApplyOptions{})
	if err != nil || res.Sent != 0 || res.NotSent != 0 {
		t.Errorf("second apply: %+v, %v", res, err)
	}
	if st := sb.Stats(); st.Requests[sandbox.EndpointSend] != 2 {
		t.Errorf("the second apply made requests: %d in all", st.Requests[sandbox.EndpointSend])
	}
}

// optionsJSON renders the send options of a received message, for comparison.
func optionsJSON(r sandbox.Received) string {
	data, _ := json.Marshal(map[string]any{
		"tracking": r.Tracking, "validityPeriod": r.ValidityPeriod, "sendAt": r.SendAt, "deliveryTimeWindow": r.DeliveryTimeWindow,
		"sendingSpeedLimit": r.SpeedLimit, "notifyUrl": r.NotifyURL, "callbackData": r.CallbackData,
	})
	return string(data)
}

func TestApplyBatches(t *testing.T) {
	const n = 1234
	set := load(t, map[string]string{
		"big.yaml": "id: big\nfrom: InfoSMS\ntext: \"Hello {{.name}}\"\ndestinations_file: big.csv\n",
		"big.csv":  numbersCSV(n),
	})
	s := openStore(t)
	var inflight, maxInflight atomic.Int32
	sb, client := startSandbox(t, sandbox.Options{Latency: time.Millisecond}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cur := inflight.Add(1)
			defer inflight.Add(-1)
			for {
				m := maxInflight.Load()
				if cur <= m || maxInflight.CompareAndSwap(m, cur) {
					break
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	p := planFromStore(t, set, s, runner.PlanOptions{})
	var calls []int
	res, err := runner.Apply(context.Background(), p, client, s, runner.ApplyOptions{
		BatchSize: 100, Parallelism: 4,
		Progress: func(done, total int) {
			if total != n {
				t.Errorf("progress total %d", total)
			}
			calls = append(calls, done)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != n || res.NotSent != 0 || res.SmsParts != n {
		t.Errorf("result %+v", res)
	}
	if got := sb.Stats().Requests[sandbox.EndpointSend]; got != 13 {
		t.Errorf("%d requests, want 13 (1,234 in batches of 100)", got)
	}
	if m := maxInflight.Load(); m > 4 {
		t.Errorf("%d requests in flight at once, want at most Parallelism 4", m)
	}
	if len(calls) != 13 || !slices.IsSorted(calls) || calls[12] != n {
		t.Errorf("progress %v", calls)
	}

	got := byMessageID(t, sb)
	if len(got) != n {
		t.Errorf("received %d, want %d", len(got), n)
	}
	perBulk := map[string]int{}
	for _, r := range got {
		perBulk[r.BulkID]++
	}
	if len(perBulk) != 13 {
		t.Errorf("%d bulkIds, want one per request", len(perBulk))
	}
	for b, k := range perBulk {
		if k > 100 {
			t.Errorf("bulk %s has %d messages", b, k)
		}
	}
	c := set.Campaigns[0]
	for _, r := range c.Recipients.All() {
		if g, ok := got[runner.MessageID("big", 1, r.To, 0)]; !ok || g.To != r.To[1:] || g.Text != "Hello "+r.Vars.Values()[0] {
			t.Errorf("%s: received %+v", r.To, g)
		}
	}
	counts, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts[state.Round{Campaign: "big", Round: 1}][state.Sent] != n {
		t.Errorf("state counts %v", counts)
	}
	if p := planFromStore(t, set, s, runner.PlanOptions{}); p.Summary.Send != 0 || p.Summary.Noop != n {
		t.Errorf("plan after apply: %+v", p.Summary)
	}
}

func TestApplyRejectedNumber(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{RejectTo: []string{"41790000002"}}, nil)
	res, err := runner.Apply(context.Background(), planFromStore(t, set, s, runner.PlanOptions{}), client, s, runner.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 2 || res.Failed != 1 || res.Unknown != 0 || res.NotSent != 0 {
		t.Errorf("result %+v", res)
	}
	const reason = "REJECTED_DESTINATION: Invalid destination address"
	if len(res.Problems) != 1 || res.Problems[0] != (runner.MessageProblem{Campaign: "otp", To: "+41790000002", State: state.Failed, Reason: reason}) {
		t.Errorf("problems %+v", res.Problems)
	}
	row := stateOf(t, s, state.Filter{})["+41790000002"]
	if row.State != state.Failed || row.Error != reason || row.StatusGroup != infobip.GroupRejected || row.StatusID != 52 {
		t.Errorf("recorded %+v", row)
	}
	if len(sb.Received()) != 2 {
		t.Errorf("sandbox accepted %d", len(sb.Received()))
	}

	// The plan lists it as failed with the reason; -retry-failed sends it with a new messageId.
	p := planFromStore(t, set, s, runner.PlanOptions{})
	if p.Summary != (runner.Counts{Noop: 2, Failed: 1}) || p.Campaigns[0].Errors[1] != reason {
		t.Errorf("plan after a rejection: %+v, errors %v", p.Summary, p.Campaigns[0].Errors)
	}
	sb2, client2 := startSandbox(t, sandbox.Options{}, nil)
	retry := planFromStore(t, set, s, runner.PlanOptions{RetryFailed: true})
	res, err = runner.Apply(context.Background(), retry, client2, s, runner.ApplyOptions{})
	if err != nil || res.Sent != 1 {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	recv := sb2.Received()
	if want := runner.MessageID("otp", 1, "+41790000002", 1); len(recv) != 1 || recv[0].MessageID != want {
		t.Errorf("retry sent %+v, want messageId %s", recv, want)
	}
	row = stateOf(t, s, state.Filter{})["+41790000002"]
	if row.State != state.Sent || row.Attempt != 1 || row.Error != "" {
		t.Errorf("after retry: %+v", row)
	}
}

func TestApplyServerError(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{ErrorRate: 1}, nil)
	res, err := runner.Apply(context.Background(), planFromStore(t, set, s, runner.PlanOptions{}), client, s, runner.ApplyOptions{})
	if err != nil {
		t.Fatalf("Apply: %v; a 500 is recorded, not fatal", err)
	}
	if res.Unknown != 3 || res.Sent != 0 || res.Failed != 0 || len(res.Problems) != 3 {
		t.Errorf("result %+v", res)
	}
	if st := sb.Stats(); st.Requests[sandbox.EndpointSend] != 1 {
		t.Errorf("%d requests: a 500 must not be retried", st.Requests[sandbox.EndpointSend])
	}
	rows := stateOf(t, s, state.Filter{})
	if len(rows) != 3 {
		t.Errorf("%d rows recorded, want 3: %+v", len(rows), rows)
	}
	for to, row := range rows {
		if row.State != state.Unknown || !strings.Contains(row.Error, "HTTP 500") {
			t.Errorf("%s recorded %+v", to, row)
		}
	}
	if p := planFromStore(t, set, s, runner.PlanOptions{RetryFailed: true}); p.Summary != (runner.Counts{Unknown: 3}) {
		t.Errorf("plan after a 500: %+v; unknown outcomes are not resent", p.Summary)
	}
}

func TestApplyDroppedAnswer(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{DropRate: 1}, nil)
	res, err := runner.Apply(context.Background(), planFromStore(t, set, s, runner.PlanOptions{}), client, s, runner.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Unknown != 3 || res.Sent != 0 {
		t.Errorf("result %+v", res)
	}
	if n := len(sb.Received()); n != 3 {
		t.Errorf("sandbox accepted %d", n)
	}
	rows := stateOf(t, s, state.Filter{})
	if len(rows) != 3 {
		t.Errorf("%d rows recorded, want 3: %+v", len(rows), rows)
	}
	for to, row := range rows {
		if row.State != state.Unknown || !strings.Contains(row.Error, "no answer") {
			t.Errorf("%s recorded %+v", to, row)
		}
	}
}

func TestApplyCredentialsRefused(t *testing.T) {
	const key = "wrong-secret-key-1234"
	set := load(t, map[string]string{"c.yaml": fullYAML, "plain.csv": numbersCSV(30)})
	s := openStore(t)
	sb := sandbox.New(sandbox.Options{APIKey: "right"})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	p := planFromStore(t, set, s, runner.PlanOptions{})
	before, _ := s.Version(context.Background())
	// One worker: see TestApplyCredentialsRefusedInFlight for several.
	res, err := runner.Apply(context.Background(), p, newClient(t, srv.URL, key), s, runner.ApplyOptions{BatchSize: 5, Parallelism: 1})
	if !errors.Is(err, infobip.ErrCredentials) {
		t.Fatalf("Apply = %v, want ErrCredentials", err)
	}
	if strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), infobip.EnvAPIKey) {
		t.Errorf("error %q: must name %s and not contain the key", err, infobip.EnvAPIKey)
	}
	if res.Sent != 0 || res.Failed != 0 || res.Unknown != 0 || res.NotSent != p.Summary.Send {
		t.Errorf("result %+v, want nothing done and NotSent %d", res, p.Summary.Send)
	}
	if rows := stateOf(t, s, state.Filter{}); len(rows) != 0 {
		t.Errorf("state keeps %d rows after a 401: %v", len(rows), rows)
	}
	if n := unresolved(t, s); n != 0 {
		t.Errorf("%d messages left in flight or unknown after a 401", n)
	}
	if st := sb.Stats(); st.Accepted != 0 || st.Requests[sandbox.EndpointSend] != 1 {
		t.Errorf("sandbox stats %+v: the run must stop at the first 401", st)
	}
	if v, _ := s.Version(context.Background()); v.Lineage != before.Lineage {
		t.Error("lineage changed")
	}
	if again := planFromStore(t, set, s, runner.PlanOptions{}); again.Summary.Send != p.Summary.Send {
		t.Errorf("plan after a 401: %+v, want everything still to send", again.Summary)
	}
}

// TestApplyCredentialsRefusedInFlight: with several workers, a 401 on one request must not
// turn the other requests in flight into unknown outcomes. Here the second request is
// written and waiting for its answer (also a 401) when the first one's 401 arrives.
func TestApplyCredentialsRefusedInFlight(t *testing.T) {
	set := load(t, map[string]string{"c.yaml": fullYAML, "plain.csv": numbersCSV(30)})
	s := openStore(t)
	var n atomic.Int32
	secondArrived := make(chan struct{})
	refuse := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(infobip.NewErrorBody("UNAUTHORIZED", "Invalid login details"))
	}
	client := startHandler(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch n.Add(1) {
		case 1:
			select {
			case <-secondArrived:
			case <-time.After(5 * time.Second):
			}
		case 2:
			close(secondArrived)
			// Answer once the client gives up on this request, or after a while.
			select {
			case <-r.Context().Done():
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
		refuse(w)
	})
	p := planFromStore(t, set, s, runner.PlanOptions{})
	res, err := runner.Apply(context.Background(), p, client, s, runner.ApplyOptions{BatchSize: 5, Parallelism: 2})
	if !errors.Is(err, infobip.ErrCredentials) {
		t.Fatalf("Apply = %v, want ErrCredentials", err)
	}
	if rows := stateOf(t, s, state.Filter{}); len(rows) != 0 || res.Unknown != 0 || unresolved(t, s) != 0 {
		var states []string
		for to, r := range rows {
			states = append(states, to+" "+string(r.State)+": "+r.Error)
		}
		slices.Sort(states)
		t.Errorf("after a 401, %d messages of another request in flight stay in state (result %d unknown, %d unresolved): %s",
			len(rows), res.Unknown, unresolved(t, s), strings.Join(states[:min(2, len(states))], "; "))
	}
	if res.NotSent != p.Summary.Send {
		t.Errorf("result %+v", res)
	}
}

func TestApplyBadRequest(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	var requests atomic.Int32
	client := startHandler(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		b := infobip.NewErrorBody("BAD_REQUEST", "Invalid sender")
		b.RequestError.ServiceException.ValidationErrors = map[string][]string{"messages[0].from": {"is not allowed for this account"}}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(b)
	})
	// A 400 fails its batch, recorded with Infobip's text, and stops the run: the next
	// batches would be refused the same way.
	res, err := runner.Apply(context.Background(), planFromStore(t, set, s, runner.PlanOptions{}), client, s, runner.ApplyOptions{BatchSize: 2, Parallelism: 1})
	if err == nil || !strings.Contains(err.Error(), "Invalid sender") || !strings.Contains(err.Error(), "the run stops") {
		t.Fatalf("Apply: %v; want the 400, and the run stopped", err)
	}
	if res.Failed != 2 || res.Sent != 0 || res.Unknown != 0 || res.NotSent != 1 || requests.Load() != 1 {
		t.Errorf("result %+v after %d requests", res, requests.Load())
	}
	for to, row := range stateOf(t, s, state.Filter{}) {
		if row.State != state.Failed || !strings.Contains(row.Error, "Invalid sender") || !strings.Contains(row.Error, "messages[0].from: is not allowed for this account") {
			t.Errorf("%s recorded %+v", to, row)
		}
	}
	p := planFromStore(t, set, s, runner.PlanOptions{})
	if p.Summary.Failed != 2 || p.Summary.Send != 1 || !strings.Contains(p.Campaigns[0].Errors[0], "Invalid sender") {
		t.Errorf("plan %+v, errors %v", p.Summary, p.Campaigns[0].Errors)
	}
}

// TestApplyDuplicateMessageID: Infobip refusing a messageId as already used proves the first
// send went through: recorded sent.
func TestApplyDuplicateMessageID(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{IdempotencyWindow: time.Hour}, nil)
	first := set.Campaigns[0].Recipients.At(0)
	id := runner.MessageID("otp", 1, first.To, 0)
	_, err := client.Client.Send(context.Background(), &infobip.MessagesRequest{Messages: []infobip.MessageV3{{
		Sender: "InfoSMS", Content: infobip.TextContent{Text: "an earlier run"}, Destinations: []infobip.Destination{{To: first.To[1:], MessageID: id}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := runner.Apply(context.Background(), planFromStore(t, set, s, runner.PlanOptions{}), client, s, runner.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 3 || res.Failed != 0 || len(res.Problems) != 0 {
		t.Errorf("result %+v", res)
	}
	if d := sb.Duplicates(); !slices.Equal(d, []string{id}) {
		t.Errorf("sandbox duplicates %v", d)
	}
	row := stateOf(t, s, state.Filter{})[first.To]
	if row.State != state.Sent || row.StatusID != infobip.StatusRejectedDuplicateMsgID || row.StatusGroup != infobip.GroupRejected || row.Error == "" {
		t.Errorf("recorded %+v", row)
	}
	if p := planFromStore(t, set, s, runner.PlanOptions{}); p.Summary.Send != 0 || p.Summary.Noop != 3 {
		t.Errorf("plan %+v", p.Summary)
	}
}

func TestApplyStoppedBeforeStart(t *testing.T) {
	set := load(t, map[string]string{"c.yaml": fullYAML, "plain.csv": numbersCSV(20)})
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	stop := make(chan struct{})
	close(stop)
	p := planFromStore(t, set, s, runner.PlanOptions{})
	res, err := runner.Apply(context.Background(), p, client, s, runner.ApplyOptions{Stop: stop, BatchSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.NotSent != p.Summary.Send || res.Sent != 0 {
		t.Errorf("result %+v, want stopped with NotSent %d", res, p.Summary.Send)
	}
	if n := sb.Stats().Requests[sandbox.EndpointSend]; n != 0 {
		t.Errorf("%d requests after stop", n)
	}
	if rows := stateOf(t, s, state.Filter{}); len(rows) != 0 {
		t.Errorf("state has %d rows", len(rows))
	}
	if n := unresolved(t, s); n != 0 {
		t.Errorf("%d messages in flight", n)
	}
}

// TestApplyStoppedMidway: requests in flight when Stop closes finish and are recorded; no
// new one starts after the next.
func TestApplyStoppedMidway(t *testing.T) {
	set := load(t, map[string]string{"big.yaml": "id: big\nfrom: InfoSMS\ntext: hi\ndestinations_file: big.csv\n", "big.csv": numbersCSV(100)})
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	stop := make(chan struct{})
	var once sync.Once
	p := planFromStore(t, set, s, runner.PlanOptions{})
	res, err := runner.Apply(context.Background(), p, client, s, runner.ApplyOptions{
		Stop: stop, BatchSize: 10, Parallelism: 1,
		Progress: func(done, total int) { once.Do(func() { close(stop) }) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Sent+res.NotSent != 100 || res.Sent < 10 || res.Sent > 20 {
		t.Errorf("result %+v: want stopped after one or two batches", res)
	}
	if n := len(sb.Received()); n != res.Sent {
		t.Errorf("sandbox has %d, result says %d sent", n, res.Sent)
	}
	if rows := stateOf(t, s, state.Filter{States: []state.State{state.Sent}}); len(rows) != res.Sent {
		t.Errorf("state has %d sent, result says %d", len(rows), res.Sent)
	}
	if n := unresolved(t, s); n != 0 {
		t.Errorf("%d messages left in flight or unknown", n)
	}
}

func TestApplyTooManyRequestsExhausted(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	var requests atomic.Int32
	client := startHandler(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Retry-After", "0")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		json.NewEncoder(w).Encode(infobip.NewErrorBody("TOO_MANY_REQUESTS", "Too many requests"))
	})
	p := planFromStore(t, set, s, runner.PlanOptions{})
	res, err := runner.Apply(context.Background(), p, client, s, runner.ApplyOptions{})
	var ae *infobip.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 429 || !strings.Contains(err.Error(), "nothing of this batch was sent") {
		t.Fatalf("Apply = %v, want the 429 and that nothing was sent", err)
	}
	if requests.Load() != 3 {
		t.Errorf("%d requests, want 1 + MaxRetries 2", requests.Load())
	}
	if res.NotSent != 3 || res.Sent+res.Failed+res.Unknown != 0 {
		t.Errorf("result %+v", res)
	}
	if rows := stateOf(t, s, state.Filter{}); len(rows) != 0 {
		t.Errorf("state keeps %v", rows)
	}
	if n := unresolved(t, s); n != 0 {
		t.Errorf("%d messages left in flight", n)
	}
}

func TestApplyAnswerMissesAMessage(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	client := startHandler(t, func(w http.ResponseWriter, r *http.Request) {
		var req infobip.MessagesRequest
		json.NewDecoder(r.Body).Decode(&req)
		var resp infobip.MessagesResponse
		for _, m := range req.Messages[1:] { // forgets the first
			d := m.Destinations[0]
			resp.Messages = append(resp.Messages, infobip.MessageStatus3{Destination: d.To, MessageID: d.MessageID, Details: &infobip.MessageDetails{MessageCount: 3},
				Status: infobip.Status{GroupID: infobip.GroupPending, ID: infobip.StatusPendingAccepted, Name: "PENDING_ACCEPTED"}})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
	res, err := runner.Apply(context.Background(), planFromStore(t, set, s, runner.PlanOptions{}), client, s, runner.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 2 || res.Unknown != 1 || res.SmsParts != 6 {
		t.Errorf("result %+v", res)
	}
	rows := stateOf(t, s, state.Filter{})
	if r := rows["+41790000001"]; r.State != state.Unknown || !strings.Contains(r.Error, "did not mention") {
		t.Errorf("the message the answer forgot: %+v", r)
	}
	if r := rows["+41790000002"]; r.State != state.Sent || r.SmsCount != 3 {
		t.Errorf("an answered message: %+v", r)
	}
}

func TestApplyNothingToSend(t *testing.T) {
	s := openStore(t)
	p, err := runner.MakePlan(&campaign.Set{}, emptySnapshot(), now, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	client := startHandler(t, func(w http.ResponseWriter, r *http.Request) {
		t.Error("a request for an empty plan")
	})
	res, err := runner.Apply(context.Background(), p, client, s, runner.ApplyOptions{})
	if err != nil || fmt.Sprint(res) != fmt.Sprint(runner.Result{}) {
		t.Errorf("Apply of an empty plan = %+v, %v", res, err)
	}
}

// TestApplyConnectionRefused: a request that never left stops the run, and its messages
// stay plainly unsent.
func TestApplyConnectionRefused(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	p := planFromStore(t, set, s, runner.PlanOptions{})
	res, err := runner.Apply(context.Background(), p, newClient(t, url, "k"), s, runner.ApplyOptions{})
	var te *infobip.TransportError
	if !errors.As(err, &te) || te.Written {
		t.Fatalf("Apply = %v, want a TransportError before writing", err)
	}
	if res.NotSent != 3 || res.Sent+res.Unknown+res.Failed != 0 {
		t.Errorf("result %+v", res)
	}
	if rows := stateOf(t, s, state.Filter{}); len(rows) != 0 {
		t.Errorf("state keeps %v", rows)
	}
	if n := unresolved(t, s); n != 0 {
		t.Errorf("%d messages left in flight", n)
	}
}

// TestApplySpilledRecipients: two campaigns naming one CSV whose vars are large enough to be
// kept in a temporary file (campaign.Recipients) are sent every message once, each text
// rendered from its own row, and a fresh plan finds them all sent.
func TestApplySpilledRecipients(t *testing.T) {
	t.Parallel()
	const n = 25_000
	var csv strings.Builder
	csv.WriteString("to,name,code\n")
	for i := range n {
		fmt.Fprintf(&csv, "+4179%07d,Name%d,%048d\n", i, i, i)
	}
	set := load(t, map[string]string{
		"a.yaml": "id: a\nfrom: InfoSMS\ntext: \"Hi {{.name}}: {{.code}}\"\ndestinations_file: r.csv\ndestinations: [{to: \"+41780000001\", vars: {name: Inline, code: \"7\"}}]\n",
		"b.yaml": "id: b\nfrom: InfoSMS\ntext: \"{{.code}} for {{.name}}\"\ndestinations_file: r.csv\n",
		"r.csv":  csv.String(),
	})
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	p := planFromStore(t, set, s, runner.PlanOptions{})
	if p.Summary.Send != 2*n+1 {
		t.Fatalf("plan: %+v", p.Summary)
	}
	res, err := runner.Apply(context.Background(), p, client, s, runner.ApplyOptions{})
	if err != nil || res.Sent != 2*n+1 {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	got := byMessageID(t, sb)
	if len(got) != 2*n+1 {
		t.Fatalf("sandbox received %d messages, want %d", len(got), 2*n+1)
	}
	want := func(c string, to, name, code string) (string, string) {
		text := "Hi " + name + ": " + code
		if c == "b" {
			text = code + " for " + name
		}
		return runner.MessageID(c, 1, to, 0), text
	}
	for i := range n {
		to, name, code := fmt.Sprintf("+4179%07d", i), fmt.Sprintf("Name%d", i), fmt.Sprintf("%048d", i)
		for _, c := range []string{"a", "b"} {
			id, text := want(c, to, name, code)
			if g := got[id]; g.Text != text || g.To != to[1:] {
				t.Fatalf("campaign %s, row %d: received %q to %s, want %q to %s", c, i+2, g.Text, g.To, text, to[1:])
			}
		}
	}
	if id, text := want("a", "+41780000001", "Inline", "7"); got[id].Text != text {
		t.Errorf("inline recipient: received %q, want %q", got[id].Text, text)
	}
	if again := planFromStore(t, set, s, runner.PlanOptions{}); again.Summary != (runner.Counts{Noop: 2*n + 1}) {
		t.Errorf("plan after apply: %+v", again.Summary)
	}
}
