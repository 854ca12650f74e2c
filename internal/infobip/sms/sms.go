// Package sms connects runner to Infobip: it maps runner's requests, answers and log queries
// to and from Infobip's v3 SMS API (POST /sms/3/messages, GET /sms/3/logs) and tells runner
// what a failed request may have done. It is the only place that knows both.
package sms

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/runner"
)

// API is an Infobip account as runner sees it: a runner.Sender and runner.LogReader. The
// client's other methods (conversions, reports, inbound) are promoted unchanged.
type API struct {
	*infobip.Client
}

// New wraps a client.
func New(c *infobip.Client) *API { return &API{Client: c} }

var (
	_ runner.Sender    = (*API)(nil)
	_ runner.LogReader = (*API)(nil)
	_ runner.Converter = (*API)(nil)
)

// Send posts one request to POST /sms/3/messages.
func (a *API) Send(ctx context.Context, req *runner.Request) ([]runner.Answer, error) {
	resp, err := a.Client.Send(ctx, Request(req))
	if err != nil {
		return nil, classify(err)
	}
	out := make([]runner.Answer, len(resp.Messages))
	for i, m := range resp.Messages {
		out[i] = runner.Answer{MessageID: m.MessageID, Status: status(m.Status), SmsCount: m.SmsCount()}
	}
	return out, nil
}

// Request maps runner's request to v3's body: one message object per destination (texts
// differ), the campaign's options on each, and the bulk, schedule, speed and conversion
// tracking once for the request.
func Request(req *runner.Request) *infobip.MessagesRequest {
	tmpl := infobip.MessageV3{Sender: req.From, Options: &infobip.MessageOptionsV3{CampaignReferenceID: req.Campaign}}
	if req.Validity > 0 {
		tmpl.Options.ValidityPeriod = &infobip.ValidityPeriod{Amount: int(math.Ceil(req.Validity.Minutes())), TimeUnit: infobip.UnitMinutes}
	}
	if w := req.Window; w != nil {
		tmpl.Options.DeliveryTimeWindow = &infobip.TimeWindow{
			Days: w.Days,
			From: &infobip.TimeOfDay{Hour: w.From / 60, Minute: w.From % 60},
			To:   &infobip.TimeOfDay{Hour: w.To / 60, Minute: w.To % 60},
		}
	}
	if req.NotifyURL != "" || req.CallbackData != "" {
		tmpl.Webhooks = &infobip.Webhooks{CallbackData: req.CallbackData}
		if req.NotifyURL != "" {
			tmpl.Webhooks.Delivery = &infobip.DeliveryWebhook{URL: req.NotifyURL}
		}
	}
	body := &infobip.MessagesRequest{
		Messages: make([]infobip.MessageV3, len(req.Messages)),
		Options:  &infobip.RequestOptionsV3{Schedule: &infobip.Schedule{BulkID: req.BulkID}, IncludeSmsCountInResponse: true},
	}
	if !req.SendAt.IsZero() {
		body.Options.Schedule.SendAt = req.SendAt.UTC().Format(infobip.SendAtLayout)
	}
	if s := req.Speed; s != nil {
		body.Options.Schedule.SendingSpeedLimit = &infobip.SpeedLimit{Amount: s.Amount, TimeUnit: s.Unit}
	}
	if req.TrackingType != "" {
		body.Options.ConversionTracking = &infobip.ConversionTracking{UseConversionTracking: true, ConversionTrackingName: req.TrackingType}
	}
	variants := map[string]*infobip.MessageOptionsV3{}
	for i, m := range req.Messages {
		msg := tmpl
		if m.Variant != "" {
			// An experiment's variant is filed under "<campaign>:<variant>", so Infobip's
			// logs, reports and analytics tell the variants apart; the conversion tracking
			// stays the campaign's, one process for every variant.
			opts := variants[m.Variant]
			if opts == nil {
				o := *tmpl.Options
				o.CampaignReferenceID = VariantReference(req.Campaign, m.Variant)
				opts = &o
				variants[m.Variant] = opts
			}
			msg.Options = opts
		}
		msg.Content.Text = m.Text
		to := m.To
		if len(to) > 0 && to[0] == '+' {
			to = to[1:] // Infobip takes international digits without '+'
		}
		msg.Destinations = []infobip.Destination{{To: to, MessageID: m.ID}}
		body.Messages[i] = msg
	}
	return body
}

// VariantReference is the campaignReferenceId of a message of an experiment's variant:
// the campaign id, a colon and the variant's name (at most 64 + 1 + 32 characters).
func VariantReference(campaign, variant string) string { return campaign + ":" + variant }

// SubmitConversion posts POST /ct/1/log/end/{messageId} and answers the tracking process's
// key.
func (a *API) SubmitConversion(ctx context.Context, messageID string) (string, error) {
	resp, err := a.Client.LogEnd(ctx, messageID)
	if err != nil {
		return "", ConversionError(err)
	}
	return resp.ProcessKey, nil
}

// ConversionError says what a failed POST /ct/1/log/end may have done, for runner. A 404
// means Infobip does not know the message as one sent with tracking: the conversion failed,
// and submitting it again would fail the same way.
func ConversionError(err error) error {
	var ae *infobip.APIError
	if errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound {
		//lint:ignore ST1005 Infobip is a name; the text is recorded and shown as a sentence.
		return &runner.SendError{Failure: runner.RequestRefused, Err: fmt.Errorf(
			"Infobip does not know this message as tracked (404): %w; check that its campaign sets tracking and was sent by the account %s belongs to", err, infobip.EnvAPIKey)}
	}
	return classify(err)
}

// Logs reads one page of GET /sms/3/logs.
func (a *API) Logs(ctx context.Context, q runner.LogQuery) (runner.LogPage, error) {
	resp, err := a.Client.Logs(ctx, infobip.LogsQuery{MessageIDs: q.MessageIDs, BulkIDs: q.BulkIDs, Limit: q.Limit, Cursor: q.Cursor})
	if err != nil {
		return runner.LogPage{}, err
	}
	page := runner.LogPage{Entries: make([]runner.LogEntry, len(resp.Results))}
	for i, e := range resp.Results {
		page.Entries[i] = runner.LogEntry{MessageID: e.MessageID, BulkID: e.BulkID, Status: status(e.Status), SmsCount: e.MessageCount, DoneAt: e.DoneAt}
	}
	if resp.Cursor != nil {
		page.Next = resp.Cursor.NextCursor
	}
	return page, nil
}

func status(s infobip.Status) runner.Status {
	return runner.Status{Group: s.GroupID, ID: s.ID, Name: s.Name, Description: s.Description}
}

// classify says what a failed send may have done, for runner.
func classify(err error) error {
	var ae *infobip.APIError
	switch {
	case errors.Is(err, infobip.ErrCredentials):
		return &runner.SendError{Failure: runner.CredentialsRefused, Err: err}
	case infobip.NothingDone(err):
		return &runner.SendError{Failure: runner.NothingSent, Err: err, Hint: "check " + infobip.EnvBaseURL}
	case errors.As(err, &ae) && ae.StatusCode >= 400 && ae.StatusCode < 500 && ae.StatusCode != http.StatusTooManyRequests:
		return &runner.SendError{Failure: runner.RequestRefused, Err: err}
	default:
		return &runner.SendError{Failure: runner.OutcomeUnknown, Err: err}
	}
}
