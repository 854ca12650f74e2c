package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smsform/smsform/state"
)

// BenchmarkRecordReplies1000 records one full pull of inbound replies (the API's maximum of
// 1000, a tenth of them STOPs) in its one transaction: the window in which a crash loses a pull.
func BenchmarkRecordReplies1000(b *testing.B) {
	s, _ := open(b)
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	n := 0
	for b.Loop() {
		pull := make([]state.Reply, 1000)
		for i := range pull {
			n++
			from := fmt.Sprintf("+4179%07d", n)
			pull[i] = state.Reply{MessageID: fmt.Sprintf("in-%d", n), From: from, To: "41793026700", Text: "thanks", ReceivedAt: at}
			if i%10 == 0 {
				pull[i].Text = "STOP"
				pull[i].OptOut = &state.OptOut{Number: from, Source: "reply STOP", ReplyID: pull[i].MessageID, ReceivedAt: at}
			}
		}
		if _, err := s.RecordReplies(ctx, pull); err != nil {
			b.Fatal(err)
		}
	}
}
