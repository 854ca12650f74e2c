package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/smsform/smsform/state"
)

// BenchmarkSettle records batches of 500 messages as in flight and then with their
// outcomes, the two writes apply makes per request.
func BenchmarkSettle(b *testing.B) { benchmarkSettle(b, nil) }

// BenchmarkSettleConsentEveryOther is BenchmarkSettle with consent evidence on every other
// message, as a campaign under `consent: optional` may have: no lean run is long enough
// for the lean statement, and the batch is written as before it.
func BenchmarkSettleConsentEveryOther(b *testing.B) {
	benchmarkSettle(b, func(j int, m *state.Outgoing) {
		if j%2 == 0 {
			m.ConsentAt, m.ConsentSource = "2026-01-01T00:00:00.000Z", "crm"
		}
	})
}

func benchmarkSettle(b *testing.B, set func(int, *state.Outgoing)) {
	s, _ := open(b)
	ctx := context.Background()
	const batch = 500
	msgs := make([]state.Outgoing, batch)
	outs := make([]state.Outcome, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for j := range msgs {
			msgs[j] = out("bench", 1, fmt.Sprintf("+41%09d", i*batch+j), 0, uint64(j))
			if set != nil {
				set(j, &msgs[j])
			}
		}
		b.StartTimer()
		sent, err := s.MarkSending(ctx, msgs)
		if err != nil {
			b.Fatal(err)
		}
		for j, m := range sent.Messages {
			outs[j] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED", SmsCount: 1}
		}
		if err := s.Settle(ctx, sent, outs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkConversions records chunks of 1000 conversions as submitting and then settles
// them, as convert does, over messages recorded beforehand.
func BenchmarkConversions(b *testing.B) {
	s, _ := open(b)
	ctx := context.Background()
	const chunk = 1000
	n := b.N * chunk
	msgs := make([]state.Outgoing, 0, n)
	for i := range n {
		msgs = append(msgs, out("bench", 1, fmt.Sprintf("+41%09d", i), 0, uint64(i)))
	}
	sent, err := s.MarkSending(ctx, msgs)
	if err != nil {
		b.Fatal(err)
	}
	outs := make([]state.Outcome, len(sent.Messages))
	for j, m := range sent.Messages {
		outs[j] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Sent}
	}
	if err := s.Settle(ctx, sent, outs); err != nil {
		b.Fatal(err)
	}
	cs := make([]state.Conversion, chunk)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		for j := range cs {
			m := sent.Messages[i*chunk+j]
			cs[j] = state.Conversion{Key: m.Key, MessageID: m.MessageID, Source: fmt.Sprintf("events.csv:%d", i*chunk+j+2)}
		}
		if err := s.MarkSubmitting(ctx, cs); err != nil {
			b.Fatal(err)
		}
		for j := range cs {
			cs[j].State, cs[j].ProcessKey = state.Converted, "PK-1"
		}
		if err := s.RecordConversions(ctx, cs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "conv/s")
}
