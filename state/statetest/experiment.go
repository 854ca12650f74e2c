package statetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/smsform/smsform/state"
)

// RunExperiments checks what an experiment records: each message's variant, the test's
// figures per variant in the snapshot (the held recipients sent the winner left out), and
// a decision recorded once.
func RunExperiments(t *testing.T, open func(testing.TB) state.Store) {
	t.Run("VariantRecordedAndListed", func(t *testing.T) { testVariantRecorded(t, open) })
	t.Run("TrialFigures", func(t *testing.T) { testTrialFigures(t, open) })
	t.Run("DecisionRecordedOnce", func(t *testing.T) { testDecisionRecordedOnce(t, open) })
}

// variantOut is a tracked message of campaign x round 1 sent with a variant.
func variantOut(i int, variant string, held bool) state.Outgoing {
	o := out("x", 1, "+4179000"+string(rune('0'+i/1000%10))+string(rune('0'+i/100%10))+string(rune('0'+i/10%10))+string(rune('0'+i%10)), 0, 7)
	o.MessageID, o.Tracked, o.TrackingType, o.Variant, o.Held = sfID(1000+i), true, "Sale", variant, held
	return o
}

func testVariantRecorded(t *testing.T, open func(testing.TB) state.Store) {
	s := open(t)
	b := mark(t, s, variantOut(1, "short", false), variantOut(2, "personal", true))
	// In flight, the listing already says which variant each message is.
	got := list(t, s, state.Filter{InFlight: true})
	if len(got) != 2 || got[0].Variant != "short" || got[0].Held || got[1].Variant != "personal" || !got[1].Held {
		t.Fatalf("in flight: %+v; want short (test) and personal (held)", got)
	}
	settle(t, s, b, state.Sent)
	got = list(t, s, state.Filter{Campaign: "x"})
	if len(got) != 2 || got[0].Variant != "short" || got[0].Held || got[1].Variant != "personal" || !got[1].Held {
		t.Fatalf("recorded: %+v; want short (test) and personal (held)", got)
	}
	plain := out("y", 1, "+41790000001", 0, 1)
	settle(t, s, mark(t, s, plain), state.Sent)
	if got := list(t, s, state.Filter{Campaign: "y"}); len(got) != 1 || got[0].Variant != "" || got[0].Held {
		t.Errorf("a message without variant: %+v", got)
	}
	// An unknown outcome keeps its variant.
	b = mark(t, s, variantOut(3, "short", false))
	if _, err := s.MarkInterrupted(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := list(t, s, state.Filter{To: b.Messages[0].To}); len(got) != 1 || got[0].State != state.Unknown || got[0].Variant != "short" {
		t.Errorf("interrupted: %+v; want unknown, variant short", got)
	}
}

func testTrialFigures(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	r := state.Round{Campaign: "x", Round: 1}
	if tr := snapshot(t, s, r).Trial(r); tr != nil {
		t.Fatalf("empty state: trial %+v, want none", tr)
	}
	// short: 4 sent, 1 failed; personal: 3 sent, 1 held sent the winner afterwards.
	var msgs []state.Outgoing
	for i := range 4 {
		msgs = append(msgs, variantOut(i, "short", false))
	}
	for i := 4; i < 7; i++ {
		msgs = append(msgs, variantOut(i, "personal", false))
	}
	failed := variantOut(7, "short", false)
	held := variantOut(8, "personal", true)
	untracked := variantOut(9, "personal", false)
	untracked.Tracked, untracked.TrackingType = false, ""
	b := mark(t, s, append(msgs, failed, held, untracked)...)
	var outs []state.Outcome
	for _, m := range b.Messages {
		st := state.Sent
		if m.Key == failed.Key {
			st = state.Failed
		}
		outs = append(outs, state.Outcome{Key: m.Key, MessageID: m.MessageID, State: st})
	}
	if err := s.SettleMany(ctx, []state.Settlement{{Batch: b, Outcomes: outs}}); err != nil {
		t.Fatal(err)
	}
	// Converted: short 1 (message 0), personal 2 (4 and 5), and the held one, not counted.
	var convs []state.Conversion
	for _, m := range []state.Outgoing{msgs[0], msgs[4], msgs[5], held} {
		convs = append(convs, state.Conversion{Key: m.Key, MessageID: m.MessageID, State: state.Converted, ProcessKey: "pk", Source: "e.csv:2"})
	}
	if err := s.MarkSubmitting(ctx, convs); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordConversions(ctx, convs); err != nil {
		t.Fatal(err)
	}
	tr := snapshot(t, s, r, state.Round{Campaign: "y", Round: 1}).Trial(r)
	if tr == nil {
		t.Fatal("no trial read")
	}
	want := []state.Arm{{Variant: "personal", SentTracked: 3, Converted: 2}, {Variant: "short", SentTracked: 4, Converted: 1}}
	if !reflect.DeepEqual(tr.Arms, want) {
		t.Errorf("arms = %+v, want %+v", tr.Arms, want)
	}
	if got := tr.Arm("short"); got != want[1] {
		t.Errorf("Arm(short) = %+v", got)
	}
	if got := tr.Arm("none"); got != (state.Arm{Variant: "none"}) {
		t.Errorf("Arm(none) = %+v", got)
	}
	if tr.LastTestSend.IsZero() || time.Since(tr.LastTestSend) > time.Hour || !tr.LastTestSend.Equal(b.CreatedAt) {
		t.Errorf("last test send %v, want the batch's %v", tr.LastTestSend, b.CreatedAt)
	}
	if tr.Decision != nil {
		t.Errorf("decision %+v before any was recorded", tr.Decision)
	}
}

func testDecisionRecordedOnce(t *testing.T, open func(testing.TB) state.Store) {
	ctx := context.Background()
	s := open(t)
	r := state.Round{Campaign: "x", Round: 2}
	at := state.ParseTime("2026-12-01T09:00:00.000Z")
	first := state.Decision{Round: r, Winner: "personal", DecidedBy: state.DecidedByAuto, DecidedAt: at,
		Reason: "personal wins at 95 % confidence", Arms: []state.Arm{{Variant: "personal", SentTracked: 1000, Converted: 80}, {Variant: "short", SentTracked: 1000, Converted: 40}}}
	before := version(t, s)
	got, err := s.RecordDecision(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, first) {
		t.Errorf("recorded %+v, want %+v", got, first)
	}
	if v := version(t, s); v.Serial <= before.Serial {
		t.Error("RecordDecision did not bump the serial")
	}
	later := state.Decision{Round: r, Winner: "short", DecidedBy: state.DecidedByFile, DecidedAt: at.Add(time.Hour), Reason: "named in the file"}
	before = version(t, s)
	got, err = s.RecordDecision(ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, first) {
		t.Errorf("a second decision: got %+v, want the first %+v", got, first)
	}
	if v := version(t, s); v.Serial != before.Serial {
		t.Error("a decision not recorded bumped the serial")
	}
	if tr := snapshot(t, s, r).Trial(r); tr == nil || tr.Decision == nil || !reflect.DeepEqual(*tr.Decision, first) || len(tr.Arms) != 0 {
		t.Errorf("snapshot trial = %+v, want the first decision and no arms", tr)
	}
	ds, err := s.Decisions(ctx, "")
	if err != nil || len(ds) != 1 || !reflect.DeepEqual(ds[0], first) {
		t.Errorf("Decisions = %+v, %v", ds, err)
	}
	if ds, err := s.Decisions(ctx, "other"); err != nil || len(ds) != 0 {
		t.Errorf("Decisions(other) = %+v, %v", ds, err)
	}
	if _, err := s.RecordDecision(ctx, state.Decision{Round: r, Winner: "", DecidedBy: "auto"}); err == nil {
		t.Error("a decision without a winner was recorded")
	}
	side, err := s.ExportSideTables(ctx)
	if err != nil || len(side.Decisions) != 1 {
		t.Errorf("exported decisions: %+v, %v", side.Decisions, err)
	}
	c, err := s.Contents(ctx)
	if err != nil || c.Decisions != 1 || c.Empty() {
		t.Errorf("contents %+v, %v; want 1 decision", c, err)
	}
}
