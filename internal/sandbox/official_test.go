package sandbox_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"testing"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/sandbox"
)

// officialMembers are the JSON member names of the official Infobip Go client's models
// (github.com/infobip/infobip-api-go-client v3, pkg/infobip/models/sms): what each object
// of an answer may hold. A member the sandbox writes that is not here is one Infobip does
// not send, and a client written against the sandbox would rely on it.
var officialMembers = map[string][]string{
	"Response":               {"bulkId", "messages"},
	"ResponseDetails":        {"messageId", "status", "destination", "details"},
	"MessageResponseDetails": {"messageCount"},
	"MessageStatus":          {"groupId", "groupName", "id", "name", "description", "action"},
	"MessageError":           {"groupId", "groupName", "id", "name", "description", "permanent"},
	"MessagePrice":           {"pricePerMessage", "currency"},
	"Platform":               {"entityId", "applicationId"},
	"LogsResponse":           {"results", "cursor"},
	"CursorPageInfo":         {"limit", "nextCursor"},
	"Log": {"sender", "destination", "bulkId", "messageId", "sentAt", "doneAt", "messageCount", "price", "status", "error",
		"platform", "content", "campaignReferenceId", "mccMnc"},
	"MessageContent":  {"text"},
	"DeliveryReports": {"results"},
	"DeliveryReport": {"bulkId", "price", "status", "error", "messageId", "to", "sender", "sentAt", "doneAt", "messageCount",
		"mccMnc", "callbackData", "platform", "campaignReferenceId"},
	"ReportResponse": {"results", "messageCount", "pendingMessageCount"},
	"MoReport": {"applicationId", "messageId", "from", "to", "text", "cleanText", "keyword", "receivedAt", "smsCount", "price",
		"callbackData", "entityId", "campaignReferenceId"},
	"Price":             {"pricePerMessage", "currency"},
	"ApiError":          {"errorCode", "description", "action", "violations", "resources"},
	"ApiErrorViolation": {"property", "violation"},
}

// shape checks that the JSON object obj (decoded generically) holds only members of model,
// and the members required, and goes into the objects it holds with nested.
func shape(t *testing.T, where string, obj any, model string, required []string, nested map[string]string) {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Errorf("%s: %T, want an object (%s)", where, obj, model)
		return
	}
	var names []string
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !slices.Contains(officialMembers[model], name) {
			t.Errorf("%s: member %q is not in Infobip's %s (%v)", where, name, model, officialMembers[model])
		}
	}
	for _, name := range required {
		if _, ok := m[name]; !ok {
			t.Errorf("%s: no member %q (Infobip's %s has it); the object is %v", where, name, model, names)
		}
	}
	for name, sub := range nested {
		v, ok := m[name]
		if !ok {
			continue
		}
		if list, ok := v.([]any); ok {
			for _, item := range list {
				shape(t, where+"."+name+"[]", item, sub, nil, nil)
			}
			continue
		}
		shape(t, where+"."+name, v, sub, nil, nil)
	}
}

// TestServesOfficialShapes: every answer of the v3 endpoints, and of the inbox, holds the
// members of Infobip's models and no others: a delivery report names the number "to", as
// Infobip's DeliveryReport does, not "destination" as a log entry does.
func TestServesOfficialShapes(t *testing.T) {
	_, c, base := start(t, sandbox.Options{})
	body := `{"messages":[{"sender":"InfoSMS","destinations":[{"to":"41793026731","messageId":"m1"}],"content":{"text":"Hi"},
		"options":{"campaignReferenceId":"promo"},"webhooks":{"callbackData":"cb=1"}}],
		"options":{"schedule":{"bulkId":"b1"},"includeSmsCountInResponse":true}}`
	decode := func(data []byte) any {
		t.Helper()
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%v: %s", err, data)
		}
		return v
	}
	status := map[string]string{"status": "MessageStatus", "error": "MessageError", "price": "MessagePrice", "platform": "Platform"}
	with := func(m map[string]string, more ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(more); i += 2 {
			out[more[i]] = more[i+1]
		}
		return out
	}

	resp, data := raw(t, http.MethodPost, base+infobip.PathMessages, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("send: %d %s", resp.StatusCode, data)
	}
	sent := decode(data)
	shape(t, "send answer", sent, "Response", []string{"bulkId", "messages"}, nil)
	for _, m := range sent.(map[string]any)["messages"].([]any) {
		shape(t, "send answer.messages[]", m, "ResponseDetails", []string{"messageId", "status", "destination"},
			map[string]string{"status": "MessageStatus", "details": "MessageResponseDetails"})
	}

	_, data = raw(t, http.MethodGet, base+infobip.PathLogs+"?useCursor=true&limit=1", "")
	logs := decode(data)
	shape(t, "logs", logs, "LogsResponse", []string{"results"}, map[string]string{"cursor": "CursorPageInfo"})
	for _, e := range logs.(map[string]any)["results"].([]any) {
		shape(t, "logs.results[]", e, "Log", []string{"messageId", "destination", "status"}, with(status, "content", "MessageContent"))
	}

	_, data = raw(t, http.MethodGet, base+infobip.PathReports, "")
	reports := decode(data)
	shape(t, "reports", reports, "DeliveryReports", []string{"results"}, nil)
	results := reports.(map[string]any)["results"].([]any)
	if len(results) != 1 {
		t.Fatalf("reports: %s", data)
	}
	shape(t, "reports.results[]", results[0], "DeliveryReport", []string{"messageId", "to", "status", "callbackData", "campaignReferenceId"}, status)
	if r := results[0].(map[string]any); r["to"] != "41793026731" || r["callbackData"] != "cb=1" {
		t.Errorf("report %v: want the number as to and the message's callbackData", r)
	}

	if resp, data := raw(t, http.MethodPost, base+"/sandbox/inbound", `{"from":"41793026731","text":"STOP"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("queue a reply: %d %s", resp.StatusCode, data)
	}
	_, data = raw(t, http.MethodGet, base+infobip.PathInbound, "")
	inbox := decode(data)
	shape(t, "inbox", inbox, "ReportResponse", []string{"results", "messageCount", "pendingMessageCount"}, nil)
	for _, m := range inbox.(map[string]any)["results"].([]any) {
		shape(t, "inbox.results[]", m, "MoReport", []string{"messageId", "from", "to", "text", "receivedAt"}, map[string]string{"price": "Price"})
	}

	_, data = raw(t, http.MethodGet, base+infobip.PathLogs+"?nope=1", "")
	shape(t, "v3 error", decode(data), "ApiError", []string{"errorCode", "description"}, map[string]string{"violations": "ApiErrorViolation"})

	// The client reads what the sandbox serves: the report's number and callback data.
	if _, err := c.Send(t.Context(), &infobip.MessagesRequest{Messages: []infobip.MessageV3{{Sender: "InfoSMS",
		Destinations: []infobip.Destination{{To: "41793026732", MessageID: "m2"}}, Content: infobip.TextContent{Text: "Hi"},
		Webhooks: &infobip.Webhooks{CallbackData: "cb=2"}}}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Reports(t.Context(), infobip.LogsQuery{})
	if err != nil || len(got.Results) != 1 || got.Results[0].To != "41793026732" || got.Results[0].CallbackData != "cb=2" || got.Results[0].MessageID != "m2" {
		t.Errorf("Reports = %+v, %v", got, err)
	}
}
