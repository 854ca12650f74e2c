package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/sandbox"
)

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func start(t *testing.T, opts sandbox.Options) (*sandbox.Server, *infobip.Client, string) {
	t.Helper()
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewPCG(1, 2))
	}
	sb := sandbox.New(opts)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return sb, newClient(t, srv.URL, "k"), srv.URL
}

func newClient(t *testing.T, base, key string) *infobip.Client {
	t.Helper()
	c, err := infobip.New(infobip.Config{BaseURL: base, APIKey: key, MaxRetries: 1, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func one(bulk, id, to, text string) *infobip.SendRequest {
	return &infobip.SendRequest{
		BulkID:                    bulk,
		Messages:                  []infobip.Message{{From: "InfoSMS", Text: text, Destinations: []infobip.Destination{{To: to, MessageID: id}}}},
		IncludeSmsCountInResponse: true,
	}
}

// sendV2 posts to the older POST /sms/2/text/advanced, which the sandbox still serves.
func sendV2(ctx context.Context, c *infobip.Client, req *infobip.SendRequest) (*infobip.SendResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	var out infobip.SendResponse
	if err := c.Do(ctx, http.MethodPost, "/sms/2/text/advanced", nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func send(t *testing.T, c *infobip.Client, req *infobip.SendRequest) *infobip.SendResponse {
	t.Helper()
	resp, err := sendV2(context.Background(), c, req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	return resp
}

func logs(t *testing.T, c *infobip.Client, q infobip.LogsQuery) []infobip.LogEntry {
	t.Helper()
	resp, err := c.Logs(context.Background(), q)
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	return resp.Results
}

func ids(entries []infobip.LogEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.MessageID)
	}
	return out
}

// raw does an authorised request with plain net/http.
func raw(t *testing.T, method, u string, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "App k")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

func errorBody(t *testing.T, data []byte) infobip.ServiceException {
	t.Helper()
	var b infobip.ErrorBody
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("error body %s: %v", data, err)
	}
	return b.RequestError.ServiceException
}

func apiError(t *testing.T, err error, status int) *infobip.APIError {
	t.Helper()
	var ae *infobip.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want *infobip.APIError %d, got %T %v", status, err, err)
	}
	if ae.StatusCode != status {
		t.Fatalf("want HTTP %d, got %v", status, ae)
	}
	return ae
}

// TestSendAndDuplicate: on an account with idempotent sending (IdempotencyWindow), a
// repeated messageId within the window is rejected per message with status 23.
func TestSendAndDuplicate(t *testing.T) {
	clk := newClock()
	sb, c, _ := start(t, sandbox.Options{Now: clk.Now, IdempotencyWindow: time.Hour})
	req := &infobip.SendRequest{
		BulkID: "b1",
		Messages: []infobip.Message{{
			From:               "InfoSMS",
			Text:               strings.Repeat("x", 161), // two parts
			Destinations:       []infobip.Destination{{To: "41793026731", MessageID: "m1"}, {To: "41793026732", MessageID: "m2"}},
			ValidityPeriod:     120,
			SendAt:             "2026-12-01T09:00:00.000+0000",
			DeliveryTimeWindow: &infobip.TimeWindow{Days: []string{"MONDAY"}, From: &infobip.TimeOfDay{Hour: 9}, To: &infobip.TimeOfDay{Hour: 17}},
			NotifyURL:          "https://example.com/dlr",
			CallbackData:       "campaign=x",
		}},
		Tracking:                  &infobip.Tracking{Track: "SMS", Type: "One_Time_Pin"},
		SendingSpeedLimit:         &infobip.SpeedLimit{Amount: 100, TimeUnit: "MINUTE"},
		IncludeSmsCountInResponse: true,
	}
	resp := send(t, c, req)
	if resp.BulkID != "b1" || len(resp.Messages) != 2 {
		t.Fatalf("response %+v", resp)
	}
	for i, m := range resp.Messages {
		want := infobip.Status{GroupID: 1, GroupName: "PENDING", ID: 26, Name: "PENDING_ACCEPTED", Description: "Message sent to next instance"}
		if m.Status != want || m.SmsCount != 2 || m.MessageID != req.Messages[0].Destinations[i].MessageID || m.To != req.Messages[0].Destinations[i].To {
			t.Errorf("message %d: %+v", i, m)
		}
	}
	got := sb.Received()
	if len(got) != 2 {
		t.Fatalf("received %d", len(got))
	}
	r := got[0]
	if r.BulkID != "b1" || r.MessageID != "m1" || r.To != "41793026731" || r.From != "InfoSMS" || r.Text != req.Messages[0].Text ||
		r.ValidityPeriod != 120 || r.SendAt != "2026-12-01T09:00:00.000+0000" || r.NotifyURL != "https://example.com/dlr" ||
		r.CallbackData != "campaign=x" || r.SmsCount != 2 || !r.AcceptedAt.Equal(clk.Now()) || r.Converted != 0 {
		t.Errorf("received %+v", r)
	}
	if r.Tracking == nil || *r.Tracking != *req.Tracking || r.SpeedLimit == nil || *r.SpeedLimit != *req.SendingSpeedLimit ||
		r.DeliveryTimeWindow == nil || r.DeliveryTimeWindow.Days[0] != "MONDAY" || r.DeliveryTimeWindow.To.Hour != 17 {
		t.Errorf("received options %+v %+v %+v", r.Tracking, r.SpeedLimit, r.DeliveryTimeWindow)
	}
	// Copies: changing what Received returned changes nothing inside.
	r.Tracking.Track = "changed"
	r.DeliveryTimeWindow.Days[0] = "changed"
	if again := sb.Received()[0]; again.Tracking.Track != "SMS" || again.DeliveryTimeWindow.Days[0] != "MONDAY" {
		t.Errorf("Received shares memory with the server: %+v", again)
	}

	// The same messageIds again, plus a fresh one: duplicates are rejected per message.
	req.BulkID = "b2"
	req.Messages[0].Destinations = append(req.Messages[0].Destinations, infobip.Destination{To: "41793026733", MessageID: "m3"})
	resp = send(t, c, req)
	for i, m := range resp.Messages[:2] {
		want := infobip.Status{GroupID: 5, GroupName: "REJECTED", ID: 23, Name: "REJECTED_DUPLICATE_MESSAGE_ID", Description: "Message ID is not unique"}
		if m.Status != want || !m.Status.DuplicateMessageID() {
			t.Errorf("duplicate %d: %+v", i, m)
		}
	}
	if st := resp.Messages[2].Status; st.ID != 26 {
		t.Errorf("fresh message: %+v", st)
	}
	if got := sb.Received(); len(got) != 3 || got[2].MessageID != "m3" || got[2].BulkID != "b2" {
		t.Errorf("received after duplicates: %+v", got)
	}
	if d := sb.Duplicates(); !slices.Equal(d, []string{"m1", "m2"}) {
		t.Errorf("duplicates %v", d)
	}
	st := sb.Stats()
	if st.Accepted != 3 || st.Duplicates != 2 || st.Requests[sandbox.EndpointSend] != 2 {
		t.Errorf("stats %+v", st)
	}

	sb.Reset()
	if len(sb.Received()) != 0 || len(sb.Duplicates()) != 0 || sb.Stats().Accepted != 0 {
		t.Error("Reset kept something")
	}
	if resp := send(t, c, one("b3", "m1", "41793026731", "hi")); resp.Messages[0].Status.ID != 26 {
		t.Errorf("after Reset m1 is new again: %+v", resp.Messages[0])
	}
}

func TestGeneratedIDs(t *testing.T) {
	sb, c, _ := start(t, sandbox.Options{})
	req := &infobip.SendRequest{Messages: []infobip.Message{{Text: "hi", Destinations: []infobip.Destination{{To: "41793026731"}, {To: "41793026732"}}}}}
	resp := send(t, c, req)
	if resp.BulkID == "" || !infobip.ValidMessageID(resp.Messages[0].MessageID) || resp.Messages[0].MessageID == resp.Messages[1].MessageID {
		t.Fatalf("generated ids: %+v", resp)
	}
	if resp.Messages[0].SmsCount != 0 {
		t.Errorf("smsCount without includeSmsCountInResponse: %+v", resp.Messages[0])
	}
	got := sb.Received()
	if len(got) != 2 || got[0].BulkID != resp.BulkID || got[1].MessageID != resp.Messages[1].MessageID || got[0].SmsCount != 1 {
		t.Errorf("received %+v", got)
	}
}

func TestPerMessageRejections(t *testing.T) {
	sb, c, _ := start(t, sandbox.Options{})
	req := &infobip.SendRequest{BulkID: "b", Messages: []infobip.Message{
		{Text: "hi", Destinations: []infobip.Destination{{To: "999123456", MessageID: "bad"}, {To: "41793026731", MessageID: "good"}}},
		{Text: strings.Repeat("a", 4001), Destinations: []infobip.Destination{{To: "41793026732", MessageID: "long-bytes"}}},
		{Text: strings.Repeat("€", 26*67), Destinations: []infobip.Destination{{To: "41793026733", MessageID: "long-parts"}}},
	}}
	resp := send(t, c, req)
	want := []int{52, 26, 25, 25}
	for i, m := range resp.Messages {
		if m.Status.ID != want[i] {
			t.Errorf("%s: status %+v, want id %d", m.MessageID, m.Status, want[i])
		}
	}
	if st := resp.Messages[0].Status; st.GroupID != 5 || st.Name != "REJECTED_DESTINATION" || st.Description != "Invalid destination address" || !st.Rejected() {
		t.Errorf("999 status %+v", st)
	}
	if st := resp.Messages[2].Status; st.GroupID != 5 || st.Name != "REJECTED_MESSAGE_TOO_LONG" {
		t.Errorf("too long status %+v", st)
	}
	if got := sb.Received(); len(got) != 1 || got[0].MessageID != "good" {
		t.Errorf("received %+v", got)
	}
	// A rejected messageId was never accepted, so it is no duplicate.
	if resp := send(t, c, one("b2", "bad", "41793026739", "hi")); resp.Messages[0].Status.ID != 26 {
		t.Errorf("resend of a rejected id: %+v", resp.Messages[0])
	}
	if st := sb.Stats(); st.Rejected != 3 || st.Accepted != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestSendValidation(t *testing.T) {
	sb, c, base := start(t, sandbox.Options{})
	dest := []infobip.Destination{{To: "41793026731"}}
	cases := []struct {
		name   string
		req    *infobip.SendRequest
		detail string
	}{
		{"no messages", &infobip.SendRequest{}, "messages: must not be empty"},
		{"no destinations", &infobip.SendRequest{Messages: []infobip.Message{{Text: "hi"}}}, "messages[0].destinations: must not be empty"},
		{"no to", &infobip.SendRequest{Messages: []infobip.Message{{Text: "hi", Destinations: []infobip.Destination{{MessageID: "x"}}}}}, "messages[0].destinations[0].to: must not be blank"},
		{"plus", &infobip.SendRequest{Messages: []infobip.Message{{Text: "hi", Destinations: []infobip.Destination{{To: "+41793026731"}}}}}, "messages[0].destinations[0].to: must be 3 to 64 digits"},
		{"short", &infobip.SendRequest{Messages: []infobip.Message{{Text: "hi", Destinations: []infobip.Destination{{To: "12"}}}}}, "messages[0].destinations[0].to: must be 3 to 64 digits"},
		{"long", &infobip.SendRequest{Messages: []infobip.Message{{Text: "hi", Destinations: []infobip.Destination{{To: strings.Repeat("1", 65)}}}}}, "messages[0].destinations[0].to: must be 3 to 64 digits"},
		{"no text", &infobip.SendRequest{Messages: []infobip.Message{{Destinations: dest}}}, "messages[0].text: must not be blank"},
		{"second message", &infobip.SendRequest{Messages: []infobip.Message{{Text: "hi", Destinations: dest}, {Destinations: dest}}}, "messages[1].text: must not be blank"},
		{"sendAt", &infobip.SendRequest{Messages: []infobip.Message{{Text: "hi", Destinations: dest, SendAt: "2026-12-01T09:00:00Z"}}}, "messages[0].sendAt: must have the format"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sendV2(context.Background(), c, tc.req)
			ae := apiError(t, err, 400)
			if ae.Code != "BAD_REQUEST" || !slices.ContainsFunc(ae.Details, func(d string) bool { return strings.HasPrefix(d, tc.detail) }) {
				t.Errorf("got %v, want a detail starting %q", ae, tc.detail)
			}
		})
	}
	resp, data := raw(t, "POST", base+"/sms/2/text/advanced", "{not json")
	if resp.StatusCode != 400 || errorBody(t, data).MessageID != "BAD_REQUEST" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("broken JSON: %d %s", resp.StatusCode, data)
	}
	if n := len(sb.Received()); n != 0 {
		t.Errorf("%d messages recorded from bad requests", n)
	}
	if st := sb.Stats(); st.BadRequests != len(cases)+1 {
		t.Errorf("stats %+v", st)
	}
}

func TestV1SendPath(t *testing.T) {
	sb, _, base := start(t, sandbox.Options{})
	resp, data := raw(t, "POST", base+"/sms/1/text/advanced", `{"messages":[{"text":"hi","destinations":[{"to":"41793026731","messageId":"v1"}]}]}`)
	if resp.StatusCode != 200 || len(sb.Received()) != 1 {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
}

func TestLogs(t *testing.T) {
	_, c, base := start(t, sandbox.Options{})
	send(t, c, &infobip.SendRequest{BulkID: "b1", Messages: []infobip.Message{
		{From: "A", Text: "one", Destinations: []infobip.Destination{{To: "41000000001", MessageID: "m1"}, {To: "41000000002", MessageID: "m2"}}},
	}})
	send(t, c, &infobip.SendRequest{BulkID: "b2", Messages: []infobip.Message{
		{From: "B", Text: "two", Destinations: []infobip.Destination{{To: "41000000003", MessageID: "m3"}}},
	}})
	send(t, c, one("b1", "m4", "41000000001", "again"))

	if got := ids(logs(t, c, infobip.LogsQuery{})); !slices.Equal(got, []string{"m1", "m2", "m3", "m4"}) {
		t.Errorf("all: %v", got)
	}
	if got := ids(logs(t, c, infobip.LogsQuery{MessageIDs: []string{"m4", "m1", "nope"}})); !slices.Equal(got, []string{"m1", "m4"}) {
		t.Errorf("by messageId (acceptance order): %v", got)
	}
	if got := ids(logs(t, c, infobip.LogsQuery{BulkIDs: []string{"b1"}})); !slices.Equal(got, []string{"m1", "m2", "m4"}) {
		t.Errorf("by bulkId: %v", got)
	}
	if got := ids(logs(t, c, infobip.LogsQuery{BulkIDs: []string{"b2", "b1"}, Limit: 2})); !slices.Equal(got, []string{"m1", "m2"}) {
		t.Errorf("by bulkIds with limit: %v", got)
	}
	if got := ids(logs(t, c, infobip.LogsQuery{MessageIDs: []string{"m1", "m3"}, BulkIDs: []string{"b2"}})); !slices.Equal(got, []string{"m3"}) {
		t.Errorf("by messageId and bulkId: %v", got)
	}
	if got := ids(logs(t, c, infobip.LogsQuery{Limit: 1})); !slices.Equal(got, []string{"m1"}) {
		t.Errorf("limit 1: %v", got)
	}
	// Repeated parameters and the `to` filter.
	_, data := raw(t, "GET", base+"/sms/1/logs?messageId=m1&messageId=m2,m3&to=%2B41000000002", "")
	var lr infobip.LogsResponse
	if err := json.Unmarshal(data, &lr); err != nil || !slices.Equal(ids(lr.Results), []string{"m2"}) {
		t.Errorf("repeated messageId + to: %s", data)
	}

	e := logs(t, c, infobip.LogsQuery{MessageIDs: []string{"m3"}})[0]
	if e.BulkID != "b2" || e.Destination != "41000000003" || e.Sender != "B" || e.Content == nil || e.Content.Text != "two" || e.MessageCount != 1 ||
		e.Price == nil || e.Price.PricePerMessage != 0.01 || e.Price.Currency != "EUR" || e.Status.GroupID != 3 {
		t.Errorf("entry %+v", e)
	}
	if _, err := time.Parse(infobip.SendAtLayout, e.SentAt); err != nil {
		t.Errorf("sentAt %q: %v", e.SentAt, err)
	}

	// Joined messageIds over 2048 characters are refused.
	var many []string
	for i := 0; len(strings.Join(many, ",")) <= 2048; i++ {
		many = append(many, fmt.Sprintf("message-%04d", i))
	}
	_, err := c.Logs(context.Background(), infobip.LogsQuery{MessageIDs: many})
	if ae := apiError(t, err, 400); ae.Code != "E400" {
		t.Errorf("2048: %v", ae)
	}
	if got := logs(t, c, infobip.LogsQuery{MessageIDs: many[:len(many)-1]}); len(got) != 0 {
		t.Errorf("just under 2048: %v", got)
	}
	for _, l := range []string{"1001", "0", "x"} {
		resp, data := raw(t, "GET", base+"/sms/1/logs?limit="+l, "")
		if resp.StatusCode != 400 || errorBody(t, data).MessageID != "BAD_REQUEST" {
			t.Errorf("limit=%s: %d %s", l, resp.StatusCode, data)
		}
	}
	if resp, _ := raw(t, "GET", base+"/sms/1/logs?limit=1000", ""); resp.StatusCode != 200 {
		t.Errorf("limit=1000: %d", resp.StatusCode)
	}
}

func TestLogsLag(t *testing.T) {
	clk := newClock()
	_, c, _ := start(t, sandbox.Options{Now: clk.Now, LogsLag: time.Minute})
	send(t, c, one("b", "m1", "41793026731", "hi"))
	if got := logs(t, c, infobip.LogsQuery{MessageIDs: []string{"m1"}}); len(got) != 0 {
		t.Fatalf("fresh message visible: %v", got)
	}
	clk.Advance(59 * time.Second)
	send(t, c, one("b", "m2", "41793026732", "hi"))
	if got := logs(t, c, infobip.LogsQuery{}); len(got) != 0 {
		t.Fatalf("message visible before LogsLag: %v", got)
	}
	clk.Advance(time.Second)
	if got := ids(logs(t, c, infobip.LogsQuery{BulkIDs: []string{"b"}})); !slices.Equal(got, []string{"m1"}) {
		t.Fatalf("after LogsLag: %v", got)
	}
	clk.Advance(time.Minute)
	if got := ids(logs(t, c, infobip.LogsQuery{})); !slices.Equal(got, []string{"m1", "m2"}) {
		t.Fatalf("both: %v", got)
	}
}

func TestDeliveryDelay(t *testing.T) {
	clk := newClock()
	_, c, _ := start(t, sandbox.Options{Now: clk.Now, DeliveryDelay: 10 * time.Second})
	send(t, c, one("b", "m1", "41793026731", "hi"))
	e := logs(t, c, infobip.LogsQuery{MessageIDs: []string{"m1"}})[0]
	if e.Status.GroupID != 1 || e.Status.ID != 7 || e.Status.Name != "PENDING_ENROUTE" || e.DoneAt != "" {
		t.Errorf("pending entry %+v", e)
	}
	if e.SentAt != "2026-03-01T12:00:00.000+0000" {
		t.Errorf("sentAt %q", e.SentAt)
	}
	clk.Advance(10 * time.Second)
	e = logs(t, c, infobip.LogsQuery{MessageIDs: []string{"m1"}})[0]
	if e.Status.GroupID != 3 || e.Status.ID != 5 || e.Status.Name != "DELIVERED_TO_HANDSET" || e.DoneAt != "2026-03-01T12:00:10.000+0000" {
		t.Errorf("delivered entry %+v", e)
	}
}

func TestDeliveredAtOnce(t *testing.T) {
	_, c, _ := start(t, sandbox.Options{})
	send(t, c, one("b", "m1", "41793026731", "hi"))
	if e := logs(t, c, infobip.LogsQuery{MessageIDs: []string{"m1"}})[0]; e.Status.GroupID != 3 || e.DoneAt == "" {
		t.Errorf("entry %+v", e)
	}
}

func TestReportsConsumedOnce(t *testing.T) {
	clk := newClock()
	sb, c, _ := start(t, sandbox.Options{Now: clk.Now, DeliveryDelay: time.Minute})
	ctx := context.Background()
	send(t, c, &infobip.SendRequest{BulkID: "b", Messages: []infobip.Message{{Text: "hi", Destinations: []infobip.Destination{
		{To: "41000000001", MessageID: "m1"}, {To: "41000000002", MessageID: "m2"}, {To: "41000000003", MessageID: "m3"}}}}})
	reports := func(q infobip.LogsQuery) []string {
		t.Helper()
		r, err := c.Reports(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range r.Results {
			if e.Status.GroupID != 3 {
				t.Errorf("report not delivered: %+v", e)
			}
		}
		var out []string
		for _, e := range r.Results {
			out = append(out, e.MessageID)
		}
		return out
	}
	if got := reports(infobip.LogsQuery{}); len(got) != 0 {
		t.Fatalf("reports while pending: %v", got)
	}
	clk.Advance(time.Minute)
	if got := reports(infobip.LogsQuery{MessageIDs: []string{"m2"}}); !slices.Equal(got, []string{"m2"}) {
		t.Fatalf("by messageId: %v", got)
	}
	if got := reports(infobip.LogsQuery{Limit: 1}); !slices.Equal(got, []string{"m1"}) {
		t.Fatalf("limit 1: %v", got)
	}
	if got := reports(infobip.LogsQuery{BulkIDs: []string{"b"}}); !slices.Equal(got, []string{"m3"}) {
		t.Fatalf("rest: %v", got)
	}
	if got := reports(infobip.LogsQuery{}); len(got) != 0 {
		t.Fatalf("handed out twice: %v", got)
	}
	// Logs stay re-readable.
	if got := logs(t, c, infobip.LogsQuery{}); len(got) != 3 {
		t.Fatalf("logs after reports: %v", got)
	}
	if st := sb.Stats(); st.Reports != 3 || st.Requests[sandbox.EndpointReports] != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestLogEnd(t *testing.T) {
	sb, c, _ := start(t, sandbox.Options{})
	ctx := context.Background()
	tracked := one("b", "tracked", "41793026731", "hi")
	tracked.Tracking = &infobip.Tracking{Track: "SMS", Type: "One_Time_Pin"}
	send(t, c, tracked)
	send(t, c, one("b", "plain", "41793026732", "hi"))

	for _, id := range []string{"unknown", "plain"} {
		_, err := c.LogEnd(ctx, id)
		if ae := apiError(t, err, 404); ae.Code != "NOT_FOUND" {
			t.Errorf("%s: %v", id, ae)
		}
	}
	for range 2 {
		resp, err := c.LogEnd(ctx, "tracked")
		if err != nil {
			t.Fatal(err)
		}
		if resp.ProcessKey != sandbox.ProcessKey || len(resp.ProcessKey) != 32 || strings.ToUpper(resp.ProcessKey) != resp.ProcessKey {
			t.Errorf("processKey %q", resp.ProcessKey)
		}
	}
	got := sb.Received()
	if got[0].Converted != 2 || got[1].Converted != 0 {
		t.Errorf("converted %d %d", got[0].Converted, got[1].Converted)
	}
	if st := sb.Stats(); st.Conversions != 2 || st.Requests[sandbox.EndpointLogEnd] != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestAuth(t *testing.T) {
	sb, _, base := start(t, sandbox.Options{APIKey: "secret"})
	c := newClient(t, base, "wrong")
	_, err := sendV2(context.Background(), c, one("b", "m1", "41793026731", "hi"))
	if !errors.Is(err, infobip.ErrCredentials) {
		t.Fatalf("wrong key: %v", err)
	}
	if strings.Contains(err.Error(), "App wrong") {
		t.Errorf("error shows the key: %v", err)
	}
	if !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Errorf("error: %v", err)
	}
	if _, err := c.Logs(context.Background(), infobip.LogsQuery{}); !errors.Is(err, infobip.ErrCredentials) {
		t.Errorf("logs with wrong key: %v", err)
	}
	if n := len(sb.Received()); n != 0 {
		t.Fatalf("recorded %d", n)
	}
	good := newClient(t, base, "secret")
	send(t, good, one("b", "m1", "41793026731", "hi"))

	// No Authorization header at all: 401 even when any key would do.
	_, _, open := start(t, sandbox.Options{})
	resp, err := http.Get(open + "/sms/1/logs")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || errorBody(t, data).MessageID != "UNAUTHORIZED" {
		t.Errorf("no header: %d %s", resp.StatusCode, data)
	}
	basic, err := infobip.New(infobip.Config{BaseURL: open, Username: "u", Password: "p", MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := basic.Logs(context.Background(), infobip.LogsQuery{}); err != nil {
		t.Errorf("basic auth on an open sandbox: %v", err)
	}
	if st := sb.Stats(); st.Unauthorized != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestErrorRate(t *testing.T) {
	sb, c, _ := start(t, sandbox.Options{ErrorRate: 1})
	_, err := sendV2(context.Background(), c, one("b", "m1", "41793026731", "hi"))
	ae := apiError(t, err, 500)
	if ae.Code != "GENERAL_ERROR" || !infobip.OutcomeUnknown(err) {
		t.Errorf("error %v", ae)
	}
	if n := len(sb.Received()); n != 0 {
		t.Errorf("recorded %d", n)
	}
	// Other endpoints are not affected.
	logs(t, c, infobip.LogsQuery{})
	if st := sb.Stats(); st.Faults[sandbox.FaultError] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestDropRate(t *testing.T) {
	sb, c, _ := start(t, sandbox.Options{DropRate: 1, IdempotencyWindow: time.Hour})
	_, err := sendV2(context.Background(), c, one("b", "m1", "41793026731", "hi"))
	var te *infobip.TransportError
	if !errors.As(err, &te) || !te.Written || !infobip.OutcomeUnknown(err) {
		t.Fatalf("want a TransportError after writing, got %T %v", err, err)
	}
	got := sb.Received()
	if len(got) != 1 || got[0].MessageID != "m1" {
		t.Fatalf("received %+v", got)
	}
	// The reconciliation smsform does: the logs know it, and a resend is a duplicate.
	if got := logs(t, c, infobip.LogsQuery{MessageIDs: []string{"m1"}}); len(got) != 1 {
		t.Errorf("logs %v", got)
	}
	if _, err := sendV2(context.Background(), c, one("b", "m1", "41793026731", "hi")); err == nil {
		t.Error("dropped again but no error")
	}
	if d := sb.Duplicates(); !slices.Equal(d, []string{"m1"}) {
		t.Errorf("duplicates %v", d)
	}
	if st := sb.Stats(); st.Faults[sandbox.FaultDrop] != 2 || st.Accepted != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestTooManyRate(t *testing.T) {
	sb, _, base := start(t, sandbox.Options{TooManyRate: 1, RetryAfter: 1500 * time.Millisecond})
	resp, data := raw(t, "POST", base+"/sms/2/text/advanced", `{"messages":[{"text":"hi","destinations":[{"to":"41793026731"}]}]}`)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || errorBody(t, data).MessageID != "TOO_MANY_REQUESTS" {
		t.Errorf("send: %d Retry-After=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), data)
	}
	for _, u := range []string{"/sms/1/logs", "/sms/1/reports"} {
		if resp, _ := raw(t, "GET", base+u, ""); resp.StatusCode != 429 {
			t.Errorf("%s: %d", u, resp.StatusCode)
		}
	}
	if resp, _ := raw(t, "POST", base+"/ct/1/log/end/x", ""); resp.StatusCode != 429 {
		t.Errorf("log/end: %d", resp.StatusCode)
	}
	if n := len(sb.Received()); n != 0 {
		t.Errorf("recorded %d", n)
	}
	if st := sb.Stats(); st.Faults[sandbox.FaultTooMany] != 4 {
		t.Errorf("stats %+v", st)
	}

	// Default Retry-After is one second.
	_, _, base = start(t, sandbox.Options{TooManyRate: 1})
	if resp, _ := raw(t, "GET", base+"/sms/1/logs", ""); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("default: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestRatesAreDeterministic(t *testing.T) {
	outcomes := func() []int {
		sb := sandbox.New(sandbox.Options{ErrorRate: 0.3, TooManyRate: 0.2, Rand: rand.New(rand.NewPCG(7, 7))})
		var out []int
		for range 50 {
			body := `{"messages":[{"text":"hi","destinations":[{"to":"41793026731"}]}]}`
			req := httptest.NewRequest("POST", "/sms/2/text/advanced", strings.NewReader(body))
			req.Header.Set("Authorization", "App k")
			w := httptest.NewRecorder()
			sb.ServeHTTP(w, req)
			out = append(out, w.Code)
		}
		return out
	}
	a, b := outcomes(), outcomes()
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different outcomes:\n%v\n%v", a, b)
	}
	for _, code := range []int{200, 429, 500} {
		if !slices.Contains(a, code) {
			t.Errorf("no %d in %v", code, a)
		}
	}
}

func TestLatency(t *testing.T) {
	sb, c, _ := start(t, sandbox.Options{Latency: 30 * time.Millisecond})
	t0 := time.Now()
	send(t, c, one("b", "m1", "41793026731", "hi"))
	if d := time.Since(t0); d < 30*time.Millisecond {
		t.Errorf("answered in %v", d)
	}
	if st := sb.Stats(); st.Faults[sandbox.FaultLatency] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRoutingErrors(t *testing.T) {
	_, _, base := start(t, sandbox.Options{})
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/sms/9/messages", 404, "NOT_FOUND"},
		{"GET", "/ct/1/log/end/", 404, "NOT_FOUND"},
		{"GET", "/sms/2/text/advanced", 405, "METHOD_NOT_ALLOWED"},
		{"POST", "/sms/1/logs", 405, "METHOD_NOT_ALLOWED"},
		{"GET", "/ct/1/log/end/m1", 405, "METHOD_NOT_ALLOWED"},
		{"POST", "/sandbox/nothing", 404, "NOT_FOUND"},
	} {
		resp, data := raw(t, tc.method, base+tc.path, "")
		if resp.StatusCode != tc.status || errorBody(t, data).MessageID != tc.code || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, data)
		}
	}
}

func TestSandboxEndpoints(t *testing.T) {
	sb, c, base := start(t, sandbox.Options{APIKey: "k"})
	send(t, c, one("b", "m1", "41793026731", "hi"))
	resp, err := http.Get(base + "/sandbox/messages") // no credentials needed
	if err != nil {
		t.Fatal(err)
	}
	var got []sandbox.Received
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(got) != 1 || got[0].MessageID != "m1" || got[0].Text != "hi" {
		t.Fatalf("%d %+v", resp.StatusCode, got)
	}
	resp, err = http.Get(base + "/sandbox/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st sandbox.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.Accepted != 1 {
		t.Fatalf("stats %+v %v", st, err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("DELETE", base+"/sandbox/messages", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("delete: %v %v", resp, err)
	}
	if len(sb.Received()) != 0 {
		t.Error("DELETE /sandbox/messages kept messages")
	}
	resp, data := raw(t, "GET", base+"/sandbox/messages", "")
	if resp.StatusCode != 200 || strings.TrimSpace(string(data)) != "[]" {
		t.Errorf("empty list: %s", data)
	}
}

func TestConcurrentSends(t *testing.T) {
	sb, c, _ := start(t, sandbox.Options{DeliveryDelay: time.Hour, IdempotencyWindow: time.Hour})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				id := fmt.Sprintf("w%d-%d", w, i%10) // every id twice
				if _, err := sendV2(context.Background(), c, one(fmt.Sprintf("b%d", w), id, "41793026731", "hi")); err != nil {
					t.Error(err)
				}
				if _, err := c.Logs(context.Background(), infobip.LogsQuery{MessageIDs: []string{id}}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if n, d := len(sb.Received()), len(sb.Duplicates()); n != 80 || d != 80 {
		t.Errorf("received %d, duplicates %d", n, d)
	}
}

func TestListenAndServe(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:0"} {
		err := sandbox.ListenAndServe(context.Background(), addr, sandbox.Options{}, nil)
		if !errors.Is(err, sandbox.ErrNotLoopback) {
			t.Errorf("%s: %v", addr, err)
		}
	}
	if err := sandbox.ListenAndServe(context.Background(), "127.0.0.1", sandbox.Options{}, nil); err == nil {
		t.Error("address without port accepted")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- sandbox.ListenAndServe(ctx, "127.0.0.1:0", sandbox.Options{APIKey: "k"}, func(u string) { urls <- u })
	}()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "0" {
		t.Fatalf("url %q", base)
	}
	c := newClient(t, base, "k")
	send(t, c, one("b", "m1", "41793026731", "hi"))
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}
	if _, err := http.Get(base + "/sandbox/messages"); err == nil {
		t.Error("still serving after cancel")
	}
}

func BenchmarkSend1000(b *testing.B) {
	sb := sandbox.New(sandbox.Options{})
	var n int
	for b.Loop() {
		req := infobip.SendRequest{BulkID: fmt.Sprint("bulk", n)}
		for range 1000 {
			req.Messages = append(req.Messages, infobip.Message{From: "InfoSMS", Text: fmt.Sprint("Hi, your PIN is ", n),
				Destinations: []infobip.Destination{{To: fmt.Sprint(41790000000 + n), MessageID: fmt.Sprint("m", n)}}})
			n++
		}
		body, _ := json.Marshal(&req)
		r := httptest.NewRequest("POST", "/sms/2/text/advanced", bytes.NewReader(body))
		r.Header.Set("Authorization", "App k")
		w := httptest.NewRecorder()
		sb.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}
