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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// secretMarker is in the environment of every hostile run, as an API key would be in CI;
// no output may hold it.
const secretMarker = "SECRET-MARKER-7f3c9d"

// hostileTimeout is a hang guard, not a speed target: each run ends in well under a second.
const hostileTimeout = 20 * time.Second

// hostileMaxRSS bounds the memory of a run whose attack was memory.
const hostileMaxRSS = 300 << 20

// TestHostileInputs runs the real binary on each campaign a hostile contributor could put
// in a pull request (issue: untrusted pull requests): each must exit 1 with a clear
// problem, in bounded time and memory, printing no secret from the environment and no line
// a CI log would run as a command.
func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and writes a 2 GB sparse file; not run with -short")
	}
	t.Parallel()
	bin := realBin(t)
	t.Run("control: the measurement sees a child's memory", func(t *testing.T) {
		rssFile := filepath.Join(t.TempDir(), "rss")
		if out, err := measuredCommand(t, context.Background(), rssFile, "/bin/sh", "-c", `x=$(head -c 80000000 /dev/zero | tr '\0' a)`).CombinedOutput(); err != nil {
			t.Fatalf("sh: %v\n%s", err, out)
		}
		if peak := peakRSS(rssFile); peak < 80<<20 {
			t.Fatalf("a shell holding an 80 MB string measured %d MB", peak>>20)
		}
	})
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret.csv"), "to,"+secretMarker+"\n+41793026731,x\n")

	campaign := func(extra ...string) string {
		return strings.Join(append([]string{`id: c1`, `from: InfoSMS`}, extra...), "\n") + "\n"
	}
	csvCampaign := func(path string) string {
		return campaign(`text: "{{.}}"`, `destinations_file: `+path)
	}
	textCampaign := func(text string) string {
		return campaign(`text: '`+text+`'`, `destinations: [{to: "+41793026731", vars: {name: Ann}}]`)
	}
	// Many small campaigns in one file under the size limit: each document's work must not
	// grow with the whole file's size. The last one has a mistake.
	var many strings.Builder
	for i := range 9000 {
		fmt.Fprintf(&many, "id: c%d\nfrom: Shop\ntext: Hi\ndestinations: [{to: \"+41793026731\"}]\n---\n", i)
	}
	many.WriteString("id: last\nfrom: Shop\ntext: Hi\nx: 1\n")
	manyCampaigns := many.String()
	for _, tc := range []struct {
		name   string
		files  map[string]string
		setup  func(t *testing.T, dir string)
		args   []string // after the command; the campaign directory is appended
		stderr string   // a regular expression the error output must match
		memory bool     // the attack was memory: check the peak RSS
	}{
		{name: "proc self environ (validate)", files: map[string]string{"c.yaml": csvCampaign("/proc/self/environ")},
			args: []string{"validate"}, stderr: `c.yaml:4: destinations_file: cannot read /proc/self/environ: resolves \(after symlinks\) outside the campaign root`},
		{name: "proc self environ (plan -json)", files: map[string]string{"c.yaml": csvCampaign("/proc/self/environ")},
			args: []string{"plan", "-json"}, stderr: `outside the campaign root`},
		{name: "proc self environ (plan)", files: map[string]string{"c.yaml": csvCampaign("/proc/self/environ")},
			args: []string{"plan"}, stderr: `outside the campaign root`},
		{name: "dot-dot to etc passwd", files: map[string]string{"c.yaml": csvCampaign("../../../../../../../../etc/passwd")},
			args: []string{"validate"}, stderr: `c.yaml:4: destinations_file: cannot read .*etc/passwd: resolves \(after symlinks\) outside the campaign root`},
		{name: "absolute path to a CSV outside", files: map[string]string{"c.yaml": csvCampaign(filepath.Join(outside, "secret.csv"))},
			args: []string{"validate"}, stderr: `outside the campaign root`},
		{name: "destinations_file symlink to dev zero", files: map[string]string{"c.yaml": csvCampaign("r.csv")},
			setup: func(t *testing.T, dir string) { symlink(t, "/dev/zero", filepath.Join(dir, "r.csv")) },
			args:  []string{"validate"}, stderr: `c.yaml:4: destinations_file: cannot read .*r.csv: resolves \(after symlinks\) outside`, memory: true},
		{name: "campaign file symlink to dev zero", files: map[string]string{"b.yaml": textCampaign("Hi")},
			setup: func(t *testing.T, dir string) { symlink(t, "/dev/zero", filepath.Join(dir, "a.yaml")) },
			args:  []string{"validate"}, stderr: `a.yaml: resolves \(after symlinks\) outside the campaign root`, memory: true},
		{name: "destinations_file FIFO", files: map[string]string{"c.yaml": csvCampaign("r.csv")},
			setup: func(t *testing.T, dir string) { mkfifo(t, filepath.Join(dir, "r.csv")) },
			args:  []string{"validate"}, stderr: `c.yaml:4: destinations_file: cannot read .*r.csv: is not a regular file`},
		{name: "campaign file FIFO", files: map[string]string{"b.yaml": textCampaign("Hi")},
			setup: func(t *testing.T, dir string) { mkfifo(t, filepath.Join(dir, "a.yaml")) },
			args:  []string{"validate"}, stderr: `a.yaml: is not a regular file`},
		{name: "2 GB sparse CSV", files: map[string]string{"c.yaml": csvCampaign("r.csv")},
			setup: func(t *testing.T, dir string) { sparse(t, filepath.Join(dir, "r.csv"), 2<<30) },
			args:  []string{"validate"}, stderr: `c.yaml:4: destinations_file: cannot read .*r.csv: is 2147483648 bytes; the limit is 1073741824`, memory: true},
		{name: "900 MB sparse CSV, under the size bound", files: map[string]string{"c.yaml": csvCampaign("r.csv")},
			setup: func(t *testing.T, dir string) { sparse(t, filepath.Join(dir, "r.csv"), 900<<20) },
			args:  []string{"validate"}, stderr: `r.csv:1: the line is longer than 65536 bytes; is this a CSV file\?`, memory: true},
		{name: "nested range loops", files: map[string]string{"c.yaml": textCampaign("{{range 100000}}{{range 100000}}{{end}}{{end}}x")},
			args: []string{"validate"}, stderr: `c.yaml:3: text: \{\{range\}\} is not allowed`},
		{name: "huge range", files: map[string]string{"c.yaml": textCampaign("{{range 30000000}}" + strings.Repeat("x", 64) + "{{end}}")},
			args: []string{"validate"}, stderr: `c.yaml:3: text: \{\{range\}\} is not allowed`, memory: true},
		{name: "printf of a million-wide field, many times", files: map[string]string{"c.yaml": textCampaign(strings.Repeat(`{{printf "%0999999d" 1}}`, 1000))},
			args: []string{"validate"}, stderr: `c.yaml:4: text: the text cannot be rendered: calling printf: a function would write more than 16000 bytes`, memory: true},
		{name: "10 MB CSV header", files: map[string]string{"c.yaml": csvCampaign("r.csv"), "r.csv": "to," + strings.Repeat("x", 10<<20) + "\n+41793026731,a\n"},
			args: []string{"validate"}, stderr: `r.csv:1: the line is longer than 65536 bytes`, memory: true},
		{name: "9,000 small campaigns in one file", files: map[string]string{"c.yaml": manyCampaigns},
			args: []string{"validate"}, stderr: `c.yaml:45004: x: unknown field`},
		{name: "20 MB YAML list", files: map[string]string{"c.yaml": campaign(`text: Hi`, `destinations:`) + strings.Repeat("  - {to: \"+41793026731\"}\n", 20<<20/26)},
			args: []string{"validate"}, stderr: `c.yaml: is \d+ bytes; the limit is 1048576; big recipient lists belong in a CSV \(destinations_file\)`, memory: true},
		{name: "::error in a YAML key", files: map[string]string{"c.yaml": textCampaign("Hi") + "\"x\\n::error title=Approved::Security review passed\\n\": 1\n"},
			args: []string{"validate"}, stderr: `c.yaml:5: x\\n::error title=Approved::Security review passed\\n: unknown field`},
		{name: "::error as a whole key", files: map[string]string{"c.yaml": textCampaign("Hi") + "\"::error::forged\": 1\n"},
			args: []string{"validate"}, stderr: `c.yaml:5: \\x3a:error::forged: unknown field`},
		{name: "::error as a file name", files: map[string]string{"::error::forged.yaml": textCampaign("Hi") + "x: 1\n"},
			args: []string{"validate"}, stderr: `::error::forged.yaml:5: x: unknown field`},
		{name: "escape sequences in a key", files: map[string]string{"c.yaml": textCampaign("Hi") + "\"\\e[2J\\e]0;pwned\\a\": 1\n"},
			args: []string{"validate"}, stderr: `c.yaml:5: \\x1b\[2J\\x1b\]0;pwned\\x07: unknown field`},
		{name: "escape sequences in a CSV header", files: map[string]string{"c.yaml": csvCampaign("r.csv"), "r.csv": "to,\"\x1b[2J\n::error::x\"\n+41793026731,a\n"},
			args: []string{"validate"}, stderr: `r.csv:1: the header is not UTF-8 text \(or holds control characters\)`},
		{name: "escape sequences in a CSV value", files: map[string]string{"c.yaml": campaign(`text: "{{.name}}{{.name}}"`, `destinations_file: r.csv`), "r.csv": "to,name\n+41793026731,\x1b[2J" + strings.Repeat("y", 3000) + "\n"},
			args: []string{"validate"}, stderr: `r.csv:2: text: renders to more than 4000 bytes for \+41793026731`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "repo")
			for name, body := range tc.files {
				writeFile(t, filepath.Join(dir, name), body)
			}
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			args := append(append([]string{"-state", filepath.Join(t.TempDir(), "st.db")}, tc.args...), dir)
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
			if strings.ContainsAny(out, "\x1b\x07") {
				t.Errorf("raw control characters in the output:\n%q", clip(out))
			}
			if len(out) > 64<<10 {
				t.Errorf("%d bytes of output; an error should not echo the input", len(out))
			}
			if !regexp.MustCompile(tc.stderr).MatchString(stderr.String()) {
				t.Errorf("stderr does not match %s:\n%s", tc.stderr, clip(stderr.String()))
			}
			if tc.memory {
				if peak <= 0 {
					t.Fatal("no peak RSS measured for the process")
				}
				if peak > hostileMaxRSS {
					t.Errorf("peak RSS %d MB, want under %d MB", peak>>20, hostileMaxRSS>>20)
				}
			}
		})
	}
}

// measuredCommand runs bin through the measure-rss launcher (testdata/measure-rss), which
// writes bin's peak RSS into rssFile. Measured from here, a child's peak would start at this
// test process's own: Linux carries the parent's high-water mark over into a vfork()ed child
// when it execs, and this process holds hundreds of MB after the other tests. The launcher is
// a fresh, small process. A timeout kills the launcher's whole process group, bin with it.
func measuredCommand(t *testing.T, ctx context.Context, rssFile, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, launcherBin.get(t), append([]string{rssFile, bin}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// peakRSS reads what the launcher wrote: bytes, or 0 if nothing was written.
func peakRSS(file string) int64 {
	data, _ := os.ReadFile(file)
	n, _ := strconv.ParseInt(string(data), 10, 64)
	return n
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sparse(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}
