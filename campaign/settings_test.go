package campaign_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
)

// plain is a valid marketing campaign without consent evidence, of 4 lines.
var plain = lines(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`)

// withSettings is a directory holding plain as c.yaml and smsform.yaml of the lines given.
func withSettings(ls ...string) map[string]string {
	return map[string]string{"c.yaml": plain, "smsform.yaml": lines(ls...)}
}

// TestLoadSettingsRules covers every rule of the settings file (issue 20 item 4, spec §12),
// each problem at its FILE:LINE, like a campaign file's.
func TestLoadSettingsRules(t *testing.T) {
	t.Parallel()
	cases := []loadCase{
		{name: "every field", files: withSettings(
			`contact_policy:`,
			`  marketing: {max: 2, per: 7d}`,
			`consent:`,
			`  marketing: optional`,
			`  column: consent_at`,
			`  source_column: consent_source`,
			`limits:`,
			`  max_messages: 100000`,
			`  max_cost: {CHF: "12.50", EUR: "1000"}`,
		)},
		{name: "empty", files: withSettings()},
		{name: "only comments", files: withSettings(`# nothing yet`)},
		{name: "sections null", files: withSettings(`contact_policy:`, `consent:`, `limits:`)},
		{name: "a list", files: withSettings(`- contact_policy`),
			want: []want{{"smsform.yaml", 1, "", "settings must be a mapping of contact_policy, consent and limits"}}},
		{name: "a campaign in the settings file", files: withSettings(`id: c2`, `from: InfoSMS`, `text: Hi`),
			want: []want{{"smsform.yaml", 1, "", "smsform.yaml is the settings file of the campaigns under its directory (contact_policy, consent, limits), not a campaign"}}},
		{name: "two documents", files: withSettings(`limits: {max_messages: 1}`, `---`, `consent: {marketing: optional}`),
			want: []want{{"smsform.yaml", 3, "", "a settings file holds one document; merge this one into the first (line 1)"}}},
		{name: "YAML syntax", files: withSettings(`limits: {max_messages: 1`),
			want: []want{{"smsform.yaml", 2, "", "YAML syntax"}}},
		{name: "unknown key with a suggestion", files: withSettings(`contact_polcy:`, `  marketing: {max: 2, per: 7d}`),
			want: []want{{"smsform.yaml", 1, "contact_polcy", `unknown field (did you mean "contact_policy"?); known fields are contact_policy, consent, limits`}}},
		{name: "unknown key inside", files: withSettings(`contact_policy:`, `  transactional: {max: 2, per: 7d}`),
			want: []want{{"smsform.yaml", 2, "contact_policy.transactional", "unknown field; known fields are marketing"}}},
		{name: "key twice", files: withSettings(`limits: {max_messages: 1}`, `limits: {max_messages: 2}`),
			want: []want{{"smsform.yaml", 2, "limits", "written twice (first at line 1); keep one"}}},
		{name: "an alias bomb", files: withSettings(`a: &a ["`+strings.Repeat("x", 70000)+`"]`, `b: [*a, *a, *a, *a, *a]`),
			want: []want{{"smsform.yaml", 2, "b[4]", "the aliases in this file stand for more than"}}},

		// contact_policy
		{name: "cap 1 per 1m and 1000 per 366d", files: withSettings(`contact_policy: {marketing: {max: 1, per: 1m}}`)},
		{name: "cap 1000 per 366d", files: withSettings(`contact_policy: {marketing: {max: 1000, per: 366d}}`)},
		{name: "cap in days and hours", files: withSettings(`contact_policy: {marketing: {max: 3, per: 1d12h}}`)},
		{name: "cap max 0", files: withSettings(`contact_policy:`, `  marketing:`, `    max: 0`, `    per: 7d`),
			want: []want{{"smsform.yaml", 3, "contact_policy.marketing.max", "must be at least 1"}}},
		{name: "cap max 1001", files: withSettings(`contact_policy:`, `  marketing:`, `    max: 1001`, `    per: 7d`),
			want: []want{{"smsform.yaml", 3, "contact_policy.marketing.max", "must be at most 1000"}}},
		{name: "cap max missing", files: withSettings(`contact_policy:`, `  marketing:`, `    per: 7d`),
			want: []want{{"smsform.yaml", 2, "contact_policy.marketing.max", "is required"}}},
		{name: "cap max text", files: withSettings(`contact_policy:`, `  marketing:`, `    max: two`, `    per: 7d`),
			want: []want{{"smsform.yaml", 3, "contact_policy.marketing.max", `wrong type: want a whole number, got "two"`}}},
		{name: "cap per missing", files: withSettings(`contact_policy:`, `  marketing:`, `    max: 2`),
			want: []want{{"smsform.yaml", 2, "contact_policy.marketing.per", "is required"}}},
		{name: "cap per in words", files: withSettings(`contact_policy:`, `  marketing:`, `    max: 2`, `    per: 7 days`),
			want: []want{{"smsform.yaml", 4, "contact_policy.marketing.per", `"7 days" must be a length of time in days, hours and minutes, such as 48h, 7d, 90m or 1d12h (d is 24 hours)`}}},
		{name: "cap per 0m", files: withSettings(`contact_policy:`, `  marketing:`, `    max: 2`, `    per: 0m`),
			want: []want{{"smsform.yaml", 4, "contact_policy.marketing.per", "0m must be from 1m to 366d"}}},
		{name: "cap per 367d", files: withSettings(`contact_policy:`, `  marketing:`, `    max: 2`, `    per: 367d`),
			want: []want{{"smsform.yaml", 4, "contact_policy.marketing.per", "367d must be from 1m to 366d"}}},
		{name: "cap per a number", files: withSettings(`contact_policy:`, `  marketing:`, `    max: 2`, `    per: 7`),
			want: []want{{"smsform.yaml", 4, "contact_policy.marketing.per", `"7" must be a length of time`}}},

		// consent
		{name: "consent required with a column", files: map[string]string{
			"c.yaml":       lines(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731", vars: {consent_at: 2026-01-01}}]`),
			"smsform.yaml": lines(`consent: {marketing: required, column: consent_at}`),
		}},
		{name: "consent marketing true", files: withSettings(`consent:`, `  marketing: true`, `  column: c`),
			want: []want{{"smsform.yaml", 2, "consent.marketing", `wrong type: want text (in quotes), got the boolean "true"`}}},
		{name: "consent marketing yes", files: withSettings(`consent:`, `  marketing: yes`, `  column: c`),
			want: []want{{"smsform.yaml", 2, "consent.marketing", `"yes" must be one of required, optional`}}},
		{name: "consent marketing mandatory", files: withSettings(`consent:`, `  marketing: mandatory`, `  column: c`),
			want: []want{{"smsform.yaml", 2, "consent.marketing", `"mandatory" must be one of required, optional`}}},
		{name: "consent marketing empty", files: withSettings(`consent:`, `  marketing: ""`),
			want: []want{{"smsform.yaml", 2, "consent.marketing", `"" must be one of required, optional`}}},
		{name: "consent column empty", files: withSettings(`consent:`, `  column: ""`),
			want: []want{{"smsform.yaml", 2, "consent.column", `"" must be the name of a column or var`}}},
		{name: "consent fields null", files: withSettings(`consent: {marketing: , column: , source_column: }`)},
		{name: "consent required without a column", files: withSettings(`consent:`, `  marketing: required`),
			want: []want{{"smsform.yaml", 1, "consent", "marketing: required needs column: the var (a CSV column or an inline var) holding when each person agreed"}}},
		{name: "consent column to", files: withSettings(`consent:`, `  column: to`),
			want: []want{{"smsform.yaml", 2, "consent.column", "`to` is the number, not consent evidence"}}},
		{name: "consent source the same column", files: withSettings(`consent:`, `  column: at`, `  source_column: at`),
			want: []want{{"smsform.yaml", 3, "consent.source_column", "is the same column as column"}}},
		{name: "consent column with a control character", files: withSettings(`consent:`, `  column: "a\tb"`),
			want: []want{{"smsform.yaml", 2, "consent.column", "must be the name of a column or var: 1 to 64 characters, no control characters"}}},
		{name: "consent column 65 characters", files: withSettings(`consent:`, `  column: `+strings.Repeat("c", 65)),
			want: []want{{"smsform.yaml", 2, "consent.column", "1 to 64 characters"}}},

		// limits
		{name: "max_messages 0", files: withSettings(`limits: {max_messages: 0}`)},
		{name: "max_messages -1", files: withSettings(`limits:`, `  max_messages: -1`),
			want: []want{{"smsform.yaml", 2, "limits.max_messages", "must be at least 0"}}},
		{name: "max_messages over a hundred million", files: withSettings(`limits:`, `  max_messages: 100000001`),
			want: []want{{"smsform.yaml", 2, "limits.max_messages", "must be at most 100000000"}}},
		{name: "max_messages 1.5", files: withSettings(`limits:`, `  max_messages: 1.5`),
			want: []want{{"smsform.yaml", 2, "limits.max_messages", "wrong type: want a whole number"}}},
		{name: "max_cost with six decimals", files: withSettings(`limits: {max_cost: {CHF: "0.000001", USD: "999999999.999999"}}`)},
		{name: "max_cost lower-case currency", files: withSettings(`limits:`, `  max_cost:`, `    chf: "12.50"`),
			want: []want{{"smsform.yaml", 3, "limits.max_cost.chf", `"chf" must be an ISO 4217 currency code`}}},
		{name: "max_cost unquoted", files: withSettings(`limits:`, `  max_cost:`, `    CHF: 12.50`),
			want: []want{{"smsform.yaml", 3, "limits.max_cost.CHF", `wrong type: want text (in quotes), got the number "12.50"`}}},
		{name: "max_cost seven decimals", files: withSettings(`limits:`, `  max_cost:`, `    CHF: "1.1234567"`),
			want: []want{{"smsform.yaml", 3, "limits.max_cost.CHF", `"1.1234567" must be a decimal amount, at most 999999999 with at most 6 decimals`}}},
		{name: "max_cost negative", files: withSettings(`limits:`, `  max_cost:`, `    CHF: "-1"`),
			want: []want{{"smsform.yaml", 3, "limits.max_cost.CHF", `"-1" must be a decimal amount`}}},
		{name: "max_cost a list", files: withSettings(`limits:`, `  max_cost: ["12"]`),
			want: []want{{"smsform.yaml", 2, "limits.max_cost", "wrong type: want a mapping, got a list"}}},

		{name: "problems of the settings and of a campaign at once", files: map[string]string{
			"c.yaml":       lines(`id: C1`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
			"smsform.yaml": lines(`limits: {max_messages: -5}`),
		}, want: []want{
			{"c.yaml", 1, "id", "must be lower-case"},
			{"smsform.yaml", 1, "limits.max_messages", "must be at least 0"},
		}},
	}
	runLoadCases(t, cases)
}

// TestSettingsParsed: what the settings say, read back through their accessors.
func TestSettingsParsed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, withSettings(
		`contact_policy:`,
		`  marketing: {max: 2, per: 1d12h}`,
		`consent:`,
		`  marketing: required`,
		`  column: consent_at`,
		`  source_column: consent_source`,
		`limits:`,
		`  max_messages: 100000`,
		`  max_cost: {CHF: "12.50", EUR: "0.000001"}`,
	))
	writeFiles(t, dir, map[string]string{"c.yaml": lines(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731", vars: {consent_at: 2026-01-01, consent_source: web}}]`)})
	set := mustLoad(t, dir)
	s := set.Campaigns[0].Settings
	if s == nil || len(set.Settings) != 1 || set.Settings[0] != s || s.File != filepath.Join(dir, "smsform.yaml") {
		t.Fatalf("settings %+v of %v, want the one smsform.yaml", s, set.Settings)
	}
	if c := s.MarketingCap(); c == nil || c.Count() != 2 || c.Window() != 36*time.Hour {
		t.Errorf("cap %+v, want 2 per 36h", c)
	}
	if at, src := s.ConsentColumns(); !s.ConsentRequired() || at != "consent_at" || src != "consent_source" {
		t.Errorf("consent %v %q %q", s.ConsentRequired(), at, src)
	}
	if n, ok := s.MaxMessages(); !ok || n != 100000 {
		t.Errorf("max_messages %d %v", n, ok)
	}
	if m := s.MaxCost(); len(m) != 2 || m["CHF"] != 12_500_000 || m["EUR"] != 1 {
		t.Errorf("max_cost %v", m)
	}
	if got, want := s.Describe(), "marketing at most 2 per 1d12h per number; consent required (consent_at, source consent_source); at most 100000 messages per apply; at most 12.50 CHF per apply; at most 0.000001 EUR per apply"; got != want {
		t.Errorf("Describe() = %q\nwant %q", got, want)
	}
	if got := s.Pos("consent.column"); got != filepath.Join(dir, "smsform.yaml")+":5" {
		t.Errorf("Pos(consent.column) = %s", got)
	}
	var none *campaign.Settings
	if none.MarketingCap() != nil || none.ConsentRequired() || none.MaxCost() != nil {
		t.Error("nil settings should say nothing")
	}
	if _, ok := none.MaxMessages(); ok {
		t.Error("nil settings have no max_messages")
	}
}

// TestSettingsWhichApply: each campaign takes the nearest smsform.yaml at or above its own
// directory, up to its campaign root; several roots each their own; the settings file is
// never a campaign; without one, nothing changes.
func TestSettingsWhichApply(t *testing.T) {
	t.Parallel()
	campaignIn := func(id string) string {
		return lines(`id: `+id, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`)
	}
	settingsMax := func(n string) string { return lines(`limits: {max_messages: ` + n + `}`) }

	t.Run("several roots, nested, none", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{
			"team-a/smsform.yaml":            settingsMax("1"),
			"team-a/a.yaml":                  campaignIn("a"),
			"team-a/deep/er/a2.yaml":         campaignIn("a2"),
			"team-a/promo/smsform.yaml":      settingsMax("2"),
			"team-a/promo/p.yaml":            campaignIn("p"),
			"team-b/smsform.yaml":            settingsMax("3"),
			"team-b/b.yaml":                  campaignIn("b"),
			"team-c/c.yaml":                  campaignIn("c"),
			"team-c/empty-dir/smsform.yaml":  settingsMax("4"), // governs no campaign: still checked
			"team-c/.hidden/smsform.yaml":    "limits: {max_messages: -1}\n",
			"team-c/.hidden/ignored.yaml":    "not: loaded\n",
			"team-b/other-name/campaign.yml": campaignIn("b2"),
		})
		a, b, c := filepath.Join(dir, "team-a"), filepath.Join(dir, "team-b"), filepath.Join(dir, "team-c")
		set := mustLoad(t, a, b, c)
		want := map[string]string{
			"a":  filepath.Join(a, "smsform.yaml"),
			"a2": filepath.Join(a, "smsform.yaml"),
			"p":  filepath.Join(a, "promo", "smsform.yaml"),
			"b":  filepath.Join(b, "smsform.yaml"),
			"b2": filepath.Join(b, "smsform.yaml"),
			"c":  "",
		}
		for id, file := range want {
			got := ""
			if s := set.Find(id).Settings; s != nil {
				got = s.File
			}
			if got != file {
				t.Errorf("campaign %s takes %q, want %q", id, got, file)
			}
		}
		var files []string
		for _, s := range set.Settings {
			files = append(files, strings.TrimPrefix(s.File, dir+"/"))
		}
		if strings.Join(files, " ") != "team-a/promo/smsform.yaml team-a/smsform.yaml team-b/smsform.yaml team-c/empty-dir/smsform.yaml" {
			t.Errorf("Settings = %q", files)
		}
		if len(set.Files) != 6 {
			t.Errorf("campaign files %q: smsform.yaml is not one", set.Files)
		}
	})

	t.Run("a settings file that governs no campaign is checked", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"c.yaml": campaignIn("c"), "unused/smsform.yaml": "limits: {max_messages: -1}\n"})
		_, err := campaign.Load(dir)
		checkProblems(t, dir, err, []want{{"unused/smsform.yaml", 1, "limits.max_messages", "must be at least 0"}})
	})

	t.Run("only a settings file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"smsform.yaml": settingsMax("1")})
		_, err := campaign.Load(dir)
		if err == nil || !strings.Contains(err.Error(), "no *.yaml or *.yml campaign files") || !strings.Contains(err.Error(), "smsform.yaml holds settings, not campaigns") {
			t.Errorf("error %v, want no campaign files", err)
		}
		_, err = campaign.Load(filepath.Join(dir, "smsform.yaml"))
		if err == nil || !strings.Contains(err.Error(), "no *.yaml or *.yml campaign files") {
			t.Errorf("the settings file given: error %v, want no campaign files", err)
		}
	})

	t.Run("outside git: up to the path given, a file's own directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"smsform.yaml": settingsMax("1"), "sub/c.yaml": campaignIn("c")})
		if s := mustLoad(t, filepath.Join(dir, "sub")).Campaigns[0].Settings; s != nil {
			t.Errorf("outside git, a path below the settings file: took %s, want none (the root is the path given)", s.File)
		}
		if s := mustLoad(t, filepath.Join(dir, "sub", "c.yaml")).Campaigns[0].Settings; s != nil {
			t.Errorf("outside git, a file below the settings file: took %s, want none", s.File)
		}
		if s := mustLoad(t, dir).Campaigns[0].Settings; s == nil {
			t.Error("the directory holding smsform.yaml: no settings")
		}
	})

	t.Run("in git: up to the work tree, whichever path is given", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{".git/HEAD": "ref: refs/heads/main\n", "campaigns/smsform.yaml": settingsMax("1"), "campaigns/promo/c.yaml": campaignIn("c")})
		want := filepath.Join(dir, "campaigns", "smsform.yaml")
		for _, p := range []string{filepath.Join(dir, "campaigns"), filepath.Join(dir, "campaigns", "promo"), filepath.Join(dir, "campaigns", "promo", "c.yaml")} {
			set := mustLoad(t, p)
			s := set.Campaigns[0].Settings
			if s == nil || s.File != want {
				t.Errorf("validate %s: settings %v, want %s", p, s, want)
			}
			if len(set.Settings) != 1 {
				t.Errorf("validate %s: Settings lists %d", p, len(set.Settings))
			}
		}
	})

	t.Run("deep trees, and ignore files do not hide settings", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		deep := strings.Repeat("d/", 300)
		writeFiles(t, dir, map[string]string{
			"smsform.yaml":         settingsMax("1"),
			deep + "c.yaml":        campaignIn("c"),
			"x/smsform.yaml":       settingsMax("2"),
			"x/.smsformignore":     "smsform.yaml\n*.yml\n",
			"x/y/c2.yaml":          campaignIn("c2"),
			"x/skipped.yml":        "broken: [\n",
			deep + "e/f/smsform.y": "not settings\n",
		})
		set := mustLoad(t, dir)
		if s := set.Find("c").Settings; s == nil || s.File != filepath.Join(dir, "smsform.yaml") {
			t.Errorf("300 directories below smsform.yaml: settings %v", s)
		}
		if s := set.Find("c2").Settings; s == nil || s.File != filepath.Join(dir, "x", "smsform.yaml") {
			t.Errorf("a .smsformignore listing smsform.yaml: settings %v, want x/smsform.yaml all the same", s)
		}
	})

	t.Run("digest", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"c.yaml": campaignIn("c")})
		without := mustLoad(t, dir).Digest
		writeFiles(t, dir, map[string]string{"smsform.yaml": settingsMax("1")})
		one := mustLoad(t, dir).Digest
		writeFiles(t, dir, map[string]string{"smsform.yaml": settingsMax("2")})
		two := mustLoad(t, dir).Digest
		if without == one || one == two {
			t.Errorf("digests %s, %s, %s: a saved plan must notice a settings file added or changed", without, one, two)
		}
	})
}

// consentFiles is a marketing campaign whose recipients come from r.csv (and one inline,
// line 6), under consent settings of the lines given.
func consentFiles(csv string, extra []string, settings ...string) map[string]string {
	return map[string]string{
		"c.yaml": lines(append([]string{
			`id: c1`,                             // 1
			`from: InfoSMS`,                      // 2
			`text: Hi`,                           // 3
			`destinations_file: r.csv`,           // 4
			`destinations:`,                      // 5
			`  - to: "+41793026739"`,             // 6
			`    vars: {consent_at: 2026-01-01}`, // 7
		}, extra...)...),
		"r.csv":        csv,
		"smsform.yaml": lines(settings...),
	}
}

var required = []string{`consent:`, `  marketing: required`, `  column: consent_at`, `  source_column: source`}

// TestConsentRules: with consent.marketing: required, every marketing recipient needs a
// consent time at or before the send time, each problem at the CSV line (or the inline
// destination's) naming the column.
func TestConsentRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		files map[string]string
		now   time.Time
		want  []want
	}{
		{name: "valid: dates and times, before send_at", files: consentFiles(lines(
			`to,consent_at,source`,
			`+41793026731,2026-01-01,web`,
			`+41793026732,2026-11-30T23:59:59Z,shop`,
			`+41793026733,2026-12-01T10:00:00+01:00,`,
			`+41793026734, 2026-12-01 ,app`, // a date alone is that day from 00:00 UTC
		), []string{`send_at: 2026-12-01T09:00:00Z`}, required...)},
		{name: "empty, missing, not a time, after send_at", files: consentFiles(lines(
			`to,consent_at,source`,
			`+41793026731,,web`,
			`+41793026732,yes,web`,
			`+41793026733,2026-12-02,web`,
			`+41793026734,2026-12-01T09:00:01Z,web`,
			`+41793026735,01.12.2026,web`,
		), []string{`send_at: 2026-12-01T09:00:00Z`}, required...), want: []want{
			{"r.csv", 2, "consent_at", "no consent for +41793026731: marketing texts need the time this person agreed, as RFC 3339 (2026-03-01T10:00:00Z) or a date (2026-03-01), under consent.marketing: required ($DIR/smsform.yaml:2)"},
			{"r.csv", 3, "consent_at", `"yes" is not a consent time: write RFC 3339 (2026-03-01T10:00:00Z) or a date (2026-03-01)`},
			{"r.csv", 4, "consent_at", "consent 2026-12-02 is after the send time 2026-12-01T09:00:00Z (send_at); a marketing text may only go to someone who agreed before it is sent"},
			{"r.csv", 5, "consent_at", "consent 2026-12-01T09:00:01Z is after the send time 2026-12-01T09:00:00Z (send_at)"},
			{"r.csv", 6, "consent_at", `"01.12.2026" is not a consent time`},
		}},
		{name: "the CSV without the column: once, at its header", files: consentFiles(lines(
			`to,name`, `+41793026731,Ann`, `+41793026732,Ben`,
		), nil, required...), want: []want{
			{"r.csv", 1, "consent_at", `the header has no "consent_at" column, which consent.column names ($DIR/smsform.yaml:3): every recipient of the marketing campaign c1 needs the time they agreed (consent.marketing: required)`},
		}},
		{name: "inline: at the var's line, or the destination's", files: map[string]string{
			"c.yaml": lines(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations:`,
				`  - to: "+41793026731"`, // 5
				`    vars:`,
				`      consent_at: soon`, // 7
				`  - to: "+41793026732"`, // 8
			),
			"smsform.yaml": lines(required...),
		}, want: []want{
			{"c.yaml", 7, "destinations[0].vars.consent_at", `"soon" is not a consent time`},
			{"c.yaml", 8, "destinations[1].vars.consent_at", "no consent for +41793026732"},
		}},
		{name: "transactional campaigns are exempt", files: consentFiles(lines(`to,name`, `+41793026731,Ann`), []string{`purpose: transactional`}, required...)},
		{name: "optional: missing is fine, a wrong time is not", files: consentFiles(lines(
			`to,consent_at,source`, `+41793026731,,web`, `+41793026732,never,web`, `+41793026733,2030-01-01,web`,
		), []string{`send_at: 2026-12-01T09:00:00Z`}, `consent: {marketing: optional, column: consent_at}`), want: []want{
			{"r.csv", 3, "consent_at", `"never" is not a consent time`},
		}},
		{name: "optional: the CSV without the column", files: consentFiles(lines(`to,name`, `+41793026731,Ann`), nil, `consent: {marketing: optional, column: consent_at}`)},
		{name: "without send_at, against the clock of the load", now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), files: consentFiles(lines(
			`to,consent_at,source`, `+41793026731,2026-06-01,web`, `+41793026732,2026-06-02,web`,
		), nil, required...), want: []want{
			{"r.csv", 3, "consent_at", "consent 2026-06-02 is after the send time 2026-06-01T12:00:00Z (the time of this check)"},
		}},
		{name: "without send_at nor a clock, only the format", files: consentFiles(lines(
			`to,consent_at,source`, `+41793026731,2099-06-02,web`,
		), nil, required...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			_, err := campaign.LoadWith(campaign.Options{Now: tc.now}, dir)
			checkProblems(t, dir, err, tc.want)
		})
	}
}

// TestConsentEvidence: Consent reads a recipient's consent time and source, for the state
// to record with the message.
func TestConsentEvidence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, consentFiles(lines(
		`to,consent_at,source`,
		`+41793026731,2026-01-01,web form`,
		`+41793026732,2026-03-04T05:06:07+01:00,`,
	), nil, required...))
	c := mustLoad(t, dir).Campaigns[0]
	got := map[string]string{}
	for _, rec := range c.Recipients.All() {
		at, src, ok := c.Consent(rec)
		if !ok {
			t.Fatalf("%s: no consent", rec.To)
		}
		got[rec.To] = at.UTC().Format(time.RFC3339) + " " + src
	}
	want := map[string]string{
		"+41793026731": "2026-01-01T00:00:00Z web form",
		"+41793026732": "2026-03-04T04:06:07Z ",
		"+41793026739": "2026-01-01T00:00:00Z ",
	}
	for to, w := range want {
		if got[to] != w {
			t.Errorf("%s: consent %q, want %q", to, got[to], w)
		}
	}
	plain := loadOne(t, withBase())
	if _, _, ok := plain.Consent(plain.Recipients.At(0)); ok {
		t.Error("a campaign without settings has no consent evidence")
	}
}

// TestSettingsConfined: a settings file is read under the rules of every file a campaign
// reads: after symlinks inside the campaign root, a regular file, bounded; the problem
// says why without its content.
func TestSettingsConfined(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"secret.yaml": "limits: {max_messages: 1}\n"})
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"c.yaml": plain})
	if err := os.Symlink(filepath.Join(outside, "secret.yaml"), filepath.Join(dir, "smsform.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{{"smsform.yaml", 0, "", "resolves (after symlinks) outside the campaign root"}})

	big := t.TempDir()
	writeFiles(t, big, map[string]string{"c.yaml": plain, "smsform.yaml": "# " + strings.Repeat("x", campaign.MaxYAMLBytes) + "\n"})
	_, err = campaign.Load(big)
	checkProblems(t, big, err, []want{{"smsform.yaml", 0, "", "the limit is 1048576; a settings file is a few lines"}})
}

// TestLoadParsedHook: Options.Parsed sees every campaign with its settings before the
// recipients are read, also when the load then fails on a recipient.
func TestLoadParsedHook(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"smsform.yaml": "contact_policy:\n  marketing: {max: 1, per: 7d}\n",
		"a.yaml":       "id: a\nfrom: Shop\ntext: Hi\ndestinations_file: a.csv\n",
		"a.csv":        "to\n+41793026731\n+4179302\n",
	})
	var seen []*campaign.Campaign
	_, err := campaign.LoadWith(campaign.Options{Parsed: func(cs []*campaign.Campaign) {
		seen = cs
		if len(cs) == 1 && cs[0].Recipients.Len() != 0 {
			t.Errorf("Parsed after the recipients were read: %d", cs[0].Recipients.Len())
		}
	}}, dir)
	if err == nil {
		t.Fatal("the bad number loaded")
	}
	if len(seen) != 1 || seen[0].ID != "a" || seen[0].Settings.MarketingCap() == nil {
		t.Fatalf("Parsed saw %v", seen)
	}
}

// TestParsedNotWithProblems: files that do not parse are reported without Parsed being
// called: a caller that starts work on the state there (apply locks it) leaves it alone.
func TestParsedNotWithProblems(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.yaml": "id: a\nfrom: Shop\ntext: Hi\ndestinations:\n  - to: \"+41793026731\"\n",
		"b.yaml": "id: b\nfrom: [Shop\n",
	})
	called := false
	_, err := campaign.LoadWith(campaign.Options{Parsed: func([]*campaign.Campaign) { called = true }}, dir)
	if err == nil || !strings.Contains(err.Error(), "b.yaml") {
		t.Fatalf("load = %v; want b.yaml's problem", err)
	}
	if called {
		t.Error("Parsed was called for files with a problem")
	}
}
