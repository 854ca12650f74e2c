package sms_test

import (
	"context"
	"errors"
	"net/http"
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
