package infobip

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// PathInbound is where inbound replies are pulled (v1: there is no newer generation).
const PathInbound = "/sms/1/inbox/reports"

// InboundResponse is the answer of GET /sms/1/inbox/reports.
type InboundResponse struct {
	Results             []InboundMessage `json:"results"`
	MessageCount        int              `json:"messageCount"`
	PendingMessageCount int              `json:"pendingMessageCount"`
}

// InboundMessage is one reply a subscriber sent to the account's number (the official
// client's MoReport).
type InboundMessage struct {
	ApplicationID       string `json:"applicationId,omitempty"`
	MessageID           string `json:"messageId"`
	From                string `json:"from"`
	To                  string `json:"to"`
	Text                string `json:"text"`
	CleanText           string `json:"cleanText"`
	Keyword             string `json:"keyword"`
	ReceivedAt          string `json:"receivedAt"`
	SmsCount            int    `json:"smsCount"`
	Price               *Price `json:"price,omitempty"`
	CallbackData        string `json:"callbackData,omitempty"`
	EntityID            string `json:"entityId,omitempty"`
	CampaignReferenceID string `json:"campaignReferenceId,omitempty"`
}

// Inbound pulls up to limit inbound replies. Each is handed out once, so callers must store
// what they get before asking again.
func (c *Client) Inbound(ctx context.Context, limit int) (*InboundResponse, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out InboundResponse
	if err := c.do(ctx, http.MethodGet, PathInbound, q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
