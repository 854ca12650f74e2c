package sms_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/runner"
)

// TestReplies maps GET /sms/1/inbox/reports to runner's replies: limit asked, received time
// read in Infobip's layout, and a refused key reported as such.
func TestReplies(t *testing.T) {
	api := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sms/1/inbox/reports" || r.URL.Query().Get("limit") != "1000" {
			t.Errorf("request %s", r.URL)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"results":[{"messageId":"in-1","from":"41793026731","to":"41793026700","text":"Stop now","cleanText":"now","keyword":"STOP",
			"receivedAt":"2026-12-02T10:00:00.000+0100","smsCount":1}],"messageCount":1,"pendingMessageCount":0}`))
	})
	got, err := api.Replies(context.Background(), runner.InboundLimit)
	if err != nil {
		t.Fatal(err)
	}
	want := runner.InboundReply{MessageID: "in-1", From: "41793026731", To: "41793026700", Text: "Stop now", CleanText: "now", Keyword: "STOP",
		ReceivedAt: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)}
	if len(got) != 1 || got[0].ReceivedAt.UTC() != want.ReceivedAt || got[0].MessageID != want.MessageID || got[0].From != want.From ||
		got[0].Keyword != want.Keyword || got[0].CleanText != want.CleanText || got[0].Text != want.Text {
		t.Fatalf("Replies = %+v, want %+v", got, want)
	}

	refused := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"requestError":{"serviceException":{"messageId":"UNAUTHORIZED","text":"Invalid login details"}}}`))
	})
	_, err = refused.Replies(context.Background(), runner.InboundLimit)
	var se *runner.SendError
	if !errors.As(err, &se) || se.Failure != runner.CredentialsRefused {
		t.Fatalf("a 401 gave %v", err)
	}
}

// TestRepliesReceivedAt: a received time is read in every layout Infobip's own client reads
// (the body is shaped as its inbound fixtures are, entityId and applicationId included);
// any other is left zero with the text Infobip sent, for runner to count.
func TestRepliesReceivedAt(t *testing.T) {
	times := map[string]time.Time{
		"2021-08-25T16:10:00.000+0500": time.Date(2021, 8, 25, 11, 10, 0, 0, time.UTC),
		"2035-08-18T06:38:42.777-0530": time.Date(2035, 8, 18, 12, 8, 42, 777e6, time.UTC),
		"2025-01-17T08:17:23Z":         time.Date(2025, 1, 17, 8, 17, 23, 0, time.UTC),
		"2035-08-18T06:38:42.777":      time.Date(2035, 8, 18, 6, 38, 42, 777e6, time.UTC),
		"2021-08-25":                   time.Date(2021, 8, 25, 0, 0, 0, 0, time.UTC),
		"yesterday":                    {},
		"2025-01-17 08:17:23":          {},
		"":                             {},
	}
	var results []string
	for at := range times {
		results = append(results, fmt.Sprintf(`{"messageId":"in-%d","from":"385916242493","to":"385921004026","text":"QUIZ Correct answer is Paris",
			"cleanText":"Correct answer is Paris","keyword":"QUIZ","receivedAt":%q,"smsCount":1,"price":{"pricePerMessage":0,"currency":"EUR"},
			"callbackData":"callbackData","applicationId":"applicationId","entityId":"entityId"}`, len(results), at))
	}
	api := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"results":[%s],"messageCount":%d,"pendingMessageCount":0}`, strings.Join(results, ","), len(results))
	})
	got, err := api.Replies(context.Background(), runner.InboundLimit)
	if err != nil || len(got) != len(times) {
		t.Fatalf("Replies = %d replies, %v", len(got), err)
	}
	for i, r := range got {
		var raw string
		fmt.Sscanf(results[i][strings.Index(results[i], `"receivedAt":`)+len(`"receivedAt":`):], "%q", &raw)
		want := times[raw]
		if !r.ReceivedAt.Equal(want) || (want.IsZero() != (r.ReceivedAtText == raw)) {
			t.Errorf("receivedAt %q read as %v (text %q), want %v", raw, r.ReceivedAt, r.ReceivedAtText, want)
		}
		if r.From != "385916242493" || r.Keyword != "QUIZ" || r.CleanText != "Correct answer is Paris" {
			t.Errorf("reply %+v", r)
		}
	}
}
