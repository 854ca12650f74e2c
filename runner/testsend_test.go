package runner_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

// oneSender answers every message as accepted and keeps the requests.
type oneSender struct{ reqs []*runner.Request }

func (s *oneSender) Send(_ context.Context, req *runner.Request) ([]runner.Answer, error) {
	s.reqs = append(s.reqs, req)
	out := make([]runner.Answer, len(req.Messages))
	for i, m := range req.Messages {
		out[i] = runner.Answer{MessageID: m.ID, Status: runner.Status{Group: runner.GroupPending, ID: 26, Name: "PENDING_ACCEPTED"}}
	}
	return out, nil
}

// TestTestSend: one message to the test number, with a test messageId, no tracking, webhook
// or schedule, recorded apart (in test sends, not messages); refused for an opted-out number
// before anything is sent.
func TestTestSend(t *testing.T) {
	ctx := context.Background()
	set := load(t, map[string]string{"c.yaml": `id: promo
from: Shop
text: "Hi {{.name}}"
send_at: "2026-06-02T09:00:00Z"
tracking: {track: SMS, type: Promo}
notify_url: https://example.com/dlr
destinations: [{to: "+41793026731", vars: {name: Ann}}, {to: "+41793026732", vars: {name: Ben}}]
`})
	s := openStore(t)
	snd := &oneSender{}
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	ts, err := runner.TestSend(ctx, s, snd, set.Campaigns[0], runner.TestSendOptions{To: "+41793026739", Recipient: 2, By: "qa", Now: at})
	if err != nil {
		t.Fatal(err)
	}
	if len(snd.reqs) != 1 || len(snd.reqs[0].Messages) != 1 {
		t.Fatalf("requests = %+v", snd.reqs)
	}
	req := snd.reqs[0]
	m := req.Messages[0]
	if !strings.HasPrefix(m.ID, runner.TestSendPrefix) || m.ID != ts.MessageID || m.To != "+41793026739" || m.Text != "Hi Ben" {
		t.Fatalf("message = %+v, recorded %+v", m, ts)
	}
	if req.TrackingType != "" || req.NotifyURL != "" || !req.SendAt.IsZero() || req.Campaign != "" {
		t.Fatalf("a test send carries campaign options: %+v", req)
	}
	sends, err := s.TestSends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := state.TestSend{MessageID: m.ID, To: "+41793026739", Campaign: "promo", Text: "Hi Ben", By: "qa", At: at, Outcome: "sent: PENDING_ACCEPTED"}
	if len(sends) != 1 || sends[0] != want {
		t.Fatalf("test sends = %+v, want %+v", sends, want)
	}
	if p := planFromStore(t, set, s, runner.PlanOptions{}); p.Summary.Send != 2 {
		t.Fatalf("a test send changed the plan: %+v", p.Summary)
	}
	if _, err := s.AddOptOut(ctx, state.OptOut{Number: "+41793026739", Source: "added by hand", ReceivedAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := runner.TestSend(ctx, s, snd, set.Campaigns[0], runner.TestSendOptions{To: "+41793026739", Now: at}); err == nil || !strings.Contains(err.Error(), "opted out") {
		t.Fatalf("test send to an opted-out number: %v", err)
	}
	if len(snd.reqs) != 1 {
		t.Fatal("a test send to an opted-out number was sent")
	}
}
