package runner_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

// BenchmarkPlanCost100k plans 100,000 fresh messages with a prices file: Swiss numbers
// (their country is known from the calling code) and US numbers (+1 is shared by many
// countries, so each number's own is looked up), and the same US numbers planned without
// prices, the reference a priced plan is compared with.
func BenchmarkPlanCost100k(b *testing.B) {
	for _, tt := range []struct {
		name   string
		number func(i int) string
		prices bool
	}{
		{"CH", func(i int) string { return fmt.Sprintf("+4179%07d", i) }, true},
		{"US", func(i int) string { return fmt.Sprintf("+1212%d%06d", 2+i%8, i) }, true},
		{"US-no-prices", func(i int) string { return fmt.Sprintf("+1212%d%06d", 2+i%8, i) }, false},
	} {
		b.Run(tt.name, func(b *testing.B) {
			var csv strings.Builder
			csv.WriteString("to\n")
			for i := range benchN {
				fmt.Fprintln(&csv, tt.number(i))
			}
			dir := writeFiles(b, map[string]string{
				"bench.yaml": "id: bench\nfrom: InfoSMS\ntext: Hello\ndestinations_file: bench.csv\n",
				"bench.csv":  csv.String(),
				"prices.csv": "prefix,price,currency\nCH,0.0725,CHF\n+4178,0.06,CHF\nUS,0.0079,USD\n",
			})
			set, err := campaign.Load(dir)
			if err != nil {
				b.Fatal(err)
			}
			var prices *campaign.Prices
			if tt.prices {
				if prices, err = campaign.LoadPrices(filepath.Join(dir, "prices.csv")); err != nil {
					b.Fatal(err)
				}
			}
			snap := state.NewSnapshot(state.Version{Lineage: "x", Serial: 1}, nil)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				p, err := runner.MakePlan(set, snap, now, runner.PlanOptions{Prices: prices})
				if err != nil {
					b.Fatal(err)
				}
				if tt.prices && p.Cost.Priced != benchN {
					b.Fatalf("cost %+v", p.Cost)
				}
			}
			b.ReportMetric(float64(b.N*benchN)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
