package runner

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/internal/words"
)

// MarkdownLimit is the most bytes the Markdown view writes: GitHub refuses a comment over
// 65,536 characters, and the workflow adds a line of its own.
const MarkdownLimit = 60_000

// MarkdownOptions say what the Markdown view adds to the plan.
type MarkdownOptions struct {
	// Warnings are the campaign files' warnings (campaign.LintSet), listed after the table.
	Warnings []campaign.Problem
	// Limit is the most bytes written; MarkdownLimit when 0.
	Limit int
}

// The Markdown view lists at most this many of a campaign's messages not sent, of its
// quiet-hours groups, of the warnings, and names at most this many campaigns with nothing
// to do; the rest are counted.
const (
	mdShownMessages  = DefaultShown
	mdShownGroups    = 10
	mdShownWarnings  = 20
	mdShownIdle      = 20
	mdShownProblems  = 50
	mdMaxLabels      = 1000 // bytes of a campaign's labels
	mdMaxProblemText = 500  // bytes of one problem or warning
	// A price list may name many currencies: a cost is cut to this many bytes.
	mdMaxCostText = 2000
	mdMaxCostCell = 200
)

// mdColumn is a count the campaign table shows after "to send" and "SMS parts": one per
// action a plan may hold besides send. A column shows only when some campaign has a count
// in it, so that a plan's table is as wide as what it holds; an action added to the plan
// (held back by an experiment, capped by a contact policy) adds its column here.
type mdColumn struct {
	title string
	count func(Counts) int
}

var mdColumns = []mdColumn{
	{"Already sent", func(c Counts) int { return c.Noop }},
	{"Changed (not resent)", func(c Counts) int { return c.Changed }},
	{"Unknown outcome", func(c Counts) int { return c.Unknown }},
	{"Failed", func(c Counts) int { return c.Failed }},
	{"Suppressed", func(c Counts) int { return c.Suppressed }},
	{"Held (experiment)", func(c Counts) int { return c.Held }},
	{"Capped", func(c Counts) int { return c.Capped }},
	{"No longer in the files", func(c Counts) int { return c.Orphaned }},
}

// WriteMarkdown writes the plan as GitHub-flavoured Markdown, for a pull-request comment
// or a job summary: the summary line and the estimated cost; a table with a row per
// campaign that has anything to do (to send, parts, cost, and a column for every other
// action present); the warnings; then per campaign the text its first recipient gets, with
// encoding and parts, when it goes out, and the messages not sent, with why.
//
// The document is made to be pasted where anyone may read it: every phone number is
// masked (campaign.MaskNumber), whatever the plan's options; text from the files, the
// state or Infobip is escaped so that it cannot break a table, add HTML or a link, or
// mention a person, team or issue; the same plan gives the same bytes; and it is never
// over opts.Limit bytes: what does not fit is left out whole, and the end says how many
// campaigns and lines that was and how to see them.
func (p *Plan) WriteMarkdown(w io.Writer, opts MarkdownOptions) error {
	d := newMarkdownDoc(opts.Limit)
	const mask = campaign.Mask(true)

	var head strings.Builder
	head.WriteString("### smsform plan\n\n")
	fmt.Fprintf(&head, "**%s**\n\n", mdInline(p.SummaryLine()))
	for _, l := range SettingsLines(p.Settings) {
		fmt.Fprintf(&head, "%s\n\n", mdInline(l.String()))
	}
	if p.Cost != nil {
		fmt.Fprintf(&head, "Estimated cost: %s.\n\n", mdInline(safetext.Clip(p.Cost.Text(), mdMaxCostText)))
	}
	for _, w := range p.limitWarnings() {
		fmt.Fprintf(&head, "**%s**\n\n", mdInline(w))
	}
	d.must(head.String())

	var active, idle []*CampaignPlan
	for _, cp := range p.Campaigns {
		if cp.Counts.Noop == len(cp.Messages) && cp.Counts.Orphaned == 0 && cp.Experiment == nil {
			idle = append(idle, cp)
		} else {
			active = append(active, cp)
		}
	}
	switch s := p.Summary; {
	case len(p.Campaigns) == 0:
		d.must("No campaigns in the files.\n")
	case s.Send == 0 && len(active) == 0:
		d.must("Nothing to send: the state already matches the campaign files.\n\n")
	case s.Send == 0:
		d.must("Nothing to send.\n\n")
	}

	if len(active) > 0 {
		header, rows := p.markdownTable(active)
		if d.add(header) {
			for i, row := range rows {
				if !d.add(row) {
					d.cutRows = len(rows) - i
					break
				}
			}
		} else {
			d.cutRows = len(rows)
		}
		d.add("\n")
	}
	if len(idle) > 0 {
		d.add(idleLine(idle))
	}

	if len(opts.Warnings) > 0 {
		if d.add(fmt.Sprintf("#### Warnings\n\n%s %s about the campaign files (`smsform validate` lists %s; `validate -strict` fails on %s):\n\n",
			Thousands(len(opts.Warnings)), words.Plural(len(opts.Warnings), "warning", "warnings"), words.Plural(len(opts.Warnings), "it", "them"), words.Plural(len(opts.Warnings), "it", "them"))) {
			shown := 0
			for _, pr := range opts.Warnings[:min(len(opts.Warnings), mdShownWarnings)] {
				if !d.add("- " + mdProblem(pr) + "\n") {
					break
				}
				shown++
			}
			if more := len(opts.Warnings) - shown; more > 0 {
				d.mustReserved(fmt.Sprintf("- ... and %s more\n", Thousands(more)))
			}
			d.add("\n")
		} else {
			d.cutWarnings = len(opts.Warnings)
		}
	}

	for i, cp := range active {
		section, err := p.markdownCampaign(cp, mask)
		if err != nil {
			return err
		}
		if !d.add(section) {
			d.cutCampaigns = len(active) - i
			break
		}
	}
	d.finish()
	_, err := io.WriteString(w, d.b.String())
	return err
}

// markdownTable is the table's header and one row per campaign.
func (p *Plan) markdownTable(active []*CampaignPlan) (string, []string) {
	var cols []mdColumn
	for _, col := range mdColumns {
		if col.count(p.Summary) > 0 {
			cols = append(cols, col)
		}
	}
	var h strings.Builder
	h.WriteString("| Campaign | Round | Purpose | From | To send | SMS parts |")
	align := "| :-- | --: | :-- | :-- | --: | --: |"
	if p.Cost != nil {
		h.WriteString(" Estimated cost |")
		align += " --: |"
	}
	for _, col := range cols {
		h.WriteString(" " + col.title + " |")
		align += " --: |"
	}
	h.WriteString("\n" + align + "\n")
	rows := make([]string, len(active))
	for i, cp := range active {
		c := cp.Campaign
		var r strings.Builder
		fmt.Fprintf(&r, "| %s | %d | %s | %s | %s | %s |", mdInline(c.ID), c.Round, purposeOf(c), mdInline(c.From),
			Thousands(cp.Counts.Send), Thousands(cp.Counts.SmsParts))
		if p.Cost != nil {
			fmt.Fprintf(&r, " %s |", mdInline(safetext.Clip(cp.Cost.Short(), mdMaxCostCell)))
		}
		for _, col := range cols {
			fmt.Fprintf(&r, " %s |", Thousands(col.count(cp.Counts)))
		}
		r.WriteByte('\n')
		rows[i] = r.String()
	}
	return h.String(), rows
}

// Short writes the cost for a table cell: each currency's total, and how many messages
// have no price.
func (c *Cost) Short() string {
	var parts []string
	for _, a := range c.Totals {
		parts = append(parts, a.Decimal+" "+a.Currency)
	}
	s := strings.Join(parts, " + ")
	switch {
	case c.Unpriced > 0 && s == "":
		s = fmt.Sprintf("%s without price", Thousands(c.Unpriced))
	case c.Unpriced > 0:
		s += fmt.Sprintf(" (%s without price)", Thousands(c.Unpriced))
	case s == "":
		s = "0"
	}
	return s
}

func purposeOf(c *campaign.Campaign) string {
	if c.IsMarketing() {
		return string(campaign.Marketing)
	}
	return string(campaign.Transactional)
}

// idleLine names the campaigns with nothing left to do.
func idleLine(idle []*CampaignPlan) string {
	ids := make([]string, 0, mdShownIdle)
	for _, cp := range idle[:min(len(idle), mdShownIdle)] {
		ids = append(ids, mdInline(cp.Campaign.ID))
	}
	more := ""
	if len(idle) > mdShownIdle {
		more = fmt.Sprintf(" and %s more", Thousands(len(idle)-mdShownIdle))
	}
	return fmt.Sprintf("%s %s every message sent, nothing to do: %s%s.\n\n", Thousands(len(idle)),
		words.Plural(len(idle), "campaign has", "campaigns have"), strings.Join(ids, ", "), more)
}

// markdownCampaign is one campaign's section: what it is, the text it sends, when, and
// the messages it does not send.
func (p *Plan) markdownCampaign(cp *CampaignPlan, mask campaign.Mask) (string, error) {
	c := cp.Campaign
	var b strings.Builder
	fmt.Fprintf(&b, "#### %s (round %d)\n\n", mdInline(c.ID), c.Round)
	facts := []string{"from " + mdInline(c.From), purposeOf(c)}
	if t := c.TrackingLabel(); t != "" {
		facts = append(facts, "tracking "+mdInline(t))
	}
	if v := c.ValidityPeriod; v != "" {
		facts = append(facts, "valid for "+mdInline(v))
	}
	if dw := c.DeliveryWindow; dw != nil {
		facts = append(facts, fmt.Sprintf("delivered on %s between %s and %s UTC", mdInline(strings.Join(dw.Days, ", ")), mdInline(dw.From), mdInline(dw.To)))
	}
	if sl := c.SpeedLimit; sl != nil {
		facts = append(facts, fmt.Sprintf("at most %d per %s", sl.Amount, mdInline(strings.ToLower(sl.TimeUnit))))
	}
	if len(c.Labels) > 0 {
		facts = append(facts, "labels "+labelsText(c.Labels))
	}
	b.WriteString(upperFirst(strings.Join(facts, " · ")) + ".\n\n")
	if cp.Cost != nil && cp.Counts.Send > 0 {
		fmt.Fprintf(&b, "Estimated cost: %s.\n\n", mdInline(safetext.Clip(cp.Cost.Text(), mdMaxCostText)))
	}
	if e := cp.Experiment; e != nil {
		fmt.Fprintf(&b, "%s.\n\n", mdInline(upperFirst(e.ExperimentLine())))
	}

	r := c.NewRenderer()
	for _, s := range cp.samples() {
		rec := cp.Recipient(s.msg)
		text, err := r.Render(rec)
		if err != nil {
			return "", err
		}
		shown, err := mask.Render(r, rec)
		if err != nil {
			return "", err
		}
		_, enc := campaign.Parts(text)
		what := "Text"
		if s.variant != "" {
			what = "Variant " + mdInline(s.variant)
		}
		fmt.Fprintf(&b, "%s for %s (the first recipient to send): %s, %d SMS %s.\n\n", what, mask.Number(rec.To), enc, rec.Parts, words.Plural(int(rec.Parts), "part", "parts"))
		b.WriteString(mdCode(shown))
		b.WriteByte('\n')
	}

	if cp.Counts.Send > 0 {
		b.WriteString(whenText(cp))
	}

	notSent := cp.Counts.Changed + cp.Counts.Unknown + cp.Counts.Failed + cp.Counts.Suppressed + cp.Counts.Capped + cp.Counts.Orphaned
	if notSent > 0 {
		fmt.Fprintf(&b, "Not sent (%s):\n\n", Thousands(notSent))
		listed := 0
		for _, m := range cp.Messages {
			if m.Action == Send || m.Action == Noop {
				continue
			}
			if listed == mdShownMessages {
				break
			}
			listed++
			to := mask.Number(cp.Recipient(m).To)
			var why string
			switch m.Action {
			case Changed:
				why = "changed after send; not resent"
			case Unknown:
				why = "outcome unknown; not resent until resolved (`smsform refresh`, or `smsform state resolve`)"
			case Failed:
				why = fmt.Sprintf("failed: %s; `apply -retry-failed` sends it again", mdInline(mdClip(mask.Text(cp.Errors[m.Recipient]))))
			case Suppressed:
				why = "suppressed: " + mdInline(mdClip(mask.Text(suppressionText(cp.Suppressions[m.Recipient]))))
			case Capped:
				why = mdInline(mdClip(capText(cp, m)))
			}
			fmt.Fprintf(&b, "- `%s` %s: %s\n", symbols[m.Action], to, why)
		}
		for _, to := range cp.Orphaned {
			if listed == mdShownMessages {
				break
			}
			listed++
			fmt.Fprintf(&b, "- `-` %s: recorded, no longer in the files (an SMS cannot be unsent)\n", mask.Number(to))
		}
		if more := notSent - listed; more > 0 {
			fmt.Fprintf(&b, "- ... and %s more (`smsform plan -verbose` lists them all)\n", Thousands(more))
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// sample is a message whose text the Markdown view shows.
type sample struct {
	variant string // "" for a campaign without variants
	msg     Message
}

// samples are the messages whose text the Markdown view shows: the first to send (one per
// variant, once campaigns have variants).
func (cp *CampaignPlan) samples() []sample {
	var out []sample
	seen := map[int8]bool{}
	for _, m := range cp.Messages {
		if m.Action != Send || seen[m.Variant] {
			continue
		}
		if cp.Experiment == nil {
			return []sample{{msg: m}}
		}
		seen[m.Variant] = true
		out = append(out, sample{variant: cp.VariantName(m), msg: m})
	}
	// In the file's order of the variants.
	slices.SortStableFunc(out, func(a, b sample) int { return int(a.msg.Variant) - int(b.msg.Variant) })
	return out
}

// whenText says when a campaign's messages go out.
func whenText(cp *CampaignPlan) string {
	c := cp.Campaign
	if cp.Schedule == nil {
		if c.SendAt != "" {
			return fmt.Sprintf("When: at send_at, %s.\n\n", c.SendTime().UTC().Format("2006-01-02 15:04 UTC"))
		}
		return "When: as soon as apply runs.\n\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "When, if applied now (quiet hours %s, in each recipient's local time):\n\n", c.Quiet)
	for i, g := range cp.Schedule {
		if i == mdShownGroups {
			fmt.Fprintf(&b, "- ... and %s more groups (`smsform plan` lists them all)\n", Thousands(len(cp.Schedule)-i))
			break
		}
		fmt.Fprintf(&b, "- %s\n", mdInline(scheduleText(g, *c.Quiet, c.SendAt != "")))
	}
	b.WriteByte('\n')
	return b.String()
}

func labelsText(labels map[string]string) string {
	var parts []string
	n := 0
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		kv := safetext.Clip(k, 64) + "=" + safetext.Clip(labels[k], 100)
		if n += len(kv); n > mdMaxLabels {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, kv)
	}
	return mdInline(strings.Join(parts, ", "))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mdProblem writes a problem or warning, masked and escaped.
func mdProblem(pr campaign.Problem) string {
	return mdInline(mdClip(campaign.MaskNumbers(pr.String())))
}

func mdClip(s string) string { return safetext.Clip(s, mdMaxProblemText) }

// WriteMarkdownFailure writes, as the Markdown view would, why there is no plan: every
// problem of the campaign files (the first 50; the rest counted), or the error. Numbers
// are masked and the text escaped, as in WriteMarkdown.
func WriteMarkdownFailure(w io.Writer, err error, limit int) error {
	d := newMarkdownDoc(limit)
	d.must("### smsform plan\n\n")
	var ve *campaign.ValidationError
	if errors.As(err, &ve) {
		subject := ve.Subject
		if subject == "" {
			subject = "the campaign files"
		}
		d.must(fmt.Sprintf("**No plan: %s %s in %s.** Nothing can be sent until %s fixed.\n\n", Thousands(ve.Count()),
			words.Plural(ve.Count(), "problem", "problems"), mdInline(subject), words.Plural(ve.Count(), "it is", "they are")))
		shown := 0
		for _, pr := range ve.Problems[:min(len(ve.Problems), mdShownProblems)] {
			if !d.add("- " + mdProblem(pr) + "\n") {
				break
			}
			shown++
		}
		if more := ve.Count() - shown; more > 0 {
			d.mustReserved(fmt.Sprintf("- ... and %s more: `smsform validate -all` lists every one\n", Thousands(more)))
		}
	} else {
		d.must(fmt.Sprintf("**No plan:** %s\n", mdInline(mdClip(campaign.MaskNumbers(strings.TrimSpace(err.Error()))))))
	}
	_, werr := io.WriteString(w, d.b.String())
	return werr
}

// markdownDoc builds a Markdown document within a byte limit, keeping room for the note
// that says what was left out.
type markdownDoc struct {
	b     strings.Builder
	limit int
	// What was left out: table rows, campaign sections, warnings, lines of the summary.
	cutRows, cutCampaigns, cutWarnings int
	cutHead                            bool
}

// mdReserve is room kept for the closing note and a "... and N more" line.
const mdReserve = 600

func newMarkdownDoc(limit int) *markdownDoc {
	if limit <= 0 {
		limit = MarkdownLimit
	}
	return &markdownDoc{limit: limit}
}

// add appends s if it fits with room to spare for the note; it reports whether it did.
func (d *markdownDoc) add(s string) bool {
	if d.b.Len()+len(s)+mdReserve > d.limit {
		return false
	}
	d.b.WriteString(s)
	return true
}

// must appends s, which is bounded and comes first (a heading, the summary): whole, or
// (should the limit be tiny) as many of its lines as fit.
func (d *markdownDoc) must(s string) {
	if d.add(s) {
		return
	}
	room := max(0, d.limit-mdReserve-d.b.Len())
	if cut := strings.LastIndexByte(s[:min(len(s), room)], '\n'); cut >= 0 {
		d.b.WriteString(s[:cut+1])
	}
	d.cutHead = true
}

// mustReserved appends a short s into the room kept for it.
func (d *markdownDoc) mustReserved(s string) {
	if d.b.Len()+len(s) <= d.limit {
		d.b.WriteString(s)
	}
}

// finish ends the document with what was left out, and how to see it.
func (d *markdownDoc) finish() {
	var left []string
	if d.cutHead {
		left = append(left, "part of the summary")
	}
	if d.cutRows > 0 {
		left = append(left, fmt.Sprintf("%s %s of the table", Thousands(d.cutRows), words.Plural(d.cutRows, "row", "rows")))
	}
	if d.cutWarnings > 0 {
		left = append(left, fmt.Sprintf("%s %s", Thousands(d.cutWarnings), words.Plural(d.cutWarnings, "warning", "warnings")))
	}
	if d.cutCampaigns > 0 {
		left = append(left, fmt.Sprintf("the details of %s %s", Thousands(d.cutCampaigns), words.Plural(d.cutCampaigns, "campaign", "campaigns")))
	}
	if len(left) == 0 {
		return
	}
	d.mustReserved(fmt.Sprintf("---\n\n**Cut to fit a comment:** %s left out. `smsform plan -verbose` lists every campaign and message.\n",
		strings.Join(left, ", ")))
}

// mdInline writes text from outside (a file, the state, Infobip) into a line of Markdown or
// a table cell, so that it shows as written and does nothing else: control characters and
// line breaks are written as escapes (safetext.Escape); Markdown's punctuation is
// backslash-escaped (no table cell ends at a '|', no emphasis, code span, link or image,
// no math); '<', '>' and '&' are entities (no HTML, no entity); and a zero-width space
// follows each '@' and '#', and parts an autolink's "://" or "www.", so that no person,
// team or issue is mentioned or referenced and no link is made.
func mdInline(s string) string {
	s = safetext.Escape(s)
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '`', '*', '_', '~', '[', ']', '|', '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '@', '#':
			b.WriteByte(c)
			b.WriteString(zeroWidth)
		case ':':
			b.WriteByte(c)
			if strings.HasPrefix(s[i+1:], "//") {
				b.WriteString(zeroWidth)
			}
		case '.':
			if i >= 3 && strings.EqualFold(s[i-3:i], "www") {
				b.WriteString(zeroWidth)
			}
			b.WriteByte(c)
		case '-':
			b.WriteByte(c)
			if i >= 2 && strings.EqualFold(s[i-2:i], "gh") {
				b.WriteString(zeroWidth) // GH-123 refers to an issue
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// zeroWidth is U+200B ZERO WIDTH SPACE, as an entity: it shows as nothing, and breaks a
// mention (@team), an issue reference (#12) or an autolink where it stands.
const zeroWidth = "&#8203;"

// mdCode writes a text as a fenced code block, in which nothing is Markdown or HTML and no
// mention is made: its lines as they are, each escaped (control characters, a leading
// "::"), within a fence longer than any run of backticks in it, so nothing in it ends it.
func mdCode(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = safetext.Escape(l)
	}
	body := strings.Join(lines, "\n")
	fence := "```"
	for strings.Contains(body, fence) {
		fence += "`"
	}
	return fence + "text\n" + body + "\n" + fence + "\n"
}
