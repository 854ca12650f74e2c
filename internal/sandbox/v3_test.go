package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/sandbox"
)

func one3(bulk, id, to, text string) *infobip.MessagesRequest {
	return &infobip.MessagesRequest{
		Messages: []infobip.MessageV3{{Sender: "InfoSMS", Content: infobip.TextContent{Text: text},
			Destinations: []infobip.Destination{{To: to, MessageID: id}},
			Options:      &infobip.MessageOptionsV3{CampaignReferenceID: "camp"}}},
		Options: &infobip.RequestOptionsV3{Schedule: &infobip.Schedule{BulkID: bulk}, IncludeSmsCountInResponse: true},
	}
}

func send3(t *testing.T, c *infobip.Client, req *infobip.MessagesRequest) *infobip.MessagesResponse {
	t.Helper()
	resp, err := c.Send(context.Background(), req)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	return resp
}

// TestV3SendShape: every v3 field smsform sends is read, and the answer has v3's shape.
func TestV3SendShape(t *testing.T) {
	clk := newClock()
	sb, c, _ := start(t, sandbox.Options{Now: clk.Now})
	req := &infobip.MessagesRequest{
		Messages: []infobip.MessageV3{{
			Sender:       "InfoSMS",
			Destinations: []infobip.Destination{{To: "41793026731", MessageID: "m1"}},
			Content:      infobip.TextContent{Text: strings.Repeat("x", 161)},
			Options: &infobip.MessageOptionsV3{
				ValidityPeriod:      &infobip.ValidityPeriod{Amount: 2, TimeUnit: infobip.UnitHours},
				DeliveryTimeWindow:  &infobip.TimeWindow{Days: []string{"MONDAY"}, From: &infobip.TimeOfDay{Hour: 9}, To: &infobip.TimeOfDay{Hour: 17}},
				CampaignReferenceID: "otp",
			},
			Webhooks: &infobip.Webhooks{Delivery: &infobip.DeliveryWebhook{URL: "https://example.com/dlr"}, CallbackData: "campaign=x"},
		}},
		Options: &infobip.RequestOptionsV3{
			Schedule: &infobip.Schedule{BulkID: "b1", SendAt: "2026-12-01T09:00:00.000+0000",
				SendingSpeedLimit: &infobip.SpeedLimit{Amount: 100, TimeUnit: "MINUTE"}},
			ConversionTracking:        &infobip.ConversionTracking{UseConversionTracking: true, ConversionTrackingName: "One_Time_Pin"},
			IncludeSmsCountInResponse: true,
		},
	}
	resp := send3(t, c, req)
	if resp.BulkID != "b1" || len(resp.Messages) != 1 || resp.Messages[0].MessageID != "m1" || resp.Messages[0].Destination != "41793026731" ||
		resp.Messages[0].SmsCount() != 2 || resp.Messages[0].Status.ID != infobip.StatusPendingAccepted {
		t.Fatalf("response %+v", resp)
	}
	r := sb.Received()[0]
	if r.From != "InfoSMS" || r.ValidityPeriod != 120 || r.SendAt != "2026-12-01T09:00:00.000+0000" || r.NotifyURL != "https://example.com/dlr" ||
		r.CallbackData != "campaign=x" || r.CampaignReference != "otp" || r.Tracking == nil || r.Tracking.Type != "One_Time_Pin" ||
		r.SpeedLimit == nil || r.SpeedLimit.Amount != 100 || r.DeliveryTimeWindow == nil || r.DeliveryTimeWindow.To.Hour != 17 || r.Copy != 1 {
		t.Errorf("received %+v", r)
	}
	// v3 errors come in v3's shape.
	_, err := c.Send(context.Background(), &infobip.MessagesRequest{Messages: []infobip.MessageV3{{Destinations: []infobip.Destination{{To: "x"}}}}})
	ae := apiError(t, err, 400)
	if ae.Code != "E400" || !slices.Contains(ae.Details, "messages[0].content.text: must not be blank") {
		t.Errorf("v3 error %#v", ae)
	}
}

// TestDefaultAccountDeliversRepeats: like a default Infobip account, a repeated messageId is
// a new message that reaches the phone again, and the sandbox counts it as a double send.
func TestDefaultAccountDeliversRepeats(t *testing.T) {
	sb, c, base := start(t, sandbox.Options{})
	send3(t, c, one3("b1", "m1", "41793026731", "hi"))
	resp := send3(t, c, one3("b2", "m1", "41793026731", "hi"))
	if st := resp.Messages[0].Status; st.ID != infobip.StatusPendingAccepted {
		t.Errorf("repeat answered %+v; a default account accepts it", st)
	}
	got := sb.Received()
	if len(got) != 2 || got[0].Copy != 1 || got[1].Copy != 2 {
		t.Fatalf("received %+v", got)
	}
	st := sb.Stats()
	if st.DoubleSends != 1 || st.Duplicates != 0 || st.DeliveriesPerPhone["41793026731"] != 2 {
		t.Errorf("stats %+v", st)
	}
	// Both deliveries are in the logs, under the same messageId.
	if e := logs(t, c, infobip.LogsQuery{MessageIDs: []string{"m1"}}); len(e) != 2 {
		t.Errorf("logs %+v", e)
	}
	resp2, data := raw(t, "GET", base+"/sandbox/stats", "")
	var shown sandbox.Stats
	if resp2.StatusCode != 200 || json.Unmarshal(data, &shown) != nil || shown.DoubleSends != 1 || shown.DeliveriesPerPhone["41793026731"] != 2 {
		t.Errorf("/sandbox/stats %s", data)
	}
}

// TestIdempotencyWindow: with a window, a repeat inside it is refused (23) and not
// delivered; after it, the same messageId is a new message again.
func TestIdempotencyWindow(t *testing.T) {
	clk := newClock()
	sb, c, _ := start(t, sandbox.Options{Now: clk.Now, IdempotencyWindow: 24 * time.Hour})
	send3(t, c, one3("b1", "m1", "41793026731", "hi"))
	clk.Advance(23 * time.Hour)
	if st := send3(t, c, one3("b2", "m1", "41793026731", "hi")).Messages[0].Status; !st.DuplicateMessageID() {
		t.Errorf("repeat within the window: %+v", st)
	}
	clk.Advance(2 * time.Hour)
	if st := send3(t, c, one3("b3", "m1", "41793026731", "hi")).Messages[0].Status; st.ID != infobip.StatusPendingAccepted {
		t.Errorf("repeat after the window: %+v", st)
	}
	if st := sb.Stats(); st.Duplicates != 1 || st.DoubleSends != 1 || len(sb.Received()) != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestScheduledStaysPending: a message with a future sendAt is PENDING until then.
func TestScheduledStaysPending(t *testing.T) {
	clk := newClock()
	_, c, _ := start(t, sandbox.Options{Now: clk.Now, DeliveryDelay: 2 * time.Second})
	req := one3("b1", "m1", "41793026731", "hi")
	req.Options.Schedule.SendAt = clk.Now().Add(3 * time.Hour).Format(infobip.SendAtLayout)
	send3(t, c, req)
	clk.Advance(time.Hour)
	if e := logs(t, c, infobip.LogsQuery{MessageIDs: []string{"m1"}}); len(e) != 1 || e[0].Status.GroupID != infobip.GroupPending || e[0].DoneAt != "" {
		t.Errorf("an hour after acceptance, 2h before sendAt: %+v", e)
	}
	clk.Advance(2*time.Hour + 2*time.Second)
	if e := logs(t, c, infobip.LogsQuery{MessageIDs: []string{"m1"}}); len(e) != 1 || e[0].Status.GroupID != infobip.GroupDelivered {
		t.Errorf("after sendAt and the delivery delay: %+v", e)
	}
}

// TestV3LogFilters: every documented filter narrows the answer, an unknown one is refused,
// cursor paging walks the whole answer, and messages older than 48 hours are gone.
func TestV3LogFilters(t *testing.T) {
	clk := newClock()
	_, c, base := start(t, sandbox.Options{Now: clk.Now})
	send3(t, c, one3("b1", "m1", "41000000001", "one"))
	clk.Advance(time.Hour)
	since := clk.Now()
	send3(t, c, one3("b2", "m2", "41000000002", "two"))
	send3(t, c, one3("b2", "m3", "41000000003", "three"))
	q := func(query string) []string {
		t.Helper()
		var out infobip.LogsResponse
		if err := c.Do(context.Background(), http.MethodGet, infobip.PathLogs, mustQuery(t, query), nil, &out); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return ids(out.Results)
	}
	for query, want := range map[string][]string{
		"sentSince=" + url.QueryEscape(since.Format(infobip.SendAtLayout)):                   {"m2", "m3"},
		"sentUntil=" + url.QueryEscape(since.Add(-time.Minute).Format(infobip.SendAtLayout)): {"m1"},
		"messageId=m1&messageId=m3": {"m1", "m3"},
		"messageId=m1,m2":           {"m1", "m2"},
		"destination=41000000002":   {"m2"},
		"bulkId=b2&limit=1":         {"m2"},
		"campaignReferenceId=camp&sender=InfoSMS&generalStatus=DELIVERED": {"m1", "m2", "m3"},
		"campaignReferenceId=other":                                       nil,
		"mcc=228":                                                         nil,
	} {
		if got := q(query); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", query, got, want)
		}
	}
	for _, bad := range []string{"to=41000000001", "status=x", "sentSince=yesterday", "useCursor=maybe", "cursor=c1"} {
		resp, data := raw(t, "GET", base+infobip.PathLogs+"?"+bad, "")
		if resp.StatusCode != 400 || !strings.Contains(string(data), "E400") {
			t.Errorf("%s: %d %s", bad, resp.StatusCode, data)
		}
	}
	// Cursor paging, one per page.
	var all []string
	page := infobip.LogsQuery{Limit: 1}
	for range 10 {
		resp, err := c.Logs(context.Background(), page)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids(resp.Results)...)
		if resp.Cursor == nil || resp.Cursor.NextCursor == "" {
			break
		}
		page.Cursor = resp.Cursor.NextCursor
	}
	if !slices.Equal(all, []string{"m1", "m2", "m3"}) {
		t.Errorf("paged %v", all)
	}
	clk.Advance(47*time.Hour + 30*time.Minute)
	if got := q(""); !slices.Equal(got, []string{"m2", "m3"}) {
		t.Errorf("48h after m1: %v", got)
	}
}

// TestInbound: a queued reply is handed out once by /sms/1/inbox/reports, in Infobip's shape.
func TestInbound(t *testing.T) {
	_, c, base := start(t, sandbox.Options{})
	if resp, data := raw(t, "POST", base+"/sandbox/inbound", `{"from":"+41793026731","text":"STOP please"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("queue: %d %s", resp.StatusCode, data)
	}
	if resp, _ := raw(t, "POST", base+"/sandbox/inbound", `{"from":"abc","text":"x"}`); resp.StatusCode != 400 {
		t.Errorf("bad from: %d", resp.StatusCode)
	}
	got, err := c.Inbound(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Results) != 1 || got.MessageCount != 1 || got.PendingMessageCount != 0 {
		t.Fatalf("inbound %+v", got)
	}
	m := got.Results[0]
	if m.From != "41793026731" || m.Text != "STOP please" || m.Keyword != "STOP" || m.CleanText != "please" || m.MessageID == "" || m.ReceivedAt == "" {
		t.Errorf("message %+v", m)
	}
	if again, err := c.Inbound(context.Background(), 10); err != nil || len(again.Results) != 0 {
		t.Errorf("handed out twice: %+v %v", again, err)
	}
}

func mustQuery(t *testing.T, raw string) map[string][]string {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestV3NamesMatchExactly: like Infobip's JSON reader, the sandbox matches member names
// exactly; a request that spells "messages" otherwise has no messages and is refused, and
// a repeated member is taken, the last one winning.
func TestV3NamesMatchExactly(t *testing.T) {
	_, _, base := start(t, sandbox.Options{})
	post := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/sms/3/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "App k")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String()
	}
	msg := `{"sender":"InfoSMS","destinations":[{"to":"41793026731","messageId":"%s"}],"content":{"text":"Hi"}}`
	if code, body := post(`{"Messages":[` + fmt.Sprintf(msg, "m1") + `]}`); code != http.StatusBadRequest {
		t.Errorf(`"Messages": HTTP %d %s, want 400`, code, body)
	}
	code, body := post(`{"messages":[` + fmt.Sprintf(msg, "m1") + `],"messages":[` + fmt.Sprintf(msg, "m2") + `]}`)
	if code != http.StatusOK || !strings.Contains(body, `"messageId":"m2"`) || strings.Contains(body, `"m1"`) {
		t.Errorf("repeated member: HTTP %d %s, want m2 accepted", code, body)
	}
}
