package campaign

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"

	"github.com/smsform/smsform/internal/safetext"
)

// Normalize turns a number written in a campaign file into E.164, or says what is wrong
// with it: Number, where a region comes from the file's default_region.
func Normalize(raw, region string) (string, string) {
	return Number(raw, region, "set default_region")
}

// Number turns a written number into E.164, or says what is wrong with it: the one reading
// of a phone number, for campaign files, suppression lists, event CSVs, replies and every
// command's arguments. It takes E.164 (+41793026731), the same with spaces, dashes, dots or
// brackets, and a national number (079 302 67 31) with region, a country such as CH;
// regionHint says where a region comes from ("set default_region", "give -region"), for a
// national number without one.
func Number(raw, region, regionHint string) (string, string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "is required"
	}
	if validE164(raw) {
		return raw, ""
	}
	num, err := phonenumbers.Parse(raw, region)
	if err != nil {
		if region == "" && !strings.HasPrefix(raw, "+") {
			return "", fmt.Sprintf("%s has no country code: write it as +<country><number>, or %s", safetext.Quote(raw), regionHint)
		}
		return "", fmt.Sprintf("%s is not a phone number: %v", safetext.Quote(raw), err)
	}
	if !phonenumbers.IsValidNumber(num) {
		where := region
		if r := phonenumbers.GetRegionCodeForNumber(num); r != "" && r != "ZZ" {
			where = r
		} else if cc := int(num.GetCountryCode()); cc != 0 && cc != phonenumbers.GetCountryCodeForRegion(region) {
			// Written with its own country code: default_region has nothing to do with it.
			where = fmt.Sprintf("country code +%d", cc)
		}
		if where == "" {
			return "", fmt.Sprintf("%s is not a valid number", safetext.Quote(raw))
		}
		return "", fmt.Sprintf("%s is not a valid number for %s", safetext.Quote(raw), where)
	}
	return phonenumbers.Format(num, phonenumbers.E164), ""
}

// validE164 checks a number already written in E.164 without a full parse, which spends
// most of its time in regular expressions for formats E.164 never has, and asks the region
// table of its calling code (region.go) rather than libphonenumber's patterns, one by one.
// Anything it does not accept goes through the full parse, so the answer is the same either
// way.
func validE164(raw string) bool { return validE164By(raw, numberRegion) }

// regionAnswer answers a number's region and validity from its calling code and national
// digits, or says it cannot (ok false): numberRegion, from the region tables.
type regionAnswer func(cc int, national string) (region string, valid, ok bool)

// validE164By is validE164 asking table first.
func validE164By(raw string, table regionAnswer) bool {
	if len(raw) < 8 || len(raw) > 16 || raw[0] != '+' || raw[1] == '0' {
		return false
	}
	for i := 1; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return false
		}
	}
	cc, national := CallingCode(raw[1:])
	if cc == 0 || national == "" || national[0] == '0' {
		return false // a leading zero (Italy) needs the full parse
	}
	if _, valid, ok := table(cc, national); ok {
		return valid
	}
	nn, err := strconv.ParseUint(national, 10, 64)
	if err != nil {
		return false
	}
	num := &phonenumbers.PhoneNumber{CountryCode: proto.Int32(int32(cc)), NationalNumber: proto.Uint64(nn)}
	return phonenumbers.IsValidNumber(num)
}

// CallingCode is the country calling code digits start with (digits without the '+') and
// the digits after it; 0 and digits when none of the first one, two or three digits is a
// calling code. Calling codes are prefix-free, so at most one of them is.
func CallingCode(digits string) (cc int, rest string) {
	code := 0
	for n := 1; n <= 3 && n <= len(digits); n++ {
		if digits[n-1] < '0' || digits[n-1] > '9' {
			break
		}
		code = code*10 + int(digits[n-1]-'0')
		if callingCodes()[code] {
			return code, digits[n:]
		}
	}
	return 0, digits
}

// callingCodes says which numbers below 1000 are calling codes, as libphonenumber does:
// asked once, rather than three map lookups for every number.
var callingCodes = sync.OnceValue(func() *[1000]bool {
	var codes [1000]bool
	for c := range codes {
		codes[c] = phonenumbers.GetRegionCodeForCountryCode(c) != "ZZ"
	}
	return &codes
})
