package campaign

import (
	"math/rand/v2"
	"testing"
)

// partsReference is Parts as it was: find the encoding, then count every character's
// cost and split (split, unchanged).
func partsReference(text string) (int, Encoding) {
	for _, r := range text {
		if gsmCost(r) == 0 {
			return split(text, UCS2)
		}
	}
	return split(text, GSM7)
}

// TestPartsOnePass: the one-pass count agrees with the definition on random texts near
// the parts' limits, of GSM characters (basic and escaped, ASCII or not) with now and then
// one outside the alphabet ('`', 'ł', an emoji outside the BMP).
func TestPartsOnePass(t *testing.T) {
	t.Parallel()
	gsm := []rune("aZ09 .,!?@£$é\nÄ_{}[]~^|\\€\f")
	other := []rune("`ł😀")
	rng := rand.New(rand.NewPCG(18, 7))
	for range 20000 {
		n := rng.IntN(480)
		text := make([]rune, n)
		for i := range text {
			text[i] = gsm[rng.IntN(len(gsm))]
		}
		if n > 0 && rng.IntN(3) == 0 {
			text[rng.IntN(n)] = other[rng.IntN(len(other))]
		}
		s := string(text)
		gotN, gotEnc := Parts(s)
		wantN, wantEnc := partsReference(s)
		if gotN != wantN || gotEnc != wantEnc {
			t.Fatalf("Parts(%q) = %d, %s; want %d, %s", s, gotN, gotEnc, wantN, wantEnc)
		}
	}
	for r := range rune(128) {
		if got, want := int(gsmASCII[r]), map[bool]int{true: 1}[gsmBasic[r]]+map[bool]int{true: 2}[gsmExt[r]]; got != want {
			t.Errorf("gsmASCII[%q] = %d, want %d", r, got, want)
		}
	}
}
