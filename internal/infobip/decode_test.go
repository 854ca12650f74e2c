package infobip

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// TestDecodeAnswerAsBefore checks that answers decode exactly as encoding/json decoded them:
// the same values from the documented shapes, and the same tolerance of names in another
// case, repeated names, unknown fields and invalid UTF-8.
func TestDecodeAnswerAsBefore(t *testing.T) {
	answers := []string{
		`{"bulkId":"b-1","messages":[{"messageId":"sf-1","destination":"41793026731",` +
			`"status":{"groupId":1,"groupName":"PENDING","id":26,"name":"PENDING_ACCEPTED","description":"Message sent to next instance"},` +
			`"details":{"messageCount":2}}]}`,
		`{"BULKID":"b-2","Messages":[{"MessageId":"sf-2","status":{"GroupId":5,"ID":23}}]}`,
		`{"bulkId":"first","bulkId":"second","messages":[]}`,
		`{"bulkId":"b-3","messages":[{"messageId":"sf-3","unknown":{"nested":[1,2,{"a":null}]},"details":null}],"extra":true}`,
		"{\"bulkId\":\"bad \xff utf-8\",\"messages\":[{\"messageId\":\"sf-4\",\"status\":{\"description\":\"caf\xc3\"}}]}",
		`{"messages":null}`,
	}
	for i, body := range answers {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var want, got MessagesResponse
			wantErr := json.Unmarshal([]byte(body), &want)
			gotErr := decodeAnswer([]byte(body), &got)
			if (wantErr != nil) != (gotErr != nil) {
				t.Fatalf("encoding/json: %v; decodeAnswer: %v", wantErr, gotErr)
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("decoded differently:\nencoding/json %+v\ndecodeAnswer  %+v", want, got)
			}
		})
	}
	logs := `{"results":[{"bulkId":"b","messageId":"sf-1","destination":"41793026731","sentAt":"2026-12-01T09:00:00.000+0000",` +
		`"doneAt":"2026-12-01T09:00:02.000+0000","messageCount":1,"price":{"pricePerMessage":0.01,"currency":"EUR"},` +
		`"status":{"groupId":3,"groupName":"DELIVERED","id":5,"name":"DELIVERED_TO_HANDSET"},"error":{"groupId":0,"name":"NO_ERROR"},` +
		`"content":{"text":"Hi"},"campaignReferenceId":"otp"}],"cursor":{"limit":1000,"nextCursor":"abc"}}`
	var want, got LogsResponse
	if err := json.Unmarshal([]byte(logs), &want); err != nil {
		t.Fatal(err)
	}
	if err := decodeAnswer([]byte(logs), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("logs decoded differently:\nencoding/json %+v\ndecodeAnswer  %+v", want, got)
	}
	for _, bad := range []string{`<html>Bad gateway</html>`, `{"bulkId":"b","messages":[`, `{"messages":[{"messageId":5}]}`} {
		var out MessagesResponse
		if err := decodeAnswer([]byte(bad), &out); err == nil {
			t.Errorf("decodeAnswer(%q) did not fail", bad)
		}
	}
}

// BenchmarkDecodeAnswer decodes the answer to a request of 500 messages, the size apply
// sends, with encoding/json and with decodeAnswer.
func BenchmarkDecodeAnswer(b *testing.B) {
	answer := MessagesResponse{BulkID: "bench-r1-0123456789abcdef"}
	for i := range 500 {
		answer.Messages = append(answer.Messages, MessageStatus3{
			MessageID: fmt.Sprintf("sf-bench-r1-417%08d-0-0123456789", i), Destination: fmt.Sprintf("417%08d", i),
			Status:  Status{GroupID: 1, GroupName: "PENDING", ID: 26, Name: "PENDING_ACCEPTED", Description: "Message sent to next instance"},
			Details: &MessageDetails{MessageCount: 1},
		})
	}
	data, err := json.Marshal(answer)
	if err != nil {
		b.Fatal(err)
	}
	for name, decode := range map[string]func([]byte, any) error{"encoding-json": json.Unmarshal, "decodeAnswer": decodeAnswer} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				var out MessagesResponse
				if err := decode(data, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
