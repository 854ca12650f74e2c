package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/internal/sandbox"
)

// run runs smsform in dir with the given terminal-ness of stderr; it returns the exit code,
// stdout and stderr.
func run(t *testing.T, env map[string]string, terminal bool, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	sys := IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }, ErrTerminal: terminal}
	code := Main(context.Background(), append([]string{"smsform"}, args...), sys)
	return code, stdout.String(), stderr.String()
}

func TestRefreshProgress(t *testing.T) {
	srv := httptest.NewServer(sandbox.New(sandbox.Options{}))
	defer srv.Close()
	dir := t.TempDir()
	yaml := "id: p\nfrom: InfoSMS\ntext: Hi\ndestinations:\n  - to: \"+41 79 302 67 01\"\n  - to: \"+41 79 302 67 02\"\n  - to: \"+41 79 302 67 03\"\n"
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"INFOBIP_BASE_URL": srv.URL, "INFOBIP_API_KEY": "k"}
	st := filepath.Join(dir, "st.db")
	if code, _, errs := run(t, env, false, "init", "-state", st); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, errs)
	}
	if code, out, errs := run(t, env, false, "apply", "-state", st, "-auto-approve", dir); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}

	// Not a terminal (CI): nothing but the result.
	code, out, errs := run(t, env, false, "refresh", "-state", st)
	if code != 0 || errs != "" || !strings.Contains(out, "3 sent messages were still pending") {
		t.Fatalf("refresh in CI: exit %d, stdout %q, stderr %q", code, out, errs)
	}

	// A terminal: what it does, counts and percentage, on one rewritten line that ends.
	yaml += "  - to: \"+41 79 302 67 04\"\n"
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := run(t, env, false, "apply", "-state", st, "-auto-approve", dir); code != 0 {
		t.Fatal("apply of the new recipient")
	}
	code, _, errs = run(t, env, true, "refresh", "-state", st)
	if code != 0 || !strings.HasPrefix(errs, "\rReading delivery status: ") || !strings.Contains(errs, "1/1 (100%)") || !strings.HasSuffix(errs, "\033[K\n") {
		t.Errorf("refresh on a terminal: exit %d, stderr %q", code, errs)
	}
	// -json keeps stderr quiet even on a terminal.
	if code, _, errs := run(t, env, true, "refresh", "-state", st, "-json"); code != 0 || errs != "" {
		t.Errorf("refresh -json on a terminal: exit %d, stderr %q", code, errs)
	}
}

func TestProgressLine(t *testing.T) {
	for _, c := range []struct {
		done, total int
		elapsed     time.Duration
		want        string
	}{
		{0, 200000, 0, "Sending: 0/200,000 (0%)"},
		{1500, 200000, 500 * time.Millisecond, "Sending: 1,500/200,000 (0%)"}, // too early to tell a rate
		{50000, 200000, 10 * time.Second, "Sending: 50,000/200,000 (25%), 5,000/s, about 30s left"},
		{2960, 2960, 36 * time.Second, "Sending: 2,960/2,960 (100%), 82/s, took 36s"},
		{0, 0, 0, "Sending: 0/0 (100%)"},
	} {
		if got := progressLine("Sending", c.done, c.total, c.elapsed); got != c.want {
			t.Errorf("progressLine(%d, %d, %s) = %q, want %q", c.done, c.total, c.elapsed, got, c.want)
		}
	}
}
