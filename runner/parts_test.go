package runner_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

// TestPlanInPartsIsThePlan: a campaign planned in parts, one goroutine each (as a large
// one is), gives exactly the plan of one pass, whatever the parts' bounds: every action,
// the reasons and suppressions by recipient, counts, cost and orphans, with an experiment's
// held recipients, suppression lists, opt-outs, retries and resends among them.
func TestPlanInPartsIsThePlan(t *testing.T) {
	t.Parallel()
	var people strings.Builder
	people.WriteString("to,name\n")
	for i := range 500 {
		// Out of the state's order now and then, so that lookups jump.
		n := i
		if i%37 == 0 {
			n = 500 + i
		}
		fmt.Fprintf(&people, "+4179%07d,N%d\n", n, i)
	}
	for _, experiment := range []string{"{sample: 50%, winner: personal}", "{sample: 50%}"} {
		planInParts(t, people.String(), experiment)
	}
}

// planInParts is TestPlanInPartsIsThePlan with an experiment block (a winner named, or
// none: held recipients wait), and a campaign the state has no record of.
func planInParts(t *testing.T, people, experiment string) {
	files := experimentFiles(experiment)
	files["c.yaml"] += "suppression_lists: [stop.csv]\n"
	files["people.csv"] = people
	files["plain.yaml"] = "id: plain\nfrom: Shop\ntext: Hi {{.name}}\nsuppression_lists: [stop.csv]\ndestinations_file: people.csv\n"
	files["fresh.yaml"] = "id: fresh\nfrom: Shop\ntext: Hi {{.name}}\ndestinations_file: people.csv\n"
	files["stop.csv"] = "number,reason,date\n+41790000011,STOP,2026-11-30\n+41790000250,,\n+41790000499,,\n"
	files["prices.csv"] = "prefix,price,currency\nCH,0.10,CHF\n+417900001,0.07,EUR\n"
	set := load(t, files)
	recs := map[state.Key]state.Record{}
	resend := map[state.Key]bool{}
	for _, c := range set.Campaigns {
		if c.ID == "fresh" {
			continue // no record of it: planned against none
		}
		for i, r := range c.Recipients.All() {
			k := state.Key{Campaign: c.ID, Round: c.Round, To: r.To}
			switch i % 7 {
			case 0:
				recs[k] = state.Record{State: state.Sent, Hash: r.Hash}
			case 1:
				recs[k] = state.Record{State: state.Sent, Hash: r.Hash + 1} // changed
			case 2:
				recs[k] = state.Record{State: state.Failed, Attempt: i % 3, Error: "failed " + r.To}
			case 3:
				recs[k] = state.Record{State: state.Unknown, Attempt: 1}
				resend[k] = i%2 == 0
			case 4:
				recs[k] = state.Record{State: state.Capped, Error: "capped " + r.To}
			}
		}
		for i := range 20 { // recorded, no longer in the files
			recs[state.Key{Campaign: c.ID, Round: c.Round, To: fmt.Sprintf("+4178%07d", i*13)}] = state.Record{State: state.Sent}
		}
	}
	snap := state.NewSnapshot(state.Version{Lineage: "x", Serial: 3}, recs)
	snap.OptOuts = map[string]state.OptOut{"+41790000020": {Number: "+41790000020", Source: "reply STOP"}, "+41790000300": {Number: "+41790000300", Source: "added by hand"}}
	prices := mustPrices(t, set)
	for _, opts := range []runner.PlanOptions{{}, {RetryFailed: true, Prices: prices}, {Resend: resend, Prices: prices}} {
		want, err := runner.MakePlanInParts(set, snap, now, opts, 1)
		if err != nil {
			t.Fatal(err)
		}
		if want.Summary.Orphaned != 40 || want.Summary.Suppressed == 0 || want.Summary.Failed+want.Summary.Send == 0 ||
			(want.Summary.Held == 0) != strings.Contains(experiment, "winner") {
			t.Fatalf("the scenario lacks what it tests: %+v", want.Summary)
		}
		for _, parts := range []int{2, 3, 7, 64, 499, 500, 501, 4096} {
			got, err := runner.MakePlanInParts(set, snap, now, opts, parts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) || got.Digest() != want.Digest() {
				t.Errorf("planned in %d parts (%+v): %+v\nin one: %+v", parts, opts, got.Summary, want.Summary)
			}
		}
	}

	// A state no smsform wrote stops the plan at the first recipient it would misplan, in
	// whichever part it is.
	c := set.Find("plain")
	for _, i := range []int{430, 40} {
		recs[state.Key{Campaign: "plain", Round: 1, To: c.Recipients.At(i).To}] = state.Record{State: state.Sent, Attempt: math.MaxUint16}
	}
	bad := state.NewSnapshot(state.Version{Lineage: "x", Serial: 4}, recs)
	for _, parts := range []int{1, 2, 5} {
		_, err := runner.MakePlanInParts(set, bad, now, runner.PlanOptions{}, parts)
		if err == nil || !strings.Contains(err.Error(), c.Recipients.At(40).To) {
			t.Errorf("in %d parts: %v, want the error of recipient 40 (%s)", parts, err, c.Recipients.At(40).To)
		}
	}
}
