package cli

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/smsform/smsform/internal/sandbox"
)

// TestNumbersReadAlike: `state opt-outs add` and `test-send` read a phone number the same
// way (campaign.Number): each accepts or refuses the same inputs, and an accepted one is the
// same E.164 number in both. The default region is the campaign's default_region for
// test-send, -region for opt-outs.
func TestNumbersReadAlike(t *testing.T) {
	srv := httptest.NewServer(sandbox.New(sandbox.Options{}))
	defer srv.Close()
	dir := t.TempDir()
	yaml := "id: c\nfrom: InfoSMS\ntext: Hi\ndefault_region: CH\ndestinations:\n  - to: \"+41 79 302 67 01\"\n"
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"INFOBIP_BASE_URL": srv.URL, "INFOBIP_API_KEY": "k"}
	st := filepath.Join(dir, "st.db")
	if code, _, errs := run(t, env, false, "init", "-state", st); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, errs)
	}
	sentTo := regexp.MustCompile(`^Test send of campaign c to (\+[0-9]+):`)
	optedOut := regexp.MustCompile(`^Recorded the opt-out of (\+[0-9]+) `)
	for _, tc := range []struct {
		in   string
		want string // the E.164 number, "" when refused
	}{
		{"079 302 67 11", "+41793026711"},      // national, with the default region
		{"+41793026712", "+41793026712"},       // E.164
		{"+41 79-302 67-13", "+41793026713"},   // spaces and dashes
		{"+41 (79) 302.67.14", "+41793026714"}, // brackets and dots
		{"0041 79 302 67 15", "+41793026715"},  // the international prefix
		{"+41 12 345", ""},                     // not a valid Swiss number
		{"+417930267161234567", ""},            // too long
		{"+41 79 302 67 1x", ""},               // a letter too many
		{"hello", ""},                          // letters
		{"", ""},                               // nothing
	} {
		// test-send first: an opted-out number is refused by it.
		tsCode, tsOut, tsErr := run(t, env, false, "test-send", "-state", st, "-to", tc.in, dir)
		ooCode, ooOut, ooErr := run(t, env, false, "state", "opt-outs", "add", "-state", st, "-region", "CH", "-by", "qa", "--", tc.in)
		if (tsCode == 0) != (ooCode == 0) {
			t.Errorf("%q: test-send exit %d (%s), opt-outs add exit %d (%s); want the same answer", tc.in, tsCode, tsErr, ooCode, ooErr)
			continue
		}
		if tc.want == "" {
			if tsCode == 0 {
				t.Errorf("%q: accepted by both (%s; %s), want refused", tc.in, tsOut, ooOut)
			}
			continue
		}
		ts, oo := sentTo.FindStringSubmatch(tsOut), optedOut.FindStringSubmatch(ooOut)
		if ts == nil || oo == nil || ts[1] != tc.want || oo[1] != tc.want {
			t.Errorf("%q: test-send %q (%s), opt-outs add %q (%s); want both %s", tc.in, tsOut, tsErr, ooOut, ooErr, tc.want)
		}
	}
}
