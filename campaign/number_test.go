package campaign_test

import (
	"testing"

	"github.com/smsform/smsform/campaign"
)

func TestCallingCode(t *testing.T) {
	for _, tc := range []struct {
		digits string
		cc     int
		rest   string
	}{
		{"41793026731", 41, "793026731"},
		{"12025550123", 1, "2025550123"},
		{"79161234567", 7, "9161234567"},
		{"352123456", 352, "123456"}, // three digits: Luxembourg
		{"80012345678", 800, "12345678"},
		{"41", 41, ""},    // only the code
		{"", 0, ""},       // nothing
		{"999", 0, "999"}, // no calling code starts 9, 99 or 999
		{"4x1", 0, "4x1"},
		{"+41", 0, "+41"}, // digits only: no '+'
	} {
		cc, rest := campaign.CallingCode(tc.digits)
		if cc != tc.cc || rest != tc.rest {
			t.Errorf("CallingCode(%q) = %d, %q; want %d, %q", tc.digits, cc, rest, tc.cc, tc.rest)
		}
	}
}

// TestNumberRegionHint: a national number without a region is refused with the hint the
// caller gives, where the region comes from; campaign files' Normalize names default_region.
func TestNumberRegionHint(t *testing.T) {
	if _, problem := campaign.Number("079 302 67 31", "", "give -region"); problem != `"079 302 67 31" has no country code: write it as +<country><number>, or give -region` {
		t.Errorf("Number: %s", problem)
	}
	if _, problem := campaign.Normalize("079 302 67 31", ""); problem != `"079 302 67 31" has no country code: write it as +<country><number>, or set default_region` {
		t.Errorf("Normalize: %s", problem)
	}
	if n, problem := campaign.Number("079 302 67 31", "CH", "give -region"); n != "+41793026731" || problem != "" {
		t.Errorf("Number with CH = %q, %q", n, problem)
	}
}
