package campaign

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"

	"github.com/smsform/smsform/internal/safetext"
)

// A prices file says what one SMS part costs, per country or per number prefix, so plan
// can estimate a campaign's cost before it is sent:
//
//	prefix,price,currency
//	CH,0.0725,CHF
//	+4179,0.0650,CHF
//	US,0.0079,USD
//
// A prefix is an ISO 3166 country code (CH) or an E.164 prefix (+4179); the longest E.164
// prefix matching a number wins, then its country. Prices are decimals with at most six
// places, kept as integer millionths so sums are exact. Each row names its currency, and
// amounts in different currencies are never added together.

// MicroUnits is an amount of money in millionths of a currency unit (0.0725 is 72500).
type MicroUnits int64

// String writes the amount as a decimal with at least two places: 72500 is "0.0725",
// 1500000 is "1.50".
func (m MicroUnits) String() string {
	s := fmt.Sprintf("%d.%06d", int64(m)/1e6, int64(m)%1e6)
	for strings.HasSuffix(s, "0") && len(s)-strings.IndexByte(s, '.') > 3 {
		s = s[:len(s)-1]
	}
	return s
}

// decimalMicro is a decimal of at most 6 places (as pricePattern and amountPattern check)
// in millionths, exactly.
func decimalMicro(s string) MicroUnits {
	whole, frac, _ := strings.Cut(s, ".")
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return MicroUnits(w*1e6 + f)
}

// Price is the price of one SMS part.
type Price struct {
	Amount   MicroUnits
	Currency string // ISO 4217, such as CHF
	Source   string // FILE:LINE of its row
}

// Prices is a prices file, read.
type Prices struct {
	File     string
	byRegion map[string]Price
	byPrefix map[string]Price // by the prefix's digits, without '+'
	// trie holds byPrefix by digit, its root first: a number's longest priced prefix is
	// one step per digit, however many prefixes the file has.
	trie []prefixNode
}

// A prefixNode is one digit of a prefix; price is set where a prefix ends.
type prefixNode struct {
	next   [10]int32 // index in trie; 0: no prefix continues with this digit
	price  *Price
	prefix string // "+4179"
}

var (
	// pricePattern bounds a price to 999.999999 a part, so that a plan's sum in integer
	// millionths cannot overflow (25 parts to a billion numbers stays under 2^63).
	pricePattern    = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,6})?$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	prefixPattern   = regexp.MustCompile(`^\+[1-9][0-9]{0,14}$`)
)

// LoadPrices reads a prices file; its problems come back as a *ValidationError, each at
// FILE:LINE.
func LoadPrices(path string) (*Prices, error) {
	// The prices file may be in the repository a pull request changes: it is opened as a
	// file a campaign names is.
	f, err := OpenInput(path, MaxCSVBytes)
	if err != nil {
		return nil, fmt.Errorf("prices file %s: %w", safetext.Escape(path), err)
	}
	defer f.Close()
	ps := &problems{}
	p := &Prices{File: path, byRegion: map[string]Price{}, byPrefix: map[string]Price{}}
	cr := NewCSVReader(io.LimitReader(f, MaxCSVBytes))
	header, err := cr.Read()
	if err == io.EOF {
		ps.add(path, 1, "", "the file is empty; it needs the header prefix,price,currency")
	} else if err != nil {
		csvProblem(ps, path, err)
	} else if h := strings.ToLower(strings.Join(header, ",")); strings.ReplaceAll(h, " ", "") != "prefix,price,currency" {
		ps.add(path, 1, "", "the header must be prefix,price,currency")
	} else {
		p.read(cr, ps)
	}
	if err := ps.err(); err != nil {
		err.(*ValidationError).Subject = path
		return nil, err
	}
	p.buildTrie()
	return p, nil
}

func (p *Prices) buildTrie() {
	p.trie = []prefixNode{{}}
	for digits, price := range p.byPrefix {
		n := 0
		for i := 0; i < len(digits); i++ {
			d := digits[i] - '0'
			if p.trie[n].next[d] == 0 {
				p.trie = append(p.trie, prefixNode{})
				p.trie[n].next[d] = int32(len(p.trie) - 1)
			}
			n = int(p.trie[n].next[d])
		}
		p.trie[n].price, p.trie[n].prefix = &price, "+"+digits
	}
}

func (p *Prices) read(cr *csv.Reader, ps *problems) {
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			csvProblem(ps, p.File, err)
			var pe *csv.ParseError
			if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				continue
			}
			return
		}
		line, _ := cr.FieldPos(0)
		prefix, amount, currency := strings.TrimSpace(row[0]), strings.TrimSpace(row[1]), strings.TrimSpace(row[2])
		price := Price{Currency: currency, Source: fmt.Sprintf("%s:%d", p.File, line)}
		ok := true
		if !pricePattern.MatchString(amount) {
			ps.add(p.File, line, "price", "%s must be a decimal price per SMS part, at most 999 with at most 6 places, such as 0.0725", safetext.Quote(amount))
			ok = false
		} else {
			price.Amount = decimalMicro(amount)
		}
		if !currencyPattern.MatchString(currency) {
			ps.add(p.File, line, "currency", "%s must be an ISO 4217 currency code, such as CHF, EUR, USD", safetext.Quote(currency))
			ok = false
		}
		var table map[string]Price
		key := prefix
		switch {
		case prefixPattern.MatchString(prefix):
			table, key = p.byPrefix, prefix[1:]
		case phonenumbers.GetCountryCodeForRegion(prefix) != 0:
			table = p.byRegion
		default:
			ps.add(p.File, line, "prefix", "%s must be an ISO 3166 country code (CH) or an E.164 prefix (+4179)", safetext.Quote(prefix))
			continue
		}
		if first, dup := table[key]; dup {
			ps.add(p.File, line, "prefix", "%s is also at %s; give each prefix one price", prefix, first.Source)
			continue
		}
		if ok {
			table[key] = price
		}
	}
}

// Find returns the price of one part to an E.164 number, and the region or prefix that
// names it ("CH", "+4179"); without a price, the number's country (or +calling code) to
// say which recipients had none.
func (p *Prices) Find(e164 string) (Price, string, bool) {
	digits := strings.TrimPrefix(e164, "+")
	var longest *prefixNode
	for i, n := 0, 0; i < len(digits) && len(p.trie) > 0 && digits[i] >= '0' && digits[i] <= '9'; i++ {
		if n = int(p.trie[n].next[digits[i]-'0']); n == 0 {
			break
		}
		if p.trie[n].price != nil {
			longest = &p.trie[n]
		}
	}
	if longest != nil {
		return *longest.price, longest.prefix, true
	}
	region := regionOf(e164)
	if pr, ok := p.byRegion[region]; ok {
		return pr, region, true
	}
	return Price{}, region, false
}

// regionOf is the country of an E.164 number; a calling code shared by several countries
// (+1, +7, +44) needs the national number matched against each country's ranges, which is
// skipped for the others.
func regionOf(e164 string) string { return regionOfBy(e164, numberRegion) }

// regionOfBy is regionOf asking table first (numberRegion; the tests give one that never
// answers, to compare with libphonenumber's own answer).
func regionOfBy(e164 string, table regionAnswer) string {
	if cc, national := CallingCode(strings.TrimPrefix(e164, "+")); cc != 0 {
		if regions := phonenumbers.GetRegionCodesForCountryCode(cc); len(regions) == 1 {
			return regions[0]
		}
		// A leading zero (Italy) needs the full parse, below.
		if national != "" && national[0] != '0' {
			if r, _, ok := table(cc, national); ok {
				if r == "" {
					return fmt.Sprintf("+%d", cc)
				}
				return r
			}
		}
		if nn, err := strconv.ParseUint(national, 10, 64); err == nil && !strings.HasPrefix(national, "0") {
			// Built directly rather than parsed: Parse spends most of its time on formats
			// an E.164 number never has.
			num := &phonenumbers.PhoneNumber{CountryCode: proto.Int32(int32(cc)), NationalNumber: proto.Uint64(nn)}
			if r := phonenumbers.GetRegionCodeForNumber(num); r != "" && r != "ZZ" {
				return r
			}
			return fmt.Sprintf("+%d", cc)
		}
	}
	num, err := phonenumbers.Parse(e164, "")
	if err == nil {
		if r := phonenumbers.GetRegionCodeForNumber(num); r != "" && r != "ZZ" {
			return r
		}
		return fmt.Sprintf("+%d", num.GetCountryCode())
	}
	return "unknown"
}
