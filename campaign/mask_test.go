package campaign_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/smsform/smsform/campaign"
)

func TestMaskNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+41793026731", "+41 •• ••• •• 31"},
		{"+447911123460", "+44 •• ••• •• 60"},
		{"+12125550123", "+1 •• ••• •• 23"},
		{"+8613800138000", "+86 •• ••• •• 00"},
		{"+358401234567", "+358 •• ••• •• 67"}, // a three-digit country code
		{"+88213400123", "+882 •• ••• •• 23"},  // a calling code of no country
		{"+41 79 302 67 31", "+41 •• ••• •• 31"},
		{"079 302 67 31", "•• ••• •• 31"}, // no country code to keep
		{"41793026731", "•• ••• •• 31"},
		{"+999123456789", "•• ••• •• 89"}, // no such calling code: no digit of it shown
		{"+41123", "+41 ••"},              // too short to hide anything: nothing shown
		{"12", "••"},
		{"", "••"},
		{"hello", "••"},
		{"+41\x1b[2J793026731", "+41 •• ••• •• 31"}, // nothing but digits survives
	}
	for _, tt := range tests {
		if got := campaign.MaskNumber(tt.in); got != tt.want {
			t.Errorf("MaskNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestMaskNumberRevealsNothingElse: whatever the number, a masked one holds its country code
// and last two digits, and looks the same as any other number of that country ending so.
func TestMaskNumberRevealsNothingElse(t *testing.T) {
	numbers := []string{"+41793026731", "+41443026731", "+4179302673131", "+4930123431", "+4962211234531", "+33612345631"}
	shape := regexp.MustCompile(`^\+(\d{1,3}) •• ••• •• (\d\d)$`)
	for _, n := range numbers {
		got := campaign.MaskNumber(n)
		m := shape.FindStringSubmatch(got)
		if m == nil || !strings.HasPrefix(n, "+"+m[1]) || !strings.HasSuffix(n, m[2]) {
			t.Errorf("MaskNumber(%q) = %q: want +CC •• ••• •• and the last two digits", n, got)
		}
	}
	// Berlin (+49 30, a short area code) and Heidelberg (+49 6221) numbers of different
	// lengths look alike once masked.
	if a, b := campaign.MaskNumber("+4930123431"), campaign.MaskNumber("+4962211234531"); a != b {
		t.Errorf("masked numbers differ by length or area code: %q and %q", a, b)
	}
}

func TestMaskNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"to +41793026731 failed", "to +41 •• ••• •• 31 failed"},
		{"call +41 79 302 67 31.", "call +41 •• ••• •• 31."},
		{"+1-212-555-0123", "+1 •• ••• •• 23"},
		{`"079 302 67 31" is not a valid number for CH`, `"•• ••• •• 31" is not a valid number for CH`},
		{"Invalid destination address 41793026731", "Invalid destination address •• ••• •• 31"},
		{"+41793026731,+41793026732", "+41 •• ••• •• 31,+41 •• ••• •• 32"},
		// Not numbers: too short, inside a word, a FILE:LINE, dates, counts, ids, prices.
		{"people.csv:12345678: to: bad", "people.csv:12345678: to: bad"},
		{"sf-09222492fd78506493e232428b7cad91", "sf-09222492fd78506493e232428b7cad91"},
		{"2026-11-27T09:14:03Z 1,234,567 rows 0.072500 CHF", "2026-11-27T09:14:03Z 1,234,567 rows 0.072500 CHF"},
		{"code 123456, prefix +4179", "code 123456, prefix +4179"},
		{"otp-r1-0000000000000001x", "otp-r1-0000000000000001x"},
		// Already masked stays as it is.
		{"+41 •• ••• •• 31", "+41 •• ••• •• 31"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := campaign.MaskNumbers(tt.in); got != tt.want {
			t.Errorf("MaskNumbers(%q) =\n%q, want\n%q", tt.in, got, tt.want)
		}
	}
}

func TestMaskRender(t *testing.T) {
	c := loadOne(t, map[string]string{"c.yaml": `id: c
from: Shop
text: "Hi {{.name}}, call us on 0800 123 456 or reply to {{.phone}}."
destinations:
  - to: "+41793026731"
    vars: {name: Ann, phone: "+41 79 302 67 99"}
`})
	r := c.NewRenderer()
	plain, err := campaign.Mask(false).Render(r, c.Recipients.At(0))
	if err != nil || plain != "Hi Ann, call us on 0800 123 456 or reply to +41 79 302 67 99." {
		t.Errorf("unmasked: %q, %v", plain, err)
	}
	// The template's own number is the campaign's and stays; the recipient's is masked.
	masked, err := campaign.Mask(true).Render(r, c.Recipients.At(0))
	if err != nil || masked != "Hi Ann, call us on 0800 123 456 or reply to +41 •• ••• •• 99." {
		t.Errorf("masked: %q, %v", masked, err)
	}
	if got := campaign.Mask(false).Number("+41793026731"); got != "+41793026731" {
		t.Errorf("an unmasked number is %q", got)
	}
	if got := campaign.Mask(true).Text("to +41793026731"); got != "to +41 •• ••• •• 31" {
		t.Errorf("a masked text is %q", got)
	}
}
