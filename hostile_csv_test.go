package main

import (
	"bufio"
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

// csvAttackMaxRSS bounds a run on one CSV record far over the record bound: it must stop
// at the bound, not read the record.
const csvAttackMaxRSS = 100 << 20

// csvAttack is one run of the binary on a hostile events file, CSV, prices file or plan
// file, or on a symlink where it writes a file.
type csvAttack struct {
	name  string
	files map[string]string
	setup func(t *testing.T, dir string)
	prep  [][]string // commands run first, as the attack is (such as init)
	args  []string   // after -state; run in the case's directory
	// succeeds: the run exits 0 (it reports, not fails), and stderr is matched on stdout;
	// otherwise it exits 1.
	succeeds bool
	stderr   string                         // a regular expression the error output must match
	maxRSS   int64                          // the attack was memory: the peak RSS bound
	after    func(t *testing.T, dir string) // checks what the run left
}

// TestHostileCSVInputs runs the real binary on what a contributor with commit access could
// put where smsform reads CSVs and plan files (issue 16: event files and every CSV): a
// committed symlink to the environment, a FIFO, a device, a record that never ends, values
// of megabytes, a file named by many campaigns. Each run must end in bounded time and
// memory, with a clear problem, printing no secret from the environment, nothing of a
// file beyond a few bounded names, and no line a CI log would run as a command.
func TestHostileCSVInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and writes 300 MB of CSVs; not run with -short")
	}
	t.Parallel()
	bin := realBin(t)
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret.csv"), "messageId,"+secretMarker+"\nsf-1,x\n")

	// One record of 120 MB, a quoted field over 1.2 million short lines: each line is far
	// under the bound, the record far over it. Written once, linked into each case.
	big := t.TempDir()
	longRecord(t, filepath.Join(big, "long.csv"), "to,messageId,name", "+41793026731,sf-1")
	longRecord(t, filepath.Join(big, "prices.csv"), "prefix,price,currency", "CH")
	link := func(name, as string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.Link(filepath.Join(big, name), filepath.Join(dir, as)); err != nil {
				t.Fatal(err)
			}
		}
	}

	campaign := func(extra ...string) string {
		return strings.Join(append([]string{`id: c1`, `from: InfoSMS`, `text: Hi`}, extra...), "\n") + "\n"
	}
	// Ten campaigns naming one 30 MB CSV of 500 valid rows with 60 KB of vars each; the
	// last row is wrong, so that validate fails at it.
	var wide strings.Builder
	wide.WriteString("to,note\n")
	for i := range 500 {
		fmt.Fprintf(&wide, "+4179%07d,%s\n", i, strings.Repeat("n", 60<<10))
	}
	wide.WriteString("+41 12,x\n")
	tenCampaigns := map[string]string{"r.csv": wide.String()}
	for i := range 10 {
		tenCampaigns[fmt.Sprintf("c%d.yaml", i)] = strings.Replace(campaign(`destinations_file: r.csv`), "id: c1", fmt.Sprintf("id: c%d", i), 1)
	}
	// Values of 30 KB whose quoting is four times their size: an echo of them floods the log.
	ctrl := strings.Repeat("\x01", 30<<10)
	ctrlRows := strings.Repeat(ctrl+"\n", 5)
	ctrlPrices := strings.Repeat("CH,"+ctrl+",CHF\n", 5)

	for _, tc := range []csvAttack{
		// Event files (convert runs in CI with the API key in its environment).
		{name: "events symlink to proc self environ", setup: func(t *testing.T, dir string) { symlink(t, "/proc/self/environ", filepath.Join(dir, "events.csv")) },
			args: []string{"convert", "events.csv"}, stderr: `events.csv: cannot read: resolves \(after symlinks\) outside .*, the directory given`},
		{name: "events: proc self environ named directly", args: []string{"convert", "/proc/self/environ"},
			stderr: `/proc/self/environ: cannot read: resolves \(after symlinks\) into /proc, /sys or /dev`},
		{name: "events symlink out of the directory", setup: func(t *testing.T, dir string) {
			symlink(t, filepath.Join(outside, "secret.csv"), filepath.Join(dir, "events.csv"))
		},
			args: []string{"convert", "events.csv"}, stderr: `events.csv: cannot read: resolves \(after symlinks\) outside`},
		{name: "events header of secrets, not quoted", files: map[string]string{"events.csv": "INFOBIP_API_KEY=" + secretMarker + "\x00PGPASSWORD=" + secretMarker + "\n"},
			args: []string{"convert", "events.csv"}, stderr: `events.csv:1: no column names a message: .*the header \(1 column\) has no messageId`},
		{name: "events FIFO", setup: func(t *testing.T, dir string) { mkfifo(t, filepath.Join(dir, "events.csv")) },
			args: []string{"convert", "events.csv"}, stderr: `events.csv: cannot read: is not a regular file`},
		{name: "events symlink to dev zero", setup: func(t *testing.T, dir string) { symlink(t, "/dev/zero", filepath.Join(dir, "events.csv")) },
			args: []string{"convert", "events.csv"}, stderr: `events.csv: cannot read: resolves \(after symlinks\) outside`, maxRSS: csvAttackMaxRSS},
		{name: "events record of 120 MB", setup: link("long.csv", "events.csv"),
			args: []string{"convert", "events.csv"}, stderr: `events.csv:2: the record that starts on this line runs past 65536 bytes`, maxRSS: csvAttackMaxRSS},
		{name: "events messageIds quoting to 120 KB, shown cut", files: map[string]string{"events.csv": "messageId\n" + ctrlRows},
			prep: [][]string{{"init"}}, args: []string{"convert", "-dry-run", "events.csv"}, succeeds: true,
			stderr: `no recorded message has messageId "(\\x01){64}"\.\.\. \(30720 bytes\)`},

		// Destinations, suppression lists, prices.
		{name: "destinations record of 120 MB", files: map[string]string{"c.yaml": campaign(`destinations_file: r.csv`)}, setup: link("long.csv", "r.csv"),
			args: []string{"validate", "."}, stderr: `r.csv:2: the record that starts on this line runs past 65536 bytes over \d+ lines`, maxRSS: csvAttackMaxRSS},
		{name: "suppression list record of 120 MB", files: map[string]string{"c.yaml": campaign(`destinations: [{to: "+41793026731"}]`, `suppression_lists: [s.csv]`)}, setup: link("long.csv", "s.csv"),
			args: []string{"validate", "."}, stderr: `s.csv:2: the record that starts on this line runs past 65536 bytes`, maxRSS: csvAttackMaxRSS},
		{name: "prices record of 120 MB", files: map[string]string{"c.yaml": campaign(`destinations: [{to: "+41793026731"}]`)}, setup: link("prices.csv", "prices.csv"),
			args: []string{"plan", "-prices", "prices.csv", "."}, stderr: `prices.csv:2: the record that starts on this line runs past 65536 bytes`, maxRSS: csvAttackMaxRSS},
		{name: "numbers quoting to 120 KB, shown cut", files: map[string]string{"c.yaml": campaign(`destinations_file: r.csv`), "r.csv": "to\n" + ctrlRows},
			args: []string{"validate", "."}, stderr: `r.csv:2: to: "(\\x01){64}"\.\.\. \(30720 bytes\) has no country code`},
		{name: "prices quoting to 120 KB, shown cut", files: map[string]string{"c.yaml": campaign(`destinations: [{to: "+41793026731"}]`), "prices.csv": "prefix,price,currency\n" + ctrlPrices},
			args: []string{"plan", "-prices", "prices.csv", "."}, stderr: `prices.csv:2: price: "(\\x01){64}"\.\.\. \(30720 bytes\) must be a decimal price`},
		{name: "prices FIFO", files: map[string]string{"c.yaml": campaign(`destinations: [{to: "+41793026731"}]`)}, setup: func(t *testing.T, dir string) { mkfifo(t, filepath.Join(dir, "prices.csv")) },
			args: []string{"plan", "-prices", "prices.csv", "."}, stderr: `prices file prices.csv: is not a regular file`},
		{name: "ten campaigns naming one 30 MB CSV", files: tenCampaigns,
			args: []string{"validate", "."}, stderr: `r.csv:502: to: "\+41 12" is not`, maxRSS: 150 << 20},

		// Plan files.
		{name: "plan file FIFO", setup: func(t *testing.T, dir string) { mkfifo(t, filepath.Join(dir, "plan.out")) },
			args: []string{"apply", "plan.out"}, stderr: `plan.out: is not a regular file`},
		{name: "plan file symlink to dev zero", setup: func(t *testing.T, dir string) { symlink(t, "/dev/zero", filepath.Join(dir, "plan.out")) },
			args: []string{"apply", "plan.out"}, stderr: `plan.out: resolves \(after symlinks\) outside`, maxRSS: csvAttackMaxRSS},
		{name: "plan file format version of 300 KB", files: map[string]string{"plan.out": `{"format": "smsform-plan", "format_version": "` + strings.Repeat(`\n::error::forged`, 20000) + `"}`},
			args: []string{"apply", "plan.out"}, stderr: `plan file plan.out has format "(\\n::error::forged){4}"\.\.\. \(320000 bytes\)`},
		{name: "plan file naming a state of 100 KB with a CI command", files: map[string]string{"plan.out": `{"format": "smsform-plan", "format_version": "1", "state_path": "x\n::error::forged` + strings.Repeat("y", 100000) + `"}`},
			args: []string{"apply", "plan.out"}, stderr: `plan file plan.out is not one smsform wrote: its state is named in over 4096 bytes or with control characters`},

		// Files smsform writes: a committed symlink at the name is not written through.
		{name: "plan -out through a committed symlink", files: map[string]string{"c.yaml": campaign(`destinations: [{to: "+41793026731"}]`)},
			setup: symlinkToOutside("plan.out"), prep: [][]string{{"init"}}, args: []string{"plan", "-out", "plan.out", "."},
			stderr: `save plan: plan.out is a symbolic link: smsform does not write through a link`, after: outsideUntouched},
		{name: "report -html through a committed symlink", setup: symlinkToOutside("report.html"), prep: [][]string{{"init"}},
			args: []string{"report", "-html", "report.html"}, stderr: `report.html is a symbolic link: smsform does not write through a link`, after: outsideUntouched},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runCSVAttack(t, bin, tc)
		})
	}
}

// runCSVAttack runs one attack in a directory of its own, outside git, and checks what
// TestHostileInputs checks of every run.
func runCSVAttack(t *testing.T, bin string, tc csvAttack) {
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range tc.files {
		writeFile(t, filepath.Join(dir, name), body)
	}
	if tc.setup != nil {
		tc.setup(t, dir)
	}
	stateFile := filepath.Join(t.TempDir(), "st.db")
	env := append(os.Environ(), "INFOBIP_API_KEY="+secretMarker, "INFOBIP_BASE_URL=https://user:"+secretMarker+"@example.com", "SMSFORM_STATE=", "PGPASSWORD="+secretMarker)
	for _, args := range tc.prep {
		cmd := exec.Command(bin, append([]string{"-state", stateFile}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("smsform %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), hostileTimeout)
	defer cancel()
	rssFile := filepath.Join(t.TempDir(), "rss")
	cmd := measuredCommand(t, ctx, rssFile, bin, append([]string{"-state", stateFile}, tc.args...)...)
	cmd.Dir, cmd.Env = dir, env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	peak := peakRSS(rssFile)
	t.Logf("%s, peak RSS %d MB", time.Since(start).Round(time.Millisecond), peak>>20)
	if ctx.Err() != nil {
		t.Fatalf("smsform %s: still running after %s (a hang)", strings.Join(tc.args, " "), hostileTimeout)
	}
	want := 1
	if tc.succeeds {
		want = 0
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("smsform %s: %v", strings.Join(tc.args, " "), err)
	}
	if code != want {
		t.Fatalf("smsform %s: exit %d, want %d\nstderr:\n%s", strings.Join(tc.args, " "), code, want, clip(stderr.String()))
	}
	out := stdout.String() + stderr.String()
	if strings.Contains(out, secretMarker) {
		t.Errorf("the secret marker from the environment is in the output:\n%s", clip(out))
	}
	if m := regexp.MustCompile(`(?m)^\s*::`).FindString(out); m != "" {
		t.Errorf("a line of output starts with %q, which a CI log runs as a command:\n%s", m, clip(out))
	}
	if strings.ContainsAny(out, "\x1b\x07\x00\x01") {
		t.Errorf("raw control characters in the output:\n%q", clip(out))
	}
	if len(out) > 64<<10 {
		t.Errorf("%d bytes of output; an error should not echo the input:\n%s", len(out), clip(out))
	}
	got := stderr.String()
	if want == 0 {
		got = stdout.String()
	}
	if !regexp.MustCompile(tc.stderr).MatchString(got) {
		t.Errorf("output does not match %s:\n%s", tc.stderr, clip(got))
	}
	if tc.after != nil {
		tc.after(t, dir)
	}
	if tc.maxRSS > 0 {
		if peak <= 0 {
			t.Fatal("no peak RSS measured for the process")
		}
		if peak > tc.maxRSS {
			t.Errorf("peak RSS %d MB, want under %d MB", peak>>20, tc.maxRSS>>20)
		}
	}
}

// symlinkToOutside makes name, in the case's directory, a symlink to a file outside it
// (beside it, in the case's own temporary directory), as a pull request could commit one.
func symlinkToOutside(name string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		target := filepath.Join(filepath.Dir(dir), "bashrc")
		writeFile(t, target, "export PATH=/usr/bin\n")
		if err := os.Chmod(target, 0o600); err != nil {
			t.Fatal(err)
		}
		symlink(t, target, filepath.Join(dir, name))
	}
}

// outsideUntouched checks the target of symlinkToOutside: same content, same mode.
func outsideUntouched(t *testing.T, dir string) {
	target := filepath.Join(filepath.Dir(dir), "bashrc")
	data, err := os.ReadFile(target)
	if err != nil || string(data) != "export PATH=/usr/bin\n" {
		t.Errorf("the symlink's target now holds %q (%v)", clip(string(data)), err)
	}
	if info, err := os.Stat(target); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the symlink's target: %v, %v; want mode 0600 kept", info.Mode(), err)
	}
}

// longRecord writes a CSV whose second record is a quoted field of 120 MB over 1.2 million
// lines of 99 bytes, after the cells given.
func longRecord(t *testing.T, path, header, cells string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "%s\n%s,\"", header, cells)
	line := strings.Repeat("y", 99) + "\n"
	for range 1_200_000 {
		w.WriteString(line)
	}
	w.WriteString("\"\n")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
