package campaign_test

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkLint100k lints a campaign of 100,000 recipients whose text holds two
// look-alike characters: every text is rendered three more times (each character
// replaced, then both) to count the parts they cost.
func BenchmarkLint100k(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	var csv strings.Builder
	csv.WriteString("to,name\n")
	for i := range n {
		fmt.Fprintf(&csv, "+4179%07d,Name%d\n", i*37%10_000_000, i)
	}
	writeFiles(b, dir, map[string]string{
		"big.yaml":       lines(`id: big`, `from: Shop`, `text: "Hi {{.name}}, it’s our winter sale… 30 percent off everything, in store and online this week only."`, `destinations_file: recipients.csv`),
		"recipients.csv": csv.String(),
	})
	set := mustLoad(b, dir)
	c := set.Campaigns[0]
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if w := c.Lint(); len(w) != 3 {
			b.Fatalf("%d warnings: %v", len(w), w)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/recipient")
}

// BenchmarkSuppressionList100k loads a campaign whose suppression list holds 100,000
// numbers with a reason and a date.
func BenchmarkSuppressionList100k(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	var csv strings.Builder
	csv.WriteString("number,reason,date\n")
	for i := range n {
		fmt.Fprintf(&csv, "+4179%07d,replied STOP,2026-11-30\n", i*37%10_000_000)
	}
	writeFiles(b, dir, map[string]string{
		"c.yaml":   lines(`id: c1`, `from: Shop`, `text: Hi`, `destinations: [{to: "+41793026731"}]`, `suppression_lists: [stop.csv]`),
		"stop.csv": csv.String(),
	})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		set := mustLoad(b, dir)
		if got := len(set.SuppressionLists[0].Entries); got != n {
			b.Fatalf("%d entries, want %d", got, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/number")
}
