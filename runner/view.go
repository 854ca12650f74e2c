package runner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/internal/words"
)

// PlanFormatVersion is the format_version of the plan's JSON view (schema/plan.schema.json).
// Its major number changes only when something is removed or changes meaning; a version
// that adds fields or action values raises the minor one. 1.1 added, per campaign,
// purpose, labels and counts; 1.2 experiments: the action held, the summary's held, per
// message variant and per campaign experiment; 1.3 the contact policy: the action capped
// (capped_by), the summary's capped, settings and over_limit.
const PlanFormatVersion = "1.3"

// DefaultShown is how many messages per campaign the human view lists without -verbose.
const DefaultShown = 5

// SummaryLine is the plan's first line, made to fit a pull-request comment.
func (p *Plan) SummaryLine() string {
	s := p.Summary
	parts := []string{fmt.Sprintf("%s to send (%s SMS %s)", Thousands(s.Send), Thousands(s.SmsParts), words.Plural(s.SmsParts, "part", "parts"))}
	if s.Noop > 0 {
		parts = append(parts, fmt.Sprintf("%s already sent", Thousands(s.Noop)))
	}
	if s.Changed > 0 {
		parts = append(parts, fmt.Sprintf("%s changed after send (not resent)", Thousands(s.Changed)))
	}
	if s.Unknown > 0 {
		parts = append(parts, fmt.Sprintf("%s with unknown outcome (not resent)", Thousands(s.Unknown)))
	}
	if s.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%s failed (not resent without -retry-failed)", Thousands(s.Failed)))
	}
	if s.Orphaned > 0 {
		parts = append(parts, fmt.Sprintf("%s recorded but no longer in the files", Thousands(s.Orphaned)))
	}
	if s.Suppressed > 0 {
		parts = append(parts, fmt.Sprintf("%s suppressed (on a suppression list; never sent)", Thousands(s.Suppressed)))
	}
	if s.Held > 0 {
		parts = append(parts, fmt.Sprintf("%s held for an experiment's winner (not sent yet)", Thousands(s.Held)))
	}
	if s.Capped > 0 {
		parts = append(parts, fmt.Sprintf("%s capped (over a frequency cap; never sent for this round)", Thousands(s.Capped)))
	}
	return "Plan: " + strings.Join(parts, ", ") + "."
}

var symbols = [...]string{Send: "+", Noop: " ", Changed: "~", Unknown: "?", Failed: "!", Suppressed: "x", Held: ".", Capped: "#"}

// ViewOptions say how the human views write a plan.
type ViewOptions struct {
	// Shown is how many messages per campaign the text view lists; all when < 0.
	Shown int
	// Mask masks the phone numbers (-mask-numbers); the Markdown view always does.
	Mask campaign.Mask
}

// WriteText writes the human view: the summary line, then per campaign the messages that
// are not plain no-ops, cut after opts.Shown lines unless that is < 0.
func (p *Plan) WriteText(w io.Writer, opts ViewOptions) error {
	shown, mask := opts.Shown, opts.Mask
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, p.SummaryLine())
	for _, s := range SettingsLines(p.Settings) {
		fmt.Fprintln(bw, s)
	}
	if p.Cost != nil {
		fmt.Fprintf(bw, "Estimated cost: %s.\n", p.Cost.Text())
	}
	for _, w := range p.limitWarnings() {
		fmt.Fprintln(bw, safetext.Escape(w))
	}
	for _, cp := range p.Campaigns {
		c := cp.Campaign
		if cp.Counts.Noop == len(cp.Messages) && cp.Counts.Orphaned == 0 && cp.Experiment == nil {
			continue
		}
		fmt.Fprintf(bw, "\n  # campaign %q (round %d) from %s", c.ID, c.Round, c.From)
		if t := c.TrackingLabel(); t != "" {
			fmt.Fprintf(bw, ", tracking %s", t)
		}
		if c.SendAt != "" {
			fmt.Fprintf(bw, ", send at %s", c.SendAt)
		}
		fmt.Fprintln(bw)
		if cp.Cost != nil && cp.Counts.Send > 0 {
			fmt.Fprintf(bw, "    estimated cost: %s\n", cp.Cost.Text())
		}
		for _, g := range cp.Schedule {
			fmt.Fprintf(bw, "  # %s\n", scheduleText(g, *c.Quiet, c.SendAt != ""))
		}
		if e := cp.Experiment; e != nil {
			fmt.Fprintf(bw, "  # %s\n", e.ExperimentLine())
		}
		r := c.NewRenderer()
		listed, cut := 0, 0
		for _, m := range cp.Messages {
			if m.Action == Noop || m.Action == Held {
				continue // the held are counted in the summary and the experiment's line
			}
			if shown >= 0 && listed >= shown {
				cut++
				continue
			}
			listed++
			rec := cp.Recipient(m)
			var text string
			if cp.HasText(m) {
				var err error
				if text, err = mask.Render(r, rec); err != nil {
					return err
				}
			}
			fmt.Fprintf(bw, "  %s %-16s ", symbols[m.Action], mask.Number(rec.To))
			if v := cp.VariantName(m); v != "" {
				fmt.Fprintf(bw, "[%s] ", v)
			}
			fmt.Fprint(bw, strconv.Quote(text))
			switch m.Action {
			case Changed:
				fmt.Fprint(bw, "  (changed after send; not resent)")
			case Unknown:
				fmt.Fprint(bw, "  (outcome unknown; not resent until resolved)")
			case Failed:
				fmt.Fprintf(bw, "  (failed: %s; -retry-failed sends it again)", safetext.Escape(mask.Text(cp.Errors[m.Recipient])))
			case Suppressed:
				fmt.Fprintf(bw, "  (suppressed: %s)", mask.Text(suppressionText(cp.Suppressions[m.Recipient])))
			case Capped:
				fmt.Fprintf(bw, "  (%s)", safetext.Escape(capText(cp, m)))
			}
			fmt.Fprintln(bw)
		}
		if cut > 0 {
			fmt.Fprintf(bw, "    ... and %s more (-verbose shows all)\n", Thousands(cut))
		}
		for i, to := range cp.Orphaned {
			if shown >= 0 && i >= shown {
				fmt.Fprintf(bw, "    ... and %d more no longer in the files\n", len(cp.Orphaned)-i)
				break
			}
			fmt.Fprintf(bw, "  - %-16s (recorded, no longer in the files; an SMS cannot be unsent)\n", safetext.Escape(mask.Number(to)))
		}
	}
	switch s := p.Summary; {
	case s.Send > 0:
	case s.Changed+s.Unknown+s.Failed+s.Orphaned+s.Suppressed+s.Held+s.Capped == 0:
		fmt.Fprintln(bw, "\nNothing to send: the state already matches the campaign files.")
	default:
		fmt.Fprintln(bw, "\nNothing to send.")
	}
	return bw.Flush()
}

type jsonMessage struct {
	Action    string `json:"action"`
	To        string `json:"to"`
	Text      string `json:"text"`
	Parts     int32  `json:"parts"`
	MessageID string `json:"message_id"`
	Error     string `json:"error,omitempty"`
	// SendAt is when a message of a campaign with quiet hours goes out, when that is not
	// at once (send_at, or the end of the recipient's quiet hours).
	SendAt       string           `json:"send_at,omitempty"`
	SuppressedBy *jsonSuppression `json:"suppressed_by,omitempty"`
	// Variant is, in an experiment, the variant the message is sent with (omitted for a
	// held recipient without winner, and without variants).
	Variant string `json:"variant,omitempty"`
	// CappedBy says which frequency cap holds a capped message back and which messages
	// count; Recorded that an earlier apply recorded it capped.
	CappedBy *jsonCap `json:"capped_by,omitempty"`
}

// jsonCap is why a message is capped.
type jsonCap struct {
	Reason   string `json:"reason"`
	Recorded bool   `json:"recorded"`
}

// jsonSuppression is the list entry that held a message back.
type jsonSuppression struct {
	Source string `json:"source"` // FILE:LINE
	Date   string `json:"date,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// suppressionText says where and why a number is suppressed.
func suppressionText(s campaign.Suppression) string {
	out := "on " + safetext.Escape(s.Source)
	if !s.Date.IsZero() {
		out += " since " + s.Date.Format(time.DateOnly)
	}
	if s.Reason != "" {
		out += ": " + safetext.Escape(s.Reason)
	}
	return out
}

// WriteJSON writes the machine view, one JSON document with one message per line, streamed
// so a million messages never sit in memory as JSON.
func (p *Plan) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// put writes v without the newline Encode adds, with what encoding/json leaves raw that
	// would reorder or hide text escaped (see safetext.JSON).
	put := func(v any) error {
		buf.Reset()
		if err := enc.Encode(v); err != nil {
			return err
		}
		bw.Write(safetext.JSON(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))))
		return nil
	}
	fmt.Fprintf(bw, "{\"format_version\":%q,\"summary\":", PlanFormatVersion)
	put(struct {
		Counts
		Cost *Cost `json:"cost,omitempty"`
	}{p.Summary, p.Cost})
	if len(p.Settings) > 0 {
		bw.WriteString(",\"settings\":")
		put(SettingsLines(p.Settings))
	}
	if over := p.OverLimits(); len(over) > 0 {
		bw.WriteString(",\"over_limit\":")
		put(over)
	}
	bw.WriteString(",\"campaigns\":[")
	for i, cp := range p.Campaigns {
		if i > 0 {
			bw.WriteByte(',')
		}
		c := cp.Campaign
		orphaned := cp.Orphaned
		if orphaned == nil {
			orphaned = []string{}
		}
		bw.WriteString("\n{\"id\":")
		put(c.ID)
		fmt.Fprintf(bw, ",\"round\":%d,\"from\":", c.Round)
		put(c.From)
		bw.WriteString(",\"purpose\":")
		put(purposeOf(c))
		bw.WriteString(",\"tracking\":")
		put(c.TrackingLabel())
		labels := c.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		bw.WriteString(",\"labels\":")
		put(labels)
		bw.WriteString(",\"counts\":")
		put(cp.Counts)
		bw.WriteString(",\"orphaned\":")
		put(orphaned)
		if cp.Cost != nil {
			bw.WriteString(",\"cost\":")
			put(cp.Cost)
		}
		if cp.Schedule != nil {
			bw.WriteString(",\"schedule\":")
			put(cp.Schedule)
		}
		if cp.Experiment != nil {
			bw.WriteString(",\"experiment\":")
			put(cp.Experiment.jsonView())
		}
		bw.WriteString(",\"messages\":[")
		r := c.NewRenderer()
		for j, rec := range cp.All() {
			m := cp.Messages[j]
			if j > 0 {
				bw.WriteByte(',')
			}
			bw.WriteByte('\n')
			var text string
			if cp.HasText(m) { // no text is a held recipient's until there is a winner
				var err error
				if text, err = r.Render(rec); err != nil {
					return err
				}
			}
			jm := jsonMessage{
				Action: m.Action.String(), To: rec.To, Text: text, Parts: rec.Parts,
				MessageID: cp.messageID(m, rec), Error: cp.Errors[m.Recipient], Variant: cp.VariantName(m),
			}
			if at, ok := cp.SendAt(j); ok && at.After(p.ScheduledFrom) {
				jm.SendAt = at.Format(time.RFC3339)
			}
			if m.Action == Capped {
				why, recorded := cp.CapReason(m)
				jm.Error, jm.CappedBy = "", &jsonCap{Reason: why, Recorded: recorded}
			}
			if s, ok := cp.Suppressions[m.Recipient]; ok {
				jm.SuppressedBy = &jsonSuppression{Source: s.Source, Reason: s.Reason}
				if !s.Date.IsZero() {
					jm.SuppressedBy.Date = s.Date.Format(time.DateOnly)
				}
			}
			if err := put(jm); err != nil {
				return err
			}
		}
		bw.WriteString("\n]}")
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// Text writes the cost for a person: each currency's total, and the messages without a
// price by country, most first.
func (c *Cost) Text() string {
	var b strings.Builder
	if len(c.Totals) == 0 {
		b.WriteString("0.00")
	}
	for i, a := range c.Totals {
		if i > 0 {
			b.WriteString(" + ")
		}
		fmt.Fprintf(&b, "%s %s", a.Amount, a.Currency)
	}
	fmt.Fprintf(&b, " for %s priced %s", Thousands(c.Priced), words.Plural(c.Priced, "message", "messages"))
	if c.Unpriced > 0 {
		keys := make([]string, 0, len(c.UnpricedBy))
		for k := range c.UnpricedBy {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if c.UnpricedBy[keys[i]] != c.UnpricedBy[keys[j]] {
				return c.UnpricedBy[keys[i]] > c.UnpricedBy[keys[j]]
			}
			return keys[i] < keys[j]
		})
		var by []string
		for _, k := range keys {
			by = append(by, fmt.Sprintf("%s %s", safetext.Escape(k), Thousands(c.UnpricedBy[k])))
		}
		fmt.Fprintf(&b, "; %s %s no price (%s): not counted, add them to the prices file", Thousands(c.Unpriced), words.Plural(c.Unpriced, "message has", "messages have"), strings.Join(by, ", "))
	}
	return b.String()
}
