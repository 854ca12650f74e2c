package sms

import (
	"context"
	"time"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/runner"
)

var _ runner.InboundReader = (*API)(nil)

// Replies pulls up to limit inbound replies from GET /sms/1/inbox/reports. Each is handed
// out once: runner stores them before it asks again.
func (a *API) Replies(ctx context.Context, limit int) ([]runner.InboundReply, error) {
	resp, err := a.Client.Inbound(ctx, limit)
	if err != nil {
		return nil, classify(err)
	}
	out := make([]runner.InboundReply, len(resp.Results))
	for i, m := range resp.Results {
		// A time that cannot be read is left zero: runner then uses the time of the pull.
		at, _ := time.Parse(infobip.SendAtLayout, m.ReceivedAt)
		out[i] = runner.InboundReply{MessageID: m.MessageID, From: m.From, To: m.To, Text: m.Text, CleanText: m.CleanText,
			Keyword: m.Keyword, ReceivedAt: at}
	}
	return out, nil
}
