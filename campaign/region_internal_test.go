package campaign

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// slowRegionOf is regionOf as libphonenumber answers it, every regular expression run for
// every number: what the region table must agree with.
func slowRegionOf(e164 string) string { return regionOfBy(e164, noRegionTable) }

// noRegionTable never answers, so libphonenumber does.
func noRegionTable(int, string) (string, bool, bool) { return "", false, false }

// sharedCallingCodes are the calling codes several regions share (+1, +7, +44, +47, +61,
// +212, +262, +290, +358, +590, +599 ...), from libphonenumber itself.
func sharedCallingCodes() []int {
	var ccs []int
	for cc := 1; cc < 1000; cc++ {
		if len(phonenumbers.GetRegionCodesForCountryCode(cc)) > 1 {
			ccs = append(ccs, cc)
		}
	}
	return ccs
}

// TestRegionTableAgrees: for numbers of every calling code several regions share, valid
// ones of every type of every region, numbers sharing their first digits, random digits of
// every length, and what is not a number at all, the table answers what libphonenumber does,
// and does answer (rather than leave it to libphonenumber) every number it is built for.
func TestRegionTableAgrees(t *testing.T) {
	ccs := sharedCallingCodes()
	for _, want := range []int{1, 7, 44, 47, 61, 212, 262, 290, 358, 590, 599} {
		if !slices.Contains(ccs, want) {
			t.Fatalf("+%d is not among the shared calling codes %v", want, ccs)
		}
	}
	rnd := rand.New(rand.NewPCG(18, 4))
	digits := func(n int) string { return randomDigits(rnd, n) }
	compared, answered := 0, 0
	compare := func(e164 string) {
		t.Helper()
		compared++
		if got, want := regionOf(e164), slowRegionOf(e164); got != want {
			t.Errorf("regionOf(%q) = %q; libphonenumber says %q", e164, got, want)
		}
	}
	for _, cc := range ccs {
		prefix := "+" + strconv.Itoa(cc)
		var examples []string
		for _, region := range phonenumbers.GetRegionCodesForCountryCode(cc) {
			md := metadata()[region]
			for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetGeneralDesc(), md.GetFixedLine(), md.GetMobile(), md.GetTollFree(),
				md.GetPremiumRate(), md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail()} {
				if ex := d.GetExampleNumber(); ex != "" {
					examples = append(examples, ex)
				}
			}
		}
		if len(examples) == 0 {
			t.Fatalf("+%d: no example numbers in the metadata", cc)
		}
		for _, ex := range examples {
			num, err := phonenumbers.Parse(prefix+ex, "")
			if err != nil || !phonenumbers.IsValidNumber(num) {
				continue
			}
			if !strings.HasPrefix(ex, "0") {
				if _, _, ok := numberRegion(cc, ex); !ok {
					t.Errorf("+%d %s: the table did not answer", cc, ex)
				}
				answered++
			}
			compare(prefix + ex)
			// Numbers sharing its first k digits: the same region, another, or none.
			for k := 1; k < len(ex); k++ {
				for range 4 {
					compare(prefix + ex[:k] + digits(len(ex)-k))
				}
			}
			compare(prefix + ex + digits(1)) // one digit too many
			compare(prefix + ex[:len(ex)-1]) // one too few
		}
		for n := 1; n <= 18; n++ {
			for range 40 {
				compare(prefix + digits(n))
			}
		}
		for _, bad := range []string{"", "0", "00", "x", "1x", "-1", "+1", " 1", "٣"} {
			compare(prefix + bad)
		}
	}
	// Every area code of the North American plan, each with numbers of both exchange kinds.
	for area := range 1000 {
		compare(fmt.Sprintf("+1%03d%s", area, digits(7)))
		compare(fmt.Sprintf("+1%03d2%s", area, digits(6)))
	}
	if answered < 200 {
		t.Errorf("the table answered %d valid example numbers; want the examples of every shared calling code", answered)
	}
	t.Logf("%d numbers compared, %d valid examples answered by the table", compared, answered)
}

// TestPricesFindLongestPrefix: the trie finds what trying every prefix of a number,
// longest first, finds, with prefixes nested, apart, longer than the number, and regions
// of shared calling codes after them.
func TestPricesFindLongestPrefix(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/prices.csv"
	rows := "prefix,price,currency\nCH,0.07,CHF\nUS,0.0079,USD\nCA,0.009,CAD\nJE,0.03,GBP\n" +
		"+41,0.06,CHF\n+4179,0.05,CHF\n+417912,0.04,CHF\n+1212,0.007,USD\n+1212555123456,0.001,USD\n+44,0.04,GBP\n"
	if err := os.WriteFile(path, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPrices(path)
	if err != nil {
		t.Fatal(err)
	}
	slow := func(e164 string) (Price, string, bool) {
		digits := strings.TrimPrefix(e164, "+")
		for n := len(digits); n > 0; n-- {
			if pr, ok := p.byPrefix[digits[:n]]; ok {
				return pr, "+" + digits[:n], true
			}
		}
		region := slowRegionOf(e164)
		pr, ok := p.byRegion[region]
		return pr, region, ok
	}
	rnd := rand.New(rand.NewPCG(18, 5))
	starts := []string{"+41", "+4179", "+41791", "+417912", "+1", "+1212", "+1416", "+44", "+441534", "+49", "+7", "+"}
	for range 5000 {
		e164 := starts[rnd.IntN(len(starts))]
		for range rnd.IntN(12) {
			e164 += string(byte('0' + rnd.IntN(10)))
		}
		gp, gw, gok := p.Find(e164)
		wp, ww, wok := slow(e164)
		if gp != wp || gw != ww || gok != wok {
			t.Errorf("Find(%q) = %+v, %q, %v; trying every prefix gives %+v, %q, %v", e164, gp, gw, gok, wp, ww, wok)
		}
	}
}

// slowValidE164 is validE164 as libphonenumber answers it.
func slowValidE164(raw string) bool { return validE164By(raw, noRegionTable) }

// TestValidE164Agrees: for every calling code, the table says a number is valid where
// libphonenumber does, on the example numbers of every type of every region, numbers
// sharing their first digits, and random digits of every length.
func TestValidE164Agrees(t *testing.T) {
	rnd := rand.New(rand.NewPCG(18, 6))
	digits := func(n int) string { return randomDigits(rnd, n) }
	compared, valid := 0, 0
	compare := func(e164 string) {
		compared++
		got, want := validE164(e164), slowValidE164(e164)
		if got != want {
			t.Errorf("validE164(%q) = %v; libphonenumber says %v", e164, got, want)
		}
		if want {
			valid++
		}
	}
	for cc := 1; cc < 1000; cc++ {
		regions := phonenumbers.GetRegionCodesForCountryCode(cc)
		if len(regions) == 0 {
			continue
		}
		prefix := "+" + strconv.Itoa(cc)
		for _, region := range regions {
			md := metadata()[region]
			if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY || md == nil {
				compare(prefix + digits(8))
				continue
			}
			for _, d := range []*phonenumbers.PhoneNumberDesc{md.GetFixedLine(), md.GetMobile(), md.GetTollFree(), md.GetPremiumRate(),
				md.GetSharedCost(), md.GetVoip(), md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail()} {
				ex := d.GetExampleNumber()
				if ex == "" {
					continue
				}
				compare(prefix + ex)
				for k := 1; k < len(ex); k++ {
					compare(prefix + ex[:k] + digits(len(ex)-k))
				}
				compare(prefix + ex + digits(1))
				compare(prefix + ex[:len(ex)-1])
			}
		}
		for n := 4; n <= 14; n++ {
			compare(prefix + digits(n))
		}
	}
	if valid < 1000 {
		t.Errorf("%d of %d numbers compared were valid; want the examples of every region", valid, compared)
	}
	t.Logf("%d numbers compared, %d valid", compared, valid)
}

// randomDigits is n random digits.
func randomDigits(rnd *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rnd.IntN(10))
	}
	return string(b)
}

// TestRegionTablesBounded walks every calling code's table through every digit string up to
// the longest national number: every state any input can reach. None reaches the bound
// (past which libphonenumber would answer, slowly), and all of them together stay small,
// so no campaign file, however made, can make the tables grow past that.
func TestRegionTablesBounded(t *testing.T) {
	total := 0
	for cc := 1; cc < 1000; cc++ {
		regions := phonenumbers.GetRegionCodesForCountryCode(cc)
		if len(regions) == 0 {
			continue
		}
		tb := newRegionTable(regions)
		if tb == nil {
			if !slices.Contains(regions, phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY) {
				t.Errorf("+%d %v: no table", cc, regions)
			}
			continue
		}
		frontier := []*regionState{tb.start}
		for depth := 0; depth < maxNationalLength && len(frontier) > 0; depth++ {
			var next []*regionState
			seen := map[*regionState]bool{}
			for _, s := range frontier {
				for d := byte('0'); d <= '9'; d++ {
					n := s.next[d-'0'].Load()
					if n == nil {
						if n = tb.build(s, d); n == nil {
							t.Fatalf("+%d: more than %d states", cc, maxRegionStates)
						}
					}
					if !seen[n] {
						seen[n] = true
						next = append(next, n)
					}
				}
			}
			frontier = next
		}
		total += len(tb.states)
	}
	// 26,314 states with the metadata of phonenumbers v1.8.1, about 10 MB.
	if total > 100_000 {
		t.Errorf("the tables of all calling codes hold %d states; the bound per calling code assumes far fewer", total)
	}
	t.Logf("%d states in all", total)
}
