package infobip

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestMessagesRequestShape checks every field smsform sends against the documented v3 body.
func TestMessagesRequestShape(t *testing.T) {
	req := MessagesRequest{
		Messages: []MessageV3{{
			Sender:       "InfoSMS",
			Destinations: []Destination{{To: "41793026731", MessageID: "sf-1"}},
			Content:      TextContent{Text: "Hi Ann"},
			Options: &MessageOptionsV3{
				ValidityPeriod:      &ValidityPeriod{Amount: 120, TimeUnit: UnitMinutes},
				DeliveryTimeWindow:  &TimeWindow{Days: []string{"MONDAY"}, From: &TimeOfDay{Hour: 9}, To: &TimeOfDay{Hour: 17}},
				CampaignReferenceID: "otp-welcome",
			},
			Webhooks: &Webhooks{Delivery: &DeliveryWebhook{URL: "https://example.com/dlr"}, CallbackData: "campaign=otp-welcome"},
		}},
		Options: &RequestOptionsV3{
			Schedule: &Schedule{BulkID: "otp-welcome-r1-000001", SendAt: "2026-12-01T09:00:00.000+0000",
				SendingSpeedLimit: &SpeedLimit{Amount: 100, TimeUnit: "MINUTE"}},
			ConversionTracking:        &ConversionTracking{UseConversionTracking: true, ConversionTrackingName: "One_Time_Pin"},
			IncludeSmsCountInResponse: true,
		},
	}
	want := `{"messages":[{"sender":"InfoSMS","destinations":[{"to":"41793026731","messageId":"sf-1"}],` +
		`"content":{"text":"Hi Ann"},"options":{"validityPeriod":{"amount":120,"timeUnit":"MINUTES"},` +
		`"deliveryTimeWindow":{"days":["MONDAY"],"from":{"hour":9,"minute":0},"to":{"hour":17,"minute":0}},` +
		`"campaignReferenceId":"otp-welcome"},"webhooks":{"delivery":{"url":"https://example.com/dlr"},"callbackData":"campaign=otp-welcome"}}],` +
		`"options":{"schedule":{"bulkId":"otp-welcome-r1-000001","sendAt":"2026-12-01T09:00:00.000+0000",` +
		`"sendingSpeedLimit":{"amount":100,"timeUnit":"MINUTE"}},` +
		`"conversionTracking":{"useConversionTracking":true,"conversionTrackingName":"One_Time_Pin"},"includeSmsCountInResponse":true}}`
	got, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
	// A minimal message carries no empty option objects.
	min, _ := json.Marshal(MessagesRequest{Messages: []MessageV3{{Destinations: []Destination{{To: "41"}}, Content: TextContent{Text: "x"}}}})
	if string(min) != `{"messages":[{"destinations":[{"to":"41"}],"content":{"text":"x"}}]}` {
		t.Errorf("minimal body %s", min)
	}
}

// TestMessagesResponseShape decodes a documented v3 answer field by field.
func TestMessagesResponseShape(t *testing.T) {
	body := `{"bulkId":"b1","messages":[{"messageId":"sf-1","destination":"41793026731",
		"status":{"groupId":1,"groupName":"PENDING","id":26,"name":"PENDING_ACCEPTED","description":"Message sent to next instance","action":"none"},
		"details":{"messageCount":2}}]}`
	var got MessagesResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := MessagesResponse{BulkID: "b1", Messages: []MessageStatus3{{MessageID: "sf-1", Destination: "41793026731",
		Status:  Status{GroupID: 1, GroupName: "PENDING", ID: 26, Name: "PENDING_ACCEPTED", Description: "Message sent to next instance", Action: "none"},
		Details: &MessageDetails{MessageCount: 2}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
	}
	if got.Messages[0].SmsCount() != 2 || (MessageStatus3{}).SmsCount() != 0 {
		t.Error("SmsCount")
	}
}

// TestLogsResponseShape decodes a documented v3 logs page, cursor included.
func TestLogsResponseShape(t *testing.T) {
	body := `{"results":[{"bulkId":"b1","messageId":"sf-1","sender":"InfoSMS","destination":"41793026731",
		"sentAt":"2026-12-01T09:00:00.000+0000","doneAt":"2026-12-01T09:00:02.000+0000","messageCount":1,
		"price":{"pricePerMessage":0.01,"currency":"EUR"},
		"status":{"groupId":3,"groupName":"DELIVERED","id":5,"name":"DELIVERED_TO_HANDSET","description":"Message delivered to handset"},
		"error":{"groupId":0,"groupName":"OK","id":0,"name":"NO_ERROR","description":"No Error"},
		"content":{"text":"Hi Ann"},"campaignReferenceId":"otp-welcome","mccMnc":"22801"}],
		"cursor":{"limit":1000,"nextCursor":"abc"}}`
	var got LogsResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := LogsResponse{Results: []LogEntry{{BulkID: "b1", MessageID: "sf-1", Sender: "InfoSMS", Destination: "41793026731",
		SentAt: "2026-12-01T09:00:00.000+0000", DoneAt: "2026-12-01T09:00:02.000+0000", MessageCount: 1,
		Price:   &Price{PricePerMessage: 0.01, Currency: "EUR"},
		Status:  Status{GroupID: 3, GroupName: "DELIVERED", ID: 5, Name: "DELIVERED_TO_HANDSET", Description: "Message delivered to handset"},
		Error:   &Status{GroupName: "OK", Name: "NO_ERROR", Description: "No Error"},
		Content: &TextContent{Text: "Hi Ann"}, CampaignReferenceID: "otp-welcome", MccMnc: "22801"}},
		Cursor: &Cursor{Limit: 1000, NextCursor: "abc"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, want)
	}
}

// TestV3ErrorDecoded: a v3 ApiError body becomes an APIError with its violations.
func TestV3ErrorDecoded(t *testing.T) {
	body, _ := json.Marshal(V3Error{ErrorCode: "E400", Description: "Request cannot be processed.", Action: "Check the syntax.",
		Violations: []Violation{{Property: "messages[0].sender", Violation: "must not be blank"}}})
	e := decodeAPIError(400, body)
	if e.Code != "E400" || e.Text != "Request cannot be processed." || !reflect.DeepEqual(e.Details, []string{"Check the syntax.", "messages[0].sender: must not be blank"}) {
		t.Errorf("decoded %#v", e)
	}
}
