package campaign

import (
	"unicode/utf16"
	"unicode/utf8"
)

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
//
// It runs once per recipient: the usual text, GSM-7 in one part, is counted in one pass.
func Parts(text string) (int, Encoding) {
	septets := 0
	for _, r := range text {
		n := gsmCost(r)
		if n == 0 {
			return split(text, UCS2)
		}
		septets += n
	}
	if septets <= 160 {
		return 1, GSM7
	}
	return split(text, GSM7)
}

// split counts the parts of text in enc, whose alphabet it is in.
func split(text string, enc Encoding) (int, Encoding) {
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
	if uint32(r) < utf8.RuneSelf {
		return int(gsmASCII[r])
	}
	switch {
	case gsmBasic[r]:
		return 1
	case gsmExt[r]:
		return 2
	}
	return 0
}

// gsmASCII is gsmCost of each ASCII character, looked up without hashing because most
// texts are ASCII.
var gsmASCII = func() (t [utf8.RuneSelf]uint8) {
	for r := range gsmBasic {
		if r < utf8.RuneSelf {
			t[r] = 1
		}
	}
	for r := range gsmExt {
		if r < utf8.RuneSelf {
			t[r] = 2
		}
	}
	return t
}()
