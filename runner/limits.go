package runner

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/internal/words"
)

// Limits (spec §12): a settings file's limits bound what one apply sends of the campaigns
// it governs: limits.max_messages messages, and limits.max_cost per currency where the
// plan has prices (-prices). With several settings files (several roots), each bounds its
// own campaigns. plan warns; apply refuses, before anything is sent or recorded, unless
// -allow-over-limit N approves, N being at least the number of messages the apply sends
// (all of them: one figure a reviewer reads in the workflow's diff).

// ErrOverLimit means an apply would send more than a settings file's limits allow.
var ErrOverLimit = errors.New("over the limit")

// OverLimit is one limit a plan goes over.
type OverLimit struct {
	// Settings is the settings file (Pos names the field's line).
	Settings *campaign.Settings `json:"-"`
	File     string             `json:"file"`
	Line     int                `json:"line"`
	Field    string             `json:"field"` // limits.max_messages or limits.max_cost.CUR
	// Planned is what the plan sends of the campaigns the file governs: messages, or the
	// cost in Currency; Limit the most the file allows.
	Planned  string `json:"planned"`
	Limit    string `json:"limit"`
	Currency string `json:"currency,omitempty"`
	// Messages is how many messages those campaigns send; Total how many the apply sends.
	Messages int `json:"messages"`
	Total    int `json:"total"`
}

// OverLimits lists the limits the plan goes over, by settings file, then field.
func (p *Plan) OverLimits() []OverLimit {
	type under struct {
		messages int
		cost     *Cost
	}
	by := map[*campaign.Settings]*under{}
	var files []*campaign.Settings
	for _, cp := range p.Campaigns {
		s := cp.Campaign.Settings
		if s == nil || s.Limits == nil {
			continue
		}
		u := by[s]
		if u == nil {
			u = &under{}
			by[s] = u
			files = append(files, s)
		}
		u.messages += cp.Counts.Send
		if cp.Cost != nil {
			if u.cost == nil {
				u.cost = newCost()
			}
			u.cost.merge(cp.Cost)
		}
	}
	slices.SortFunc(files, func(a, b *campaign.Settings) int { return strings.Compare(a.File, b.File) })
	var out []OverLimit
	for _, s := range files {
		u := by[s]
		over := func(field, planned, limit, currency string) {
			out = append(out, OverLimit{Settings: s, File: s.File, Line: s.Line(field), Field: field,
				Planned: planned, Limit: limit, Currency: currency, Messages: u.messages, Total: p.Summary.Send})
		}
		if n, ok := s.MaxMessages(); ok && u.messages > n {
			over("limits.max_messages", Thousands(u.messages), Thousands(n), "")
		}
		if u.cost == nil {
			continue
		}
		maxCost := s.MaxCost()
		for _, a := range u.cost.Totals {
			if m, ok := maxCost[a.Currency]; ok && a.Amount > m {
				over("limits.max_cost."+a.Currency, a.Amount.String(), m.String(), a.Currency)
			}
		}
	}
	return out
}

// String says what goes over which limit: "this apply would send 2,000,000 messages;
// smsform.yaml:12 limits.max_messages is 100,000".
func (o OverLimit) String() string {
	what := fmt.Sprintf("%s %s", o.Planned, words.Plural(o.Messages, "message", "messages"))
	if o.Currency != "" {
		what = fmt.Sprintf("messages costing %s %s", o.Planned, o.Currency)
	}
	if o.Messages != o.Total {
		what += fmt.Sprintf(" of the campaigns under %s (%s in all)", o.File, Thousands(o.Total))
	}
	return fmt.Sprintf("this apply would send %s; %s %s is %s", what, o.Settings.Pos(o.Field), o.Field, o.Limit)
}

// CheckLimits refuses a plan over a limit unless allow (-allow-over-limit N, 0 when not
// given) approves at least the messages it sends.
func (p *Plan) CheckLimits(allow int) error {
	over := p.OverLimits()
	n := p.Summary.Send
	if len(over) == 0 || n == 0 {
		return nil
	}
	var lines []string
	for _, o := range over {
		lines = append(lines, o.String())
	}
	what := strings.Join(lines, "; ")
	switch {
	case allow == 0:
		return fmt.Errorf("%w: %s; nothing was sent: rerun with -allow-over-limit %d to approve", ErrOverLimit, what, n)
	case allow < n:
		return fmt.Errorf("%w: -allow-over-limit %d approves %s %s, but %s; nothing was sent: rerun with -allow-over-limit %d to approve",
			ErrOverLimit, allow, Thousands(allow), words.Plural(allow, "message", "messages"), what, n)
	}
	return nil
}

// limitWarnings are the lines plan prints for the limits it goes over.
func (p *Plan) limitWarnings() []string {
	var out []string
	for _, o := range p.OverLimits() {
		out = append(out, fmt.Sprintf("Warning: %s: apply refuses without -allow-over-limit %d.", o, p.Summary.Send))
	}
	return out
}

// SettingsLine is one settings file that applies, for validate and plan: its path and
// what it asks for.
type SettingsLine struct {
	File     string `json:"file"`
	Describe string `json:"describe"`
}

// String is the line the text views print.
func (l SettingsLine) String() string {
	return fmt.Sprintf("Settings %s: %s.", safetext.Escape(l.File), safetext.Escape(l.Describe))
}

// SettingsLines lists the settings files, as read (sorted by file).
func SettingsLines(settings []*campaign.Settings) []SettingsLine {
	out := make([]SettingsLine, 0, len(settings))
	for _, s := range settings {
		out = append(out, SettingsLine{File: s.File, Describe: s.Describe()})
	}
	return out
}
