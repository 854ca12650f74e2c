package runner_test

import (
	"context"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

const benchN = 100_000

func benchSet(b *testing.B) *campaign.Set {
	b.Helper()
	set := load(b, map[string]string{
		"bench.yaml": "id: bench\nfrom: InfoSMS\ntext: \"Hello {{.name}}, this is message {{.name}} of the benchmark.\"\ndestinations_file: bench.csv\n",
		"bench.csv":  numbersCSV(benchN),
	})
	if n := set.Campaigns[0].Recipients.Len(); n != benchN {
		b.Fatalf("%d recipients", n)
	}
	return set
}

// BenchmarkPlan100k plans 100,000 recipients that are all recorded (the common re-plan).
func BenchmarkPlan100k(b *testing.B) {
	set := benchSet(b)
	recs := make(map[state.Key]state.Record, benchN)
	for _, r := range set.Campaigns[0].Recipients.All() {
		recs[state.Key{Campaign: "bench", Round: 1, To: r.To}] = state.Record{State: state.Sent, Hash: r.Hash}
	}
	benchPlan(b, set, state.NewSnapshot(state.Version{Lineage: "x", Serial: 1}, recs), runner.Counts{Noop: benchN})
}

// benchPlan times MakePlan of set against snap, whose summary must be want.
func benchPlan(b *testing.B, set *campaign.Set, snap *state.Snapshot, want runner.Counts) {
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p, err := runner.MakePlan(set, snap, now, runner.PlanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if p.Summary != want {
			b.Fatalf("summary %+v, want %+v", p.Summary, want)
		}
	}
	b.ReportMetric(float64(b.N*benchN)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkApply100k sends 100,000 messages to the sandbox over HTTP, into a fresh state
// each time.
func BenchmarkApply100k(b *testing.B) {
	set := benchSet(b)
	sb, client := startSandbox(b, sandbox.Options{}, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		sb.Reset()
		s := openStore(b)
		p := planFromStore(b, set, s, runner.PlanOptions{})
		b.StartTimer()
		res, err := runner.Apply(context.Background(), p, client, s, runner.ApplyOptions{})
		b.StopTimer()
		if err != nil || res.Sent != benchN {
			b.Fatalf("Apply = %+v, %v", res, err)
		}
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*benchN)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPlanCap100k plans a new campaign of 100,000 recipients, each of whom got a
// marketing message 3 days ago, without a cap (Off) and under a cap of 2/7d that counts
// them (On): the caps' cost in the plan itself (end to end, with the state's read: make
// bench).
func BenchmarkPlanCap100k(b *testing.B) {
	for _, capped := range []bool{false, true} {
		name := "Off"
		files := map[string]string{
			"next.yaml": "id: next\nfrom: InfoSMS\ntext: \"Hello {{.name}}, this is message {{.name}} of the benchmark.\"\ndestinations_file: bench.csv\n",
			"bench.csv": numbersCSV(benchN),
		}
		if capped {
			name = "On"
			files["smsform.yaml"] = "contact_policy:\n  marketing: {max: 2, per: 7d}\n"
		}
		b.Run(name, func(b *testing.B) {
			set := load(b, files)
			snap := state.NewSnapshot(state.Version{Lineage: "x", Serial: 1}, nil)
			if capped {
				c := state.NewContacts(benchN)
				at := []byte(state.FormatTime(now.Add(-72 * time.Hour)))
				for _, r := range set.Campaigns[0].Recipients.All() {
					c.AddRow([]byte("bench"), 1, []byte(r.To), at)
				}
				c.Sort()
				snap.Contacts = c
			}
			benchPlan(b, set, snap, runner.Counts{Send: benchN, SmsParts: benchN})
		})
	}
}
