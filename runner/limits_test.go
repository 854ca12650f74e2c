package runner_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/runner"
)

// TestLimitsPerRoot: with two roots, each settings file bounds its own campaigns; apply is
// refused naming the file, line and figures, also with an approval below the count, and
// allowed with one at or above it; the cost limit counts with prices only.
func TestLimitsPerRoot(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a/smsform.yaml": "limits:\n  max_messages: 2\n  max_cost: {CHF: \"0.10\"}\n",
		"a/c.yaml":       "id: a\nfrom: Shop\ntext: Hi\ndefault_region: CH\ndestinations_file: n.csv\n",
		"a/n.csv":        numbersCSV(3),
		"b/smsform.yaml": "limits:\n  max_messages: 5\n",
		"b/c.yaml":       "id: b\nfrom: Shop\ntext: Hi\ndefault_region: CH\ndestinations_file: n.csv\n",
		"b/n.csv":        numbersCSV(4),
	})
	set, err := campaign.Load(dir+"/a", dir+"/b")
	if err != nil {
		t.Fatal(err)
	}
	prices, err := campaign.LoadPrices(writeFiles(t, map[string]string{"p.csv": "prefix,price,currency\nCH,0.05,CHF\n"}) + "/p.csv")
	if err != nil {
		t.Fatal(err)
	}
	p, err := runner.MakePlan(set, emptySnapshot(), now, runner.PlanOptions{Prices: prices})
	if err != nil {
		t.Fatal(err)
	}
	over := p.OverLimits()
	if len(over) != 2 || over[0].Field != "limits.max_messages" || over[0].Messages != 3 || over[0].Total != 7 || over[0].Line != 2 ||
		over[1].Field != "limits.max_cost.CHF" || over[1].Planned != "0.15" || over[1].Limit != "0.10" {
		t.Fatalf("over the limits: %+v", over)
	}
	if !strings.HasSuffix(over[0].String(), "this apply would send 3 messages of the campaigns under "+over[0].File+" (7 in all); "+over[0].File+":2 limits.max_messages is 2") {
		t.Errorf("%s", over[0])
	}
	err = p.CheckLimits(0)
	if !errors.Is(err, runner.ErrOverLimit) || !strings.Contains(err.Error(), "nothing was sent: rerun with -allow-over-limit 7 to approve") {
		t.Errorf("CheckLimits(0) = %v", err)
	}
	if err := p.CheckLimits(6); err == nil || !strings.Contains(err.Error(), "-allow-over-limit 6 approves 6 messages, but this apply would send") {
		t.Errorf("CheckLimits(6) = %v", err)
	}
	if err := p.CheckLimits(7); err != nil {
		t.Errorf("CheckLimits(7) = %v", err)
	}
	// Without prices, only the count; b's campaigns (4 of 5) are under their own limit.
	p, _ = runner.MakePlan(set, emptySnapshot(), now, runner.PlanOptions{})
	if over := p.OverLimits(); len(over) != 1 || !strings.HasSuffix(over[0].File, "a/smsform.yaml") {
		t.Errorf("over the limits without prices: %+v", over)
	}
}
