package campaign

import "unicode/utf16"

// MaxParts is the most SMS parts Infobip accepts for one message.
const MaxParts = 25

// Encoding is the alphabet a text is sent in.
type Encoding string

// The two encodings: GSM 03.38 (7-bit) and UCS-2.
const (
	GSM7 Encoding = "GSM-7"
	UCS2 Encoding = "UCS-2"
)

// gsmBasic is the GSM 03.38 default alphabet; gsmExt the characters sent with an escape,
// which therefore take two septets.
var (
	gsmBasic = runeSet("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
	gsmExt   = runeSet("^{}\\[~]|€\f")
)

func runeSet(s string) map[rune]bool {
	m := make(map[rune]bool, len(s))
	for _, r := range s {
		m[r] = true
	}
	return m
}

// Parts counts the SMS parts text needs: GSM-7 when every character is in the GSM alphabet
// (160 septets in one part, 153 per part when split; an escaped character takes two
// septets), else UCS-2 (70 UTF-16 units in one part, 67 per part; a character outside the
// BMP takes two). A character is never split across two parts.
func Parts(text string) (int, Encoding) {
	enc := GSM7
	for _, r := range text {
		if gsmCost(r) == 0 {
			enc = UCS2
			break
		}
	}
	cost, single, multi := gsmCost, 160, 153
	if enc == UCS2 {
		cost, single, multi = utf16.RuneLen, 70, 67
	}
	total := 0
	for _, r := range text {
		total += cost(r)
	}
	if total <= single {
		return 1, enc
	}
	parts, used := 1, 0
	for _, r := range text {
		n := cost(r)
		if used+n > multi {
			parts, used = parts+1, 0
		}
		used += n
	}
	return parts, enc
}

// gsmCost is the septets a character takes in GSM-7, 0 if it is not in the alphabet.
func gsmCost(r rune) int {
	switch {
	case r < 128 && gsmASCII[r], gsmBasic[r]:
		return 1
	case gsmExt[r]:
		return 2
	}
	return 0
}

// gsmASCII is the ASCII subset of the GSM alphabet, looked up without hashing because
// most texts are ASCII and Parts runs once per recipient.
var gsmASCII = func() (t [128]bool) {
	for r := range gsmBasic {
		if r < 128 {
			t[r] = true
		}
	}
	return t
}()
