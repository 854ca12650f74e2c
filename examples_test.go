package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state/sqlite"
)

// TestExamplesPlan: every example loads, validates without warnings (they are what users
// copy), and plans against an empty state with the example prices, each message priced or
// counted as without a price.
func TestExamplesPlan(t *testing.T) {
	prices, err := campaign.LoadPrices(filepath.Join("examples", "prices", "prices.csv"))
	if err != nil {
		t.Fatal(err)
	}
	set, p := examplesPlan(t, runner.PlanOptions{Prices: prices})
	if w := campaign.LintSet(set); len(w) > 0 {
		t.Errorf("the examples have warnings: %v", w)
	}
	if p.Summary.Send == 0 || p.Cost.Priced+p.Cost.Unpriced != p.Summary.Send || len(p.Cost.Totals) == 0 {
		t.Errorf("plan of the examples: %d to send, cost %+v", p.Summary.Send, p.Cost)
	}
	promo := set.Find("spring-promo")
	if promo == nil || promo.Quiet == nil || len(promo.Suppressions) != 1 || len(promo.Suppressions[0].Entries) == 0 || !promo.IsMarketing() {
		t.Errorf("examples/promo should show quiet hours and a suppression list: %+v", promo)
	}
	if otp := set.Find("otp-welcome"); otp == nil || otp.IsMarketing() {
		t.Error("examples/otp should be transactional")
	}
}

// examplesPlan loads the examples and plans them against a new, empty state.
func examplesPlan(t *testing.T, opts runner.PlanOptions) (*campaign.Set, *runner.Plan) {
	t.Helper()
	set, err := campaign.LoadWith(campaign.Options{Now: time.Now()}, "examples")
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "smsform.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	snap, err := store.Snapshot(context.Background(), runner.Rounds(set))
	if err != nil {
		t.Fatal(err)
	}
	p, err := runner.MakePlan(set, snap, time.Now(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return set, p
}
