package infobip

import (
	"context"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// Bodies shaped as the answers in the tests of Infobip's official Go client
// (github.com/infobip/infobip-api-go-client v3, tests/sms_api_test.go): GET /sms/3/reports,
// the delivery report Infobip posts to a webhook, GET /sms/3/logs and GET
// /sms/1/inbox/reports.
const (
	officialReports = `{"results":[{"bulkId":"BULK-ID-123-xyz","price":{"pricePerMessage":0.010000,"currency":"EUR"},
		"status":{"groupId":3,"groupName":"DELIVERED","id":5,"name":"DELIVERED_TO_HANDSET","description":"Message delivered to handset"},
		"error":{"groupId":0,"groupName":"OK","id":0,"name":"NO_ERROR","description":"No Error","permanent":false},
		"messageId":"MESSAGE-ID-123-xyz","to":"41793026727","sender":"InfoSMS","sentAt":"2019-11-09T16:00:00.000+0000",
		"doneAt":"2019-11-09T16:00:00.000+0000","messageCount":1,"platform":{"entityId":"promotional-traffic-entity","applicationId":"marketing-automation-application"}}]}`
	officialWebhook = `{"results":[{"bulkId":"bulk-sms-123","messageId":"msg-sms-456","to":"385916242493","sender":"InfoSMS",
		"sentAt":"2025-02-06T15:35:12.000+0000","doneAt":"2025-02-06T15:35:14.000+0000","messageCount":1,"mccMnc":"21901",
		"callbackData":"callbackData","price":{"pricePerMessage":0.01,"currency":"EUR"},
		"status":{"groupId":3,"groupName":"DELIVERED","id":5,"name":"DELIVERED_TO_HANDSET","description":"Message delivered to handset"},
		"error":{"groupId":0,"groupName":"OK","id":0,"name":"NO_ERROR","description":"No error","permanent":false},
		"platform":{"entityId":"my-entity-id","applicationId":"my-application-id"},"campaignReferenceId":"campaignRef"}]}`
	officialLogs = `{"results":[{"bulkId":"BULK-ID-123-xyz","platform":{"applicationId":"applicationId","entityId":"entityId"},
		"messageId":"MESSAGE-ID-123-xyz","destination":"41793026727","sentAt":"2019-11-09T16:00:00.000+0000",
		"doneAt":"2019-11-09T16:00:00.000+0000","smsCount":1,"price":{"pricePerMessage":0.01,"currency":"EUR"},
		"status":{"groupId":3,"groupName":"DELIVERED","id":5,"name":"DELIVERED_TO_HANDSET","description":"Message delivered to handset"},
		"error":{"groupId":0,"groupName":"OK","id":0,"name":"NO_ERROR","description":"No Error","permanent":false}}]}`
	officialInbox = `{"results":[{"messageId":"817790313235066447","from":"385916242493","to":"385921004026","text":"QUIZ Correct answer is Paris",
		"cleanText":"Correct answer is Paris","keyword":"QUIZ","receivedAt":"2021-08-25T16:10:00.000+0500","smsCount":1,
		"price":{"pricePerMessage":0,"currency":"EUR"},"callbackData":"callbackData","applicationId":"applicationId","entityId":"entityId"}],
		"messageCount":1,"pendingMessageCount":0}`
)

// TestOfficialReports: a delivery report names the number "to" (Infobip's DeliveryReport),
// not "destination" as a log entry does; the client reads it, from GET /sms/3/reports and
// as the body of a webhook.
func TestOfficialReports(t *testing.T) {
	delivered := Status{GroupID: 3, GroupName: "DELIVERED", ID: 5, Name: "DELIVERED_TO_HANDSET", Description: "Message delivered to handset"}
	for name, tc := range map[string]struct {
		body string
		want DeliveryReport
	}{
		"reports": {officialReports, DeliveryReport{BulkID: "BULK-ID-123-xyz", Price: &Price{PricePerMessage: 0.01, Currency: "EUR"}, Status: delivered,
			Error:     &Status{GroupName: "OK", Name: "NO_ERROR", Description: "No Error"},
			MessageID: "MESSAGE-ID-123-xyz", To: "41793026727", Sender: "InfoSMS", SentAt: "2019-11-09T16:00:00.000+0000",
			DoneAt: "2019-11-09T16:00:00.000+0000", MessageCount: 1,
			Platform: &Platform{EntityID: "promotional-traffic-entity", ApplicationID: "marketing-automation-application"}}},
		"webhook": {officialWebhook, DeliveryReport{BulkID: "bulk-sms-123", Price: &Price{PricePerMessage: 0.01, Currency: "EUR"}, Status: delivered,
			Error:     &Status{GroupName: "OK", Name: "NO_ERROR", Description: "No error"},
			MessageID: "msg-sms-456", To: "385916242493", Sender: "InfoSMS", SentAt: "2025-02-06T15:35:12.000+0000",
			DoneAt: "2025-02-06T15:35:14.000+0000", MessageCount: 1, MccMnc: "21901", CallbackData: "callbackData",
			Platform: &Platform{EntityID: "my-entity-id", ApplicationID: "my-application-id"}, CampaignReferenceID: "campaignRef"}},
	} {
		t.Run(name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if r.URL.Path != PathReports {
					t.Errorf("request %s", r.URL)
				}
				io.WriteString(w, tc.body)
			})
			c, _ := client(t, Config{BaseURL: srv.URL})
			got, err := c.Reports(context.Background(), LogsQuery{})
			if err != nil || len(got.Results) != 1 {
				t.Fatalf("Reports = %+v, %v", got, err)
			}
			if !reflect.DeepEqual(got.Results[0], tc.want) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got.Results[0], tc.want)
			}
			if _, err := ParseTime(got.Results[0].DoneAt); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestOfficialLogsAndInbox: the logs' and the inbox's fixtures decode, platform included.
func TestOfficialLogsAndInbox(t *testing.T) {
	var logs LogsResponse
	if err := decodeAnswer([]byte(officialLogs), &logs); err != nil || len(logs.Results) != 1 {
		t.Fatalf("logs: %+v, %v", logs, err)
	}
	if e := logs.Results[0]; e.Destination != "41793026727" || e.MessageID != "MESSAGE-ID-123-xyz" || e.Status.GroupID != 3 ||
		!reflect.DeepEqual(e.Platform, &Platform{EntityID: "entityId", ApplicationID: "applicationId"}) {
		t.Errorf("log entry %+v", e)
	}
	var inbox InboundResponse
	if err := decodeAnswer([]byte(officialInbox), &inbox); err != nil || len(inbox.Results) != 1 {
		t.Fatalf("inbox: %+v, %v", inbox, err)
	}
	want := InboundMessage{ApplicationID: "applicationId", MessageID: "817790313235066447", From: "385916242493", To: "385921004026",
		Text: "QUIZ Correct answer is Paris", CleanText: "Correct answer is Paris", Keyword: "QUIZ", ReceivedAt: "2021-08-25T16:10:00.000+0500",
		SmsCount: 1, Price: &Price{Currency: "EUR"}, CallbackData: "callbackData", EntityID: "entityId"}
	if !reflect.DeepEqual(inbox.Results[0], want) {
		t.Errorf("inbound\n%+v\nwant\n%+v", inbox.Results[0], want)
	}
}

// TestParseTime: the times Infobip's official client reads (the cases of its date tests,
// with the instants they stand for), and what it does not.
func TestParseTime(t *testing.T) {
	for in, unix := range map[string]int64{
		"2035-08-18T12:08:42.777+0000": 2071051722,
		"2035-08-18T13:08:42.777+0100": 2071051722,
		"2035-08-18T11:08:42.777-0100": 2071051722,
		"2035-08-18T17:38:42.777+0530": 2071051722,
		"2035-08-18T06:38:42.777-0530": 2071051722,
		"2021-08-25":                   1629849600,
		"2035-08-18T06:38:42.777":      2071031922,
		"2025-01-17T08:17:23Z":         1737101843,
		"2025-01-17T08:17:23.500Z":     1737101843,
	} {
		got, err := ParseTime(in)
		if err != nil || got.Unix() != unix {
			t.Errorf("ParseTime(%q) = %v (%d), %v; want %d", in, got, got.Unix(), err, unix)
		}
	}
	for _, in := range []string{"", "yesterday", "2025-01-17 08:17:23", "17.01.2025", "2025-01-17T08:17:23+01:00", "2025-13-01"} {
		if got, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", in, got)
		}
	}
	if got, _ := ParseTime("2035-08-18T06:38:42.777"); got.Location() != time.UTC {
		t.Errorf("a time without a zone is read in %v, want UTC", got.Location())
	}
}
