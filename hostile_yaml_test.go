package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// yamlAttack is one hostile campaign tree, run through the built binary by TestHostileYAML.
type yamlAttack struct {
	name   string
	files  map[string]string
	setup  func(t *testing.T, dir string)
	args   []string // after the command; the campaign directory is appended
	stderr string   // a regular expression the error output must match
	memory bool     // the attack was memory: check the peak RSS
}

// TestHostileYAML runs the real binary on campaign files that make the loader's work grow
// far beyond their size (issue: untrusted pull requests, part B): YAML aliases that copy a
// value for every recipient, templates whose functions or size multiply the work of every
// rendering, .smsformignore files that multiply the work of every directory entry, and a
// NUL in a text. Each must exit 1 with its problem at FILE:LINE, within the hang guard
// (each ends in well under a second), under the memory bound where memory was the attack,
// and with nothing of the environment in the output.
func TestHostileYAML(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; not run with -short")
	}
	t.Parallel()
	bin := realBin(t)
	campaign := func(extra ...string) string {
		return strings.Join(append([]string{`id: c1`, `from: InfoSMS`}, extra...), "\n") + "\n"
	}
	// recipients lists n inline recipients, each written with vars.
	recipients := func(n int, vars string) string {
		var b strings.Builder
		b.WriteString("destinations:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - {to: \"+4179%07d\", vars: %s}\n", 3026731+i, vars)
		}
		return b.String()
	}

	// A 250 KB value written once under an anchor, and 14,999 recipients that each copy it
	// through an alias: 775 KB on disk, 3.7 GB once every copy is a recipient's vars.
	var aliases strings.Builder
	aliases.WriteString(campaign(`text: "Hi {{.b}}"`, `destinations:`))
	fmt.Fprintf(&aliases, "  - {to: \"+41790000000\", vars: &v {a: \"%s\", b: x}}\n", strings.Repeat("x", 250_000))
	for i := 1; i < 15_000; i++ {
		fmt.Fprintf(&aliases, "  - {to: \"+4179%07d\", vars: *v}\n", i)
	}

	// The same through aliases of a scalar, many to a recipient.
	var scalars strings.Builder
	scalars.WriteString(campaign(`text: "Hi {{.a}}"`, `labels: {big: &s "`+strings.Repeat("y", 100_000)+`"}`, `destinations:`))
	for i := range 2_000 {
		fmt.Fprintf(&scalars, "  - {to: \"+4179%07d\", vars: {a: x, b: *s, c: *s, d: *s, e: *s}}\n", 3026731+i)
	}

	// 80,000 labels: yaml.v3 checks a mapping's keys for repeats pair by pair.
	var labels strings.Builder
	labels.WriteString(campaign(`text: Hi`, recipients(1, "{}")) + "labels:\n")
	for i := range 80_000 {
		fmt.Fprintf(&labels, "  l%d: x\n", i)
	}

	// 150 files of 13 KB, each with a 3 KB value copied into a recipient's vars by 1,000
	// aliases: 2 MB of files, 450 MB of vars.
	smallFiles := map[string]string{}
	for f := range 150 {
		var vars []string
		for i := range 1_000 {
			vars = append(vars, fmt.Sprintf("a%d: *s", i))
		}
		smallFiles[fmt.Sprintf("c%03d.yaml", f)] = fmt.Sprintf("id: c%d\nfrom: InfoSMS\ntext: Hi\nlabels: {s: &s %q}\ndestinations: [{to: \"+41793026731\", vars: {%s}}]\n", f, strings.Repeat("x", 3_000), strings.Join(vars, ", "))
	}

	// .smsformignore files of 13,000 patterns each in 15 nested directories with long
	// names, and 450 files at the bottom: every entry was matched against every pattern
	// of every directory above it.
	ignoreTree := func(t *testing.T, dir string) {
		var pats strings.Builder
		for i := range 13_000 {
			fmt.Fprintf(&pats, "*%c*%c\n", 'a'+i%26, 'a'+i/26%26)
		}
		d := dir
		for level := range 15 {
			d = filepath.Join(d, strings.Repeat(fmt.Sprint(level%10), 200))
			writeFile(t, filepath.Join(d, ".smsformignore"), pats.String())
		}
		for i := range 450 {
			writeFile(t, filepath.Join(d, strings.Repeat(fmt.Sprintf("%06d", i), 33)), "")
		}
	}

	// 40 documents, each with an unknown key holding 10,000 nested lists (yaml.v3's
	// deepest): every node's key path was recorded, each as long as its depth.
	var nested strings.Builder
	for i := range 40 {
		fmt.Fprintf(&nested, "id: c%d\nfrom: InfoSMS\ntext: Hi\n%sx: %s%s\n---\n", i, recipients(1, "{}"), strings.Repeat("[", 9_999), strings.Repeat("]", 9_999))
	}

	for _, tc := range []yamlAttack{
		{name: "an alias copies a 250 KB value to 15,000 recipients", files: map[string]string{"c.yaml": aliases.String()},
			args: []string{"validate"}, stderr: `c.yaml:18: destinations\[13\]\.vars: the aliases in this file stand for more than 3100268 bytes written out \(4 times the file, at least 65536\); write the values out, or put the recipients in a CSV file \(destinations_file\)`, memory: true},
		{name: "aliases of a 100 KB scalar, four to a recipient", files: map[string]string{"c.yaml": scalars.String()},
			args: []string{"plan"}, stderr: `c.yaml:8: destinations\[2\]\.vars\.c: the aliases in this file stand for more than 936296 bytes written out`, memory: true},
		{name: "aliases in 150 small files", files: smallFiles,
			args: []string{"validate"}, stderr: `c149\.yaml:5: destinations\[0\]\.vars\.a\d+: the aliases in this file stand for more than 65536 bytes written out`, memory: true},
		{name: "80,000 labels", files: map[string]string{"c.yaml": labels.String()},
			args: []string{"validate"}, stderr: `c\.yaml:8: labels: holds 80000 keys; the limit is 256, as many as a CSV file may have columns`},
		{name: "printf width from an indexed argument", files: map[string]string{"c.yaml": campaign(`text: '`+strings.Repeat(`{{len (printf "%[1]*[2]d" 1000000 5)}}`, 50)+`'`, recipients(100, "{}"))},
			args: []string{"validate"}, stderr: `c.yaml:5: text: the text cannot be rendered: calling printf: printf: a width or precision from an argument \(\*\) is not allowed`},
		{name: "printf repeating an indexed argument", files: map[string]string{"c.yaml": campaign(`text: '`+strings.Repeat(`{{len (printf "`+strings.Repeat(`%[1]s`, 2_000)+`" .v)}}`, 3)+`'`, recipients(100, `{v: "`+strings.Repeat("v", 500)+`"}`))},
			args: []string{"validate"}, stderr: `c.yaml:5: text: the text cannot be rendered: calling printf: a function would write more than 16000 bytes`},
		{name: "print of every var, thousands of times", files: map[string]string{"c.yaml": campaign(`text: '`+strings.Repeat(`{{if print . . . . . .}}{{end}}`, 1_000)+`'`, recipients(100, `{v: "`+strings.Repeat("v", 3_000)+`"}`))},
			args: []string{"validate"}, stderr: `c.yaml:5: text: the text cannot be rendered: calling print: a function would write more than 16000 bytes`},
		{name: "1 MB template of cheap conditions", files: map[string]string{"c.yaml": campaign(`text: 'x`+strings.Repeat(`{{if eq 1 1}}{{end}}`, 50_000)+`'`, recipients(100, "{}"))},
			args: []string{"validate"}, stderr: `c.yaml:3: text: the template is 1000001 bytes; the limit is 32000`, memory: true},
		{name: "15 .smsformignore files of 13,000 patterns", files: map[string]string{"c.yaml": campaign(`text: Hi`, recipients(1, "{}"))},
			setup: ignoreTree, args: []string{"validate"}, stderr: `/0{200}/\.smsformignore:257: the \.smsformignore files that apply here \(this one and those of the directories above it\) hold more than 1024 bytes of patterns`},
		{name: "a directory tree 1,900 deep", setup: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, strings.Repeat("a/", 1_900), "c.yaml"), campaign(`text: Hi`, recipients(1, "{}"))+"x: 1\n")
		}, args: []string{"validate"}, stderr: `/` + strings.Repeat("a/", 1_900) + `c\.yaml:7: x: unknown field`},
		{name: "40 documents of 10,000 nested lists", files: map[string]string{"c.yaml": nested.String()},
			args: []string{"validate"}, stderr: `c.yaml:6: x: unknown field`, memory: true},
		{name: "a 400 KB key over 300,000 items", files: map[string]string{"c.yaml": campaign(`text: Hi`, recipients(1, "{}")) + "? " + strings.Repeat("k", 400_000) + "\n: [" + strings.Repeat("1,", 300_000) + "1]\n"},
			args: []string{"validate"}, stderr: `c.yaml:7: k{128}\.\.\.: unknown field; known fields are id, from`, memory: true},
		{name: "a 300 KB id, sender and number", files: map[string]string{"c.yaml": campaign(`text: Hi`, `destinations: [{to: "`+strings.Repeat("9", 300_000)+`"}]`)},
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "d.yaml"), `id: "`+strings.Repeat("I", 300_000)+`"`+"\nfrom: \""+strings.Repeat("F", 300_000)+"\"\ntext: Hi\ndestinations: [{to: \"+41793026731\"}]\n")
			}, args: []string{"validate"}, stderr: `(?s)c\.yaml:4: destinations\[0\]\.to: "9{64}"\.\.\. \(300000 bytes\) has no country code.*d\.yaml:1: id: "I{64}\.\.\." must be lower-case letters.*d\.yaml:2: from: "F{64}\.\.\." must be`},
		{name: "NUL in a text", files: map[string]string{"c.yaml": campaign(`text: "Hi\0 there"`, recipients(1, "{}"))},
			args: []string{"plan"}, stderr: `c.yaml:3: text: holds a NUL character, which no SMS can carry`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runYAMLAttack(t, bin, tc)
		})
	}
}

// runYAMLAttack writes the attack's files, runs the binary on them with a secret in its
// environment, and checks the run as TestHostileInputs does.
func runYAMLAttack(t *testing.T, bin string, tc yamlAttack) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	for name, body := range tc.files {
		writeFile(t, filepath.Join(dir, name), body)
	}
	if tc.setup != nil {
		tc.setup(t, dir)
	}
	args := append(append([]string{"-state", filepath.Join(t.TempDir(), "st.db")}, tc.args...), dir)
	if tc.args[0] == "plan" {
		init := exec.Command(bin, "init", "-state", args[1])
		if out, err := init.CombinedOutput(); err != nil {
			t.Fatalf("smsform init: %v\n%s", err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), hostileTimeout)
	defer cancel()
	rssFile := filepath.Join(t.TempDir(), "rss")
	cmd := measuredCommand(t, ctx, rssFile, bin, args...)
	cmd.Env = append(os.Environ(), "INFOBIP_API_KEY="+secretMarker, "INFOBIP_BASE_URL=https://user:"+secretMarker+"@example.com", "SMSFORM_STATE=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	peak := peakRSS(rssFile)
	t.Logf("%s, peak RSS %d MB", time.Since(start).Round(time.Millisecond), peak>>20)
	if ctx.Err() != nil {
		t.Fatalf("smsform %s: still running after %s (a hang)", strings.Join(tc.args, " "), hostileTimeout)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("smsform %s: %v, want exit 1\nstderr:\n%s", strings.Join(tc.args, " "), err, clip(stderr.String()))
	}
	out := stdout.String() + stderr.String()
	if strings.Contains(out, secretMarker) {
		t.Errorf("the secret marker from the environment is in the output:\n%s", clip(out))
	}
	if m := regexp.MustCompile(`(?m)^\s*::`).FindString(out); m != "" {
		t.Errorf("a line of output starts with %q, which a CI log runs as a command:\n%s", m, clip(out))
	}
	if strings.ContainsAny(out, "\x00\x1b\x07") {
		t.Errorf("raw control characters in the output:\n%q", clip(out))
	}
	if len(out) > 64<<10 {
		t.Errorf("%d bytes of output; an error should not echo the input", len(out))
	}
	if !regexp.MustCompile(tc.stderr).MatchString(stderr.String()) {
		t.Errorf("stderr does not match %s:\n%s", clip(tc.stderr), clip(stderr.String()))
	}
	if tc.memory {
		if peak <= 0 {
			t.Fatal("no peak RSS measured for the process")
		}
		if peak > hostileMaxRSS {
			t.Errorf("peak RSS %d MB, want under %d MB", peak>>20, hostileMaxRSS>>20)
		}
	}
}
