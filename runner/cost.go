package runner

import (
	"cmp"
	"slices"

	"github.com/smsform/smsform/campaign"
)

// Cost is the estimated cost of the messages a plan sends: SMS parts times the price of a
// part to each number. Amounts are exact integer millionths, summed per currency.
type Cost struct {
	Totals []Amount `json:"totals"` // one per currency, sorted by currency
	// Priced and Unpriced count the messages to send with and without a price.
	Priced   int `json:"priced"`
	Unpriced int `json:"unpriced"`
	// UnpricedBy counts the messages without a price by country ("US"), or by calling
	// code ("+882") for numbers of no country.
	UnpricedBy map[string]int `json:"unpriced_by"`
}

// Amount is money in one currency.
type Amount struct {
	Currency string              `json:"currency"`
	Amount   campaign.MicroUnits `json:"-"`
	// Decimal is Amount written out, exactly ("12.3456"), for JSON readers that would
	// otherwise take it for a float.
	Decimal string `json:"amount"`
}

// add counts parts of one message to a number.
func (c *Cost) add(prices *campaign.Prices, to string, parts int) {
	price, where, ok := prices.Find(to)
	if !ok {
		c.Unpriced++
		c.UnpricedBy[where]++
		return
	}
	c.Priced++
	c.addAmount(price.Currency, price.Amount*campaign.MicroUnits(parts))
}

// addAmount adds to the total in currency; writing it out is left to merge, once per
// campaign (and part of one) rather than once per message.
func (c *Cost) addAmount(currency string, m campaign.MicroUnits) {
	i, found := slices.BinarySearchFunc(c.Totals, currency, func(a Amount, cur string) int { return cmp.Compare(a.Currency, cur) })
	if !found {
		c.Totals = slices.Insert(c.Totals, i, Amount{Currency: currency})
	}
	c.Totals[i].Amount += m
}

// merge adds a campaign's cost, complete (or a part's into its campaign's), into c, and
// writes out the totals of both.
func (c *Cost) merge(o *Cost) {
	c.Priced += o.Priced
	c.Unpriced += o.Unpriced
	for k, n := range o.UnpricedBy {
		c.UnpricedBy[k] += n
	}
	for _, a := range o.Totals {
		c.addAmount(a.Currency, a.Amount)
	}
	o.writeOut()
	c.writeOut()
}

// writeOut sets each total's Decimal from its Amount.
func (c *Cost) writeOut() {
	for i := range c.Totals {
		c.Totals[i].Decimal = c.Totals[i].Amount.String()
	}
}

func newCost() *Cost { return &Cost{Totals: []Amount{}, UnpricedBy: map[string]int{}} }
