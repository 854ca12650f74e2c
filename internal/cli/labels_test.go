package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsform/smsform/runner"
)

func TestAPIHostShowsNoCredentials(t *testing.T) {
	for raw, want := range map[string]string{
		"https://xyz12.api.infobip.com":              "xyz12.api.infobip.com",
		"https://user:s3cret@xyz12.api.infobip.com/": "xyz12.api.infobip.com",
		" http://127.0.0.1:9433 ":                    "127.0.0.1:9433",
	} {
		sys := IO{Getenv: func(string) string { return raw }}
		if got := apiHost(sys); got != want {
			t.Errorf("apiHost(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestTidyReason(t *testing.T) {
	for in, want := range map[string]string{
		`infobip: no answer after the request was sent: Post "http://127.0.0.1:9433/sms/2/text/advanced": EOF`:                "no answer after the request was sent (POST 127.0.0.1:9433/sms/2/text/advanced: EOF)",
		`infobip: request not sent: Get "https://u:p@x.api.infobip.com/sms/1/logs?messageId=a": dial tcp: connection refused`: "request not sent (GET x.api.infobip.com/sms/1/logs: dial tcp: connection refused)",
		"REJECTED_DESTINATION: Destination rejected":                                                                          "REJECTED_DESTINATION: Destination rejected",
	} {
		if got := tidyReason(in); got != want {
			t.Errorf("tidyReason(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}

func TestConvertSummaryCounts(t *testing.T) {
	var out bytes.Buffer
	res := runner.ConvertResult{Rows: 1234567, Submitted: 200000, AlreadyConverted: 1000, Unmatched: 1, DuplicateRows: 1, NotSentMessages: 2}
	if err := printConvert(IO{Stdout: &out}, false, false, res, false); err != nil {
		t.Fatal(err)
	}
	want := "Submitted 200,000 conversions from 1,234,567 rows; 1,000 already converted, 1 unmatched, 0 sent without tracking, 1 repeated row, 2 rows of messages never sent (rejected or unknown outcome).\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
	out.Reset()
	if err := printConvert(IO{Stdout: &out}, true, false, res, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"rows": 1234567,`) { // machine output keeps plain digits
		t.Errorf("JSON: %s", out.String())
	}
}

func TestExampleGitignore(t *testing.T) {
	data, err := os.ReadFile("../../examples/ci/gitignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"*.db", "*.db-wal", "*.db.lock"} {
		if !strings.Contains("\n"+string(data)+"\n", "\n"+want+"\n") {
			t.Errorf("examples/ci/gitignore lacks %s", want)
		}
	}
}

func TestLargeCountsSeparated(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("to\n")
	for i := range 1200 {
		fmt.Fprintf(&csv, "+4179%07d\n", 3000000+i)
	}
	files := map[string]string{
		"big.yaml": "id: big\nfrom: InfoSMS\ntext: Hi\ndestinations_file: big.csv\n",
		"big.csv":  csv.String(),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errs := run(t, nil, false, "validate", dir); code != 0 || out != "Success! 1 campaign with 1,200 recipients in 1 file is valid.\n" {
		t.Errorf("validate: exit %d, %q %q", code, out, errs)
	}
	if code, _, errs := run(t, nil, false, "init", "-state", filepath.Join(dir, "st.db")); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, errs)
	}
	code, out, errs := run(t, nil, false, "plan", "-state", filepath.Join(dir, "st.db"), dir)
	if code != 0 || !strings.HasPrefix(out, "Plan: 1,200 to send (1,200 SMS parts).\n") || !strings.Contains(out, "... and 1,195 more (-verbose shows all)") {
		t.Errorf("plan: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = run(t, nil, false, "plan", "-json", "-state", filepath.Join(dir, "st.db"), dir)
	if code != 0 || !strings.Contains(out, `"send":1200,`) {
		t.Errorf("plan -json keeps plain digits: exit %d, %.200s", code, out)
	}
}
