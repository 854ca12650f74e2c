package runner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
)

// TestSaveHTMLReport: the page is written 0644 in the view asked for, never through a link.
func TestSaveHTMLReport(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
	dir := t.TempDir()
	for _, by := range []string{"", runner.ByCountry} {
		path := filepath.Join(dir, "report-"+by+".html")
		rep, err := runner.SaveHTMLReport(ctx, s, "", by, path, time.Now())
		if err != nil {
			t.Fatalf("by %q: %v", by, err)
		}
		if rep.By != by || len(rep.Campaigns) != 1 {
			t.Errorf("by %q: report %+v", by, rep)
		}
		data, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(data), "otp") {
			t.Errorf("by %q: page %d bytes, %v; want it to name the campaign", by, len(data), err)
		}
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o644 {
			t.Errorf("by %q: %v, %v; want mode 0644", by, info, err)
		}
	}
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.html")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := runner.SaveHTMLReport(ctx, s, "", "", link, time.Now()); err == nil {
		t.Error("wrote the report through a link")
	}
	if data, _ := os.ReadFile(target); string(data) != "keep" {
		t.Errorf("the link's target was changed: %q", data)
	}
	if _, err := runner.SaveHTMLReport(ctx, s, "", "week", filepath.Join(dir, "x.html"), time.Now()); err == nil {
		t.Error("-by week accepted")
	}
}
