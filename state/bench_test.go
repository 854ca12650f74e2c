package state_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/smsform/smsform/state"
)

// BenchmarkSettle records batches of 500 messages as in flight and then with their
// outcomes, the two writes apply makes per request.
func BenchmarkSettle(b *testing.B) {
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
