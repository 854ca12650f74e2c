package campaign_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/smsform/smsform/campaign"
)

// BenchmarkLoad100k loads one campaign of 100,000 CSV recipients: parsing, E.164
// normalisation, de-duplication, rendering and part counting of every row.
func BenchmarkLoad100k(b *testing.B) {
	benchmarkLoad(b, `text: "Hi {{.name}}, your PIN is {{.pin}}."`)
}

// BenchmarkLoad100kVariants is BenchmarkLoad100k with two variants in a 20% sample: each
// recipient is assigned (two SHA-256 hashes) and both texts are rendered for everyone.
func BenchmarkLoad100kVariants(b *testing.B) {
	benchmarkLoad(b,
		`variants:`,
		`  - {name: short, text: "Your PIN is {{.pin}}."}`,
		`  - {name: personal, text: "Hi {{.name}}, your PIN is {{.pin}}."}`,
		`experiment: {sample: 20%}`,
	)
}

func benchmarkLoad(b *testing.B, text ...string) {
	const n = 100_000
	dir := b.TempDir()
	writeFiles(b, dir, map[string]string{"big.yaml": lines(append([]string{
		`id: big`,
		`from: InfoSMS`,
		`default_region: CH`,
		`tracking: {track: SMS, type: One_Time_Pin}`,
		`validity_period: 15m`,
		`destinations_file: recipients.csv`,
	}, text...)...)})
	f, err := os.Create(filepath.Join(dir, "recipients.csv"))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "to,name,pin")
	for i := range n {
		// 37 is prime to 10^7, so the 7 digits are all different and spread out.
		fmt.Fprintf(w, "+4179%07d,Name%d,%06d\n", i*37%10_000_000, i, i*7919%1_000_000)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		set, err := campaign.Load(dir)
		if err != nil {
			b.Fatal(err)
		}
		if got := set.Campaigns[0].Recipients.Len(); got != n {
			b.Fatalf("%d recipients, want %d", got, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/recipient")
}
