package runner_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// pulls is an inbound reader that hands out one prepared pull per call, then fails (when
// failAfter) or answers empty. It checks the state at each pull: what the previous pull
// returned must already be committed.
type pulls struct {
	t         *testing.T
	store     *sqlite.Store
	answers   [][]runner.InboundReply
	failAfter bool
	calls     int
	committed []int // replies in the state at each call
}

func (p *pulls) Replies(ctx context.Context, limit int) ([]runner.InboundReply, error) {
	if limit != runner.InboundLimit {
		p.t.Errorf("pull asked for %d replies, want %d", limit, runner.InboundLimit)
	}
	c, err := p.store.Contents(ctx)
	if err != nil {
		return nil, err
	}
	p.committed = append(p.committed, c.Replies)
	p.calls++
	if p.calls <= len(p.answers) {
		return p.answers[p.calls-1], nil
	}
	if p.failAfter {
		return nil, errors.New("connection reset")
	}
	return nil, nil
}

func reply(id, from, text string) runner.InboundReply {
	return runner.InboundReply{MessageID: id, From: from, Text: text, ReceivedAt: time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)}
}

// TestRefreshOptOutsCommitsEachPull: the replies of one pull are committed before the next
// pull is made, so a failure on the second pull keeps the first pull's opt-outs.
func TestRefreshOptOutsCommitsEachPull(t *testing.T) {
	s := openStore(t)
	sw, _ := runner.NewStopWords(runner.DefaultStopWords)
	p := &pulls{t: t, store: s, failAfter: true, answers: [][]runner.InboundReply{
		{reply("in-1", "41793026731", " stop! "), reply("in-2", "41793026732", "thanks")},
	}}
	res, err := runner.RefreshOptOuts(context.Background(), s, p, runner.RefreshOptOutsOptions{StopWords: sw})
	if err == nil {
		t.Fatal("a failed second pull was not reported")
	}
	if want := (runner.OptOutResult{Pulls: 1, Replies: 2, OptOuts: 1}); res != want {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	if len(p.committed) != 2 || p.committed[0] != 0 || p.committed[1] != 2 {
		t.Fatalf("replies in the state at each pull = %v, want [0 2]", p.committed)
	}
	list, err := s.OptOuts(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Number != "+41793026731" || list[0].Source != "reply STOP at 2026-12-02T10:00Z (inbound messageId in-1)" {
		t.Fatalf("opt-outs = %+v", list)
	}
}

// TestStopWords: keyword, clean text or whole text; case, surrounding spaces and
// punctuation ignored; a configured list replaces the default.
func TestStopWords(t *testing.T) {
	def, _ := runner.NewStopWords(runner.DefaultStopWords)
	custom, _ := runner.NewStopWords([]string{" arret ", "STOP"})
	for _, tt := range []struct {
		sw   runner.StopWords
		r    runner.InboundReply
		want string
	}{
		{def, runner.InboundReply{Text: "STOP"}, "STOP"},
		{def, runner.InboundReply{Text: "  Unsubscribe. "}, "UNSUBSCRIBE"},
		{def, runner.InboundReply{Text: "stopp!!"}, "STOPP"},
		{def, runner.InboundReply{Text: "Quit sending", Keyword: "QUIT", CleanText: "sending"}, "QUIT"},
		{def, runner.InboundReply{Text: "PROMO cancel", Keyword: "PROMO", CleanText: "cancel"}, "CANCEL"},
		{def, runner.InboundReply{Text: "the end is near"}, ""},
		{def, runner.InboundReply{Text: "stopping by later"}, ""},
		{def, runner.InboundReply{Text: "arret"}, ""},
		{custom, runner.InboundReply{Text: "Arrêt"}, ""},
		{custom, runner.InboundReply{Text: "ARRET."}, "ARRET"},
		{custom, runner.InboundReply{Text: "end"}, ""},
	} {
		got, ok := tt.sw.Match(tt.r)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Match(%q) = %q, %v; want %q", tt.r.Text, got, ok, tt.want)
		}
	}
	if _, err := runner.NewStopWords([]string{" ", ","}); err == nil {
		t.Error("an empty stop word list was accepted")
	}
}

// TestPlanSuppressesOptOuts: a marketing campaign holds back an opted-out number, naming the
// opt-out; a transactional one sends; a removed opt-out no longer holds back.
func TestPlanSuppressesOptOuts(t *testing.T) {
	ctx := context.Background()
	set := load(t, map[string]string{"c.yaml": `id: promo
from: Shop
text: Hi
destinations: [{to: "+41793026731"}, {to: "+41793026732"}]
---
id: otp
purpose: transactional
from: Shop
text: Code
destinations: [{to: "+41793026731"}]
`})
	s := openStore(t)
	if _, err := s.AddOptOut(ctx, state.OptOut{Number: "+41793026731", Source: "added by hand", ReceivedAt: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	p := planFromStore(t, set, s, runner.PlanOptions{})
	for _, cp := range p.Campaigns {
		switch cp.Campaign.ID {
		case "promo":
			if cp.Counts.Suppressed != 1 || cp.Counts.Send != 1 || cp.Messages[0].Action != runner.Suppressed {
				t.Fatalf("promo: %+v %+v", cp.Counts, cp.Messages)
			}
			if s := cp.Suppressions[0]; s.Source != "opt-out (added by hand)" || s.Date.Format(time.DateOnly) != "2026-11-30" {
				t.Fatalf("suppression = %+v", s)
			}
		case "otp":
			if cp.Counts.Send != 1 || cp.Counts.Suppressed != 0 {
				t.Fatalf("transactional campaign suppressed: %+v", cp.Counts)
			}
		}
	}
	if _, err := s.RemoveOptOut(ctx, "+41793026731", "ann", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if p := planFromStore(t, set, s, runner.PlanOptions{}); p.Summary.Suppressed != 0 {
		t.Fatalf("a removed opt-out still suppresses: %+v", p.Summary)
	}
}
