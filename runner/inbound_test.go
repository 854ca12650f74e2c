package runner_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/runner"
)

// repliesFunc answers each pull with what its function returns for the pull's number.
type repliesFunc func(n int) []runner.InboundReply

func (f repliesFunc) pulls() (runner.InboundReader, *int) {
	n := 0
	return readerFunc(func() []runner.InboundReply { n++; return f(n) }), &n
}

type readerFunc func() []runner.InboundReply

func (f readerFunc) Replies(context.Context, int) ([]runner.InboundReply, error) { return f(), nil }

// TestRefreshOptOutsNormalisesSenders: a sender written with "00", spaces or punctuation
// opts out the E.164 number campaigns send to; one that is no number is skipped and counted,
// not recorded as written.
func TestRefreshOptOutsNormalisesSenders(t *testing.T) {
	s := openStore(t)
	sw, _ := runner.NewStopWords(runner.DefaultStopWords)
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	in, _ := repliesFunc(func(n int) []runner.InboundReply {
		if n > 1 {
			return nil
		}
		var out []runner.InboundReply
		for i, from := range []string{"41793026731", "0041 79 302 67 32", "+41 (79) 302-67-33", " 41793026734 ", "##[error]x", "", "4179", "+41793026731"} {
			out = append(out, runner.InboundReply{MessageID: fmt.Sprint("in-", i), From: from, Text: "STOP", ReceivedAt: at})
		}
		return out
	}).pulls()
	res, err := runner.RefreshOptOuts(context.Background(), s, in, runner.RefreshOptOutsOptions{StopWords: sw, Now: at})
	if err != nil {
		t.Fatal(err)
	}
	if want := (runner.OptOutResult{Pulls: 1, Replies: 5, OptOuts: 4, NotNumbers: 3, NotNumber: `##\u005berror]x`}); res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	list, err := s.OptOuts(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	var numbers []string
	for _, o := range list {
		numbers = append(numbers, o.Number)
	}
	slices.Sort(numbers)
	if want := []string{"+41793026731", "+41793026732", "+41793026733", "+41793026734"}; !slices.Equal(numbers, want) {
		t.Errorf("opt-outs %v, want %v", numbers, want)
	}
	if w := res.Warnings(); len(w) != 1 || !strings.HasPrefix(w[0], `3 inbound replies skipped: their senders are not phone numbers (the first: "##\u005berror]x")`) {
		t.Errorf("warnings %q", w)
	}
}

// TestRefreshOptOutsReceivedTimes: a reply without a received time smsform reads is
// recorded at the time of the pull, counted, and the first such time named.
func TestRefreshOptOutsReceivedTimes(t *testing.T) {
	s := openStore(t)
	sw, _ := runner.NewStopWords(runner.DefaultStopWords)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	in, _ := repliesFunc(func(n int) []runner.InboundReply {
		if n > 1 {
			return nil
		}
		return []runner.InboundReply{
			{MessageID: "in-1", From: "41793026731", Text: "STOP", ReceivedAt: now.Add(-time.Hour)},
			{MessageID: "in-2", From: "41793026732", Text: "STOP", ReceivedAtText: "yesterday\n##[error]"},
			{MessageID: "in-3", From: "41793026733", Text: "STOP"},
		}
	}).pulls()
	res, err := runner.RefreshOptOuts(context.Background(), s, in, runner.RefreshOptOutsOptions{StopWords: sw, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if want := (runner.OptOutResult{Pulls: 1, Replies: 3, OptOuts: 3, NoTimes: 2, NoTime: `yesterday\n##\u005berror]`}); res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	if w := res.Warnings(); len(w) != 1 || !strings.HasPrefix(w[0], "2 inbound replies recorded with the time of this refresh") {
		t.Errorf("warnings %q", w)
	}
}

// TestRefreshOptOutsStops: an inbox that hands out again what it handed out in this run, or
// that never empties, stops the pulls with a reason instead of a refresh that runs for ever.
func TestRefreshOptOutsStops(t *testing.T) {
	sw, _ := runner.NewStopWords(runner.DefaultStopWords)
	for name, tc := range map[string]struct {
		pull  repliesFunc
		pulls int
		want  string
	}{
		"the same reply for ever": {
			pull: func(int) []runner.InboundReply {
				return []runner.InboundReply{{MessageID: "in-1", From: "41793026731", Text: "STOP"}}
			},
			pulls: 2, want: `Infobip's inbox handed out again replies it had handed out already (messageId "in-1"); smsform stopped pulling it after 2 pulls`,
		},
		"pulls that come round": {
			pull: func(n int) []runner.InboundReply {
				return []runner.InboundReply{{MessageID: fmt.Sprint("in-", n%3), From: "41793026731", Text: "STOP"}}
			},
			pulls: 4, want: `Infobip's inbox handed out again replies it had handed out already (messageId "in-1"); smsform stopped pulling it after 4 pulls`,
		},
		"new replies for ever": {
			pull: func(n int) []runner.InboundReply {
				return []runner.InboundReply{{MessageID: fmt.Sprint("in-", n), From: "not a number", Text: "STOP"}}
			},
			pulls: 1000, want: `Infobip's inbox had more than 1,000,000 replies for one refresh; smsform stopped pulling it after 1000 pulls`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			in, n := tc.pull.pulls()
			res, err := runner.RefreshOptOuts(context.Background(), openStore(t), in, runner.RefreshOptOutsOptions{StopWords: sw, Now: time.Now()})
			if err != nil || !strings.HasPrefix(res.Stopped, tc.want) || *n != tc.pulls || res.Pulls != tc.pulls {
				t.Errorf("RefreshOptOuts = %+v, %v after %d pulls; want it stopped after %d: %s", res, err, *n, tc.pulls, tc.want)
			}
		})
	}
}
