package runner_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

// experimentFiles is a campaign of 200 recipients, half in the test, with the experiment
// block given.
func experimentFiles(experiment string) map[string]string {
	return map[string]string{
		"c.yaml": "id: ab\nfrom: Shop\ntracking: {track: SMS, type: Sale}\ndestinations_file: people.csv\nvariants:\n" +
			"  - {name: short, text: \"Sale today\"}\n  - {name: personal, text: \"Hi {{.name}}, sale today\"}\n" +
			"experiment: " + experiment + "\n",
		"people.csv": numbersCSV(200),
	}
}

var abRound = state.Round{Campaign: "ab", Round: 1}

// trialSnapshot is a snapshot whose experiment round ab has these figures, its last test
// message sent at last.
func trialSnapshot(last time.Time, d *state.Decision, arms ...state.Arm) *state.Snapshot {
	return emptySnapshot().WithTrial(abRound, &state.Trial{Arms: arms, LastTestSend: last, Decision: d})
}

// actions counts a campaign plan's messages by action, and checks each message's variant
// against the recipient's assignment: a recipient in the test gets its own variant, a held
// one the winner (or none).
func checkExperimentPlan(t *testing.T, cp *runner.CampaignPlan, winner string) map[runner.Action]int {
	t.Helper()
	got := map[runner.Action]int{}
	r := cp.Campaign.NewRenderer()
	for _, m := range cp.Messages {
		got[m.Action]++
		rec := cp.Campaign.Recipients.At(int(m.Recipient))
		name := cp.VariantName(m)
		switch {
		case !rec.Held():
			if want := cp.Campaign.Variants[rec.Variant].Name; name != want {
				t.Fatalf("%s in the test planned with %q, want its own %q", rec.To, name, want)
			}
		case winner == "":
			if m.Action != runner.Held || name != "" {
				t.Fatalf("%s held without winner: action %s, variant %q", rec.To, m.Action, name)
			}
		default:
			if name != winner || m.Action == runner.Held {
				t.Fatalf("%s held: action %s, variant %q, want the winner %s", rec.To, m.Action, name, winner)
			}
			// The held recipient carries the winner's text, parts and hash.
			planned := cp.Recipient(m)
			text, err := r.Render(planned)
			if err != nil {
				t.Fatal(err)
			}
			vr := cp.Campaign.VariantRenderer(cp.Campaign.VariantIndex(winner))
			parts, hash, err := vr.Weigh(rec)
			if err != nil || int(planned.Parts) != parts || planned.Hash != hash || (winner == "personal") != strings.HasPrefix(text, "Hi ") {
				t.Fatalf("%s held: text %q parts %d hash %x, want the winner's (%d, %x, %v)", rec.To, text, planned.Parts, planned.Hash, parts, hash, err)
			}
		}
	}
	return got
}

// TestPlanExperimentWinner: which winner a plan takes, from the state, the file and auto's
// conditions, and what the held recipients get.
func TestPlanExperimentWinner(t *testing.T) {
	enough := []state.Arm{{Variant: "personal", SentTracked: 100, Converted: 30}, {Variant: "short", SentTracked: 100, Converted: 10}}
	close := []state.Arm{{Variant: "personal", SentTracked: 100, Converted: 12}, {Variant: "short", SentTracked: 100, Converted: 10}}
	recorded := &state.Decision{Round: abRound, Winner: "short", DecidedBy: state.DecidedByFile, DecidedAt: now.Add(-time.Hour), Reason: "short named in the file (winner: short)"}
	for _, tc := range []struct {
		name, experiment string
		snap             *state.Snapshot
		winner, by       string
		reason           string
	}{
		{"no winner named", "{sample: 50%}", emptySnapshot(), "", "", "no winner: the file names none"},
		{"named", "{sample: 50%, winner: personal}", emptySnapshot(), "personal", "file", "winner personal named in the file (winner: personal); test nothing sent with tracking yet"},
		{"auto before any send", "{sample: 50%, winner: auto, min_sent: 50, wait: 1h}", emptySnapshot(), "", "", "no winner yet: no test message has been sent"},
		{"auto within wait", "{sample: 50%, winner: auto, min_sent: 50, wait: 3h}", trialSnapshot(now.Add(-2*time.Hour), nil, enough...), "", "",
			"no winner yet: auto decides 3h after the last test message (2026-06-01T10:00:00Z), at 2026-06-01T13:00:00Z; test personal 30.0 % ± 8.8 (30 of 100) vs short 10.0 % ± 6.0 (10 of 100), p < 0.001"},
		{"auto short of min_sent", "{sample: 50%, winner: auto, min_sent: 101, wait: 1h}", trialSnapshot(now.Add(-2*time.Hour), nil, enough...), "", "",
			"no winner yet: every variant needs 101 sent with tracking (short 100, personal 100); test personal"},
		// 12 of 100 against 10 of 100, computed apart: pooled z = 0.4520, p = 0.6513; Wilson
		// half-widths 6.4 and 6.0 points (30 of 100: 8.8).
		{"auto not significant", "{sample: 50%, winner: auto, min_sent: 50, wait: 1h}", trialSnapshot(now.Add(-2*time.Hour), nil, close...), "", "",
			"no winner at 95 % confidence: personal 12.0 % ± 6.4 vs short 10.0 % ± 6.0, p = 0.65"},
		{"auto decides", "{sample: 50%, winner: auto, min_sent: 50, wait: 1h}", trialSnapshot(now.Add(-2*time.Hour), nil, enough...), "personal", "auto",
			"personal wins at 95 % confidence: personal 30.0 % ± 8.8 vs short 10.0 % ± 6.0, p < 0.001"},
		{"recorded wins over the file", "{sample: 50%, winner: personal}", trialSnapshot(now.Add(-2*time.Hour), recorded, enough...), "short", "file",
			"winner short, decided by the file on 2026-06-01 and recorded: short named in the file (winner: short); the file now names personal: the recorded decision stands"},
		{"recorded wins over auto", "{sample: 50%, winner: auto, min_sent: 50, wait: 0m}", trialSnapshot(now.Add(-2*time.Hour), recorded, enough...), "short", "file", "winner short, decided by the file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := load(t, experimentFiles(tc.experiment))
			p, err := runner.MakePlan(set, tc.snap, now, runner.PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cp := p.Campaigns[0]
			e := cp.Experiment
			if e == nil || e.WinnerName() != tc.winner || e.DecidedBy != tc.by || !strings.HasPrefix(e.Reason, tc.reason) {
				t.Fatalf("experiment %+v\nwant winner %q by %q, reason starting %q", e, tc.winner, tc.by, tc.reason)
			}
			got := checkExperimentPlan(t, cp, tc.winner)
			if e.Test+e.Held != 200 || e.Test < 70 || e.Held < 70 {
				t.Errorf("test %d, held %d of 200 with sample 50%%", e.Test, e.Held)
			}
			wantHeld := 0
			if tc.winner == "" {
				wantHeld = e.Held
			}
			if got[runner.Held] != wantHeld || p.Summary.Held != wantHeld || got[runner.Send] != 200-wantHeld || p.Summary.Send != 200-wantHeld {
				t.Errorf("actions %v, summary %+v; want %d held", got, p.Summary, wantHeld)
			}
			if !strings.Contains(e.ExperimentLine(), e.Reason) {
				t.Errorf("line %q", e.ExperimentLine())
			}
		})
	}
}

// TestPlanExperimentRecordedWinnerGone: a recorded winner the file no longer has is a
// problem at the campaign's variants, and nothing is planned.
func TestPlanExperimentRecordedWinnerGone(t *testing.T) {
	set := load(t, experimentFiles("{sample: 50%}"))
	d := &state.Decision{Round: abRound, Winner: "long", DecidedBy: state.DecidedByAuto, DecidedAt: now}
	_, err := runner.MakePlan(set, trialSnapshot(now, d), now, runner.PlanOptions{})
	var ve *campaign.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != "variants" || ve.Problems[0].Line != 5 ||
		!strings.Contains(ve.Problems[0].Msg, "the state records long as the winner of round 1") {
		t.Fatalf("err = %v", err)
	}
}

// TestApplyExperimentRecordsDecisionOnce: apply records the decision before it sends the
// held recipients the winner, with the figures it rested on; a second apply with another
// winner in the file sends nothing, records nothing, and plans the held as changed.
func TestApplyExperimentRecordsDecisionOnce(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	set := load(t, experimentFiles("{sample: 50%}"))
	snd := &oneSender{}
	p := planFromStore(t, set, store, runner.PlanOptions{})
	held := p.Summary.Held
	if _, err := runner.Apply(ctx, p, snd, store, runner.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if ds, _ := store.Decisions(ctx, ""); len(ds) != 0 {
		t.Fatalf("a decision was recorded without a winner: %+v", ds)
	}
	for _, r := range snd.reqs {
		for _, m := range r.Messages {
			if m.Variant == "" {
				t.Fatalf("message %s sent without variant", m.ID)
			}
		}
	}

	set = load(t, experimentFiles("{sample: 50%, winner: personal}"))
	p = planFromStore(t, set, store, runner.PlanOptions{})
	if p.Summary.Send != held || p.Summary.Held != 0 {
		t.Fatalf("with a winner: summary %+v, want %d to send", p.Summary, held)
	}
	sent := len(snd.reqs)
	res, err := runner.Apply(ctx, p, snd, store, runner.ApplyOptions{})
	if err != nil || res.Sent != held {
		t.Fatalf("apply = %+v, %v", res, err)
	}
	for _, r := range snd.reqs[sent:] {
		for _, m := range r.Messages {
			if m.Variant != "personal" || !strings.HasPrefix(m.Text, "Hi N") {
				t.Fatalf("held message %+v, want personal's text", m)
			}
		}
	}
	ds, err := store.Decisions(ctx, "")
	if err != nil || len(ds) != 1 || ds[0].Winner != "personal" || ds[0].DecidedBy != state.DecidedByFile || len(ds[0].Arms) != 2 ||
		ds[0].Reason != "personal named in the file (winner: personal)" {
		t.Fatalf("decisions %+v, %v", ds, err)
	}
	msgs, err := store.List(ctx, state.Filter{Campaign: "ab"})
	if err != nil {
		t.Fatal(err)
	}
	heldRecorded := 0
	for _, m := range msgs {
		if m.Held {
			heldRecorded++
			if m.Variant != "personal" {
				t.Fatalf("held message recorded with variant %q", m.Variant)
			}
		}
	}
	if heldRecorded != held {
		t.Errorf("%d messages recorded as held, want %d", heldRecorded, held)
	}

	set = load(t, experimentFiles("{sample: 50%, winner: short}"))
	p = planFromStore(t, set, store, runner.PlanOptions{})
	if p.Summary.Send != 0 || p.Summary.Changed != held || p.Campaigns[0].Experiment.WinnerName() != "personal" {
		t.Fatalf("after another winner in the file: summary %+v, winner %q", p.Summary, p.Campaigns[0].Experiment.WinnerName())
	}
	sent = len(snd.reqs)
	if res, err := runner.Apply(ctx, p, snd, store, runner.ApplyOptions{}); err != nil || res.Sent != 0 || len(snd.reqs) != sent {
		t.Fatalf("apply = %+v, %v; %d requests", res, err, len(snd.reqs)-sent)
	}
	if ds2, _ := store.Decisions(ctx, ""); len(ds2) != 1 || !ds2[0].DecidedAt.Equal(ds[0].DecidedAt) || ds2[0].Winner != "personal" {
		t.Errorf("decisions changed: %+v", ds2)
	}
}

// TestPlanExperimentSampleShrank: recipients sent in the test and held out of it once the
// sample shrank are compared with the variant they were sent (the weights give it whatever
// the sample), not shown as changed, and every view writes the plan.
func TestPlanExperimentSampleShrank(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	set := load(t, experimentFiles("{sample: 100%}"))
	if _, err := runner.Apply(ctx, planFromStore(t, set, store, runner.PlanOptions{}), &oneSender{}, store, runner.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	set = load(t, experimentFiles("{sample: 50%}"))
	p := planFromStore(t, set, store, runner.PlanOptions{})
	if p.Summary.Noop != 200 || p.Summary.Held != 0 || p.Summary.Changed != 0 {
		t.Fatalf("summary %+v, want 200 already sent", p.Summary)
	}
	var b strings.Builder
	if err := p.WriteText(&b, runner.ViewOptions{Shown: -1}); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteMarkdown(&b, runner.MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
}

// rejectSender rejects every message: each is recorded failed.
type rejectSender struct{}

func (rejectSender) Send(_ context.Context, req *runner.Request) ([]runner.Answer, error) {
	out := make([]runner.Answer, len(req.Messages))
	for i, m := range req.Messages {
		out[i] = runner.Answer{MessageID: m.ID, Status: runner.Status{Group: runner.GroupRejected, ID: 52, Name: "REJECTED_DESTINATION"}}
	}
	return out, nil
}

// TestPlanExperimentSampleShrankFailed: test messages that failed, of recipients held once
// the sample shrank, stay failed with the variant they were sent with (its text in every
// view, as the plan's schema asks of a message that is not held); retried, they are sent
// that variant again.
func TestPlanExperimentSampleShrankFailed(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	set := load(t, experimentFiles("{sample: 100%}"))
	if _, err := runner.Apply(ctx, planFromStore(t, set, store, runner.PlanOptions{}), rejectSender{}, store, runner.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	set = load(t, experimentFiles("{sample: 50%}"))
	for _, retry := range []bool{false, true} {
		p := planFromStore(t, set, store, runner.PlanOptions{RetryFailed: retry})
		want := runner.Failed
		if retry {
			want = runner.Send
		}
		c := p.Campaigns[0]
		for _, m := range c.Messages {
			r := c.Recipient(m)
			if m.Action != want || m.Variant < 0 || int(m.Variant) != set.Campaigns[0].Assigner().Variant(r.To) || r.Parts == 0 {
				t.Fatalf("retry %v: %s planned %v with variant %d (parts %d), want %v with its test variant", retry, r.To, m.Action, m.Variant, r.Parts, want)
			}
		}
		var b strings.Builder
		if err := p.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), `"text":""`) {
			t.Errorf("retry %v: a message without its text in the plan's JSON", retry)
		}
	}
}
