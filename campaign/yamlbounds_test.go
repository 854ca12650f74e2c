package campaign_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/smsform/smsform/campaign"
)

// TestLoadQuotesClipped: a problem quotes at most a short piece of a key or a value, however
// long it is in the file.
func TestLoadQuotesClipped(t *testing.T) {
	t.Parallel()
	long := func(c string) string { return strings.Repeat(c, 100_000) }
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.yaml": lines(`id: "`+long("I")+`"`, `from: "`+long("F")+`"`, `text: Hi`, `destinations: [{to: "`+long("9")+`"}]`, `purpose: `+long("p")),
		"b.yaml": lines(`id: b`, `from: InfoSMS`, `text: Hi`, `destinations:`, `  - to: "+41793026731"`, `    vars:`, `      ? `+long("v"), `      : [1]`, `? `+long("k"), `: 1`),
		"c.yaml": lines(`id: "`+long("I")+`"`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`, `---`, `id: "`+long("I")+`"`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`),
	})
	_, err := campaign.Load(dir)
	ve := validationError(t, err)
	if len(ve.Problems) < 8 {
		t.Fatalf("%d problems, want one per long value:\n%.2000s", len(ve.Problems), err)
	}
	for _, p := range ve.Problems {
		if s := p.String(); len(s) > len(dir)+400 {
			t.Errorf("a problem of %d bytes: %.300s...", len(s), s)
		}
	}
	if !strings.Contains(err.Error(), `b.yaml:9: `+strings.Repeat("k", 128)+`...: unknown field; known fields are id, from`) {
		t.Errorf("the unknown key is not named by its start:\n%.3000s", err)
	}
}

// TestLoadDeepValues: key paths are recorded down to those problems name; deeper or longer
// ones are at the line of the nearest path above them, and cost nothing to record.
func TestLoadDeepValues(t *testing.T) {
	t.Parallel()
	var docs []string
	for i := range 3 {
		docs = append(docs, fmt.Sprintf("id: c%d", i), `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`,
			`labels: {team: [`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`]}`, `---`)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"c.yaml": lines(docs...)})
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{
		{"c.yaml", 5, "labels.team", "wrong type: want text, got a list"},
		{"c.yaml", 11, "labels.team", "wrong type: want text, got a list"},
		{"c.yaml", 17, "labels.team", "wrong type: want text, got a list"},
	})
	c := loadOne(t, doc(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations:`, `  - to: "+41793026731"`, `    vars:`, `      name: Ann`,
		`      `+strings.Repeat("n", 300)+`: x`))
	for path, line := range map[string]int{"destinations[0].vars.name": 7, "destinations[0].vars." + strings.Repeat("n", 300): 6, "destinations[0].vars.name.x.y": 7} {
		if got := c.Line(path); got != line {
			t.Errorf("Line(%.40q) = %d, want %d", path, got, line)
		}
	}
}

// TestLoadMapKeysBound: vars and labels hold at most MaxMapKeys keys; the first ones are
// still checked and used, so nothing else is reported for the same mistake.
func TestLoadMapKeysBound(t *testing.T) {
	t.Parallel()
	keys := func(n int, prefix string) string {
		var kv []string
		for i := range n {
			kv = append(kv, fmt.Sprintf("%s%d: x", prefix, i))
		}
		return "{" + strings.Join(kv, ", ") + "}"
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"c.yaml": lines(`id: c1`, `from: InfoSMS`, `text: "Hi {{.v0}} {{.v255}}"`,
		`destinations: [{to: "+41793026731", vars: `+keys(300, "v")+`}]`, `labels: `+keys(campaign.MaxMapKeys, "l"), `---`,
		`id: c2`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`, `labels: `+keys(80_000, "l"))})
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{
		{"c.yaml", 4, "destinations[0].vars", "holds 300 keys; the limit is 256, as many as a CSV file may have columns"},
		{"c.yaml", 11, "labels", "holds 80000 keys; the limit is 256"},
	})
}
