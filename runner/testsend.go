package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state"
)

// TestSendPrefix starts every test send's messageId. Campaign messageIds are "sf-" and hex
// digits, so no test send can take one: a proof never blocks, or passes for, a real send.
const TestSendPrefix = "sf-test-"

// ErrOptedOut means the test number opted out: it gets no test send either.
var ErrOptedOut = errors.New("the number opted out")

// TestSendOptions say what to send where.
type TestSendOptions struct {
	To string // E.164
	// Recipient is the campaign recipient (1-based) whose text is sent, unless Vars is set.
	Recipient int
	Vars      map[string]string
	By        string
	Now       time.Time
}

// TestSend renders the campaign for one recipient (or the given vars) and sends it to a
// test number: at once, with a messageId apart from the campaign's, without conversion
// tracking, delivery webhook or schedule, and records it apart from the campaign's
// messages, so plan, report and convert never count it. A number that opted out, or is on
// one of the campaign's suppression lists, is refused. The caller holds the state's lock.
func TestSend(ctx context.Context, st state.Store, snd Sender, c *campaign.Campaign, opts TestSendOptions) (*state.TestSend, error) {
	optOuts, err := st.OptOuts(ctx, false)
	if err != nil {
		return nil, err
	}
	for _, o := range optOuts {
		if o.Number == opts.To {
			return nil, fmt.Errorf("test-send to %s: %w (%s, since %s); choose another test number", opts.To, ErrOptedOut, o.Source, o.ReceivedAt.Format(time.DateOnly))
		}
	}
	if s, ok := c.Suppressed(opts.To); ok {
		return nil, fmt.Errorf("test-send to %s: %w: it is on the suppression list %s; choose another test number", opts.To, ErrOptedOut, s.Source)
	}
	rec, err := testRecipient(c, opts)
	if err != nil {
		return nil, err
	}
	text, err := c.NewRenderer().Render(rec)
	if err != nil {
		return nil, fmt.Errorf("test-send: render campaign %s: %w", c.ID, err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	ts := &state.TestSend{MessageID: TestSendPrefix + hex.EncodeToString(id), To: opts.To, Campaign: c.ID, Text: text, By: opts.By, At: opts.Now}
	req := &Request{BulkID: ts.MessageID, From: c.From, Validity: c.Validity(), Messages: []OutMessage{{ID: ts.MessageID, To: opts.To, Text: text}}}
	answers, sendErr := snd.Send(ctx, req)
	switch {
	case sendErr != nil:
		f, _ := failureOf(sendErr)
		ts.Outcome = "unknown: " + reasonText(sendErr.Error())
		if f != OutcomeUnknown {
			ts.Outcome = "not sent: " + reasonText(sendErr.Error())
		}
	case len(answers) == 0:
		ts.Outcome = "unknown: the API answered about no message"
	case answers[0].Status.Rejected():
		ts.Outcome = "rejected: " + safetext.Clip(answers[0].Status.Name, maxStatusName)
	default:
		ts.Outcome = "sent: " + safetext.Clip(answers[0].Status.Name, maxStatusName)
	}
	if err := st.RecordTestSend(ctx, *ts); err != nil {
		return ts, fmt.Errorf("record test send %s (%s): %w", ts.MessageID, ts.Outcome, err)
	}
	if sendErr != nil {
		return ts, fmt.Errorf("test-send to %s: %w", opts.To, sendErr)
	}
	return ts, nil
}

// TestSendText is the text a test send with opts sends, as human output shows it: rendered
// through mask (campaign.Mask.Render), so that a masked run shows no number from the vars.
func TestSendText(c *campaign.Campaign, opts TestSendOptions, mask campaign.Mask) (string, error) {
	rec, err := testRecipient(c, opts)
	if err != nil {
		return "", err
	}
	return mask.Render(c.NewRenderer(), rec)
}

func testRecipient(c *campaign.Campaign, opts TestSendOptions) (campaign.Recipient, error) {
	if opts.Vars != nil {
		return campaign.Recipient{To: opts.To, Vars: campaign.VarsOf(opts.Vars)}, nil
	}
	n := opts.Recipient
	if n == 0 {
		n = 1
	}
	if n < 1 || n > c.Recipients.Len() {
		return campaign.Recipient{}, fmt.Errorf("test-send: -recipient %d: campaign %s has recipients 1 to %d", n, c.ID, c.Recipients.Len())
	}
	return c.Recipients.At(n - 1), nil
}
