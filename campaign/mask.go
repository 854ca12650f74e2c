package campaign

import (
	"strconv"
	"strings"
)

// Mask says whether human output masks phone numbers (`-mask-numbers`,
// SMSFORM_MASK_NUMBERS=1): whatever prints a number, a recipient's text or a text that may
// quote a number for people goes through its methods, which do nothing when it is false.
// JSON output never does: it is exact, for machines.
type Mask bool

// Number writes a phone number (E.164, or as someone wrote it) for people: as it is, or
// masked by MaskNumber.
func (m Mask) Number(n string) string {
	if !m {
		return n
	}
	return MaskNumber(n)
}

// Text writes a text that may quote phone numbers (a problem, Infobip's reason, a reply's
// sender) for people: as it is, or with every number in it masked by MaskNumbers.
func (m Mask) Text(s string) string {
	if !m {
		return s
	}
	return MaskNumbers(s)
}

// Render renders a recipient's text for people. Masked, it renders the template over the
// recipient's vars with the numbers in them masked: what the template itself says (a
// hotline, a shop's number) is the campaign's, in the repository, and stays readable, while
// a number that came with the recipient does not show. Should the template fail on the
// masked vars, the text is rendered as it is and every number in it masked.
func (m Mask) Render(r *Renderer, rec Recipient) (string, error) {
	if !m {
		return r.Render(rec)
	}
	masked := rec
	masked.Vars = maskVars(rec.Vars)
	if text, err := r.Render(masked); err == nil {
		return text, nil
	}
	text, err := r.Render(rec)
	return MaskNumbers(text), err
}

func maskVars(v Vars) Vars {
	values := v.Values()
	changed := false
	for i, s := range values {
		if m := MaskNumbers(s); m != s {
			values[i], changed = m, true
		}
	}
	if !changed {
		return v
	}
	return NewVars(v.names, values...)
}

// maskedMiddle stands for every digit between the country code and the last two, always
// the same, whatever the number's length: a masked number shows its country code and its
// last two digits, and nothing else (not its length, nor how its country groups it, which
// would tell an area code from a mobile range).
const maskedMiddle = "•• ••• ••"

// MaskNumber writes a phone number as its country code and last two digits:
// "+41793026731" is "+41 •• ••• •• 31". A number written without its country code
// ("079 302 67 31") keeps only the last two digits ("•• ••• •• 31"), and a number too short
// to hide anything by that rule (under four digits after the country code) shows no digit
// but the country code. Whatever is not a digit or the leading '+' is dropped: the result
// holds nothing of n but those digits.
func MaskNumber(n string) string {
	n = strings.TrimSpace(n)
	var digits []byte
	for i := 0; i < len(n); i++ {
		if c := n[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	var b strings.Builder
	if strings.HasPrefix(n, "+") {
		if cc := countryCode(digits); cc > 0 {
			b.WriteString("+")
			b.WriteString(strconv.Itoa(cc))
			b.WriteByte(' ')
			digits = digits[len(strconv.Itoa(cc)):]
		}
	}
	if len(digits) < 4 {
		b.WriteString("••")
		return b.String()
	}
	b.WriteString(maskedMiddle)
	b.WriteByte(' ')
	b.Write(digits[len(digits)-2:])
	return b.String()
}

// countryCode is the calling code digits start with, 0 for none or for digits that are
// only a calling code.
func countryCode(digits []byte) int {
	if cc, rest := CallingCode(string(digits)); rest != "" {
		return cc
	}
	return 0
}

// minMaskedDigits is how many digits make a run in a text a phone number for MaskNumbers:
// the shortest national numbers have 7 or so, while the counts, line numbers, prices and
// dates smsform writes beside them have fewer, or are written otherwise (1,234,567;
// 2026-11-27).
const minMaskedDigits = 7

// MaskNumbers masks every phone number in a text, as MaskNumber writes it: a '+' and at
// least 7 digits, in groups joined by single spaces, hyphens or dots ("+41 79 302 67 31",
// "+41793026731"), and a run of at least 7 digits, in groups joined by single spaces
// ("079 302 67 31", "41793026731"). A run that touches a letter or digit (a messageId such
// as sf-4f3352ae...) is not a number, and neither is one between two colons (the LINE of
// FILE:LINE:). The rest of the text is kept as it is.
func MaskNumbers(s string) string {
	var b strings.Builder
	last := 0 // s[last:] is not written yet
	for i := 0; i < len(s); i++ {
		c := s[i]
		plus := c == '+' && i+1 < len(s) && isDigit(s[i+1])
		if !plus && !isDigit(c) {
			continue
		}
		end, n := numberEnd(s, i, plus)
		switch {
		case i > 0 && isWord(s[i-1]), end < len(s) && isWord(s[end]), n < minMaskedDigits:
		case !plus && i > 0 && s[i-1] == ':' && end < len(s) && s[end] == ':':
		default:
			b.WriteString(s[last:i])
			b.WriteString(MaskNumber(s[i:end]))
			last = end
		}
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// numberEnd returns the end of the number starting at s[i] (a '+' when plus) and how many
// digits it holds: digits, and single separators between them (for a number with '+', a
// space, hyphen or dot; without, a space).
func numberEnd(s string, i int, plus bool) (end, digits int) {
	j := i
	if plus {
		j++
	}
	for j < len(s) {
		switch {
		case isDigit(s[j]):
			digits++
			j++
		case j+1 < len(s) && isDigit(s[j+1]) && j > i && isDigit(s[j-1]) && (s[j] == ' ' || (plus && (s[j] == '-' || s[j] == '.'))):
			j++ // a separator between two digits
		default:
			return j, digits
		}
	}
	return j, digits
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isWord reports an ASCII letter or digit.
func isWord(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}
