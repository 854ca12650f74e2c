package campaign_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/smsform/smsform/campaign"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw, region string
		want        string // E.164, or "" when a problem is expected
		problem     string // substring of the problem
	}{
		{"+41 79 302 67 31", "", "+41793026731", ""},
		{"+41 79 302 67 31", "CH", "+41793026731", ""},
		{"+41 79 302 67 31", "GB", "+41793026731", ""}, // the written country code wins
		{"079 302 67 31", "CH", "+41793026731", ""},
		{"0793026731", "CH", "+41793026731", ""},
		{"0041 79 302 67 31", "CH", "+41793026731", ""},
		{"  +41793026731\t", "", "+41793026731", ""},
		{"+41-79-302-67-31", "", "+41793026731", ""},
		{"(079) 302 67 31", "CH", "+41793026731", ""},
		{"07911 123456", "GB", "+447911123456", ""},
		{"+44 7911 123456", "", "+447911123456", ""},
		{"+1 650-253-0000", "", "+16502530000", ""},
		{"030 1234567", "DE", "+49301234567", ""},
		{"", "CH", "", "is required"},
		{"   ", "", "", "is required"},
		{"079 302 67 31", "", "", `"079 302 67 31" has no country code`},
		{"079 302", "CH", "", `"079 302" is not a valid number for CH`},
		{"+41 12 34", "", "", `"+41 12 34" is not a valid number`},
		{"12345", "CH", "", "is not a valid number for CH"},
		{"+1 555 0100", "CH", "", `"+1 555 0100" is not a valid number for country code +1`},
		{"0044 7911 12", "CH", "", `"0044 7911 12" is not a valid number for country code +44`},
		{"+41 12 34", "CH", "", `"+41 12 34" is not a valid number for CH`},
		{"hello", "CH", "", `"hello" is not a phone number`},
		{"+", "", "", "is not a phone number"},
	} {
		got, problem := campaign.Normalize(tc.raw, tc.region)
		if got != tc.want || (tc.problem == "") != (problem == "") || !strings.Contains(problem, tc.problem) {
			t.Errorf("Normalize(%q, %q) = %q, %q; want %q, ...%s...", tc.raw, tc.region, got, problem, tc.want, tc.problem)
		}
	}
}

// TestRecipients checks what loading makes of inline and CSV destinations: E.164
// numbers, vars, lines, SMS parts, in file order.
func TestRecipients(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"otp/otp.yaml": lines(
			`id: otp`,                            // 1
			`from: InfoSMS`,                      // 2
			`text: "Hi {{.name}}, PIN {{.pin}}"`, // 3
			`default_region: CH`,                 // 4
			`destinations:`,                      // 5
			`  - to: "+41 79 302 67 31"`,         // 6
			`    vars: {pin: "1a2B3c", name: Ann}`,
			`  - to: "079 302 67 32"`, // 8
			`    vars: {name: Chloé, pin: "7Hq9Zx"}`,
			`destinations_file: data/r.csv`,
		),
		"otp/data/r.csv": lines(
			`pin,to,name`,
			`111,079 302 67 40,`+strings.Repeat("Zoë", 50), // UCS-2, 3 parts
			`222,+41 79 302 67 33,Dan`,
			`333,"+41 79 302 67 34",`+strings.Repeat("x", 160), // GSM-7, 2 parts
		),
	})
	c := mustLoad(t, dir).Find("otp")
	yamlFile, csvFile := filepath.Join(dir, "otp", "otp.yaml"), filepath.Join(dir, "otp", "data", "r.csv")
	if c.File != yamlFile || c.CSVFile != csvFile {
		t.Errorf("File, CSVFile = %s, %s", c.File, c.CSVFile)
	}
	type rec struct {
		to, pos string
		vars    map[string]string
		parts   int32
		fromCSV bool
	}
	want := []rec{
		{"+41793026731", yamlFile + ":6", map[string]string{"name": "Ann", "pin": "1a2B3c"}, 1, false},
		{"+41793026732", yamlFile + ":8", map[string]string{"name": "Chloé", "pin": "7Hq9Zx"}, 1, false},
		{"+41793026740", csvFile + ":2", map[string]string{"name": strings.Repeat("Zoë", 50), "pin": "111"}, 3, true},
		{"+41793026733", csvFile + ":3", map[string]string{"name": "Dan", "pin": "222"}, 1, true},
		{"+41793026734", csvFile + ":4", map[string]string{"name": strings.Repeat("x", 160), "pin": "333"}, 2, true},
	}
	if c.Recipients.Len() != len(want) {
		t.Fatalf("%d recipients, want %d: %+v", c.Recipients.Len(), len(want), c.Recipients)
	}
	r := c.NewRenderer()
	for i, w := range want {
		got := c.Recipients.At(i)
		vars := got.Vars.Map(map[string]string{"stale": "x"})
		text, err := r.Render(got)
		if err != nil {
			t.Fatalf("Render(%s): %v", got.To, err)
		}
		wantParts, _ := campaign.Parts(text)
		if got.To != w.to || c.Pos(got) != w.pos || got.FromCSV != w.fromCSV || !mapsEqual(vars, w.vars) ||
			got.Parts != int32(wantParts) || got.Parts != w.parts || got.Hash == 0 {
			t.Errorf("recipient %d = %s at %s, vars %v, %d parts, fromCSV %v, hash %x;\nwant %s at %s, vars %v, %d parts, fromCSV %v",
				i, got.To, c.Pos(got), vars, got.Parts, got.FromCSV, got.Hash, w.to, w.pos, w.vars, wantParts, w.fromCSV)
		}
		if wantText := "Hi " + w.vars["name"] + ", PIN " + w.vars["pin"]; text != wantText {
			t.Errorf("Render(%s) = %q, want %q", got.To, text, wantText)
		}
	}
	// Vars are sorted for inline destinations, in column order for a CSV, whose rows share
	// one Names slice.
	if got := c.Recipients.At(0).Vars.Names(); !slices.Equal(got, []string{"name", "pin"}) {
		t.Errorf("inline Names = %q", got)
	}
	csv1, csv2 := c.Recipients.At(2).Vars, c.Recipients.At(3).Vars
	if !slices.Equal(csv1.Names(), []string{"pin", "name"}) || &csv1.Names()[0] != &csv2.Names()[0] {
		t.Errorf("CSV Names = %q, shared %v", csv1.Names(), &csv1.Names()[0] == &csv2.Names()[0])
	}
	if !slices.Equal(csv2.Values(), []string{"222", "Dan"}) {
		t.Errorf("CSV Values = %q", csv2.Values())
	}
	for _, rc := range c.Recipients.All() {
		if rc.Line <= 0 {
			t.Errorf("%s: Line %d", rc.To, rc.Line)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// TestHash: a recipient's hash covers the rendered text and every send option, and
// nothing else.
func TestHash(t *testing.T) {
	t.Parallel()
	campaignWith := func(text, vars string, extra ...string) map[string]string {
		return doc(append([]string{
			`id: c1`,
			`from: InfoSMS`,
			`text: "` + text + `"`,
			`destinations:`,
			`  - to: "+41 79 302 67 31"`,
			`    vars: ` + vars,
		}, extra...)...)
	}
	const text, vars = "Hi {{.name}}", "{name: Ann}"
	baseline := loadOne(t, campaignWith(text, vars, `validity_period: 2h`)).Recipients.At(0).Hash
	for _, tc := range []struct {
		name  string
		files map[string]string
		same  bool
	}{
		{"identical", campaignWith(text, vars, `validity_period: 2h`), true},
		{"same validity written otherwise", campaignWith(text, vars, `validity_period: 120m`), true},
		{"another id and round", map[string]string{"c.yaml": strings.Replace(
			campaignWith(text, vars, `validity_period: 2h`, `round: 3`)["c.yaml"], "id: c1", "id: other", 1)}, true},
		{"labels", campaignWith(text, vars, `validity_period: 2h`, `labels: {team: growth}`), true},
		{"unused var", campaignWith(text, "{name: Ann, pin: x}", `validity_period: 2h`), true},
		{"same text from another template", campaignWith("Hi {{.who}}", "{who: Ann}", `validity_period: 2h`), true},
		{"text", campaignWith("Hello {{.name}}", vars, `validity_period: 2h`), false},
		{"var value", campaignWith(text, "{name: Anna}", `validity_period: 2h`), false},
		{"from", map[string]string{"c.yaml": strings.Replace(
			campaignWith(text, vars, `validity_period: 2h`)["c.yaml"], "from: InfoSMS", "from: OtherSMS", 1)}, false},
		{"validity_period", campaignWith(text, vars, `validity_period: 3h`), false},
		{"no validity_period", campaignWith(text, vars), false},
		{"tracking", campaignWith(text, vars, `validity_period: 2h`, `tracking: {track: SMS}`), false},
		{"tracking type", campaignWith(text, vars, `validity_period: 2h`, `tracking: {track: SMS, type: OTP}`), false},
		{"send_at", campaignWith(text, vars, `validity_period: 2h`, `send_at: 2026-12-01T09:00:00Z`), false},
		{"notify_url", campaignWith(text, vars, `validity_period: 2h`, `notify_url: https://example.com/dlr`), false},
		{"callback_data", campaignWith(text, vars, `validity_period: 2h`, `callback_data: x`), false},
		{"delivery_window", campaignWith(text, vars, `validity_period: 2h`, `delivery_window: {days: [MONDAY], from: "09:00", to: "17:00"}`), false},
		{"speed_limit", campaignWith(text, vars, `validity_period: 2h`, `speed_limit: {amount: 10, time_unit: HOUR}`), false},
	} {
		got := loadOne(t, tc.files).Recipients.At(0).Hash
		if (got == baseline) != tc.same {
			t.Errorf("%s: hash %x, baseline %x; want same = %v", tc.name, got, baseline, tc.same)
		}
	}
	// Two recipients with the same text in one campaign hash alike; different texts do not.
	c := loadOne(t, doc(
		`id: c1`, `from: InfoSMS`, `text: "Hi {{.name}}"`,
		`destinations:`,
		`  - {to: "+41793026731", vars: {name: Ann}}`,
		`  - {to: "+41793026732", vars: {name: Ann}}`,
		`  - {to: "+41793026733", vars: {name: Ben}}`,
	))
	if h := c.Recipients; h.At(0).Hash != h.At(1).Hash || h.At(0).Hash == h.At(2).Hash {
		t.Errorf("hashes %x %x %x: want the first two equal, the third different", h.At(0).Hash, h.At(1).Hash, h.At(2).Hash)
	}
}

func TestVarsMap(t *testing.T) {
	t.Parallel()
	names := []string{"a", "b"}
	v := campaign.NewVars(&names, "1", "2")
	m := v.Map(map[string]string{"old": "x"})
	if !mapsEqual(m, map[string]string{"a": "1", "b": "2"}) {
		t.Errorf("Map = %v", m)
	}
	if m := (campaign.Vars{}).Map(m); len(m) != 0 {
		t.Errorf("empty Vars Map = %v", m)
	}
}
