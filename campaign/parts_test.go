package campaign_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/smsform/smsform/campaign"
)

func TestParts(t *testing.T) {
	t.Parallel()
	rep := strings.Repeat
	for _, tc := range []struct {
		name  string
		text  string
		parts int
		enc   campaign.Encoding
	}{
		{"empty", "", 1, campaign.GSM7},

		// GSM-7: 160 septets in one part, 153 per part when split.
		{"1 GSM char", "a", 1, campaign.GSM7},
		{"160 GSM chars", rep("a", 160), 1, campaign.GSM7},
		{"161 GSM chars", rep("a", 161), 2, campaign.GSM7},
		{"306 GSM chars", rep("a", 306), 2, campaign.GSM7},
		{"307 GSM chars", rep("a", 307), 3, campaign.GSM7},
		{"3825 GSM chars", rep("a", 25*153), 25, campaign.GSM7},
		{"3826 GSM chars", rep("a", 25*153+1), 26, campaign.GSM7},
		{"all ASCII GSM chars", "@$\n\r _!\"#%&'()*+,-./0123456789:;<=>?ABCXYZabcxyz", 1, campaign.GSM7},

		// The extension table takes two septets a character.
		{"80 euro signs", rep("€", 80), 1, campaign.GSM7},
		{"81 euro signs", rep("€", 81), 2, campaign.GSM7},
		{"159 chars and a euro sign", rep("a", 159) + "€", 2, campaign.GSM7},
		{"158 chars and a euro sign", rep("a", 158) + "€", 1, campaign.GSM7},
		{"80 open brackets", rep("[", 80), 1, campaign.GSM7},
		{"81 close brackets", rep("]", 81), 2, campaign.GSM7},
		{"every extension char", "^{}\\[~]|€\f", 1, campaign.GSM7},
		{"extension chars count double", rep("{}", 40) + "a", 2, campaign.GSM7},
		{"153 brackets", rep("[", 153), 3, campaign.GSM7}, // 306 septets; an escape pair is never split: 76 a part

		// Accented letters of the GSM alphabet stay GSM-7, one septet each.
		{"é ü ñ", "é ü ñ", 1, campaign.GSM7},
		{"160 é", rep("é", 160), 1, campaign.GSM7},
		{"161 ü", rep("ü", 161), 2, campaign.GSM7},
		{"GSM letters", "èéùìòÇØøÅåÆæßÉÄÖÑÜäöñüà¡¿§£¥¤ΔΦΓΛΩΠΨΣΘΞ", 1, campaign.GSM7},
		{"Chloé", "Hi Chloé, your PIN is 1a2B3c.", 1, campaign.GSM7},

		// Anything else makes the whole text UCS-2: 70 units in one part, 67 per part.
		{"ç is not GSM", "ç", 1, campaign.UCS2},
		{"ç in a long text", rep("a", 100) + "ç", 2, campaign.UCS2},
		{"á", "á", 1, campaign.UCS2},
		{"Greek lower case", "δ", 1, campaign.UCS2},
		{"backtick", "`", 1, campaign.UCS2},
		{"tab", "a\tb", 1, campaign.UCS2},
		{"70 UCS-2", rep("ж", 70), 1, campaign.UCS2},
		{"71 UCS-2", rep("ж", 71), 2, campaign.UCS2},
		{"134 UCS-2", rep("ж", 134), 2, campaign.UCS2},
		{"135 UCS-2", rep("ж", 135), 3, campaign.UCS2},
		{"1675 UCS-2", rep("ж", 25*67), 25, campaign.UCS2},
		{"1676 UCS-2", rep("ж", 25*67+1), 26, campaign.UCS2},
		{"69 GSM chars and one ж", rep("a", 69) + "ж", 1, campaign.UCS2},
		{"euro sign in UCS-2 is one unit", rep("€", 69) + "ж", 1, campaign.UCS2},

		// A character outside the BMP is a surrogate pair: two UTF-16 units.
		{"35 emoji", rep("😀", 35), 1, campaign.UCS2},
		{"36 emoji", rep("😀", 36), 2, campaign.UCS2},
		{"69 chars and an emoji", rep("a", 69) + "😀", 2, campaign.UCS2},
		{"68 chars and an emoji", rep("a", 68) + "😀", 1, campaign.UCS2},
		{"67 emoji", rep("😀", 67), 3, campaign.UCS2}, // a surrogate pair is never split: 33 a part
		{"68 emoji", rep("😀", 68), 3, campaign.UCS2},
	} {
		parts, enc := campaign.Parts(tc.text)
		if parts != tc.parts || enc != tc.enc {
			t.Errorf("%s: Parts = %d, %s; want %d, %s", tc.name, parts, enc, tc.parts, tc.enc)
		}
	}
}

// TestPartsSplitBoundary: a split message does not cut an escape sequence (GSM-7) or a
// surrogate pair (UCS-2) in two, so such a character at a part's edge moves whole to the
// next part, which can need one part more than the plain count.
func TestPartsSplitBoundary(t *testing.T) {
	t.Parallel()
	rep := strings.Repeat
	var bugs []string
	for _, tc := range []struct {
		name  string
		text  string
		parts int
	}{
		// 152 + 2 + 152 = 306 septets, but the euro sign cannot start at septet 153.
		{"escape at a part edge", rep("a", 152) + "€" + rep("a", 152), 3},
		// 66 + 2 + 66 = 134 units, but the pair cannot start at unit 67.
		{"surrogate pair at a part edge", rep("ж", 66) + "😀" + rep("ж", 66), 3},
	} {
		if parts, _ := campaign.Parts(tc.text); parts != tc.parts {
			bugs = append(bugs, fmt.Sprintf("%s: Parts = %d, want %d", tc.name, parts, tc.parts))
		}
	}
	if len(bugs) > 0 {
		t.Errorf("parts.go counts septets/units without keeping a character whole in one part:\n%s", strings.Join(bugs, "\n"))
	}
}

func BenchmarkParts(b *testing.B) {
	text := "Hi Chloé, your PIN is 1a2B3c. Reply STOP to opt out."
	b.ReportAllocs()
	for b.Loop() {
		campaign.Parts(text)
	}
}
