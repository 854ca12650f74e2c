package runner_test

import (
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/runner"
)

// TestPlanCost: parts times the price of a part, longest prefix first, summed exactly per
// currency (0.1 three times is 0.30, not 0.30000000000000004), never across currencies.
func TestPlanCost(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"prices.csv": "prefix,price,currency\nCH,0.0725,CHF\n+4179,0.1,CHF\n+41791,0.05,CHF\nUS,0.0079,USD\n",
		"promo.yaml": `id: promo
from: Shop
text: Hi
destinations:
  - to: "+41781234567"
  - to: "+41792234567"
  - to: "+41793234567"
  - to: "+41794234567"
  - to: "+41791234567"
  - to: "+12125551234"
  - to: "+4915112345678"
  - to: "+447400123456"
`,
		"long.yaml": "id: long\nfrom: Shop\ntext: " + strings.Repeat("x", 161) + "\ndestinations: [{to: \"+41792234567\"}, {to: \"+12125551234\"}]\n",
	})
	set, err := campaign.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	prices, err := campaign.LoadPrices(filepath.Join(dir, "prices.csv"))
	if err != nil {
		t.Fatal(err)
	}
	p := planFromStore(t, set, openStore(t), runner.PlanOptions{Prices: prices})
	type want struct {
		totals   string
		priced   int
		unpriced map[string]int
	}
	check := func(name string, c *runner.Cost, w want) {
		t.Helper()
		var totals []string
		for _, a := range c.Totals {
			totals = append(totals, a.Decimal+" "+a.Currency)
		}
		if got := strings.Join(totals, " + "); got != w.totals || c.Priced != w.priced || c.Unpriced != len(w.unpriced) && w.unpriced != nil || !maps.Equal(c.UnpricedBy, w.unpriced) {
			t.Errorf("%s: cost = %s, priced %d, unpriced %v; want %s, %d, %v", name, got, c.Priced, c.UnpricedBy, w.totals, w.priced, w.unpriced)
		}
	}
	check("long", p.Campaigns[0].Cost, want{"0.20 CHF + 0.0158 USD", 2, map[string]int{}})
	check("promo", p.Campaigns[1].Cost, want{"0.4225 CHF + 0.0079 USD", 6, map[string]int{"DE": 1, "GB": 1}})
	check("total", p.Cost, want{"0.6225 CHF + 0.0237 USD", 8, map[string]int{"DE": 1, "GB": 1}})
	if got, want := p.Cost.Text(), "0.6225 CHF + 0.0237 USD for 8 priced messages; 2 messages have no price (DE 1, GB 1): not counted, add them to the prices file"; got != want {
		t.Errorf("Text() = %q\nwant %q", got, want)
	}
	if p0 := planFromStore(t, set, openStore(t), runner.PlanOptions{}); p0.Cost != nil || p0.Campaigns[0].Cost != nil {
		t.Error("a plan without prices has a cost")
	}
}
