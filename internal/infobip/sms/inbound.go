package sms

import (
	"context"

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
		out[i] = runner.InboundReply{MessageID: m.MessageID, From: m.From, To: m.To, Text: m.Text, CleanText: m.CleanText,
			Keyword: m.Keyword}
		// A time in none of Infobip's layouts is left zero, with what Infobip wrote: runner
		// records the reply at the time of the pull, and says so.
		if at, err := infobip.ParseTime(m.ReceivedAt); err == nil {
			out[i].ReceivedAt = at
		} else {
			out[i].ReceivedAtText = m.ReceivedAt
		}
	}
	return out, nil
}
