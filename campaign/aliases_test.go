package campaign_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
)

// TestLoadAliases: YAML anchors and aliases work for what they are for (vars shared by a
// few recipients), and a file whose aliases stand for more than aliasGrowth times the file
// written out is refused at the alias that crosses the bound, before anything copies a
// value.
func TestLoadAliases(t *testing.T) {
	t.Parallel()
	// recipients writes n recipients from line 6 on, each with the vars given.
	recipients := func(n int, vars string) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf(`  - {to: "+4179%07d", vars: %s}`, 3026731+i, vars))
		}
		return out
	}
	head := []string{`id: c1`, `from: InfoSMS`, `text: "Hi {{.name}}, {{.shop}}"`, `labels: {team: growth}`, `destinations:`}
	big := strings.Repeat("x", 100_000)
	// Nine levels of ten aliases each stand for 10^9 copies of the first: measured once
	// per anchor, it is refused at once.
	laughs := []string{`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`, `x0: &a0 "lol"`}
	for i := 1; i <= 9; i++ {
		laughs = append(laughs, fmt.Sprintf("x%d: &a%d [%s]", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", ")))
	}
	for _, tc := range []loadCase{
		{name: "vars shared through an anchor", files: doc(append(append(slices.Clone(head), `  - {to: "+41793026730", vars: &v {name: Ann, shop: Zurich}}`), recipients(3, "*v")...)...)},
		{name: "a text through an alias", files: doc(`id: c1`, `from: InfoSMS`, `labels: {t: &t "Hi {{.name}}"}`, `text: *t`, `destinations: [{to: "+41793026731", vars: {name: Ann}}]`)},
		{name: "1,000 recipients share 100 bytes of vars", files: doc(append(append(slices.Clone(head), `  - {to: "+41790000000", vars: &v {name: "`+strings.Repeat("n", 100)+`", shop: Zurich}}`), recipients(1000, "*v")...)...)},
		{name: "aliases over the bound", files: doc(append(append(slices.Clone(head), `  - {to: "+41790000000", vars: &v {name: "`+big+`", shop: Zurich}}`), recipients(20, "*v")...)...),
			want: []want{{"c.yaml", 11, "destinations[5].vars", "the aliases in this file stand for more than 403400 bytes written out (4 times the file, at least 65536); write the values out, or put the recipients in a CSV file (destinations_file)"}}},
		{name: "aliases of a scalar over the bound", files: doc(append(append(slices.Clone(head[:3]), `labels: {big: &s "`+big+`"}`, `destinations:`), recipients(5, "{name: *s, shop: *s, x: *s}")...)...),
			want: []want{{"c.yaml", 7, "destinations[1].vars.shop", "the aliases in this file stand for more than 401552 bytes"}}},
		{name: "aliases of aliases", files: doc(laughs...),
			want: []want{{"c.yaml", 10, "x5[0]", "the aliases in this file stand for more than 65536 bytes"}}},
		{name: "an alias inside its own value", files: doc(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731"}]`, `labels: &l {a: b, c: *l}`),
			want: []want{{"c.yaml", 5, "labels.c", "the alias *l is inside the value it stands for (the anchor at line 5), which never ends; write the value out"}}},
		{name: "an alias as a key", files: doc(`id: c1`, `from: InfoSMS`, `text: Hi`, `destinations: [{to: "+41793026731", vars: {&k name: Ann}}]`, `labels: {*k : x}`),
			want: []want{{"c.yaml", 5, "labels", "a key may not be an alias (*k); write the key out"}}},
		{name: "the bound is for the whole file", files: doc(append(append(append(append(slices.Clone(head), `  - {to: "+41790000000", vars: &v {name: Ann, shop: Zurich, big: "`+big+`"}}`), recipients(2, "*v")...), `---`, `id: c2`, `from: InfoSMS`, `text: "Hi {{.name}}, {{.shop}}"`, `destinations:`), recipients(3, "*v")...)...),
			want: []want{{"c.yaml", 16, "destinations[2].vars", "the aliases in this file stand for more than"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			start := time.Now()
			_, err := campaign.Load(dir)
			// A hang guard, not a speed target: each case takes milliseconds, but a
			// loaded machine running the race detector may stretch that a hundredfold,
			// while nine levels of ten aliases expanded would take hours.
			if d := time.Since(start); d > 60*time.Second {
				t.Errorf("Load took %s", d)
			}
			checkProblems(t, dir, err, tc.want)
		})
	}
}

// TestLoadAliasesShareVars: recipients written with an alias get the anchor's vars.
func TestLoadAliasesShareVars(t *testing.T) {
	t.Parallel()
	c := loadOne(t, doc(
		`id: c1`, `from: InfoSMS`, `text: "Hi {{.name}}, {{.shop}}"`, `destinations:`,
		`  - {to: "+41793026731", vars: &v {name: Ann, shop: Zurich}}`,
		`  - {to: "+41793026732", vars: *v}`,
	))
	if c.Recipients.Len() != 2 {
		t.Fatalf("%d recipients, want 2", c.Recipients.Len())
	}
	for _, r := range c.Recipients.All() {
		if got := strings.Join(r.Vars.Values(), ","); got != "Ann,Zurich" {
			t.Errorf("%s: vars %q, want Ann,Zurich", r.To, got)
		}
	}
}
