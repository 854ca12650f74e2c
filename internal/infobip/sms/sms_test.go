package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/infobip/sms"
	"github.com/smsform/smsform/runner"
)

// TestRequestMapping: every field of runner's request lands where v3 wants it.
func TestRequestMapping(t *testing.T) {
	req := &runner.Request{
		BulkID: "otp-r1-01", Campaign: "otp", From: "InfoSMS", Validity: 90*time.Minute + time.Second,
		SendAt:    time.Date(2026, 12, 1, 9, 0, 0, 0, time.FixedZone("CET", 3600)),
		Window:    &runner.TimeWindow{Days: []string{"MONDAY"}, From: 9*60 + 30, To: 17 * 60},
		NotifyURL: "https://example.com/dlr", CallbackData: "c=1", TrackingType: "One_Time_Pin",
		Speed:    &runner.SpeedLimit{Amount: 100, Unit: "MINUTE"},
		Messages: []runner.OutMessage{{ID: "sf-1", To: "+41790000001", Text: "Hi Ann"}, {ID: "sf-2", To: "+41790000002", Text: "Hi Ben"}},
	}
	got, err := json.Marshal(sms.Request(req))
	if err != nil {
		t.Fatal(err)
	}
	opts := `"options":{"validityPeriod":{"amount":91,"timeUnit":"MINUTES"},"deliveryTimeWindow":{"days":["MONDAY"],"from":{"hour":9,"minute":30},"to":{"hour":17,"minute":0}},"campaignReferenceId":"otp"},` +
		`"webhooks":{"delivery":{"url":"https://example.com/dlr"},"callbackData":"c=1"}`
	want := `{"messages":[` +
		`{"sender":"InfoSMS","destinations":[{"to":"41790000001","messageId":"sf-1"}],"content":{"text":"Hi Ann"},` + opts + `},` +
		`{"sender":"InfoSMS","destinations":[{"to":"41790000002","messageId":"sf-2"}],"content":{"text":"Hi Ben"},` + opts + `}],` +
		`"options":{"schedule":{"bulkId":"otp-r1-01","sendAt":"2026-12-01T08:00:00.000+0000","sendingSpeedLimit":{"amount":100,"timeUnit":"MINUTE"}},` +
		`"conversionTracking":{"useConversionTracking":true,"conversionTrackingName":"One_Time_Pin"},"includeSmsCountInResponse":true}}`
	if string(got) != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
	min, _ := json.Marshal(sms.Request(&runner.Request{BulkID: "b", Campaign: "c", From: "X", Messages: []runner.OutMessage{{ID: "i", To: "+41", Text: "t"}}}))
	if string(min) != `{"messages":[{"sender":"X","destinations":[{"to":"41","messageId":"i"}],"content":{"text":"t"},"options":{"campaignReferenceId":"c"}}],"options":{"schedule":{"bulkId":"b"},"includeSmsCountInResponse":true}}` {
		t.Errorf("minimal body %s", min)
	}
}

func serve(t *testing.T, h http.HandlerFunc) *sms.API {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := infobip.New(infobip.Config{BaseURL: srv.URL, APIKey: "k", MaxRetries: 1, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return sms.New(c)
}

// TestSendAnswersAndFailures: answers map to runner's, and each kind of failure tells runner
// what the request may have done.
func TestSendAnswersAndFailures(t *testing.T) {
	api := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"bulkId":"b","messages":[{"messageId":"sf-1","destination":"41790000001","status":{"groupId":5,"groupName":"REJECTED","id":23,"name":"REJECTED_DUPLICATE_MESSAGE_ID","description":"dup"},"details":{"messageCount":2}}]}`))
	})
	got, err := api.Send(context.Background(), &runner.Request{Messages: []runner.OutMessage{{ID: "sf-1", To: "+41790000001", Text: "x"}}})
	if err != nil || len(got) != 1 || got[0].MessageID != "sf-1" || got[0].SmsCount != 2 || !got[0].Status.DuplicateMessageID() ||
		got[0].Status != (runner.Status{Group: 5, ID: 23, Name: "REJECTED_DUPLICATE_MESSAGE_ID", Description: "dup"}) {
		t.Errorf("Send = %+v, %v", got, err)
	}
	for status, want := range map[int]runner.SendFailure{
		401: runner.CredentialsRefused, 403: runner.CredentialsRefused, 400: runner.RequestRefused, 404: runner.NothingSent,
		429: runner.NothingSent, 500: runner.OutcomeUnknown, 503: runner.OutcomeUnknown,
	} {
		api := serve(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(`{"errorCode":"E","description":"no"}`))
		})
		_, err := api.Send(context.Background(), &runner.Request{Messages: []runner.OutMessage{{ID: "i", To: "+41790000001", Text: "x"}}})
		var se *runner.SendError
		if !errors.As(err, &se) || se.Failure != want {
			t.Errorf("HTTP %d: %#v, want failure %v", status, err, want)
		}
		if status == 401 && !errors.Is(err, infobip.ErrCredentials) {
			t.Errorf("HTTP 401: %v does not wrap ErrCredentials", err)
		}
	}
}

// TestLogsPage maps a v3 logs page, cursor included, and passes the query through.
func TestLogsPage(t *testing.T) {
	var query string
	api := serve(t, func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"results":[{"bulkId":"b","messageId":"sf-1","destination":"41","doneAt":"d","messageCount":3,"status":{"groupId":3,"id":5,"name":"DELIVERED_TO_HANDSET"}}],"cursor":{"limit":1,"nextCursor":"n2"}}`))
	})
	page, err := api.Logs(context.Background(), runner.LogQuery{MessageIDs: []string{"sf-1"}, Limit: 1, Cursor: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	want := runner.LogEntry{MessageID: "sf-1", BulkID: "b", Status: runner.Status{Group: 3, ID: 5, Name: "DELIVERED_TO_HANDSET"}, SmsCount: 3, DoneAt: "d"}
	if len(page.Entries) != 1 || page.Entries[0] != want || page.Next != "n2" {
		t.Errorf("page %+v", page)
	}
	if query != "cursor=n1&limit=1&messageId=sf-1&useCursor=true" {
		t.Errorf("query %q", query)
	}
}

// TestSubmitConversion: each answer of POST /ct/1/log/end becomes the process key or the
// failure runner acts on.
func TestSubmitConversion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		key     string
		failure runner.SendFailure
		text    string
	}{
		{"counted", 200, `{"processKey":"PK-1"}`, "PK-1", 0, ""},
		{"not tracked", 404, `{"requestError":{"serviceException":{"messageId":"NOT_FOUND","text":"No message"}}}`, "", runner.RequestRefused, "does not know this message as tracked (404)"},
		{"bad request", 400, `{"requestError":{"serviceException":{"messageId":"BAD_REQUEST","text":"Bad"}}}`, "", runner.RequestRefused, "BAD_REQUEST"},
		{"credentials", 401, `{"requestError":{"serviceException":{"messageId":"UNAUTHORIZED","text":"Invalid login details"}}}`, "", runner.CredentialsRefused, "UNAUTHORIZED"},
		{"rate limited past the retries", 429, `{}`, "", runner.NothingSent, "429"},
		{"server error", 500, `{"requestError":{"serviceException":{"messageId":"GENERAL_ERROR","text":"Oops"}}}`, "", runner.OutcomeUnknown, "GENERAL_ERROR"},
		{"unreadable answer", 200, `<html>`, "", runner.OutcomeUnknown, "cannot be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/ct/1/log/end/sf-1" {
					t.Errorf("%s %s", r.Method, r.URL.Path)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c, err := infobip.New(infobip.Config{BaseURL: srv.URL, APIKey: "k", MaxRetries: 1, Backoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			key, err := sms.New(c).SubmitConversion(context.Background(), "sf-1")
			if tc.text == "" {
				if err != nil || key != tc.key {
					t.Fatalf("= %q, %v; want %q", key, err, tc.key)
				}
				return
			}
			var se *runner.SendError
			if !errors.As(err, &se) || se.Failure != tc.failure || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("= %q, %v (%#v); want failure %d mentioning %q", key, err, se, tc.failure, tc.text)
			}
		})
	}
}

// TestRequestVariants: a message of an experiment's variant is filed under
// "<campaign>:<variant>" in campaignReferenceId, its other options the campaign's; the
// conversion tracking stays the campaign's, for every variant; a message without variant
// keeps the campaign id.
func TestRequestVariants(t *testing.T) {
	req := &runner.Request{BulkID: "b", Campaign: "spring-sale", From: "Shop", Validity: time.Hour, TrackingType: "Spring_Sale",
		Messages: []runner.OutMessage{{ID: "sf-1", To: "+41790000001", Text: "Hi Ann", Variant: "personal"},
			{ID: "sf-2", To: "+41790000002", Text: "Sale", Variant: "short"}, {ID: "sf-3", To: "+41790000003", Text: "Hi Cid", Variant: "personal"},
			{ID: "sf-4", To: "+41790000004", Text: "Plain"}}}
	body := sms.Request(req)
	want := []string{"spring-sale:personal", "spring-sale:short", "spring-sale:personal", "spring-sale"}
	for i, m := range body.Messages {
		if m.Options.CampaignReferenceID != want[i] || m.Options.ValidityPeriod == nil || m.Options.ValidityPeriod.Amount != 60 {
			t.Errorf("message %d options %+v, want campaignReferenceId %s and the campaign's validity", i, m.Options, want[i])
		}
	}
	if ct := body.Options.ConversionTracking; ct == nil || ct.ConversionTrackingName != "Spring_Sale" {
		t.Errorf("conversion tracking %+v", ct)
	}
	if got := sms.VariantReference("c", "v"); got != "c:v" {
		t.Errorf("VariantReference = %q", got)
	}
}
