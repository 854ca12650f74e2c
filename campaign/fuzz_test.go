package campaign_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/smsform/smsform/campaign"
)

// fuzzCSV is the destinations_file every FuzzLoad input can refer to as recipients.csv.
const fuzzCSV = "to,name,pin\n+41 79 302 67 31,Ann,1a2B3c\n079 302 67 32,Ben,7Hq9Zx\n"

// FuzzLoad feeds arbitrary bytes to Load as a campaign file: it must not panic, and every
// problem it reports must name a file.
func FuzzLoad(f *testing.F) {
	seeds, err := filepath.Glob("../examples/*/*.y*ml")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		lines(base...),
		lines(`id: c1`, `from: 12345`, `text: "Hi {{.name}}, PIN {{.pin}}"`, `default_region: CH`, `destinations_file: recipients.csv`),
		lines(`id: c1`, `from: InfoSMS`, `text: "{{.name}}"`, `destinations_file: recipients.csv`, `round: x`, `tracking: {typo: 1}`),
		lines(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`, `---`, `- a`, `---`, `id: c1`, `---`),
		lines(`id: c1`, `text: "{{range .}}{{.}}{{end}}"`, `delivery_window: {days: [MONDAY], from: "09:00", to: "09:30"}`, `speed_limit: {amount: 0, time_unit: SECOND}`),
		lines(append(slices.Clone(expBase), `experiment: {sample: 20%, winner: auto, confidence: 95%, min_sent: 1, wait: 1d12h}`, `priority: 3`)...),
		lines(`id: c1`, `from: InfoSMS`, `tracking: {track: SMS}`, `destinations_file: recipients.csv`, `variants: [{name: a, text: "{{.pin}}", weight: 100}, {name: a, text: "{{.x}}"}]`, `experiment: {sample: 0.2, winner: b}`),
		"id: [\n",
		"\xef\xbb\xbfid: c1\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A destinations_file naming a device (/dev/zero, /dev/stdin) is refused: it is
		// outside the campaign root, so no input is skipped.
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "c.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "recipients.csv"), []byte(fuzzCSV), 0o644); err != nil {
			t.Fatal(err)
		}
		set, err := campaign.Load(dir)
		if err != nil {
			var ve *campaign.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Load: %v (%T), want a *ValidationError", err, err)
			}
			if len(ve.Problems) == 0 {
				t.Fatalf("ValidationError without problems")
			}
			for _, p := range ve.Problems {
				if p.File == "" {
					t.Fatalf("problem without a file: %+v", p)
				}
				if p.Line < 0 {
					t.Fatalf("problem with a negative line: %+v", p)
				}
			}
			return
		}
		for _, c := range set.Campaigns {
			if c.Recipients.Len() == 0 && c.DestinationsFile == "" {
				t.Fatalf("campaign %q loaded without recipients", c.ID)
			}
			for _, r := range c.Recipients.All() {
				if !strings.HasPrefix(r.To, "+") || r.Parts < 1 || r.Parts > campaign.MaxParts {
					t.Fatalf("campaign %q: recipient %+v", c.ID, r)
				}
			}
		}
	})
}

// FuzzNormalize: Normalize never panics, and a number it accepts is E.164 and normalises
// to itself.
func FuzzNormalize(f *testing.F) {
	for _, s := range [][2]string{
		{"+41 79 302 67 31", ""},
		{"079 302 67 31", "CH"},
		{"0041 79 302 67 31", "CH"},
		{"07911 123456", "GB"},
		{"+1 (650) 253-0000 ext. 123", "US"},
		{"tel:+41-79-302-67-31", ""},
		{"+800 1234 5678", ""},
		{"1-800-FLOWERS", "US"},
		{"", ""},
		{"+", "ZZ"},
		{"0", "001"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, problem := campaign.Normalize(raw, region)
		if problem != "" {
			if got != "" {
				t.Fatalf("Normalize(%q, %q) = %q with problem %q", raw, region, got, problem)
			}
			return
		}
		if !strings.HasPrefix(got, "+") || len(got) < 2 || strings.Trim(got[1:], "0123456789") != "" {
			t.Fatalf("Normalize(%q, %q) = %q, not E.164", raw, region, got)
		}
		for _, r := range []string{region, ""} {
			again, problem := campaign.Normalize(got, r)
			if again != got || problem != "" {
				t.Fatalf("Normalize(%q, %q) = %q; Normalize of that with region %q = %q, %q", raw, region, got, r, again, problem)
			}
		}
	})
}

// FuzzCSV feeds arbitrary bytes to Load as a destinations_file: nothing panics or hangs,
// every problem names the file and a line, no problem as printed holds a raw control
// character, and every recipient is E.164. The seeds are in testdata/fuzz/FuzzCSV.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{
		fuzzCSV,
		"to,name,pin\r+41 79 302 67 31,Ann,1\r",
		"\uFEFF\"to\",\"name\",pin\n\"+41 79 302 67 31\",\"Ann\",1\n",
		"to,name,pin\n",
		"",
		"to,name,pin\n+41 79 302 67 31,B\xffen,1\n",
		"to,\"\x1b[2J\n::error::x\",pin\n+41793026731,a,1\n",
		"to,name,pin\n\"+41 79 302 67 31,Ann,1\n",
		"to,name\n+41 79 302 67 31,Ann,extra\n079 302 67 32\n",
	} {
		f.Add([]byte(s))
	}
	yaml := lines(`id: c1`, `from: InfoSMS`, `text: "Hi {{.name}}"`, `default_region: CH`, `destinations_file: recipients.csv`)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"c.yaml": yaml, "recipients.csv": string(data)})
		set, err := campaign.Load(dir)
		if err != nil {
			var ve *campaign.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Load: %v (%T), want a *ValidationError", err, err)
			}
			for _, p := range ve.Problems {
				if p.File == "" || p.Line < 0 {
					t.Fatalf("problem without a place: %+v", p)
				}
				if strings.ContainsAny(p.String(), "\x00\x1b\n\r\x7f") {
					t.Fatalf("problem printed with a raw control character: %q", p.String())
				}
			}
			return
		}
		for _, r := range set.Campaigns[0].Recipients.All() {
			if !strings.HasPrefix(r.To, "+") || r.Parts < 1 || r.Parts > campaign.MaxParts {
				t.Fatalf("recipient %+v", r)
			}
		}
	})
}

// FuzzSettings feeds arbitrary bytes to Load as a settings file (smsform.yaml) next to a
// campaign whose recipients carry consent vars: nothing panics, every problem names a
// file and prints no raw control character, and settings that load read back sane.
func FuzzSettings(f *testing.F) {
	for _, s := range []string{
		lines(`contact_policy:`, `  marketing: {max: 2, per: 7d}`, `consent:`, `  marketing: required`, `  column: consent_at`, `  source_column: source`, `limits:`, `  max_messages: 100000`, `  max_cost: {CHF: "12.50"}`),
		lines(`consent: {marketing: required, column: name}`),
		lines(`contact_policy: {marketing: {max: 0, per: 0m}}`, `limits: {max_cost: {chf: 1.5}}`),
		lines(`limits: {max_messages: 1}`, `---`, `limits: {}`),
		lines(`id: c1`, `from: InfoSMS`),
		"a: &a [1]\nb: [*a, *a]\n",
		"- x\n",
		"",
	} {
		f.Add([]byte(s))
	}
	yaml := lines(`id: c1`, `from: InfoSMS`, `text: "Hi {{.name}}"`, `destinations_file: recipients.csv`)
	csv := "to,name,consent_at,source\n+41 79 302 67 31,Ann,2026-01-01,web\n"
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"c.yaml": yaml, "recipients.csv": csv, "smsform.yaml": string(data)})
		set, err := campaign.Load(dir)
		if err != nil {
			var ve *campaign.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Load: %v (%T), want a *ValidationError", err, err)
			}
			for _, p := range ve.Problems {
				if p.File == "" || p.Line < 0 {
					t.Fatalf("problem without a place: %+v", p)
				}
				if strings.ContainsAny(p.String(), "\x00\x1b\n\r\x7f") {
					t.Fatalf("problem printed with a raw control character: %q", p.String())
				}
			}
			return
		}
		s := set.Campaigns[0].Settings
		if len(set.Settings) != 1 || s != set.Settings[0] {
			t.Fatalf("settings %v, campaign's %v", set.Settings, s)
		}
		if c := s.MarketingCap(); c != nil && (c.Count() < 1 || c.Count() > campaign.MaxCapCount || c.Window() < campaign.MinCapWindow || c.Window() > campaign.MaxCapWindow) {
			t.Fatalf("cap %d per %v loaded", c.Count(), c.Window())
		}
		if n, ok := s.MaxMessages(); ok && (n < 0 || n > campaign.MaxLimitMessages) {
			t.Fatalf("max_messages %d loaded", n)
		}
		_ = s.Describe()
	})
}
