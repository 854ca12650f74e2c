package runner

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
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
	// ReceivedAt is when the API received it; zero when it did not say in a form the
	// InboundReader reads, and then ReceivedAtText is what it said.
	ReceivedAt     time.Time
	ReceivedAtText string
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

// maxPulls bounds the pulls of one RefreshOptOuts: a million replies. What is left waits
// in the API for the next run.
const maxPulls = 1000

// Bounds on a reply's texts as they are stored: an SMS reply is a few hundred characters,
// and nothing but the API bounds what it answers.
const (
	maxReplyText = 4000
	maxReplyWord = 100 // keyword, messageId, receiving number
	maxExample   = 80  // a value quoted in a warning
)

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

// OptOutResult says what RefreshOptOuts recorded, and what it could not.
type OptOutResult struct {
	Pulls   int `json:"pulls"`
	Replies int `json:"replies"`
	OptOuts int `json:"opt_outs"`
	// NotNumbers counts the replies skipped because their sender is not a phone number:
	// recorded, they would opt out nobody, or a number written otherwise.
	NotNumbers int `json:"skipped_senders,omitempty"`
	// NoTimes counts the replies recorded with the time of the pull, because the API gave
	// no received time the InboundReader could read.
	NoTimes int `json:"unreadable_times,omitempty"`
	// Stopped says why the pulls stopped before the API said it had nothing left.
	Stopped string `json:"stopped,omitempty"`
	// The first sender and time of the replies counted in NotNumbers and NoTimes, escaped.
	NotNumber, NoTime string `json:"-"`
}

// Warnings say, in sentences, what RefreshOptOuts could not record as the API gave it.
func (r OptOutResult) Warnings() []string {
	var w []string
	switch {
	case r.NotNumbers == 1:
		w = append(w, fmt.Sprintf("1 inbound reply skipped: its sender \"%s\" is not a phone number, so it cannot opt a number out", r.NotNumber))
	case r.NotNumbers > 1:
		w = append(w, fmt.Sprintf("%s inbound replies skipped: their senders are not phone numbers (the first: \"%s\"), so they cannot opt a number out", Thousands(r.NotNumbers), r.NotNumber))
	}
	layouts := "Infobip's yyyy-MM-dd'T'HH:mm:ss.SSSZ, the same without a zone or with Z, or a date"
	switch {
	case r.NoTimes == 1:
		w = append(w, fmt.Sprintf("1 inbound reply recorded with the time of this refresh: its received time \"%s\" is in none of the forms smsform reads (%s)", r.NoTime, layouts))
	case r.NoTimes > 1:
		w = append(w, fmt.Sprintf("%s inbound replies recorded with the time of this refresh: their received times are in none of the forms smsform reads (%s; the first: \"%s\")", Thousands(r.NoTimes), layouts, r.NoTime))
	}
	if r.Stopped != "" {
		w = append(w, r.Stopped)
	}
	return w
}

// RefreshOptOuts pulls inbound replies until none are left and records them, and the opt-outs
// among them. Each pull's replies are committed in one transaction as soon as the answer is
// read and before the next pull is made: the API hands each reply out once, so a reply is
// lost only if smsform dies between reading a pull and committing it.
//
// An API that hands out again a reply of this run, or more than maxPulls pulls, stops the
// run (Stopped says why): what it still holds waits for the next run.
func RefreshOptOuts(ctx context.Context, st state.Writer, in InboundReader, opts RefreshOptOutsOptions) (OptOutResult, error) {
	var res OptOutResult
	seen := map[string]bool{} // the replies of this run, by messageId
	for {
		if res.Pulls == maxPulls {
			res.Stopped = fmt.Sprintf("Infobip's inbox had more than %s replies for one refresh; smsform stopped pulling it after %d pulls, and a later refresh pulls the rest",
				Thousands(maxPulls*InboundLimit), maxPulls)
			return res, nil
		}
		replies, err := in.Replies(ctx, InboundLimit)
		if err != nil {
			return res, fmt.Errorf("pull inbound replies (%d recorded before): %w", res.Replies, err)
		}
		if len(replies) == 0 {
			return res, nil
		}
		res.Pulls++
		rows := make([]state.Reply, 0, len(replies))
		fresh := false
		for _, r := range replies {
			if seen[r.MessageID] {
				continue
			}
			seen[r.MessageID], fresh = true, true
			if row, ok := res.replyRow(r, opts); ok {
				rows = append(rows, row)
			}
		}
		if !fresh {
			res.Stopped = fmt.Sprintf("Infobip's inbox handed out again replies it had handed out already (messageId \"%s\"); smsform stopped pulling it after %d pulls. Infobip hands each reply out once: if it holds more, a later refresh pulls them",
				safetext.Clip(replies[0].MessageID, maxExample), res.Pulls)
			return res, nil
		}
		if len(rows) == 0 {
			continue
		}
		n, err := st.RecordReplies(ctx, rows)
		if err != nil {
			return res, fmt.Errorf("record %d inbound replies: %w; they were handed out and will not come again: add the opt-outs among them by hand (`smsform state opt-outs add`)", len(rows), err)
		}
		res.Replies += n.Replies
		res.OptOuts += n.OptOuts
	}
}

// replyRow is the state's row of a reply, and its opt-out if it asks for one. A reply whose
// sender is not a phone number has none (false); one without a received time is given the
// time of the pull. Both are counted in res.
func (res *OptOutResult) replyRow(r InboundReply, opts RefreshOptOutsOptions) (state.Reply, bool) {
	from, ok := replySender(r.From)
	if !ok {
		if res.NotNumbers++; res.NotNumbers == 1 {
			res.NotNumber = safetext.Clip(r.From, maxExample)
		}
		return state.Reply{}, false
	}
	at := r.ReceivedAt
	if at.IsZero() {
		at = opts.Now
		if res.NoTimes++; res.NoTimes == 1 {
			res.NoTime = safetext.Clip(r.ReceivedAtText, maxExample)
		}
	}
	id := safetext.Clip(r.MessageID, maxReplyWord)
	row := state.Reply{MessageID: id, From: from, To: safetext.Clip(r.To, maxReplyWord), Text: safetext.Clip(r.Text, maxReplyText),
		Keyword: safetext.Clip(r.Keyword, maxReplyWord), ReceivedAt: at}
	if w, ok := opts.StopWords.Match(r); ok {
		row.OptOut = &state.OptOut{
			Number:     from,
			Source:     fmt.Sprintf("reply %s at %s (inbound messageId %s)", w, at.UTC().Format("2006-01-02T15:04Z"), id),
			ReplyID:    id,
			ReceivedAt: at,
		}
	}
	return row, true
}

// replySender is the E.164 number a reply came from, normalised as campaign numbers are,
// so that an opt-out matches the number campaigns send to. The API writes it in
// international digits; a '+' or an international prefix "00" before them, and spaces or
// punctuation among them, are read too.
func replySender(from string) (string, bool) {
	f := strings.TrimSpace(from)
	switch {
	case strings.HasPrefix(f, "+"):
	case strings.HasPrefix(f, "00"):
		f = "+" + f[2:]
	default:
		f = "+" + f
	}
	n, problem := campaign.Normalize(f, "")
	return n, problem == ""
}

// optOutSuppression is how plan shows an opt-out: where it came from and since when.
func optOutSuppression(o state.OptOut) campaign.Suppression {
	return campaign.Suppression{Number: o.Number, Source: "opt-out (" + o.Source + ")", Date: o.ReceivedAt, Reason: o.Reason}
}
