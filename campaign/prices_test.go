package campaign_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/smsform/smsform/campaign"
)

func TestMicroUnits(t *testing.T) {
	for m, want := range map[campaign.MicroUnits]string{0: "0.00", 72500: "0.0725", 1500000: "1.50", 300000: "0.30", 1: "0.000001", 12345678901: "12345.678901"} {
		if got := m.String(); got != want {
			t.Errorf("MicroUnits(%d) = %q, want %q", int64(m), got, want)
		}
	}
}

func TestLoadPrices(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("\uFEFFPrefix,Price,Currency\nCH,0.0725,CHF\n+4179,0.065,CHF\n+41791,0.05,EUR\n"), 0o644)
	p, err := campaign.LoadPrices(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		to, where string
		amount    campaign.MicroUnits
		currency  string
		ok        bool
	}{
		{"+41441234567", "CH", 72500, "CHF", true},
		{"+41792234567", "+4179", 65000, "CHF", true},
		{"+41791234567", "+41791", 50000, "EUR", true},
		{"+12125551234", "US", 0, "", false},
		{"+447400123456", "GB", 0, "", false},
	} {
		pr, where, ok := p.Find(tt.to)
		if where != tt.where || ok != tt.ok || pr.Amount != tt.amount || pr.Currency != tt.currency {
			t.Errorf("Find(%s) = %+v, %q, %v; want %d %s, %q, %v", tt.to, pr, where, ok, tt.amount, tt.currency, tt.where, tt.ok)
		}
	}

	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(lines(
		"prefix,price,currency",
		"CH,0.0725,CHF",
		"CH,0.08,CHF",
		"XX,0.1,CHF",
		"+0,0.1,CHF",
		"DE,0.1234567,EUR",
		"FR,-1,EUR",
		"IT,1000,EUR",
		"GB,0.05,pound",
		"US,1",
	)), 0o644)
	_, err = campaign.LoadPrices(bad)
	checkProblems(t, dir, err, []want{
		{"bad.csv", 3, "prefix", "CH is also at " + bad + ":2"},
		{"bad.csv", 4, "prefix", `"XX" must be an ISO 3166 country code (CH) or an E.164 prefix (+4179)`},
		{"bad.csv", 5, "prefix", `"+0" must be`},
		{"bad.csv", 6, "price", `"0.1234567" must be a decimal price per SMS part, at most 999 with at most 6 places`},
		{"bad.csv", 7, "price", `"-1" must be`},
		{"bad.csv", 8, "price", `"1000" must be a decimal price per SMS part, at most 999`},
		{"bad.csv", 9, "currency", `"pound" must be an ISO 4217 currency code`},
		{"bad.csv", 10, "", "wrong number of fields"},
	})
	hdr := filepath.Join(dir, "hdr.csv")
	os.WriteFile(hdr, []byte("country,price\nCH,0.1\n"), 0o644)
	_, err = campaign.LoadPrices(hdr)
	checkProblems(t, dir, err, []want{{"hdr.csv", 1, "", "the header must be prefix,price,currency"}})
}
