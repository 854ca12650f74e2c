package runner

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/state"
)

// InboundReply is one SMS a subscriber sent to the account's number.
type InboundReply struct {
	MessageID string
	From      string // international digits; a '+' is allowed
	To        string
	Text      string
	CleanText string // the text without its keyword
	Keyword   string
	// ReceivedAt is when the API received it; zero when it did not say.
	ReceivedAt time.Time
}

// InboundReader pulls inbound replies, up to limit at a time. The API hands each reply out
// once: what a pull returned is never returned again, so it must be stored before the next.
// An empty pull means none are waiting.
type InboundReader interface {
	Replies(ctx context.Context, limit int) ([]InboundReply, error)
}

// DefaultStopWords are the replies that opt a number out, whatever their case.
var DefaultStopWords = []string{"STOP", "STOPP", "UNSUBSCRIBE", "END", "QUIT", "CANCEL"}

// InboundLimit is how many replies one pull asks for: the API's maximum.
const InboundLimit = 1000

// StopWords is a set of opt-out words, compared case-insensitively.
type StopWords map[string]bool

// NewStopWords makes a set from words (as given on the command line); it is an error for
// it to be empty.
func NewStopWords(words []string) (StopWords, error) {
	sw := StopWords{}
	for _, w := range words {
		if w = clean(w); w != "" {
			sw[w] = true
		}
	}
	if len(sw) == 0 {
		return nil, fmt.Errorf("the stop word list is empty: give words separated by commas, such as STOP,UNSUBSCRIBE")
	}
	return sw, nil
}

// clean is s upper-cased, without the spaces and punctuation around it: "  Stop! " is STOP.
func clean(s string) string {
	return strings.ToUpper(strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) }))
}

// Match returns the stop word a reply is, if any: its keyword, its clean text, or its whole
// text (for a reply the API gave no keyword). A keyword is enough: "STOP sending these" opts
// out, because honouring a request too readily costs a marketing text, missing one breaks
// the law.
func (sw StopWords) Match(r InboundReply) (string, bool) {
	for _, s := range []string{r.Keyword, r.CleanText, r.Text} {
		if w := clean(s); sw[w] {
			return w, true
		}
	}
	return "", false
}

// RefreshOptOutsOptions are the options of RefreshOptOuts.
type RefreshOptOutsOptions struct {
	StopWords StopWords
	// Now is the time of the pull, for replies whose received time the API did not give.
	Now time.Time
}

// OptOutResult says what RefreshOptOuts recorded.
type OptOutResult struct {
	Pulls   int `json:"pulls"`
	Replies int `json:"replies"`
	OptOuts int `json:"opt_outs"`
}

// RefreshOptOuts pulls inbound replies until none are left and records them, and the opt-outs
// among them. Each pull's replies are committed in one transaction as soon as the answer is
// read and before the next pull is made: the API hands each reply out once, so a reply is
// lost only if smsform dies between reading a pull and committing it.
func RefreshOptOuts(ctx context.Context, st StateWriter, in InboundReader, opts RefreshOptOutsOptions) (OptOutResult, error) {
	var res OptOutResult
	for {
		replies, err := in.Replies(ctx, InboundLimit)
		if err != nil {
			return res, fmt.Errorf("pull inbound replies (%d recorded before): %w", res.Replies, err)
		}
		if len(replies) == 0 {
			return res, nil
		}
		res.Pulls++
		rows := make([]state.Reply, len(replies))
		for i, r := range replies {
			rows[i] = replyRow(r, opts)
		}
		n, err := st.RecordReplies(ctx, rows)
		if err != nil {
			return res, fmt.Errorf("record %d inbound replies: %w; they were handed out and will not come again: add the opt-outs among them by hand (`smsform state opt-outs add`)", len(rows), err)
		}
		res.Replies += n.Replies
		res.OptOuts += n.OptOuts
	}
}

func replyRow(r InboundReply, opts RefreshOptOutsOptions) state.Reply {
	from := "+" + strings.TrimPrefix(strings.TrimSpace(r.From), "+")
	at := r.ReceivedAt
	if at.IsZero() {
		at = opts.Now
	}
	row := state.Reply{MessageID: r.MessageID, From: from, To: r.To, Text: r.Text, Keyword: r.Keyword, ReceivedAt: at}
	if w, ok := opts.StopWords.Match(r); ok {
		row.OptOut = &state.OptOut{
			Number:     from,
			Source:     fmt.Sprintf("reply %s at %s (inbound messageId %s)", w, at.UTC().Format("2006-01-02T15:04Z"), r.MessageID),
			ReplyID:    r.MessageID,
			ReceivedAt: at,
		}
	}
	return row
}

// optOutSuppression is how plan shows an opt-out: where it came from and since when.
func optOutSuppression(o state.OptOut) campaign.Suppression {
	return campaign.Suppression{Number: o.Number, Source: "opt-out (" + o.Source + ")", Date: o.ReceivedAt, Reason: o.Reason}
}
