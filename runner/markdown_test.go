package runner_test

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

// hostile is text a pull request could put in a campaign (a label, a text, a suppression
// list's reason) or Infobip in an error: HTML, a table cell's end, a mention, an issue
// reference, links, a code fence and a heading.
const hostile = "</details><img src=x onerror=alert(1)> | @org/team #1 GH-2 [x](https://evil.example) www.evil.example `code` *b* $m$\n# Heading"

// markdownFixture is a plan with every action, costs, a quiet-hours schedule, a send_at,
// orphans, a campaign with nothing to do, and hostile text wherever text from outside
// shows.
func markdownFixture(t *testing.T) *runner.Plan {
	t.Helper()
	var promoCSV strings.Builder
	promoCSV.WriteString("to,first_name,phone\n")
	for i := range 9 {
		fmt.Fprintf(&promoCSV, "+4478000%05d,P%d,+41 79 555 00 %02d\n", i, i, i)
	}
	dir := writeFiles(t, map[string]string{
		"otp.yaml": otpYAML,
		"promo/promo.yaml": `id: promo
from: ShopCo
text: "Hi {{.first_name}}, 20% off with code SPRING. We call from {{.phone}}. ` + "```" + `\n# Not a heading @org/team #1 </details>"
destinations_file: recipients.csv
suppression_lists: [stop.csv]
labels: {team: growth, note: ` + fmt.Sprintf("%q", hostile) + `}
`,
		"promo/recipients.csv": promoCSV.String(),
		"promo/stop.csv":       "number,reason\n+447800000008," + strings.ReplaceAll(fmt.Sprintf("%q", hostile), `\n`, " ") + "\n",
		"more.yaml": `id: done
from: InfoSMS
text: "All done, {{.name}}"
destinations:
  - to: "+41790000001"
    vars: {name: Ann}
---
id: later
from: "41790000000"
text: "Reminder: your appointment is tomorrow."
send_at: 2026-07-01T09:00:00Z
round: 2
validity_period: 2h
delivery_window: {days: [MONDAY, TUESDAY], from: "09:00", to: "17:00"}
speed_limit: {amount: 100, time_unit: MINUTE}
destinations:
  - to: "+41790000009"
`,
		"night.yaml": quietYAML,
		"prices.csv": "prefix,price,currency\nCH,0.0725,CHF\nGB,0.038,GBP\n",
	})
	t.Chdir(dir) // file names in the view, as the golden file has them
	set, err := campaign.Load(".")
	if err != nil {
		t.Fatal(err)
	}
	prices, err := campaign.LoadPrices("prices.csv")
	if err != nil {
		t.Fatal(err)
	}
	recs := fixtureRecords(set, "REJECTED_DESTINATION: 41790000002 "+hostile)
	p, err := runner.MakePlan(set, state.NewSnapshot(state.Version{Lineage: "l", Serial: 5}, recs), now, runner.PlanOptions{Prices: prices})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func markdown(t *testing.T, p *runner.Plan, opts runner.MarkdownOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := p.WriteMarkdown(&buf, opts); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// outsideCode is the document without its fenced code blocks, where GitHub renders
// Markdown, HTML, mentions and references.
func outsideCode(t *testing.T, doc string) string {
	t.Helper()
	var out strings.Builder
	fence := ""
	for _, line := range strings.SplitAfter(doc, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		switch {
		case fence == "" && strings.HasPrefix(trimmed, "```"):
			fence = strings.TrimSuffix(trimmed, "text")
		case fence != "" && trimmed == fence:
			fence = ""
		case fence == "":
			out.WriteString(line)
		}
	}
	if fence != "" {
		t.Errorf("a code block is never closed:\n%s", doc)
	}
	return out.String()
}

func TestWriteMarkdown(t *testing.T) {
	p := markdownFixture(t)
	warnings := []campaign.Problem{{File: "promo/recipients.csv", Line: 3, Field: "first_name", Msg: "U+2019 forces UCS-2 for +4478000000 " + hostile}}
	out := markdown(t, p, runner.MarkdownOptions{Warnings: warnings})
	golden(t, "plan.md.golden", []byte(out))

	if again := markdown(t, p, runner.MarkdownOptions{Warnings: warnings}); again != out {
		t.Error("the same plan gives different Markdown")
	}
	if !strings.HasPrefix(out, "### smsform plan\n\n**"+p.SummaryLine()+"**\n") {
		t.Errorf("the document does not start with the summary:\n%s", out)
	}
	// Every count of the plan's actions has a column; the campaign with nothing to do is
	// named, not tabled.
	for _, col := range []string{"To send", "SMS parts", "Estimated cost", "Already sent", "Changed (not resent)", "Unknown outcome", "Failed", "Suppressed", "No longer in the files"} {
		if !strings.Contains(out, "| "+col+" |") {
			t.Errorf("no column %q", col)
		}
	}
	if strings.Contains(out, "| done |") || !strings.Contains(out, "1 campaign has every message sent, nothing to do: done.") {
		t.Error("the campaign with nothing to do is tabled, or not named")
	}

	// No phone number: not a recipient's, an orphan's, a var's, nor one in a reason.
	for _, cp := range p.Campaigns {
		for _, r := range cp.Campaign.Recipients.All() {
			if strings.Contains(out, r.To) || strings.Contains(out, r.To[3:]) {
				t.Errorf("the document shows %s", r.To)
			}
		}
		for _, to := range cp.Orphaned {
			if strings.Contains(out, to[3:]) {
				t.Errorf("the document shows the orphan %s", to)
			}
		}
	}
	// (The sender of "later" is a number, the campaign's own, shown as it is.)
	if m := regexp.MustCompile(`\d{7}|\d\d \d\d\d \d\d \d\d|555 00`).FindString(strings.ReplaceAll(out, "41790000000", "")); m != "" {
		t.Errorf("the document shows a number: %q", m)
	}
	for _, want := range []string{
		"Text for +44 •• ••• •• 00 (the first recipient to send): UCS-2",
		"We call from +41 •• ••• •• 00.",
		"- `!` +41 •• ••• •• 02: failed: REJECTED\\_DESTINATION: •• ••• •• 02 ",
		"- `-` +44 •• ••• •• 00: recorded, no longer in the files",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the document lacks %q", want)
		}
	}

	// Escaped: outside code blocks, no HTML, mention, reference, link or emphasis from the
	// files; the text's own fence does not end its code block.
	rest := outsideCode(t, out)
	// As GitHub reads it: the entity is a zero-width space, no letter, digit or '#'.
	shown := strings.ReplaceAll(rest, "&#8203;", "\u200b")
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<[a-zA-Z/!]`), regexp.MustCompile(`@[A-Za-z0-9]`), regexp.MustCompile(`#[0-9]`),
		regexp.MustCompile(`(^|[^\\])\]\(`), regexp.MustCompile(`://`), regexp.MustCompile(`(?i)www\.`), regexp.MustCompile(`GH-[0-9]`),
		regexp.MustCompile(`(^|[^\\])` + "`code"), regexp.MustCompile(`(^|[^\\])\*b`), regexp.MustCompile(`(?m)^# Heading`),
	} {
		if m := bad.FindString(shown); m != "" {
			t.Errorf("outside code blocks, %q is raw (%s)", m, bad)
		}
	}
	if !strings.Contains(out, "````text\nHi P0, 20% off with code SPRING. We call from +41 •• ••• •• 00. ```\n# Not a heading @org/team #1 </details>\n````\n") {
		t.Errorf("the sample text is not in a code block its fence cannot end:\n%s", out)
	}
	// Every table row has as many cells as the header.
	var header int
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := len(regexp.MustCompile(`(^|[^\\])\|`).FindAllString(line, -1))
		if header == 0 {
			header = cells
		} else if cells != header {
			t.Errorf("a table row has %d cells, the header %d: %s", cells, header, line)
		}
	}
}

// TestWriteMarkdownBound: a plan whose Markdown would be far longer than a comment may be
// is cut to MarkdownLimit, whole campaigns at a time, and says what it left out.
func TestWriteMarkdownBound(t *testing.T) {
	files := map[string]string{}
	const n = 60
	for i := range n {
		files[fmt.Sprintf("c%02d.yaml", i)] = fmt.Sprintf("id: c%02d\nfrom: Shop\ntext: %q\ndestinations: [{to: \"+4179%07d\"}]\n",
			i, strings.Repeat("Spring sale @org/team <b>| ", 50), i)
	}
	set := load(t, files)
	p, err := runner.MakePlan(set, emptySnapshot(), now, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var warnings []campaign.Problem
	for i := range 30 {
		warnings = append(warnings, campaign.Problem{File: "c.yaml", Line: i + 1, Field: "text", Msg: strings.Repeat("w", 400)})
	}
	out := markdown(t, p, runner.MarkdownOptions{Warnings: warnings})
	if len(out) > runner.MarkdownLimit {
		t.Fatalf("%d bytes, over %d", len(out), runner.MarkdownLimit)
	}
	shown := strings.Count(out, "\n#### c")
	m := regexp.MustCompile("\\*\\*Cut to fit a comment:\\*\\* the details of (\\d+) campaigns left out\\. `smsform plan -verbose` lists every campaign and message\\.\n$").FindStringSubmatch(out)
	if m == nil || m[1] != fmt.Sprint(n-shown) || shown == 0 {
		t.Errorf("%d campaigns shown; the end does not say the other %d were left out:\n%s", shown, n-shown, out[len(out)-400:])
	}
	// The table, the warnings (the first 20, and a count) come before the details.
	if strings.Count(out, "\n| c") != n || !strings.Contains(out, "- ... and 10 more\n") {
		t.Errorf("the table does not list all %d campaigns, or the warnings are not counted", n)
	}
	outsideCode(t, out)

	// A smaller limit cuts the table too.
	small := markdown(t, p, runner.MarkdownOptions{Limit: 3000})
	if len(small) > 3000 || !regexp.MustCompile(`\*\*Cut to fit a comment:\*\* \d+ rows of the table, the details of 60 campaigns left out`).MatchString(small) {
		t.Errorf("%d bytes with a 3000-byte limit:\n%s", len(small), small)
	}
}

// TestWriteMarkdownManyCurrencies: a price list from a pull request may give each number a
// currency of its own; the cost lines are cut, and the document stays within bounds.
func TestWriteMarkdownManyCurrencies(t *testing.T) {
	const n = 3000
	var csv, prices strings.Builder
	csv.WriteString("to\n")
	prices.WriteString("prefix,price,currency\n")
	for i := range n {
		fmt.Fprintf(&csv, "+4179%07d\n", i)
		fmt.Fprintf(&prices, "+4179%07d,0.01,%c%c%c\n", i, 'A'+i/676, 'A'+i/26%26, 'A'+i%26)
	}
	dir := writeFiles(t, map[string]string{
		"c.yaml":     "id: c\nfrom: Shop\ntext: Hi\ndestinations_file: to.csv\n",
		"to.csv":     csv.String(),
		"prices.csv": prices.String(),
	})
	set, err := campaign.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := campaign.LoadPrices(dir + "/prices.csv")
	if err != nil {
		t.Fatal(err)
	}
	p, err := runner.MakePlan(set, emptySnapshot(), now, runner.PlanOptions{Prices: pr})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Cost.Totals) != n {
		t.Fatalf("%d currencies, want %d", len(p.Cost.Totals), n)
	}
	out := markdown(t, p, runner.MarkdownOptions{})
	if len(out) > 10_000 || strings.Count(out, "(cut: ") != 3 || !strings.Contains(out, "\n#### c (round 1)\n") {
		t.Errorf("%d bytes; the cost lines (summary, table, campaign) are not cut:\n%s", len(out), out)
	}
}

func TestWriteMarkdownNothingToSend(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	recs := map[state.Key]state.Record{}
	for _, r := range set.Campaigns[0].Recipients.All() {
		recs[state.Key{Campaign: "otp", Round: 1, To: r.To}] = state.Record{State: state.Sent, Hash: r.Hash}
	}
	p, err := runner.MakePlan(set, state.NewSnapshot(state.Version{}, recs), now, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "### smsform plan\n\n**Plan: 0 to send (0 SMS parts), 3 already sent.**\n\n" +
		"Nothing to send: the state already matches the campaign files.\n\n" +
		"1 campaign has every message sent, nothing to do: otp.\n\n"
	if got := markdown(t, p, runner.MarkdownOptions{}); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	empty, err := runner.MakePlan(&campaign.Set{}, emptySnapshot(), now, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := markdown(t, empty, runner.MarkdownOptions{}); !strings.HasSuffix(got, "No campaigns in the files.\n") {
		t.Errorf("an empty plan: %q", got)
	}
}

func TestWriteMarkdownFailure(t *testing.T) {
	ve := &campaign.ValidationError{Dropped: 60}
	for i := range 200 {
		ve.Problems = append(ve.Problems, campaign.Problem{File: "c/people.csv", Line: i + 2, Field: "to", Msg: fmt.Sprintf(`"079 302 67 %02d" is not a valid number for CH `, i%100) + hostile})
	}
	var buf bytes.Buffer
	if err := runner.WriteMarkdownFailure(&buf, fmt.Errorf("load: %w", ve), 0); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "### smsform plan\n\n**No plan: 260 problems in the campaign files.** Nothing can be sent until they are fixed.\n\n- c/people.csv:2: to: \"•• ••• •• 00\" is not a valid number for CH &lt;/details&gt;") ||
		!strings.HasSuffix(out, "- ... and 210 more: `smsform validate -all` lists every one\n") || strings.Count(out, "\n- c/people.csv:") != 50 {
		t.Errorf("the problems are not listed, masked and escaped, the first 50 and a count:\n%s", out)
	}
	if strings.Contains(out, "302 67") || strings.Contains(outsideCode(t, out), "<img") {
		t.Errorf("a number or HTML shows:\n%s", out)
	}

	buf.Reset()
	if err := runner.WriteMarkdownFailure(&buf, errors.New("read state st.db: no such table <b>\nfor +41793026731"), 0); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "### smsform plan\n\n**No plan:** read state st.db: no such table &lt;b&gt;\\\\nfor +41 •• ••• •• 31\n"; got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}
