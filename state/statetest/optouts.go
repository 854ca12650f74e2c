package statetest

import (
	"context"
	"testing"
	"time"

	"github.com/smsform/smsform/state"
)

// RunOptOuts runs the opt-out part of the suite.
func RunOptOuts(t *testing.T, open func(testing.TB) state.Store) {
	t.Run("RepliesRecordedOnce", func(t *testing.T) { testRepliesRecordedOnce(t, open) })
	t.Run("OptOutAddRemoveHistory", func(t *testing.T) { testOptOutAddRemoveHistory(t, open) })
	t.Run("TestSendsApart", func(t *testing.T) { testTestSendsApart(t, open) })
}

var received = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

func stopReply(id, from string) state.Reply {
	return state.Reply{MessageID: id, From: from, To: "447860099299", Text: "Stop", Keyword: "STOP", ReceivedAt: received,
		OptOut: &state.OptOut{Number: from, Source: "reply STOP (inbound messageId " + id + ")", ReplyID: id, ReceivedAt: received}}
}

func testRepliesRecordedOnce(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	v0 := version(t, s)
	hello := state.Reply{MessageID: "in-3", From: "+41793026733", To: "447860099299", Text: "hello", ReceivedAt: received}
	n, err := s.RecordReplies(ctx, []state.Reply{stopReply("in-1", "+41793026731"), stopReply("in-2", "+41793026731"), hello})
	if err != nil {
		t.Fatal(err)
	}
	// Two STOPs from one number: two replies, one opt-out.
	if want := (state.ReplyCounts{Replies: 3, OptOuts: 1}); n != want {
		t.Fatalf("first pull recorded %+v, want %+v", n, want)
	}
	v1 := version(t, s)
	if v1.Serial <= v0.Serial {
		t.Fatalf("serial did not move on recording opt-outs: %d then %d", v0.Serial, v1.Serial)
	}
	n, err = s.RecordReplies(ctx, []state.Reply{stopReply("in-1", "+41793026731"), hello})
	if err != nil {
		t.Fatal(err)
	}
	if n != (state.ReplyCounts{}) {
		t.Fatalf("a repeated pull recorded %+v, want nothing", n)
	}
	if v := version(t, s); v.Serial != v1.Serial {
		t.Fatalf("a pull that recorded nothing moved the serial: %d then %d", v1.Serial, v.Serial)
	}
	list, err := s.OptOuts(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Number != "+41793026731" || list[0].ReplyID != "in-1" || !list[0].ReceivedAt.Equal(received) || list[0].RecordedAt.IsZero() {
		t.Fatalf("opt-outs = %+v", list)
	}
	snap := snapshot(t, s, state.Round{Campaign: "c", Round: 1})
	if _, ok := snap.OptOuts["+41793026731"]; !ok || len(snap.OptOuts) != 1 {
		t.Fatalf("snapshot opt-outs = %+v", snap.OptOuts)
	}
}

func testOptOutAddRemoveHistory(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	o := state.OptOut{Number: "+41793026731", Source: "added by hand", AddedBy: "ann", Reason: "asked by e-mail", ReceivedAt: received}
	if ok, err := s.AddOptOut(ctx, o); err != nil || !ok {
		t.Fatalf("AddOptOut = %v, %v", ok, err)
	}
	if ok, err := s.AddOptOut(ctx, o); err != nil || ok {
		t.Fatalf("second AddOptOut of one number = %v, %v; want false", ok, err)
	}
	v := version(t, s)
	removedAt := received.Add(time.Hour)
	if ok, err := s.RemoveOptOut(ctx, o.Number, "bob", "re-subscribed at the counter", removedAt); err != nil || !ok {
		t.Fatalf("RemoveOptOut = %v, %v", ok, err)
	}
	if version(t, s).Serial <= v.Serial {
		t.Fatal("serial did not move on removing an opt-out")
	}
	if ok, err := s.RemoveOptOut(ctx, o.Number, "bob", "", removedAt); err != nil || ok {
		t.Fatalf("removing a removed opt-out = %v, %v; want false", ok, err)
	}
	if list, _ := s.OptOuts(ctx, false); len(list) != 0 {
		t.Fatalf("active opt-outs after removal = %+v", list)
	}
	if snap := snapshot(t, s); len(snap.OptOuts) != 0 {
		t.Fatalf("snapshot holds a removed opt-out: %+v", snap.OptOuts)
	}
	// Opting out again after a removal is a new row; the history keeps both.
	if ok, err := s.AddOptOut(ctx, o); err != nil || !ok {
		t.Fatalf("AddOptOut after removal = %v, %v", ok, err)
	}
	all, err := s.OptOuts(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].RemovedBy != "bob" || !all[0].RemovedAt.Equal(removedAt) || all[0].RemovedReason != "re-subscribed at the counter" ||
		all[0].AddedBy != "ann" || all[0].Reason != "asked by e-mail" || all[1].Removed() {
		t.Fatalf("history = %+v", all)
	}
}

func testTestSendsApart(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	ts := state.TestSend{MessageID: "sf-test-1", To: "+41793026731", Campaign: "promo", Text: "hi", By: "ann", At: received, Outcome: "sent"}
	if err := s.RecordTestSend(ctx, ts); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordTestSend(ctx, ts); err == nil {
		t.Fatal("a second test send with one messageId was recorded")
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 0 {
		t.Fatalf("a test send is counted with the messages: %+v", counts)
	}
	if msgs := list(t, s, state.Filter{}); len(msgs) != 0 {
		t.Fatalf("a test send is listed with the messages: %+v", msgs)
	}
}
