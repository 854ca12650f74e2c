package runner_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// testdata is where the golden files are, found before any test changes directory.
var testdata = must(filepath.Abs("testdata"))

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(testdata, name)
	if *update {
		if err := os.MkdirAll(testdata, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// viewFixture is a plan with every action, a long campaign, orphans, a campaign with nothing
// to do and one scheduled with send_at.
func viewFixture(t *testing.T) *runner.Plan {
	t.Helper()
	var promoCSV strings.Builder
	promoCSV.WriteString("to,first_name\n")
	for i := range 9 {
		fmt.Fprintf(&promoCSV, "+4478000%05d,P%d\n", i, i)
	}
	set := load(t, map[string]string{
		"otp.yaml": otpYAML,
		"promo/promo.yaml": `id: promo
from: ShopCo
text: "Hi {{.first_name}}, 20% off with code SPRING. Reply STOP to opt out."
destinations_file: recipients.csv
`,
		"promo/recipients.csv": promoCSV.String(),
		"more.yaml": `id: done
from: InfoSMS
text: "All done, {{.name}} <3 & \"quotes\""
destinations:
  - to: "+41790000001"
    vars: {name: Ann}
---
id: later
from: "41790000000"
text: "Reminder: your appointment is tomorrow."
send_at: 2026-07-01T09:00:00Z
round: 2
destinations:
  - to: "+41790000009"
`,
	})
	recs := fixtureRecords(set, "REJECTED_DESTINATION: Invalid destination address")
	p, err := runner.MakePlan(set, state.NewSnapshot(state.Version{Lineage: "l", Serial: 5}, recs), now, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fixtureRecords is the state of viewFixture's campaigns (and markdownFixture's): otp's
// recipients sent, failed (with failure) and unknown; promo's fourth changed since sent, its
// fifth sent, and seven numbers no longer in the files; done sent.
func fixtureRecords(set *campaign.Set, failure string) map[state.Key]state.Record {
	recs := map[state.Key]state.Record{}
	put := func(c string, round int, to string, r state.Record) {
		recs[state.Key{Campaign: c, Round: round, To: to}] = r
	}
	otp := set.Find("otp")
	put("otp", 1, otp.Recipients.At(0).To, state.Record{State: state.Sent, Hash: otp.Recipients.At(0).Hash})
	put("otp", 1, otp.Recipients.At(1).To, state.Record{State: state.Failed, Hash: otp.Recipients.At(1).Hash, Error: failure})
	put("otp", 1, otp.Recipients.At(2).To, state.Record{State: state.Unknown, Hash: otp.Recipients.At(2).Hash})
	promo := set.Find("promo")
	put("promo", 1, promo.Recipients.At(3).To, state.Record{State: state.Sent, Hash: promo.Recipients.At(3).Hash ^ 1})
	put("promo", 1, promo.Recipients.At(4).To, state.Record{State: state.Sent, Hash: promo.Recipients.At(4).Hash})
	for i := range 7 {
		put("promo", 1, fmt.Sprintf("+4478001%05d", i), state.Record{State: state.Sent})
	}
	done := set.Find("done")
	put("done", 1, done.Recipients.At(0).To, state.Record{State: state.Sent, Hash: done.Recipients.At(0).Hash})
	return recs
}

func TestWriteText(t *testing.T) {
	p := viewFixture(t)
	var buf bytes.Buffer
	if err := p.WriteText(&buf, runner.ViewOptions{Shown: runner.DefaultShown}); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.txt.golden", buf.Bytes())

	out := buf.String()
	if first, _, _ := strings.Cut(out, "\n"); first != p.SummaryLine() || !strings.HasPrefix(first, "Plan: 8 to send (8 SMS parts), 3 already sent") {
		t.Errorf("first line %q, want the summary line", first)
	}
	if strings.Contains(out, `campaign "done"`) {
		t.Error("a campaign with nothing but no-ops is listed")
	}
	// promo has 9 lines to show (7 to send, 1 changed, 0 noop shown) and 7 orphans.
	promo := out[strings.Index(out, `campaign "promo"`):]
	if n := strings.Count(promo, "\n  + ") + strings.Count(promo, "\n  ~ "); n != runner.DefaultShown {
		t.Errorf("promo lists %d messages, want DefaultShown %d:\n%s", n, runner.DefaultShown, promo)
	}
	if !strings.Contains(promo, "... and 3 more") || !strings.Contains(promo, "... and 2 more no longer in the files") {
		t.Errorf("promo is not cut with '... and N more':\n%s", promo)
	}
}

func TestWriteTextVerbose(t *testing.T) {
	p := viewFixture(t)
	var buf bytes.Buffer
	if err := p.WriteText(&buf, runner.ViewOptions{Shown: -1}); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan_verbose.txt.golden", buf.Bytes())
	if strings.Contains(buf.String(), "... and") {
		t.Error("the verbose view cuts something")
	}
}

func TestWriteTextNothingToSend(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	recs := map[state.Key]state.Record{}
	for _, r := range set.Campaigns[0].Recipients.All() {
		recs[state.Key{Campaign: "otp", Round: 1, To: r.To}] = state.Record{State: state.Sent, Hash: r.Hash}
	}
	p, err := runner.MakePlan(set, state.NewSnapshot(state.Version{}, recs), now, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.WriteText(&buf, runner.ViewOptions{Shown: runner.DefaultShown}); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan_nothing.txt.golden", buf.Bytes())
}

func TestWriteJSON(t *testing.T) {
	p := viewFixture(t)
	var buf bytes.Buffer
	if err := p.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.json.golden", buf.Bytes())

	var doc struct {
		FormatVersion string                     `json:"format_version"`
		Summary       map[string]json.RawMessage `json:"summary"`
		Campaigns     []struct {
			ID       string            `json:"id"`
			Round    int               `json:"round"`
			Purpose  string            `json:"purpose"`
			Labels   map[string]string `json:"labels"`
			Counts   runner.Counts     `json:"counts"`
			Orphaned []string          `json:"orphaned"`
			Messages []struct {
				Action    string `json:"action"`
				To        string `json:"to"`
				Text      string `json:"text"`
				Parts     int    `json:"parts"`
				MessageID string `json:"message_id"`
				Error     string `json:"error"`
			} `json:"messages"`
		} `json:"campaigns"`
	}
	var generic map[string]any
	if err := json.Unmarshal(buf.Bytes(), &generic); err != nil {
		t.Fatalf("the JSON view does not parse: %v\n%s", err, buf.Bytes())
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.FormatVersion != "1.3" {
		t.Errorf("format_version %q", doc.FormatVersion)
	}
	for _, k := range []string{"send", "noop", "changed", "unknown", "failed", "orphaned", "sms_parts"} {
		if _, ok := doc.Summary[k]; !ok {
			t.Errorf("summary has no %q: %v", k, doc.Summary)
		}
	}
	var sum runner.Counts
	if err := json.Unmarshal(must(json.Marshal(generic["summary"])), &sum); err != nil || sum != p.Summary {
		t.Errorf("summary %+v, want %+v (%v)", sum, p.Summary, err)
	}
	if len(doc.Campaigns) != len(p.Campaigns) {
		t.Fatalf("%d campaigns, want %d", len(doc.Campaigns), len(p.Campaigns))
	}
	for i, jc := range doc.Campaigns {
		cp := p.Campaigns[i]
		if jc.ID != cp.Campaign.ID || jc.Round != cp.Campaign.Round || len(jc.Messages) != len(cp.Messages) || len(jc.Orphaned) != len(cp.Orphaned) {
			t.Errorf("campaign %d: %s/%d with %d messages, want %s/%d with %d", i, jc.ID, jc.Round, len(jc.Messages), cp.Campaign.ID, cp.Campaign.Round, len(cp.Messages))
			continue
		}
		if jc.Counts != cp.Counts || jc.Purpose != "marketing" || jc.Labels == nil {
			t.Errorf("campaign %s: counts %+v, purpose %q, labels %v; want counts %+v, marketing, {}", jc.ID, jc.Counts, jc.Purpose, jc.Labels, cp.Counts)
		}
		r := cp.Campaign.NewRenderer()
		for j, jm := range jc.Messages {
			m := cp.Messages[j]
			rec := cp.Recipient(m)
			text, _ := r.Render(rec)
			if jm.Action != m.Action.String() || jm.To != rec.To || jm.Text != text || jm.Parts != int(rec.Parts) ||
				jm.MessageID != cp.MessageID(m) || jm.Error != cp.Errors[m.Recipient] {
				t.Errorf("%s message %d: %+v", jc.ID, j, jm)
			}
		}
	}
	// Actions read as the spec names them.
	seen := map[string]bool{}
	for _, c := range doc.Campaigns {
		for _, m := range c.Messages {
			seen[m.Action] = true
		}
	}
	for _, a := range []string{"send", "noop", "changed", "unknown", "failed"} {
		if !seen[a] {
			t.Errorf("no message with action %q in the fixture's JSON", a)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestWriteJSONEmptyPlan(t *testing.T) {
	p, err := runner.MakePlan(&campaign.Set{}, emptySnapshot(), now, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if cs, ok := doc["campaigns"].([]any); !ok || len(cs) != 0 {
		t.Errorf("campaigns = %#v, want []", doc["campaigns"])
	}
}

func TestSummaryLine(t *testing.T) {
	tests := []struct {
		c    runner.Counts
		want string
	}{
		{runner.Counts{}, "Plan: 0 to send (0 SMS parts)."},
		{runner.Counts{Send: 1, SmsParts: 1}, "Plan: 1 to send (1 SMS part)."},
		{runner.Counts{Send: 3, SmsParts: 4, Noop: 2, Changed: 1}, "Plan: 3 to send (4 SMS parts), 2 already sent, 1 changed after send (not resent)."},
		{runner.Counts{Unknown: 1, Failed: 2, Orphaned: 3}, "Plan: 0 to send (0 SMS parts), 1 with unknown outcome (not resent), 2 failed (not resent without -retry-failed), 3 recorded but no longer in the files."},
	}
	for _, tt := range tests {
		p := &runner.Plan{Summary: tt.c}
		if got := p.SummaryLine(); got != tt.want {
			t.Errorf("SummaryLine(%+v) =\n%q\nwant\n%q", tt.c, got, tt.want)
		}
	}
}
