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
// (160 septets in one part, 153 per part when split), else UCS-2 (70 UTF-16 units, 67 per
// part).
func Parts(text string) (int, Encoding) {
	septets := 0
	for _, r := range text {
		switch {
		case r < 128 && gsmASCII[r]:
			septets++
		case gsmBasic[r]:
			septets++
		case gsmExt[r]:
			septets += 2
		default:
			return ucs2Parts(text), UCS2
		}
	}
	return split(septets, 160, 153), GSM7
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

func ucs2Parts(text string) int {
	units := 0
	for _, r := range text {
		units += utf16.RuneLen(r)
	}
	return split(units, 70, 67)
}

func split(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}
