package runner_test

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

// otpYAML has three recipients; Cid's text is long enough for two SMS parts.
const otpYAML = `id: otp
from: InfoSMS
text: "Hi {{.name}}, your PIN is {{.pin}}."
tracking: {track: SMS, type: One_Time_Pin}
destinations:
  - to: "+41 79 000 00 01"
    vars: {name: Ann, pin: "1111"}
  - to: "+41 79 000 00 02"
    vars: {name: Ben, pin: "2222"}
  - to: "+41 79 000 00 03"
    vars: {name: Cid, pin: "` + "3333 and a long tail that makes this message need more than one SMS part because it is over one hundred and sixty characters long, really, truly, honestly" + `"}
`

func TestMakePlan(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	c := set.Campaigns[0]
	if c.Recipients.Len() != 3 || c.Recipients.At(2).Parts != 2 {
		t.Fatalf("fixture: recipients %+v", c.Recipients)
	}
	to := func(i int) string { return c.Recipients.At(i).To }
	hash := func(i int) uint64 { return c.Recipients.At(i).Hash }
	key := func(i int) state.Key { return state.Key{Campaign: "otp", Round: 1, To: to(i)} }
	orphan := func(n string) state.Key { return state.Key{Campaign: "otp", Round: 1, To: n} }

	type want struct {
		actions  []runner.Action
		attempts []uint16
		counts   runner.Counts
		errors   map[int32]string
		orphaned []string
	}
	tests := []struct {
		name string
		recs map[state.Key]state.Record
		opts runner.PlanOptions
		want want
	}{
		{
			name: "empty state sends all",
			want: want{
				actions: []runner.Action{runner.Send, runner.Send, runner.Send},
				counts:  runner.Counts{Send: 3, SmsParts: 4},
			},
		},
		{
			name: "sent with the same hash is a noop",
			recs: map[state.Key]state.Record{
				key(0): {State: state.Sent, Hash: hash(0)},
				key(2): {State: state.Sent, Hash: hash(2)},
			},
			want: want{
				actions: []runner.Action{runner.Noop, runner.Send, runner.Noop},
				counts:  runner.Counts{Send: 1, Noop: 2, SmsParts: 1},
			},
		},
		{
			name: "sent with another hash is changed and not resent",
			recs: map[state.Key]state.Record{
				key(0): {State: state.Sent, Hash: hash(0) ^ 1},
				key(1): {State: state.Sent, Hash: hash(1)},
			},
			want: want{
				actions: []runner.Action{runner.Changed, runner.Noop, runner.Send},
				counts:  runner.Counts{Send: 1, Noop: 1, Changed: 1, SmsParts: 2},
			},
		},
		{
			name: "failed is listed with its reason",
			recs: map[state.Key]state.Record{
				key(1): {State: state.Failed, Hash: hash(1), Attempt: 2, Error: "REJECTED_DESTINATION: Invalid destination address"},
			},
			want: want{
				actions:  []runner.Action{runner.Send, runner.Failed, runner.Send},
				attempts: []uint16{0, 2, 0},
				counts:   runner.Counts{Send: 2, Failed: 1, SmsParts: 3},
				errors:   map[int32]string{1: "REJECTED_DESTINATION: Invalid destination address"},
			},
		},
		{
			name: "failed with retry-failed is sent with the next attempt",
			recs: map[state.Key]state.Record{
				key(1): {State: state.Failed, Hash: hash(1), Attempt: 2, Error: "rejected"},
			},
			opts: runner.PlanOptions{RetryFailed: true},
			want: want{
				actions:  []runner.Action{runner.Send, runner.Send, runner.Send},
				attempts: []uint16{0, 3, 0},
				counts:   runner.Counts{Send: 3, SmsParts: 4},
			},
		},
		{
			name: "sending and unknown are unknown",
			recs: map[state.Key]state.Record{
				key(0): {State: state.Sending, Hash: hash(0)},
				key(2): {State: state.Unknown, Hash: hash(2) ^ 1},
			},
			opts: runner.PlanOptions{RetryFailed: true},
			want: want{
				actions: []runner.Action{runner.Unknown, runner.Send, runner.Unknown},
				counts:  runner.Counts{Send: 1, Unknown: 2, SmsParts: 1},
			},
		},
		{
			name: "records not in the files are orphaned, sorted",
			recs: map[state.Key]state.Record{
				orphan("+41799999999"): {State: state.Sent},
				key(0):                 {State: state.Sent, Hash: hash(0)},
				orphan("+41790000009"): {State: state.Failed},
				orphan("+41795555555"): {State: state.Unknown},
				// Other rounds and campaigns are not this plan's business.
				{Campaign: "otp", Round: 2, To: "+41791111111"}:   {State: state.Sent},
				{Campaign: "other", Round: 1, To: "+41791111111"}: {State: state.Sent},
			},
			want: want{
				actions:  []runner.Action{runner.Noop, runner.Send, runner.Send},
				counts:   runner.Counts{Send: 2, Noop: 1, Orphaned: 3, SmsParts: 3},
				orphaned: []string{"+41790000009", "+41795555555", "+41799999999"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := state.NewSnapshot(state.Version{Lineage: "l", Serial: 3}, tt.recs)
			p, err := runner.MakePlan(set, snap, now, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Campaigns) != 1 {
				t.Fatalf("%d campaign plans", len(p.Campaigns))
			}
			cp := p.Campaigns[0]
			var actions []runner.Action
			var attempts []uint16
			for i, m := range cp.Messages {
				if m.Recipient != int32(i) {
					t.Errorf("message %d is of recipient %d; want file order", i, m.Recipient)
				}
				actions = append(actions, m.Action)
				attempts = append(attempts, m.Attempt)
			}
			if !slices.Equal(actions, tt.want.actions) {
				t.Errorf("actions %v, want %v", actions, tt.want.actions)
			}
			if tt.want.attempts == nil {
				tt.want.attempts = make([]uint16, len(actions))
			}
			if !slices.Equal(attempts, tt.want.attempts) {
				t.Errorf("attempts %v, want %v", attempts, tt.want.attempts)
			}
			if cp.Counts != tt.want.counts || p.Summary != tt.want.counts {
				t.Errorf("counts %+v, summary %+v, want %+v", cp.Counts, p.Summary, tt.want.counts)
			}
			if len(cp.Errors) != len(tt.want.errors) || (len(cp.Errors) > 0 && !reflect.DeepEqual(cp.Errors, tt.want.errors)) {
				t.Errorf("errors %v, want %v", cp.Errors, tt.want.errors)
			}
			if !slices.Equal(cp.Orphaned, tt.want.orphaned) {
				t.Errorf("orphaned %v, want %v", cp.Orphaned, tt.want.orphaned)
			}
			if p.State != snap.Version || p.Inputs != set.Digest {
				t.Errorf("plan made against %+v / %q, want %+v / %q", p.State, p.Inputs, snap.Version, set.Digest)
			}
		})
	}
}

// TestRetryFailedFreshMessageID: a failed message is sent again under another messageId,
// since Infobip may remember the rejected one.
func TestRetryFailedFreshMessageID(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	c := set.Campaigns[0]
	r := c.Recipients.At(1)
	snap := state.NewSnapshot(state.Version{}, map[state.Key]state.Record{
		{Campaign: "otp", Round: 1, To: r.To}: {State: state.Failed, Hash: r.Hash, Attempt: 0, Error: "x"},
	})
	plain, err := runner.MakePlan(set, snap, now, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	retry, err := runner.MakePlan(set, snap, now, runner.PlanOptions{RetryFailed: true})
	if err != nil {
		t.Fatal(err)
	}
	old := plain.Campaigns[0].MessageID(plain.Campaigns[0].Messages[1])
	fresh := retry.Campaigns[0].MessageID(retry.Campaigns[0].Messages[1])
	if old != runner.MessageID("otp", 1, r.To, 0) {
		t.Errorf("failed message has id %s, want the one it was sent with", old)
	}
	if fresh == old || fresh != runner.MessageID("otp", 1, r.To, 1) {
		t.Errorf("retried message has id %s (failed one %s); want attempt 1's id", fresh, old)
	}
	if plain.Digest() == retry.Digest() {
		t.Error("plans with and without -retry-failed have the same digest")
	}
}

func TestMakePlanSeveralCampaigns(t *testing.T) {
	set := load(t, map[string]string{
		"otp.yaml": otpYAML,
		"b.yaml": `id: alpha
from: "12345"
text: hello
round: 3
destinations: [{to: "+41790000001"}]
---
id: zulu
from: ZZZ
text: bye
destinations: [{to: "+41790000001"}, {to: "+41790000002"}]
`,
	})
	snap := state.NewSnapshot(state.Version{}, map[state.Key]state.Record{
		// alpha is in round 3: a round-1 record does not count.
		{Campaign: "alpha", Round: 1, To: "+41790000001"}: {State: state.Sent},
		{Campaign: "zulu", Round: 1, To: "+41790000001"}:  {State: state.Unknown},
	})
	p, err := runner.MakePlan(set, snap, now, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, cp := range p.Campaigns {
		ids = append(ids, fmt.Sprintf("%s/%d", cp.Campaign.ID, cp.Campaign.Round))
	}
	if want := []string{"alpha/3", "otp/1", "zulu/1"}; !slices.Equal(ids, want) {
		t.Errorf("campaign plans %v, want %v (sorted by id)", ids, want)
	}
	if want := (runner.Counts{Send: 5, Unknown: 1, SmsParts: 6}); p.Summary != want {
		t.Errorf("summary %+v, want %+v", p.Summary, want)
	}
	rounds := runner.Rounds(set)
	want := []state.Round{{Campaign: "alpha", Round: 3}, {Campaign: "otp", Round: 1}, {Campaign: "zulu", Round: 1}}
	if !slices.Equal(rounds, want) {
		t.Errorf("Rounds = %v, want %v", rounds, want)
	}
}

// TestMakePlanSendAtAfterSending: once a scheduled campaign is sent, its send_at passing
// does not stop the plan of the others.
func TestMakePlanSendAtAfterSending(t *testing.T) {
	set := load(t, map[string]string{"a.yaml": "id: a\nfrom: InfoSMS\ntext: hi\ndestinations: [{to: \"+41790000001\"}]\nsend_at: 2026-07-01T09:00:00Z\n"})
	c := set.Campaigns[0]
	snap := state.NewSnapshot(state.Version{}, map[state.Key]state.Record{
		{Campaign: "a", Round: 1, To: c.Recipients.At(0).To}: {State: state.Sent, Hash: c.Recipients.At(0).Hash},
	})
	p, err := runner.MakePlan(set, snap, time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), runner.PlanOptions{})
	if err != nil || p.Summary.Noop != 1 {
		t.Fatalf("MakePlan = %+v, %v", p, err)
	}
}

func TestMakePlanSendAt(t *testing.T) {
	yaml := func(id, sendAt string) string {
		return "id: " + id + "\nfrom: InfoSMS\ntext: hi\ndestinations: [{to: \"+41790000001\"}]\n# a comment, so send_at is not on line 5 by accident\nsend_at: " + sendAt + "\n"
	}
	set := load(t, map[string]string{
		"a.yaml": yaml("a", "2026-07-01T09:00:00Z"),
		"b.yaml": yaml("b", "2026-12-01T09:00:00+01:00"),
	})
	tests := []struct {
		name string
		now  time.Time
		bad  []string // campaign files with a problem
		msg  string
	}{
		{"both in range", time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC), nil, ""},
		{"a in the past", time.Date(2026, 7, 1, 9, 0, 1, 0, time.UTC), []string{"a.yaml"}, "is in the past"},
		{"b too far ahead", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), []string{"b.yaml"}, "more than 180 days ahead"},
		{"both", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), []string{"a.yaml", "b.yaml"}, "more than 180 days ahead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := runner.MakePlan(set, emptySnapshot(), tt.now, runner.PlanOptions{})
			if tt.bad == nil {
				if err != nil || p.Summary.Send != 2 {
					t.Fatalf("MakePlan = %v, %v", p, err)
				}
				return
			}
			var ve *campaign.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("MakePlan error %v (%T), want *campaign.ValidationError", err, err)
			}
			if p != nil {
				t.Error("a plan came back with the error")
			}
			if len(ve.Problems) != len(tt.bad) {
				t.Fatalf("problems %v, want one for each of %v", ve.Problems, tt.bad)
			}
			for i, pr := range ve.Problems {
				c := set.Campaigns[slices.IndexFunc(set.Campaigns, func(c *campaign.Campaign) bool { return c.File == pr.File })]
				if !strings.HasSuffix(pr.File, tt.bad[i]) || pr.Line != 6 || pr.Field != "send_at" || pr.Line != c.Line("send_at") {
					t.Errorf("problem %+v, want %s:6 send_at", pr, tt.bad[i])
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("%s:6: send_at: ", pr.File)) {
					t.Errorf("error %q does not read FILE:LINE: send_at:", err)
				}
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

// TestMakePlanIsPure: the same inputs give the same plan, and planning changes none of them.
func TestMakePlanIsPure(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML, "r.yaml": "id: r\nfrom: InfoSMS\ntext: hi {{.name}}\ndestinations_file: r.csv\n", "r.csv": numbersCSV(50)})
	recs := map[state.Key]state.Record{}
	for i, r := range set.Find("r").Recipients.All() {
		switch i % 5 {
		case 0:
			recs[state.Key{Campaign: "r", Round: 1, To: r.To}] = state.Record{State: state.Sent, Hash: r.Hash}
		case 1:
			recs[state.Key{Campaign: "r", Round: 1, To: r.To}] = state.Record{State: state.Failed, Attempt: 1, Error: "x"}
		case 2:
			recs[state.Key{Campaign: "r", Round: 1, To: r.To}] = state.Record{State: state.Unknown}
		}
	}
	recs[state.Key{Campaign: "r", Round: 1, To: "+41781234567"}] = state.Record{State: state.Sent}
	snap := state.NewSnapshot(state.Version{Lineage: "x", Serial: 9}, recs)
	before := fmt.Sprint(snap.Records(state.Round{Campaign: "r", Round: 1}))
	setBefore := fmt.Sprintf("%+v", set.Campaigns[1].Recipients)

	for _, opts := range []runner.PlanOptions{{}, {RetryFailed: true}} {
		p1, err1 := runner.MakePlan(set, snap, now, opts)
		p2, err2 := runner.MakePlan(set, snap, now, opts)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if p1.Digest() != p2.Digest() || !reflect.DeepEqual(p1, p2) {
			t.Errorf("two plans of the same inputs differ (%+v)", opts)
		}
		if len(p1.Digest()) != 64 {
			t.Errorf("digest %q", p1.Digest())
		}
	}
	if after := fmt.Sprint(snap.Records(state.Round{Campaign: "r", Round: 1})); after != before {
		t.Error("MakePlan changed the snapshot")
	}
	if after := fmt.Sprintf("%+v", set.Campaigns[1].Recipients); after != setBefore {
		t.Error("MakePlan changed the campaigns")
	}

	// A different state gives a different digest.
	p1, _ := runner.MakePlan(set, snap, now, runner.PlanOptions{})
	p3, _ := runner.MakePlan(set, emptySnapshot(), now, runner.PlanOptions{})
	if p1.Digest() == p3.Digest() {
		t.Error("plans against different states have the same digest")
	}
}

var messageIDChars = regexp.MustCompile(`^[a-z0-9-]+$`)

func TestMessageID(t *testing.T) {
	base := runner.MessageID("otp-welcome", 1, "+41793026731", 0)
	if again := runner.MessageID("otp-welcome", 1, "+41793026731", 0); again != base {
		t.Errorf("MessageID is not deterministic: %s, %s", base, again)
	}
	variants := map[string]string{
		"campaign":        runner.MessageID("otp-welcomf", 1, "+41793026731", 0),
		"round":           runner.MessageID("otp-welcome", 2, "+41793026731", 0),
		"number":          runner.MessageID("otp-welcome", 1, "+41793026732", 0),
		"attempt 1":       runner.MessageID("otp-welcome", 1, "+41793026731", 1),
		"attempt 2":       runner.MessageID("otp-welcome", 1, "+41793026731", 2),
		"boundary shift":  runner.MessageID("otp-welcome1", 1, "+41793026731", 0),
		"round in number": runner.MessageID("otp-welcome", 11, "+4179302673", 0),
	}
	seen := map[string]string{base: "base"}
	for name, id := range variants {
		if other, dup := seen[id]; dup {
			t.Errorf("%s gives the same id as %s: %s", name, other, id)
		}
		seen[id] = name
	}
	long := strings.Repeat("z", 64)
	for _, id := range append(slices.Collect(maps.Values(variants)), base,
		runner.MessageID(long, math.MaxInt, "+999999999999999", math.MaxInt)) {
		if !messageIDChars.MatchString(id) || len(id) > 200 {
			t.Errorf("messageId %q: want 1-200 chars of [a-z0-9-]", id)
		}
		if !infobip.ValidMessageID(id) {
			t.Errorf("messageId %q is not valid for the infobip client", id)
		}
	}
}

func TestBulkID(t *testing.T) {
	ids := []string{runner.MessageID("c", 1, "+41790000001", 0), runner.MessageID("c", 1, "+41790000002", 0)}
	b := runner.BulkID("c", 1, ids)
	if runner.BulkID("c", 1, slices.Clone(ids)) != b {
		t.Error("BulkID is not deterministic")
	}
	if !strings.HasPrefix(b, "c-r1-") {
		t.Errorf("BulkID %q should start with the campaign and round", b)
	}
	for name, other := range map[string]string{
		"other messages": runner.BulkID("c", 1, ids[:1]),
		"other order":    runner.BulkID("c", 1, []string{ids[1], ids[0]}),
		"other round":    runner.BulkID("c", 2, ids),
		"other campaign": runner.BulkID("d", 1, ids),
	} {
		if other == b {
			t.Errorf("%s: same bulkId %s", name, b)
		}
	}
	long := strings.Repeat("z", 64)
	if got := runner.BulkID(long, 999_999, ids); len(got) > 100 {
		t.Errorf("BulkID of a 64-char id is %d chars: %s", len(got), got)
	}
}

// TestBulkIDLengthHugeRound: round is capped, so the longest id with the largest round
// still makes a bulkId within Infobip's 100 characters.
func TestBulkIDLengthHugeRound(t *testing.T) {
	id := strings.Repeat("z", 64)
	dir := t.TempDir()
	yaml := "id: " + id + "\nfrom: InfoSMS\ntext: hi\nround: 1000000\ndestinations: [{to: \"+41790000001\"}]\n"
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := campaign.Load(dir); err == nil || !strings.Contains(err.Error(), "round: must be at most 999999") {
		t.Fatalf("round 1000000 loads: %v", err)
	}
	if got := runner.BulkID(id, 999_999, nil); len(got) > 100 {
		t.Errorf("bulkId %d chars > 100: %s", len(got), got)
	}
}

// TestMakePlanResend: an unknown outcome that reconciliation cleared is sent again with the
// same attempt, so the same messageId.
func TestMakePlanResend(t *testing.T) {
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	c := set.Campaigns[0]
	k0 := state.Key{Campaign: "otp", Round: 1, To: c.Recipients.At(0).To}
	k1 := state.Key{Campaign: "otp", Round: 1, To: c.Recipients.At(1).To}
	snap := state.NewSnapshot(state.Version{}, map[state.Key]state.Record{
		k0: {State: state.Unknown, Hash: c.Recipients.At(0).Hash, Attempt: 1},
		k1: {State: state.Sent, Hash: c.Recipients.At(1).Hash},
	})
	p, err := runner.MakePlan(set, snap, now, runner.PlanOptions{Resend: map[state.Key]bool{k0: true, k1: true}})
	if err != nil {
		t.Fatal(err)
	}
	cp := p.Campaigns[0]
	if m := cp.Messages[0]; m.Action != runner.Send || m.Attempt != 1 || cp.MessageID(m) != runner.MessageID("otp", 1, k0.To, 1) {
		t.Errorf("resent unknown message: %+v, id %s", m, cp.MessageID(m))
	}
	if m := cp.Messages[1]; m.Action != runner.Noop {
		t.Errorf("Resend must not resend a sent message: %+v", m)
	}
	if p.Summary != (runner.Counts{Send: 2, Noop: 1, SmsParts: 3}) {
		t.Errorf("summary %+v", p.Summary)
	}
}
