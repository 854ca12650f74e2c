package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// TestBaseURLNeverEchoesPassword: an INFOBIP_BASE_URL with a user and password, malformed
// or not, is refused without printing them.
func TestBaseURLNeverEchoesPassword(t *testing.T) {
	for _, raw := range []string{
		"https://user:SECRET-PW@xxxxx.api.infobip.com",
		"https://user:SECRET-PW@xxx xx.api.infobip.com/%zz",
		"http://user:SECRET-PW@127.0.0.1:9300",
		"user:SECRET-PW@xxxxx.api.infobip.com",
		"ftp://SECRET-PW@host/x",
	} {
		env := map[string]string{"INFOBIP_BASE_URL": raw, "INFOBIP_API_KEY": "k"}
		_, err := lazyClient(IO{Getenv: func(k string) string { return env[k] }})()
		if err == nil || strings.Contains(err.Error(), "SECRET-PW") || !strings.Contains(err.Error(), "holds a user or password") {
			t.Errorf("INFOBIP_BASE_URL=%s: error %v, want a refusal that does not print the password", raw, err)
		}
	}
	// A malformed URL without credentials is still reported, quoted.
	env := map[string]string{"INFOBIP_BASE_URL": "https://a b/%zz", "INFOBIP_API_KEY": "k"}
	if _, err := lazyClient(IO{Getenv: func(k string) string { return env[k] }})(); err == nil || !strings.Contains(err.Error(), "https://a b/%zz") {
		t.Errorf("malformed URL: error %v", err)
	}
	// An '@' after what parses as the host is refused as well: with a password holding a
	// '/', the user and password are what a URL parser takes for the host and the path.
	for _, raw := range []string{"https://user:pa/SECRET-PW@xxxxx.api.infobip.com", "https://user:1234/SECRET-PW@xxxxx.api.infobip.com", "https://host/a@b"} {
		env := map[string]string{"INFOBIP_BASE_URL": raw, "INFOBIP_API_KEY": "k"}
		_, err := lazyClient(IO{Getenv: func(k string) string { return env[k] }})()
		if err == nil || strings.Contains(err.Error(), "SECRET-PW") || !strings.Contains(err.Error(), "holds a user or password") {
			t.Errorf("INFOBIP_BASE_URL=%s: error %v, want a refusal that does not print the password", raw, err)
		}
	}
}

// TestReportHTMLMode: the HTML report is 0644 whatever the umask.
func TestReportHTMLMode(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, umask := range []int{0, 0o002, 0o077} {
		old := syscall.Umask(umask)
		out := filepath.Join(dir, "report.html")
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), []string{"smsform", "report", "-state", db, "-html", out},
			IO{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
		syscall.Umask(old)
		if code != 0 {
			t.Fatalf("report -html: exit %d: %s", code, stderr.String())
		}
		info, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o644 {
			t.Errorf("umask %03o: report mode %v, want 0644", umask, info.Mode().Perm())
		}
		os.Remove(out)
	}
}

// TestStateListEscapesReasons: Infobip's texts recorded in the state (a status name, a
// failure reason) are printed escaped by state list: no raw control character, no line
// a CI log would run as a command.
func TestStateListEscapesReasons(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "s.db")
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	key := state.Key{Campaign: "c1", Round: 1, To: "+41793026731"}
	b, err := st.MarkSending(ctx, []state.Outgoing{{Key: key, MessageID: "sf-1", BulkID: "b-1", Parts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Settle(ctx, b, []state.Outcome{{Key: key, MessageID: "sf-1", State: state.Failed, StatusGroup: 5,
		StatusName: "REJECTED\x1b[31m", Error: "bad\n::error title=Approved::Security review passed\x1b[2J"}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := Main(ctx, []string{"smsform", "state", "list", "-state", db}, IO{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	if code != 0 {
		t.Fatalf("state list: exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, `bad\n::error title=Approved::Security review passed\x1b[2J`) || !strings.Contains(out, `REJECTED\x1b[31m`) {
		t.Errorf("state list does not show the escaped reason and status:\n%s", out)
	}
	if strings.ContainsAny(out, "\x1b") || strings.Contains(out, "\n::") {
		t.Errorf("state list prints raw control characters or a line starting with '::':\n%q", out)
	}

	// plan lists the failed message with the same reason, escaped.
	dir := t.TempDir()
	yaml := "id: c1\nfrom: InfoSMS\ntext: Hi\ndestinations: [{to: \"+41793026731\"}]\n"
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	code = Main(ctx, []string{"smsform", "plan", "-state", db, dir}, IO{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, stderr.String())
	}
	out = stdout.String()
	if !strings.Contains(out, `(failed: bad\n::error title=Approved::Security review passed\x1b[2J;`) || strings.ContainsAny(out, "\x1b") || strings.Contains(out, "\n::") {
		t.Errorf("plan does not show the failure reason escaped:\n%q", out)
	}
}
