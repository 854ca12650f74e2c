package campaign_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
)

func TestSuppressionLists(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.yaml": lines(
			"id: spring-promo",
			"from: Shop",
			"text: Hi",
			"default_region: CH",
			"destinations: [{to: \"+41793026731\"}, {to: \"+41793026732\"}]",
			"suppression_lists: [lists/stop.csv, lists/shop.csv]",
		),
		"b.yaml": lines(
			"id: summer-promo",
			"from: Shop",
			"text: Hi",
			"default_region: CH",
			"destinations: [{to: \"+41793026731\"}]",
			"suppression_lists: [lists/stop.csv]",
		),
		"otp.yaml": lines(
			"id: otp",
			"purpose: transactional",
			"default_region: CH",
			"from: Shop",
			"text: Your code",
			"destinations: [{to: \"+41793026731\"}]",
			"suppression_lists: [lists/stop.csv]",
		),
		// Spreadsheet export: BOM, CRLF, extra column, To spelled number, a repeat.
		"lists/stop.csv": "\uFEFFName,Number,Reason,Date\r\nAnn,079 302 67 31,STOP by e-mail,2026-11-30\r\nAnn again,+41793026731,second entry,2026-12-01\r\n",
		"lists/shop.csv": lines("to", "+41 79 302 67 32"),
	})
	set := mustLoad(t, dir)
	if len(set.SuppressionLists) != 2 {
		t.Fatalf("SuppressionLists = %d, want 2 (each file read once)", len(set.SuppressionLists))
	}
	spring, summer, otp := set.Find("spring-promo"), set.Find("summer-promo"), set.Find("otp")
	if spring.Suppressions[0] != summer.Suppressions[0] {
		t.Error("two campaigns naming stop.csv got two copies of it")
	}
	s, ok := spring.Suppressed("+41793026731")
	want := campaign.Suppression{Number: "+41793026731", Source: filepath.Join(dir, "lists/stop.csv") + ":2",
		Date: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), Reason: "STOP by e-mail"}
	if !ok || s != want {
		t.Errorf("Suppressed(+41793026731) = %+v, %v; want %+v (the first line naming it)", s, ok, want)
	}
	if s, ok := spring.Suppressed("+41793026732"); !ok || s.Source != filepath.Join(dir, "lists/shop.csv")+":2" || !s.Date.IsZero() {
		t.Errorf("Suppressed(+41793026732) = %+v, %v; want the entry of shop.csv, no date", s, ok)
	}
	if _, ok := summer.Suppressed("+41793026732"); ok {
		t.Error("summer-promo suppresses a number only on a list it does not name")
	}
	if _, ok := otp.Suppressed("+41793026731"); ok {
		t.Error("a transactional campaign is suppressed")
	}
	if !spring.IsMarketing() || otp.IsMarketing() || spring.Purpose != campaign.Marketing {
		t.Errorf("purpose: spring %q, otp %q", spring.Purpose, otp.Purpose)
	}
}

func TestSuppressionListProblems(t *testing.T) {
	campaignFile := func(lists string) string {
		return lines("id: c1", "from: Shop", "text: Hi", "destinations: [{to: \"+41793026731\"}]", "suppression_lists: "+lists)
	}
	tests := []struct {
		name  string
		files map[string]string
		want  []want
	}{
		{"bad number and date at their lines", map[string]string{
			"c.yaml": campaignFile("[s.csv]"),
			"s.csv":  lines("number,date", "+41793026731,2026-11-30", "079 302 67 31,", "+41793026733,30.11.2026"),
		}, []want{
			{"s.csv", 3, "number", `"079 302 67 31" has no country code`},
			{"s.csv", 4, "date", `"30.11.2026" must be a date YYYY-MM-DD`},
		}},
		{"no number column", map[string]string{
			"c.yaml": campaignFile("[s.csv]"),
			"s.csv":  lines("phone,reason", "+41793026731,STOP"),
		}, []want{{"s.csv", 1, "number", "the header has no `number` column"}}},
		{"number and to both", map[string]string{
			"c.yaml": campaignFile("[s.csv]"),
			"s.csv":  lines("number,to", "+41793026731,+41793026731"),
		}, []want{{"s.csv", 1, "to", "named twice"}}},
		{"empty file", map[string]string{
			"c.yaml": campaignFile("[s.csv]"),
			"s.csv":  "",
		}, []want{{"s.csv", 1, "", "the file is empty"}}},
		{"missing file", map[string]string{
			"c.yaml": campaignFile("[nope.csv]"),
		}, []want{{"c.yaml", 5, "suppression_lists[0]", "no such file or directory"}}},
		{"second list missing: its own index", map[string]string{
			"c.yaml": campaignFile("\n  - s.csv\n  - nope.csv"),
			"s.csv":  lines("number"),
		}, []want{{"c.yaml", 7, "suppression_lists[1]", "no such file or directory"}}},
		{"outside the root", map[string]string{
			"c.yaml": campaignFile("[../s.csv]"),
		}, []want{{"c.yaml", 5, "suppression_lists[0]", "outside the campaign root"}}},
		{"a directory", map[string]string{
			"c.yaml":      campaignFile("[lists]"),
			"lists/x.csv": "number\n",
		}, []want{{"c.yaml", 5, "suppression_lists[0]", "is not a regular file"}}},
		{"a symlink out of the root", map[string]string{
			"c.yaml": campaignFile("[link.csv]"),
		}, []want{{"c.yaml", 5, "suppression_lists[0]", "outside the campaign root"}}},
		{"named by two campaigns of two regions: read once, each number for each region", map[string]string{
			"c.yaml": campaignFile("[s.csv]"),
			"d.yaml": lines("id: d", "from: Shop", "text: Hi", "default_region: CH", "destinations: [{to: \"+41793026731\"}]", "suppression_lists: [s.csv]"),
			"s.csv":  lines("number,date", "079 302 67 31,2026-11-30", "+41793026733,30.11.2026"),
		}, []want{
			{"s.csv", 2, "number", `"079 302 67 31" has no country code`},
			{"s.csv", 3, "date", `"30.11.2026" must be a date YYYY-MM-DD`},
		}},
		{"missing, named by two campaigns: at each", map[string]string{
			"c.yaml": campaignFile("[nope.csv]"),
			"d.yaml": lines("id: d", "from: Shop", "text: Hi", "destinations: [{to: \"+41793026731\"}]", "suppression_lists: [nope.csv]"),
		}, []want{
			{"c.yaml", 5, "suppression_lists[0]", "no such file or directory"},
			{"d.yaml", 5, "suppression_lists[0]", "no such file or directory"},
		}},
		{"a quoted field over many lines: bounded, at the line it starts", map[string]string{
			"c.yaml": campaignFile("[s.csv]"),
			"s.csv":  "number,reason\n+41793026731,\"" + strings.Repeat(strings.Repeat("y", 99)+"\n", 1000) + "\"\n",
		}, []want{{"s.csv", 2, "", "the record that starts on this line runs past 65536 bytes"}}},
		{"a FIFO: refused, not waited on", map[string]string{
			"c.yaml": campaignFile("[fifo.csv]"),
		}, []want{{"c.yaml", 5, "suppression_lists[0]", "is not a regular file"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			if err := os.WriteFile(filepath.Join(parent, "s.csv"), []byte("number\n+41793026731\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(parent, "root")
			writeFiles(t, dir, tt.files)
			if err := os.Symlink(filepath.Join(parent, "s.csv"), filepath.Join(dir, "link.csv")); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(filepath.Join(dir, "fifo.csv"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := campaign.Load(dir)
			checkProblems(t, dir, err, tt.want)
		})
	}
}

func TestQuietHoursField(t *testing.T) {
	c := loadOne(t, map[string]string{"c.yaml": lines("id: c1", "from: Shop", "text: Hi", "destinations: [{to: \"+41793026731\"}]", `quiet_hours: {from: "21:30", to: "08:00"}`)})
	if c.Quiet == nil || *c.Quiet != (campaign.Quiet{From: 21*60 + 30, To: 8 * 60}) || c.Quiet.String() != "21:30-08:00" {
		t.Errorf("Quiet = %v, want 21:30-08:00", c.Quiet)
	}
	at := time.Date(2026, 6, 10, 20, 0, 0, 0, time.UTC) // 22:00 in Zurich, 01:30 in Kolkata
	for number, want := range map[string]time.Time{
		"+41793026731":  time.Date(2026, 6, 11, 6, 0, 0, 0, time.UTC),  // 08:00 CEST
		"+919876543210": time.Date(2026, 6, 11, 2, 30, 0, 0, time.UTC), // 08:00 IST
	} {
		if got, err := c.NextAllowedFor(number, at); err != nil || !got.Equal(want) {
			t.Errorf("NextAllowedFor(%s) = %v, %v; want %v", number, got, err, want)
		}
	}
	if got, err := (&campaign.Campaign{}).NextAllowedFor("+41793026731", at); err != nil || !got.Equal(at) {
		t.Errorf("without quiet hours: %v, %v; want %v", got, err, at)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"c.yaml": lines("id: c1", "from: Shop", "text: Hi", "destinations: [{to: \"+41793026731\"}]", "quiet_hours:", `  from: "08:00"`, `  to: "08:00"`, "purpose: promo")})
	_, err := campaign.Load(dir)
	checkProblems(t, dir, err, []want{
		{"c.yaml", 7, "quiet_hours.to", "from and to must differ"},
		{"c.yaml", 8, "purpose", `"promo" must be one of marketing, transactional`},
	})
}
