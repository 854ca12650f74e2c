package runner_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state/sqlite"
)

// The report scenario's campaigns:
//   - track: 10 Swiss numbers with tracking (One_Time_Pin); 5 of them convert.
//   - plain: 2 British numbers (a mobile and a London one) and 1 Swiss, without tracking.
//   - us:    1 New York number with tracking (Promo).
//   - mixed: 3 Swiss numbers with tracking (Promo); the operator rejects one.
//   - lost:  2 Swiss numbers with tracking (One_Time_Pin), sent into 500s: outcome unknown.
var reportFiles = map[string]string{
	"track.yaml": "id: track\nfrom: InfoSMS\ntext: \"Hi {{.name}}\"\ntracking: {track: SMS, type: One_Time_Pin}\ndestinations_file: track.csv\n",
	"track.csv":  "to,name\n+41791000001,A\n+41791000002,B\n+41791000003,C\n+41791000004,D\n+41791000005,E\n+41791000006,F\n+41791000007,G\n+41791000008,H\n+41791000009,I\n+41791000010,J\n",
	"plain.yaml": "id: plain\nfrom: InfoSMS\ntext: Hello\ndestinations:\n  - to: \"+44 7911 123456\"\n  - to: \"+44 20 7946 0958\"\n  - to: \"+41 79 400 00 01\"\n",
	"us.yaml":    "id: us\nfrom: InfoSMS\ntext: Hey\ntracking: {track: SMS, type: Promo}\ndestinations:\n  - to: \"+1 212 736 5000\"\n",
	"mixed.yaml": "id: mixed\nfrom: InfoSMS\ntext: Yo\ntracking: {track: SMS, type: Promo}\ndestinations:\n  - to: \"+41 79 200 00 01\"\n  - to: \"+41 79 200 00 02\"\n  - to: \"+41 79 200 00 03\"\n",
}

const lostYAML = "id: lost\nfrom: InfoSMS\ntext: Gone\ntracking: {track: SMS, type: One_Time_Pin}\ndestinations:\n  - to: \"+41 79 300 00 01\"\n  - to: \"+41 79 300 00 02\"\n"

// reportScenario builds the state of the report scenario; with delivered, the delivery
// statuses are refreshed from the sandbox's logs too.
func reportScenario(t *testing.T, delivered bool) *sqlite.Store {
	t.Helper()
	ctx := context.Background()
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{RejectTo: []string{"41792000002"}}, nil)
	applyFiles(t, s, client, reportFiles)
	sb.SetFaults(sandbox.Faults{ErrorRate: 1})
	applyFiles(t, s, client, map[string]string{"lost.yaml": lostYAML})
	sb.SetFaults(sandbox.Faults{})

	var events strings.Builder
	events.WriteString("messageId,event\n")
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&events, "%s,signup\n", runner.MessageID("track", 1, fmt.Sprintf("+417910000%02d", i), 0))
	}
	res, err := runner.Convert(ctx, []string{eventsFile(t, "events.csv", events.String())}, s, client, runner.ConvertOptions{})
	if err != nil || res.Submitted != 5 {
		t.Fatalf("convert: %+v, %v", res, err)
	}
	if delivered {
		d, err := runner.RefreshDelivery(ctx, s, client, runner.DeliveryOptions{Limiter: rate.NewLimiter(rate.Inf, 1), Now: time.Now()})
		if err != nil || d != (runner.DeliveryResult{Checked: 16, Updated: 16}) {
			t.Fatalf("refresh: %+v, %v", d, err)
		}
	}
	return s
}

// scenarioFigures are the scenario's figures per campaign, after delivery.
func scenarioFigures() map[string]runner.Figures {
	return map[string]runner.Figures{
		"lost":  {Messages: 2, Unknown: 2},
		"mixed": {Messages: 3, Sent: 2, Delivered: 2, Failed: 1, SentTracked: 2, SmsParts: 2},
		"plain": {Messages: 3, Sent: 3, Delivered: 3, SmsParts: 3},
		"track": {Messages: 10, Sent: 10, Delivered: 10, Converted: 5, SentTracked: 10, ConversionRate: 0.5, SmsParts: 10},
		"us":    {Messages: 1, Sent: 1, Delivered: 1, SentTracked: 1, SmsParts: 1},
	}
}

var scenarioTotal = runner.Figures{Messages: 19, Sent: 16, Delivered: 16, Failed: 1, Unknown: 2, Converted: 5,
	SentTracked: 13, ConversionRate: 5.0 / 13, SmsParts: 16}

// addFigures adds b to a and works the conversion rate out again.
func addFigures(a, b runner.Figures) runner.Figures {
	a.Messages += b.Messages
	a.Sent += b.Sent
	a.Delivered += b.Delivered
	a.Undelivered += b.Undelivered
	a.Expired += b.Expired
	a.Failed += b.Failed
	a.Unknown += b.Unknown
	a.Converted += b.Converted
	a.SentTracked += b.SentTracked
	a.SmsParts += b.SmsParts
	a.ConversionRate = 0
	if a.SentTracked > 0 {
		a.ConversionRate = float64(a.Converted) / float64(a.SentTracked)
	}
	return a
}

func buildReport(t *testing.T, s *sqlite.Store, campaign, by string) *runner.Report {
	t.Helper()
	rep, err := runner.BuildReport(context.Background(), s, campaign, by)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestBuildReport(t *testing.T) {
	day := time.Now().UTC().Format(time.DateOnly)
	s := reportScenario(t, true)
	if time.Now().UTC().Format(time.DateOnly) != day {
		t.Skip("the day changed while the scenario ran")
	}
	want := scenarioFigures()
	ids := []string{"lost", "mixed", "plain", "track", "us"}

	rep := buildReport(t, s, "", "")
	if rep.By != "" || len(rep.Campaigns) != len(ids) {
		t.Fatalf("report %+v", rep)
	}
	for i, c := range rep.Campaigns {
		if c.ID != ids[i] || c.Round != 1 || c.Figures != want[c.ID] || len(c.Groups) != 0 {
			t.Errorf("campaign %d: %+v\nwant %s %+v", i, c, ids[i], want[ids[i]])
		}
	}
	if rep.Total != scenarioTotal {
		t.Errorf("total %+v\nwant  %+v", rep.Total, scenarioTotal)
	}
	if r := rep.Campaigns[3].Rate(); r != "50.0%" {
		t.Errorf("track rate %q", r)
	}
	for _, i := range []int{0, 2} { // lost and plain: nothing sent with tracking
		if c := rep.Campaigns[i]; c.SentTracked != 0 || c.ConversionRate != 0 || c.Rate() != "-" {
			t.Errorf("%s: sent with tracking %d, rate %v %q", c.ID, c.SentTracked, c.ConversionRate, c.Rate())
		}
	}
	if r := rep.Total.Rate(); r != "38.5%" {
		t.Errorf("total rate %q", r)
	}

	// The JSON shape of `report -json`.
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Campaigns []map[string]any `json:"campaigns"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "round", "messages", "sent", "delivered", "failed", "unknown", "converted", "conversion_rate"} {
		if _, ok := doc.Campaigns[3][k]; !ok {
			t.Errorf("report JSON lacks %q: %s", k, data)
		}
	}
	if doc.Campaigns[3]["conversion_rate"] != 0.5 || doc.Campaigns[3]["id"] != "track" {
		t.Errorf("track in JSON: %v", doc.Campaigns[3])
	}

	one := buildReport(t, s, "track", "")
	if len(one.Campaigns) != 1 || one.Campaigns[0].ID != "track" || one.Total != want["track"] {
		t.Errorf("report of one campaign: %+v", one)
	}
	if none := buildReport(t, s, "nosuch", ""); len(none.Campaigns) != 0 || none.Total != (runner.Figures{}) {
		t.Errorf("report of an unknown campaign: %+v", none)
	}

	groups := func(by string) map[string][]runner.ReportGroup {
		t.Helper()
		rep := buildReport(t, s, "", by)
		if rep.By != by || rep.Total != scenarioTotal {
			t.Errorf("-by %s: by %q, total %+v", by, rep.By, rep.Total)
		}
		out := map[string][]runner.ReportGroup{}
		for i, c := range rep.Campaigns {
			if c.ID != ids[i] || c.Figures != want[c.ID] {
				t.Errorf("-by %s: campaign %+v", by, c)
			}
			var sum runner.Figures
			for _, g := range c.Groups {
				sum = addFigures(sum, g.Figures)
			}
			if sum != c.Figures {
				t.Errorf("-by %s: %s's groups add up to %+v, not %+v", by, c.ID, sum, c.Figures)
			}
			out[c.ID] = c.Groups
		}
		return out
	}
	one1 := func(g string, f runner.Figures) []runner.ReportGroup {
		return []runner.ReportGroup{{Group: g, Figures: f}}
	}

	byDay := groups(runner.ByDay)
	for _, id := range ids {
		if g := byDay[id]; !slices.Equal(g, one1(day, want[id])) {
			t.Errorf("-by day, %s: %+v", id, g)
		}
	}

	byType := groups(runner.ByType)
	for id, typ := range map[string]string{"lost": "One_Time_Pin", "mixed": "Promo", "plain": "(no tracking)", "track": "One_Time_Pin", "us": "Promo"} {
		if g := byType[id]; !slices.Equal(g, one1(typ, want[id])) {
			t.Errorf("-by type, %s: %+v, want %s", id, g, typ)
		}
	}

	byCountry := groups(runner.ByCountry)
	for id, country := range map[string]string{"lost": "CH", "mixed": "CH", "track": "CH", "us": "US"} {
		if g := byCountry[id]; !slices.Equal(g, one1(country, want[id])) {
			t.Errorf("-by country, %s: %+v, want %s", id, g, country)
		}
	}
	// +4479 and +4420 are one country. Its name is checked by TestReportCountryOfUK.
	gb := "GB"
	if g := byCountry["plain"]; len(g) == 2 && strings.HasPrefix(g[1].Group, "GB") {
		gb = g[1].Group
	}
	wantPlain := []runner.ReportGroup{
		{Group: "CH", Figures: runner.Figures{Messages: 1, Sent: 1, Delivered: 1, SmsParts: 1}},
		{Group: gb, Figures: runner.Figures{Messages: 2, Sent: 2, Delivered: 2, SmsParts: 2}},
	}
	if g := byCountry["plain"]; !slices.Equal(g, wantPlain) {
		t.Errorf("-by country, plain: %+v\nwant %+v", g, wantPlain)
	}

	if _, err := runner.BuildReport(context.Background(), s, "", "week"); err == nil || !strings.Contains(err.Error(), "week") {
		t.Errorf("-by week: %v", err)
	}
}

func TestBuildReportBeforeDelivery(t *testing.T) {
	s := reportScenario(t, false)
	rep := buildReport(t, s, "", "")
	total := scenarioTotal
	total.Delivered = 0
	if rep.Total != total {
		t.Errorf("total %+v\nwant  %+v", rep.Total, total)
	}
}

func TestBuildReportEmptyState(t *testing.T) {
	rep := buildReport(t, openStore(t), "", "")
	if len(rep.Campaigns) != 0 || rep.Total != (runner.Figures{}) || rep.Total.Rate() != "-" {
		t.Errorf("report %+v", rep)
	}
	data, _ := json.Marshal(rep)
	if !strings.Contains(string(data), `"campaigns":[]`) {
		t.Errorf("JSON %s: campaigns should be an empty list, not null", data)
	}
	var text, csvOut, html bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Error(err)
	}
	if err := rep.WriteCSV(&csvOut); err != nil {
		t.Error(err)
	}
	if recs, err := csv.NewReader(&csvOut).ReadAll(); err != nil || len(recs) != 1 {
		t.Errorf("CSV of nothing: %v, %v", recs, err)
	}
	if err := rep.WriteHTML(&html, rep, time.Now()); err != nil {
		t.Error(err)
	}
	for _, want := range []string{"No campaign recorded yet.", "Nothing sent yet.", `id="total-rate">-<`} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("HTML of nothing lacks %q", want)
		}
	}
}

func TestReportCountryOfSharedCode(t *testing.T) {
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{
		"us.yaml": "id: us\nfrom: InfoSMS\ntext: Hey\ndestinations:\n  - to: \"+1 212 736 5000\"\n  - to: \"+1 416 555 0199\"\n  - to: \"+1 787 555 0123\"\n  - to: \"+7 912 345 6789\"\n  - to: \"+7 701 234 5678\"\n  - to: \"+33 6 12 34 56 78\"\n",
	})
	rep := buildReport(t, s, "", runner.ByCountry)
	var got []string
	for _, g := range rep.Campaigns[0].Groups {
		got = append(got, fmt.Sprintf("%s=%d", g.Group, g.Messages))
	}
	// +1 is shared by the US, Canada and Puerto Rico, +7 by Russia and Kazakhstan: the area
	// code tells them apart.
	if want := []string{"CA=1", "FR=1", "KZ=1", "PR=1", "RU=1", "US=1"}; !slices.Equal(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}
}

func TestReportCountryOfUK(t *testing.T) {
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{
		"uk.yaml": "id: uk\nfrom: InfoSMS\ntext: Hey\ndestinations:\n  - to: \"+44 7911 123456\"\n  - to: \"+44 20 7946 0958\"\n  - to: \"+39 312 345 6789\"\n",
	})
	rep := buildReport(t, s, "", runner.ByCountry)
	var got []string
	for _, g := range rep.Campaigns[0].Groups {
		got = append(got, fmt.Sprintf("%s=%d", g.Group, g.Messages))
	}
	if want := []string{"GB=2", "IT=1"}; !slices.Equal(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}
}

func TestReportWriteText(t *testing.T) {
	s := reportScenario(t, true)
	var b bytes.Buffer
	if err := buildReport(t, s, "", "").WriteText(&b); err != nil {
		t.Fatal(err)
	}
	var lines [][]string
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		lines = append(lines, strings.Fields(l))
	}
	want := [][]string{
		{"CAMPAIGN", "ROUND", "MESSAGES", "SENT", "DELIVERED", "PENDING", "UNDELIVERED", "EXPIRED", "FAILED", "UNKNOWN", "CONVERTED", "RATE", "PARTS"},
		{"lost", "1", "2", "0", "0", "0", "0", "0", "0", "2", "0", "-", "0"},
		{"mixed", "1", "3", "2", "2", "0", "0", "0", "1", "0", "0", "0.0%", "2"},
		{"plain", "1", "3", "3", "3", "0", "0", "0", "0", "0", "0", "-", "3"},
		{"track", "1", "10", "10", "10", "0", "0", "0", "0", "0", "5", "50.0%", "10"},
		{"us", "1", "1", "1", "1", "0", "0", "0", "0", "0", "0", "0.0%", "1"},
		{"total", "19", "16", "16", "0", "0", "0", "1", "2", "5", "38.5%", "16"},
	}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Errorf("text report:\n%s\nwant rows %v", b.String(), want)
	}

	b.Reset()
	if err := buildReport(t, s, "plain", runner.ByCountry).WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"COUNTRY", "plain", "CH", "GB", "total"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report by country lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 4 {
		t.Errorf("text report by country has %d lines, want header, 2 groups, total:\n%s", n, out)
	}

	b.Reset()
	if err := buildReport(t, s, "track", "").WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != 2 || strings.Contains(b.String(), "total") {
		t.Errorf("one campaign: want a header and one row, no total:\n%s", b.String())
	}
}

func TestReportWriteTextPending(t *testing.T) {
	s := reportScenario(t, false) // not refreshed: every sent message is pending
	var b bytes.Buffer
	if err := buildReport(t, s, "", "").WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "\n16 sent messages have no delivery status yet (PENDING): run `smsform refresh` to read it from Infobip's logs.\n") {
		t.Errorf("text report lacks the refresh hint:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^ +track +1 +10 +10 +0 +10 +0 `).MatchString(out) {
		t.Errorf("track: want 10 sent, 0 delivered, 10 pending:\n%s", out)
	}
}

func TestReportWriteCSV(t *testing.T) {
	s := reportScenario(t, true)
	read := func(rep *runner.Report) [][]string {
		t.Helper()
		var b bytes.Buffer
		if err := rep.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatalf("CSV does not parse: %v\n%s", err, b.String())
		}
		return recs
	}
	head := []string{"messages", "sent", "delivered", "undelivered", "expired", "failed", "unknown", "converted", "sent_with_tracking", "conversion_rate", "sms_parts"}
	got := read(buildReport(t, s, "", ""))
	want := [][]string{
		append([]string{"campaign", "round"}, head...),
		{"lost", "1", "2", "0", "0", "0", "0", "0", "2", "0", "0", "0.0000", "0"},
		{"mixed", "1", "3", "2", "2", "0", "0", "1", "0", "0", "2", "0.0000", "2"},
		{"plain", "1", "3", "3", "3", "0", "0", "0", "0", "0", "0", "0.0000", "3"},
		{"track", "1", "10", "10", "10", "0", "0", "0", "0", "5", "10", "0.5000", "10"},
		{"us", "1", "1", "1", "1", "0", "0", "0", "0", "0", "1", "0.0000", "1"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("CSV\n%v\nwant\n%v", got, want)
	}

	byCountry := buildReport(t, s, "", runner.ByCountry)
	gb := byCountry.Campaigns[2].Groups[1].Group // see TestReportCountryOfUK
	got = read(byCountry)
	want = [][]string{
		append([]string{"campaign", "round", "country"}, head...),
		{"lost", "1", "CH", "2", "0", "0", "0", "0", "0", "2", "0", "0", "0.0000", "0"},
		{"mixed", "1", "CH", "3", "2", "2", "0", "0", "1", "0", "0", "2", "0.0000", "2"},
		{"plain", "1", "CH", "1", "1", "1", "0", "0", "0", "0", "0", "0", "0.0000", "1"},
		{"plain", "1", gb, "2", "2", "2", "0", "0", "0", "0", "0", "0", "0.0000", "2"},
		{"track", "1", "CH", "10", "10", "10", "0", "0", "0", "0", "5", "10", "0.5000", "10"},
		{"us", "1", "US", "1", "1", "1", "0", "0", "0", "0", "0", "1", "0.0000", "1"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("CSV by country\n%v\nwant\n%v", got, want)
	}

	// Cells a spreadsheet would run are escaped.
	hand := &runner.Report{By: runner.ByType, Campaigns: []runner.ReportCampaign{{ID: "=HYPERLINK(1)", Round: 1,
		Groups: []runner.ReportGroup{{Group: "@SUM(A1)"}, {Group: "plain"}}}}}
	got = read(hand)
	if len(got) != 3 || got[1][0] != "'=HYPERLINK(1)" || got[1][2] != "'@SUM(A1)" || got[2][2] != "plain" {
		t.Errorf("CSV of hostile cells %v", got)
	}
}

func TestReportSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1":  "'=1+1",
		"+41":   "'+41",
		"-x":    "'-x",
		"@x":    "'@x",
		"\tx":   "'\tx",
		"\rx":   "'\rx",
		"plain": "plain",
		"":      "",
		"a=b":   "a=b",
		"41":    "41",
		" =x":   " =x",
	} {
		if got := runner.SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// writeHTML writes the HTML page of rep, with daily for its second chart.
func writeHTML(t *testing.T, rep, daily *runner.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := rep.WriteHTML(&b, daily, time.Date(2026, 6, 1, 14, 30, 0, 0, time.FixedZone("CEST", 2*3600))); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestReportWriteHTML(t *testing.T) {
	s := reportScenario(t, true)
	out := writeHTML(t, buildReport(t, s, "", ""), buildReport(t, s, "", runner.ByDay))
	for _, want := range []string{
		"<!DOCTYPE html>",
		"Generated 2026-06-01 12:30 UTC",
		`data-by="">View: per campaign<`,
		`id="total-sent">16<`,
		`id="total-delivered">16<`,
		`id="total-pending">0<`,
		`id="total-converted">5<`,
		`id="total-rate">38.5%<`,
		// Messages, sent, delivered, pending, undelivered, expired, failed, unknown, converted.
		`<tr class="campaign" data-id="track" data-round="1"><td>track</td><td>1</td><td>10</td><td>10</td><td>10</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>5</td><td class="rate">50.0%</td><td>10</td></tr>`,
		`<tr class="campaign" data-id="plain" data-round="1"><td>plain</td><td>1</td><td>3</td>`,
		`<td class="rate">-</td>`,
		`<tr class="campaign" data-id="lost" data-round="1">`,
		`<tr class="campaign" data-id="mixed" data-round="1">`,
		`<tr class="campaign" data-id="us" data-round="1">`,
		"<h2>Conversion rate per campaign</h2>",
		"<h2>Conversion rate by day sent</h2>",
		`title="track (round 1)">track<`,
		// 50% is the best rate: the scale is 0-60%, with gridlines every 20%.
		`<strong>50.0%</strong> <span class="of">(5 of 10)</span>`,
		`style="width: 83.3%"`,
		`<span class="last" style="left: 100.00%">60%</span>`,
		`<span class="gridline" style="left: 33.33%"></span>`,
		// 0% draws no bar, but says 0%.
		`<strong>0%</strong> <span class="of">(0 of 2)</span>`,
		`<strong>0%</strong> <span class="of">(0 of 1)</span>`,
		// Campaigns without tracked sends are there, with a word instead of a bar.
		`title="plain (round 1)">plain</div><div class="note">no conversion tracking</div>`,
		`title="lost (round 1)">lost</div><div class="note">nothing sent yet</div>`,
		`<strong>38.5%</strong> <span class="of">(5 of 13)</span>`, // the one day
		"5 of 13 sent with tracking",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if n := strings.Count(out, `<tr class="campaign"`); n != 5 {
		t.Errorf("%d campaign rows, want 5", n)
	}
	if n := strings.Count(out, `<div class="fill"`); n != 2 {
		t.Errorf("%d bars drawn, want 2 (track and the day): 0%% draws none", n)
	}
	if strings.Contains(out, "pending-hint") {
		t.Error("HTML asks for a refresh although every message has a delivery status")
	}
	// Self-contained: nothing loaded from elsewhere.
	for _, absent := range []string{"src=", "href=", "http://", "https://", "@import", "url("} {
		if strings.Contains(out, absent) {
			t.Errorf("HTML refers to %q", absent)
		}
	}
}

func TestReportWriteHTMLPending(t *testing.T) {
	s := reportScenario(t, false) // not refreshed: every sent message is pending
	out := writeHTML(t, buildReport(t, s, "", ""), buildReport(t, s, "", runner.ByDay))
	for _, want := range []string{
		`id="total-pending">16<`,
		`<strong>16 sent messages have no delivery status yet</strong>`,
		"run <code>smsform refresh</code>",
		`<tr class="campaign" data-id="track" data-round="1"><td>track</td><td>1</td><td>10</td><td>10</td><td>0</td><td>10</td>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

func TestReportWriteHTMLViews(t *testing.T) {
	s := reportScenario(t, true)
	pages := map[string]string{"": writeHTML(t, buildReport(t, s, "", ""), buildReport(t, s, "", runner.ByDay))}
	for _, by := range []string{runner.ByDay, runner.ByCountry, runner.ByType} {
		pages[by] = writeHTML(t, buildReport(t, s, "", by), nil)
	}
	for by, want := range map[string][]string{
		runner.ByDay:     {`data-by="day">View: by day sent<`, "<h2>Conversion rate by day sent</h2>", "<th>Campaign / day sent</th>", `<tr class="group" data-id="track"><td>` + time.Now().UTC().Format(time.DateOnly) + `</td><td></td><td>10</td>`},
		runner.ByCountry: {`data-by="country">View: by country<`, "<h2>Conversion rate by country</h2>", "<th>Campaign / country</th>", `<tr class="group" data-id="plain"><td>GB</td><td></td><td>2</td>`, `title="US">US</div><div class="track">`},
		runner.ByType:    {`data-by="type">View: by tracking type<`, "<h2>Conversion rate by tracking type</h2>", `title="(no tracking)">(no tracking)</div><div class="note">no conversion tracking</div>`, `title="Promo">Promo</div>`},
	} {
		for _, w := range want {
			if !strings.Contains(pages[by], w) {
				t.Errorf("-by %s: HTML lacks %q", by, w)
			}
		}
	}
	for a, pa := range pages {
		for b, pb := range pages {
			if a < b && pa == pb {
				t.Errorf("-by %q and -by %q write the same page", a, b)
			}
		}
	}
}

func TestReportWriteHTMLScale(t *testing.T) {
	// 7.5% and 8.8% on a 0-10% scale: bars of 75% and 88% of the width, gridlines at 2.5%.
	a := runner.Figures{Messages: 400, Sent: 400, Delivered: 400, SentTracked: 400, Converted: 30, ConversionRate: 0.075}
	b := runner.Figures{Messages: 2960, Sent: 2960, Delivered: 2960, SentTracked: 2960, Converted: 260, ConversionRate: 260.0 / 2960}
	total := addFigures(a, b)
	rep := &runner.Report{Campaigns: []runner.ReportCampaign{{ID: "a", Round: 1, Figures: a}, {ID: "b", Round: 2, Figures: b}}, Total: total}
	daily := &runner.Report{By: runner.ByDay, Campaigns: []runner.ReportCampaign{
		{ID: "a", Round: 1, Figures: a, Groups: []runner.ReportGroup{{Group: "2026-06-01", Figures: a}}},
		{ID: "b", Round: 2, Figures: b, Groups: []runner.ReportGroup{{Group: "2026-06-01", Figures: b}}},
	}}
	out := writeHTML(t, rep, daily)
	for _, want := range []string{
		`<span class="first" style="left: 0.00%">0%</span><span class="minor" style="left: 25.00%">2.5%</span><span class="" style="left: 50.00%">5%</span><span class="minor" style="left: 75.00%">7.5%</span><span class="last" style="left: 100.00%">10%</span>`,
		`style="width: 75.0%"`, `style="width: 87.8%"`,
		`<strong>7.5%</strong> <span class="of">(30 of 400)</span>`,
		`<strong>8.8%</strong> <span class="of">(260 of 2,960)</span>`,
		`title="b (round 2)">b (round 2)<`, // a round other than 1 is named
		`id="total-sent">3,360<`,           // thousands separated
		`<td>3,360</td>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if n := strings.Count(out, `title="2026-06-01"`); n != 1 {
		t.Errorf("the day has %d bars, want one for both campaigns", n)
	}
}

func TestReportWriteHTMLTinyRates(t *testing.T) {
	// One conversion in 100,000 is not 0%: it gets a bar on a scale that fits it.
	f := runner.Figures{Messages: 100000, Sent: 100000, SentTracked: 100000, Converted: 1, ConversionRate: 1e-5}
	rep := &runner.Report{Campaigns: []runner.ReportCampaign{{ID: "a", Round: 1, Figures: f}}, Total: f}
	out := writeHTML(t, rep, nil)
	for _, want := range []string{`<strong>0.001%</strong> <span class="of">(1 of 100,000)</span>`, `style="width: 100.0%"`, `>0.001%</span>`} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12345: "12,345", 200000: "200,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := runner.Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestReportWriteHTMLEscapes(t *testing.T) {
	f := runner.Figures{Messages: 1, Sent: 1, SentTracked: 1, Converted: 1, ConversionRate: 1}
	rep := &runner.Report{Campaigns: []runner.ReportCampaign{{ID: `<b>x</b>" onmouseover="y`, Round: 1, Figures: f}}, Total: f}
	daily := &runner.Report{By: runner.ByDay, Campaigns: []runner.ReportCampaign{{ID: "c", Round: 1, Figures: f,
		Groups: []runner.ReportGroup{{Group: "<i>d</i>", Figures: f}}}}}
	var b bytes.Buffer
	if err := rep.WriteHTML(&b, daily, time.Now()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"<b>", "<i>", `" onmouseover="y`} {
		if strings.Contains(out, bad) {
			t.Errorf("HTML holds %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;b&gt;x&lt;/b&gt;", "&lt;i&gt;d&lt;/i&gt;", `<strong>100.0%</strong> <span class="of">(1 of 1)</span>`} {
		if !strings.Contains(out, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}
