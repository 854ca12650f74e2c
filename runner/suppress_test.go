package runner_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

// TestPlanSuppressed: a marketing campaign holds back what it would send to a listed
// number, also a failed one with -retry-failed; what was sent stays sent; a transactional
// campaign ignores the lists; suppressed messages cost nothing.
func TestPlanSuppressed(t *testing.T) {
	set := load(t, map[string]string{
		"promo.yaml": `id: promo
from: Shop
text: Hi
suppression_lists: [stop.csv]
destinations: [{to: "+41793026731"}, {to: "+41793026732"}, {to: "+41793026733"}, {to: "+41793026734"}]
---
id: otp
purpose: transactional
from: Shop
text: Code
suppression_lists: [stop.csv]
destinations: [{to: "+41793026732"}]
`,
		"stop.csv":   "number,reason,date\n+41793026732,STOP,2026-11-30\n+41793026733,,\n+41793026734,,\n",
		"prices.csv": "prefix,price,currency\nCH,0.10,CHF\n",
	})
	recs := map[state.Key]state.Record{}
	for _, c := range set.Campaigns {
		if c.ID == "promo" {
			recs[state.Key{Campaign: "promo", Round: 1, To: "+41793026733"}] = state.Record{State: state.Sent, Hash: c.Recipients.At(2).Hash}
			recs[state.Key{Campaign: "promo", Round: 1, To: "+41793026734"}] = state.Record{State: state.Failed}
		}
	}
	prices := mustPrices(t, set)
	p, err := runner.MakePlan(set, state.NewSnapshot(state.Version{Lineage: "x", Serial: 1}, recs), now, runner.PlanOptions{RetryFailed: true, Prices: prices})
	if err != nil {
		t.Fatal(err)
	}
	otp, promo := p.Campaigns[0], p.Campaigns[1]
	var got []string
	for _, m := range promo.Messages {
		got = append(got, m.Action.String())
	}
	if want := []string{"send", "suppressed", "noop", "suppressed"}; !slices.Equal(got, want) {
		t.Errorf("promo actions = %v, want %v", got, want)
	}
	if s := promo.Suppressions[1]; s.Reason != "STOP" || s.Source == "" {
		t.Errorf("suppression of +41793026732 = %+v", s)
	}
	if otp.Messages[0].Action != runner.Send {
		t.Errorf("transactional campaign: %v, want send", otp.Messages[0].Action)
	}
	if p.Summary.Suppressed != 2 || p.Summary.Send != 2 || p.Cost.Totals[0].Decimal != "0.20" {
		t.Errorf("summary %+v, cost %+v", p.Summary, p.Cost)
	}
}

func mustPrices(t *testing.T, set *campaign.Set) *campaign.Prices {
	t.Helper()
	prices, err := campaign.LoadPrices(filepath.Join(filepath.Dir(set.Files[0]), "prices.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return prices
}
