//go:build unix

package backend_test

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/smsform/smsform/internal/pgtest"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/backend"
)

// benchRows is how many messages the read benchmarks read: a campaign of a fifth of a
// million, every one sent, half of them converted.
const benchRows = 200_000

// reads are the reads measured.
type reads interface {
	Snapshot(ctx context.Context, rounds []state.Round) (*state.Snapshot, error)
	Index(ctx context.Context) (*state.MessageIndex, error)
	Report(ctx context.Context, campaign, by string) ([]state.ReportRow, error)
	AwaitingDelivery(ctx context.Context, campaign string, since time.Time) ([]state.Pending, error)
}

// benchState fills a new state of the backend spec names with benchRows sent messages of
// one campaign round, as apply records them, and half of them converted.
func benchState(b *testing.B, spec string) reads {
	b.Helper()
	ctx := context.Background()
	if _, err := backend.Init(ctx, spec); err != nil {
		b.Fatal(err)
	}
	s, err := backend.Open(ctx, spec, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	const batch = 1000
	for i := 0; i < benchRows; i += batch {
		msgs := make([]state.Outgoing, batch)
		for j := range msgs {
			msgs[j] = state.Outgoing{Key: state.Key{Campaign: "bench", Round: 1, To: fmt.Sprintf("+41%09d", i+j)},
				MessageID: fmt.Sprintf("sf-%032x", i+j), BulkID: fmt.Sprintf("b-%d", i), Hash: uint64(i + j), Parts: 1, TrackingType: "OTP", Tracked: true}
		}
		sent, err := s.MarkSending(ctx, msgs)
		if err != nil {
			b.Fatal(err)
		}
		outs := make([]state.Outcome, batch)
		convs := make([]state.Conversion, 0, batch/2)
		for j, m := range sent.Messages {
			outs[j] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED", SmsCount: 1}
			if j%2 == 0 {
				convs = append(convs, state.Conversion{Key: m.Key, MessageID: m.MessageID, State: state.Converted, Source: "e.csv:2"})
			}
		}
		if err := s.SettleMany(ctx, []state.Settlement{{Batch: sent, Outcomes: outs}}); err != nil {
			b.Fatal(err)
		}
		if err := s.MarkSubmitting(ctx, convs); err != nil {
			b.Fatal(err)
		}
		if err := s.RecordConversions(ctx, convs); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// cpuTime is the CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReads measures the reads of plan (Snapshot), convert (Index) and report on
// each backend, a fifth of a million messages each.
func BenchmarkReads(b *testing.B) {
	ctx := context.Background()
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			spec := filepath.Join(b.TempDir(), "bench.db")
			if kind == "postgres" {
				spec = pgtest.NewDatabase(b)
			}
			s := benchState(b, spec)
			round := []state.Round{{Campaign: "bench", Round: 1}}
			for _, r := range []struct {
				name string
				read func() error
			}{
				{"Snapshot", func() error { _, err := s.Snapshot(ctx, round); return err }},
				{"Index", func() error { _, err := s.Index(ctx); return err }},
				{"Report", func() error { _, err := s.Report(ctx, "", state.ByNone); return err }},
				{"ReportByDay", func() error { _, err := s.Report(ctx, "", state.ByDay); return err }},
				{"AwaitingDelivery", func() error { _, err := s.AwaitingDelivery(ctx, "", time.Now().Add(-time.Hour)); return err }},
			} {
				b.Run(r.name, func(b *testing.B) {
					b.ReportAllocs()
					cpu := cpuTime()
					for range b.N {
						if err := r.read(); err != nil {
							b.Fatal(err)
						}
					}
					// This process's CPU (the database's too, for SQLite), which other
					// work on the machine changes less than the wall time.
					b.ReportMetric(float64((cpuTime()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
					b.ReportMetric(float64(b.N*benchRows)/b.Elapsed().Seconds(), "rows/s")
				})
			}
		})
	}
}
