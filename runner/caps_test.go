package runner_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

// capFile is a settings file with a marketing cap of max per 7 days.
func capFile(max int) string {
	return fmt.Sprintf("contact_policy:\n  marketing: {max: %d, per: 7d}\n", max)
}

// contactRow is a recorded marketing message: campaign, number, time.
type contactRow struct {
	campaign, to string
	at           time.Time
}

// contacts indexes recorded marketing messages, as Reader.Contacts reads them.
func contacts(rows ...contactRow) *state.Contacts {
	c := state.NewContacts(len(rows))
	for _, r := range rows {
		c.AddRow([]byte(r.campaign), 1, []byte(r.to), []byte(state.FormatTime(r.at)))
	}
	c.Sort()
	return c
}

// planCaps plans files against a snapshot holding the given contacts.
func planCaps(t *testing.T, files map[string]string, snap *state.Snapshot) *runner.Plan {
	t.Helper()
	set := load(t, files)
	if snap == nil {
		snap = emptySnapshot()
	}
	p, err := runner.MakePlan(set, snap, now, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// actions lists, per campaign, the action of each message in file order.
func actions(p *runner.Plan) map[string]string {
	out := map[string]string{}
	for _, cp := range p.Campaigns {
		var as []string
		for _, m := range cp.Messages {
			as = append(as, m.Action.String())
		}
		out[cp.Campaign.ID] = strings.Join(as, " ")
	}
	return out
}

func reasonOf(t *testing.T, p *runner.Plan, id string, i int) string {
	t.Helper()
	for _, cp := range p.Campaigns {
		if cp.Campaign.ID == id {
			why, _ := cp.CapReason(cp.Messages[i])
			return why
		}
	}
	t.Fatalf("no campaign %s", id)
	return ""
}

// TestCapsSamePlanPriority: two new campaigns to the same people under a cap of 1 send
// each person exactly one; the higher priority wins although its id sorts later, and the
// other's reason names it.
func TestCapsSamePlanPriority(t *testing.T) {
	p := planCaps(t, map[string]string{
		"smsform.yaml": capFile(1),
		"a.yaml":       "id: a-promo\nfrom: Shop\ntext: A\ndestinations: [{to: \"+41790000001\"}, {to: \"+41790000002\"}]\n",
		"b.yaml":       "id: b-promo\npriority: 5\nfrom: Shop\ntext: B\ndestinations: [{to: \"+41790000001\"}, {to: \"+41790000002\"}]\n",
	}, nil)
	got := actions(p)
	if got["a-promo"] != "capped capped" || got["b-promo"] != "send send" {
		t.Fatalf("actions %v", got)
	}
	if p.Summary.Send != 2 || p.Summary.Capped != 2 || p.NewlyCapped() != 2 {
		t.Errorf("summary %+v, newly capped %d", p.Summary, p.NewlyCapped())
	}
	want := "2nd marketing message in 7d (cap 1/7d): planned 2026-06-01 12:00Z by b-promo"
	if why := reasonOf(t, p, "a-promo", 0); why != want {
		t.Errorf("reason %q, want %q", why, want)
	}
	msgs, reasons := p.CappedOutgoing()
	if len(msgs) != 2 || msgs[0].Campaign != "a-promo" || msgs[0].Purpose != state.Marketing || reasons[0] != want {
		t.Errorf("capped to record: %+v %q", msgs, reasons)
	}
}

// TestCapsWindowBoundary: a recorded message exactly 7d before the send does not count;
// one a second later does.
func TestCapsWindowBoundary(t *testing.T) {
	snap := emptySnapshot()
	snap.Contacts = contacts(
		contactRow{"old", "+41790000001", now.Add(-7 * 24 * time.Hour)},
		contactRow{"old", "+41790000002", now.Add(-7*24*time.Hour + time.Second)},
	)
	p := planCaps(t, map[string]string{
		"smsform.yaml": capFile(1),
		"c.yaml":       "id: promo\nfrom: Shop\ntext: Hi\ndestinations: [{to: \"+41790000001\"}, {to: \"+41790000002\"}]\n",
	}, snap)
	if got := actions(p)["promo"]; got != "send capped" {
		t.Fatalf("actions %q, want send capped", got)
	}
	if why := reasonOf(t, p, "promo", 1); why != "2nd marketing message in 7d (cap 1/7d): sent 2026-05-25 12:00Z by old" {
		t.Errorf("reason %q", why)
	}
}

// TestCapsCountBothSides: a window of 7d holding the send is what counts, whichever side:
// with a cap of 2, messages 5 days before and 5 days after leave room (no 7 days hold 3),
// while 2 and 4 days after do not.
func TestCapsCountBothSides(t *testing.T) {
	day := 24 * time.Hour
	snap := emptySnapshot()
	snap.Contacts = contacts(
		contactRow{"x", "+41790000001", now.Add(-5 * day)},
		contactRow{"y", "+41790000001", now.Add(5 * day)},
		contactRow{"x", "+41790000002", now.Add(2 * day)},
		contactRow{"y", "+41790000002", now.Add(4 * day)},
	)
	p := planCaps(t, map[string]string{
		"smsform.yaml": capFile(2),
		"c.yaml":       "id: promo\nfrom: Shop\ntext: Hi\ndestinations: [{to: \"+41790000001\"}, {to: \"+41790000002\"}]\n",
	}, snap)
	if got := actions(p)["promo"]; got != "send capped" {
		t.Fatalf("actions %q, want send capped", got)
	}
	if why := reasonOf(t, p, "promo", 1); !strings.HasPrefix(why, "3rd marketing message in 7d (cap 2/7d): scheduled 2026-06-03 12:00Z by x, scheduled 2026-06-05 12:00Z by y") {
		t.Errorf("reason %q", why)
	}
}

// TestCapsTransactionalExempt: a transactional campaign under a cap is never capped, and
// its messages do not count against the marketing ones.
func TestCapsTransactionalExempt(t *testing.T) {
	snap := emptySnapshot()
	snap.Contacts = contacts(contactRow{"old", "+41790000001", now.Add(-time.Hour)})
	p := planCaps(t, map[string]string{
		"smsform.yaml": capFile(1),
		"otp.yaml":     "id: otp\npriority: 9\npurpose: transactional\nfrom: Shop\ntext: Code\ndestinations: [{to: \"+41790000001\"}, {to: \"+41790000002\"}]\n",
		"promo.yaml":   "id: promo\nfrom: Shop\ntext: Hi\ndestinations: [{to: \"+41790000002\"}]\n",
	}, snap)
	got := actions(p)
	if got["otp"] != "send send" || got["promo"] != "send" {
		t.Fatalf("actions %v", got)
	}
}

// TestCapsUncappedCampaignCounts: a campaign whose settings set no cap is not capped, but
// its marketing messages count against the campaigns under a cap (a cap is per number).
func TestCapsUncappedCampaignCounts(t *testing.T) {
	p := planCaps(t, map[string]string{
		"free.yaml":           "id: free\npriority: 1\nfrom: Shop\ntext: Free\ndestinations: [{to: \"+41790000001\"}]\n",
		"capped/smsform.yaml": capFile(1),
		"capped/c.yaml":       "id: capped\npriority: 2\nfrom: Shop\ntext: Hi\ndestinations: [{to: \"+41790000001\"}]\n",
		"capped/d.yaml":       "id: later\nfrom: Shop\ntext: Hi\ndestinations: [{to: \"+41790000001\"}]\n",
	}, nil)
	got := actions(p)
	// capped (priority 2) goes first, then free (1, no cap: sent), then later (capped).
	if got["capped"] != "send" || got["free"] != "send" || got["later"] != "capped" {
		t.Fatalf("actions %v", got)
	}
	if why := reasonOf(t, p, "later", 0); !strings.Contains(why, "3rd marketing message") || !strings.Contains(why, "by capped") || !strings.Contains(why, "by free") {
		t.Errorf("reason %q", why)
	}
}

// TestCapsScheduledCountAtSendTime: send_at and quiet hours move when a message counts: a
// campaign scheduled 8 days ahead is out of the window of a recorded message of now.
func TestCapsScheduledCountAtSendTime(t *testing.T) {
	snap := emptySnapshot()
	snap.Contacts = contacts(contactRow{"old", "+41790000001", now.Add(-time.Minute)})
	later := now.Add(8 * 24 * time.Hour).Format(time.RFC3339)
	p := planCaps(t, map[string]string{
		"smsform.yaml": capFile(1),
		"a.yaml":       "id: soon\nfrom: Shop\ntext: Hi\nsend_at: " + now.Add(time.Hour).Format(time.RFC3339) + "\ndestinations: [{to: \"+41790000001\"}]\n",
		"b.yaml":       "id: later\nfrom: Shop\ntext: Hi\nsend_at: " + later + "\ndestinations: [{to: \"+41790000001\"}]\n",
	}, snap)
	got := actions(p)
	if got["soon"] != "capped" || got["later"] != "send" {
		t.Fatalf("actions %v", got)
	}
}

// TestCapsOptOutFirst: an opted-out number is suppressed, not capped, and does not count.
func TestCapsOptOutFirst(t *testing.T) {
	b := state.NewSnapshotBuilder(state.Version{Lineage: "l", Serial: 1})
	b.OptOuts([]state.OptOut{{Number: "+41790000001", Source: "reply STOP"}})
	snap := b.Snapshot()
	snap.Contacts = contacts(contactRow{"old", "+41790000001", now.Add(-time.Hour)})
	p := planCaps(t, map[string]string{
		"smsform.yaml": capFile(1),
		"c.yaml":       "id: promo\nfrom: Shop\ntext: Hi\ndestinations: [{to: \"+41790000001\"}]\n",
	}, snap)
	if got := actions(p)["promo"]; got != "suppressed" || p.Summary.Capped != 0 {
		t.Fatalf("actions %q, capped %d", got, p.Summary.Capped)
	}
}

// TestCapsRecordedStable: a message recorded capped stays capped on every later plan,
// whatever its text, and is neither sent nor changed; the plan caps nothing anew.
func TestCapsRecordedStable(t *testing.T) {
	set := load(t, map[string]string{
		"smsform.yaml": capFile(1),
		"c.yaml":       "id: promo\nfrom: Shop\ntext: Hi\ndestinations: [{to: \"+41790000001\"}]\n",
	})
	snap := state.NewSnapshot(state.Version{Lineage: "l", Serial: 2}, map[state.Key]state.Record{
		{Campaign: "promo", Round: 1, To: "+41790000001"}: {State: state.Capped, Hash: 1, Error: "2nd marketing message in 7d (cap 1/7d): sent ..."},
	})
	p, err := runner.MakePlan(set, snap, now, runner.PlanOptions{RetryFailed: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(p)["promo"]; got != "capped" || p.Summary.Capped != 1 || p.Summary.Send != 0 || p.NewlyCapped() != 0 {
		t.Fatalf("actions %q, summary %+v", got, p.Summary)
	}
	if why, recorded := p.Campaigns[0].CapReason(p.Campaigns[0].Messages[0]); !recorded || !strings.HasPrefix(why, "2nd marketing") {
		t.Errorf("reason %q recorded %v", why, recorded)
	}
}

// TestCapsPlanIsPure: the same inputs give the same plan (digest), caps included.
func TestCapsPlanIsPure(t *testing.T) {
	files := map[string]string{
		"smsform.yaml": capFile(1),
		"a.yaml":       "id: a\nfrom: Shop\ntext: A\ndefault_region: CH\ndestinations_file: n.csv\n",
		"b.yaml":       "id: b\nfrom: Shop\ntext: B\ndefault_region: CH\ndestinations_file: n.csv\n",
		"n.csv":        numbersCSV(50),
	}
	set := load(t, files)
	first, err := runner.MakePlan(set, emptySnapshot(), now, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := runner.MakePlan(set, emptySnapshot(), now, runner.PlanOptions{})
	if first.Digest() != again.Digest() || first.Summary.Send != 50 || first.Summary.Capped != 50 {
		t.Fatalf("summary %+v; digests equal %v", first.Summary, first.Digest() == again.Digest())
	}
}

// snapshotCounter is a state that counts its Snapshot reads and keeps their rounds.
type snapshotCounter struct {
	state.Reader
	mu    sync.Mutex
	reads [][]state.Round
}

func (r *snapshotCounter) Snapshot(ctx context.Context, rounds []state.Round) (*state.Snapshot, error) {
	r.mu.Lock()
	r.reads = append(r.reads, rounds)
	r.mu.Unlock()
	return r.Reader.Snapshot(ctx, rounds)
}

func (r *snapshotCounter) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reads)
}

// TestPrefetchState: the state read while the campaigns load is the plan's snapshot, read
// once; read for other rounds than those planned, or failed, it is read again, and the plan
// is the same as without it.
func TestPrefetchState(t *testing.T) {
	ctx := t.Context()
	s := openStore(t)
	o := state.Outgoing{Key: state.Key{Campaign: "otp", Round: 1, To: "+41790000001"}, MessageID: "x", BulkID: "b"}
	if _, err := s.MarkSending(ctx, []state.Outgoing{o}); err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string]string{"otp.yaml": otpYAML})
	for _, tc := range []struct {
		name  string
		early func(open func() (state.Reader, error), cs []*campaign.Campaign) *runner.StateRead
		reads int
	}{
		{"same rounds", func(open func() (state.Reader, error), cs []*campaign.Campaign) *runner.StateRead {
			return runner.PrefetchState(ctx, open, cs, now)
		}, 1},
		{"other rounds", func(open func() (state.Reader, error), cs []*campaign.Campaign) *runner.StateRead {
			return runner.PrefetchState(ctx, open, []*campaign.Campaign{{ID: "otp", Round: 2}}, now)
		}, 2},
		{"failed open", func(open func() (state.Reader, error), cs []*campaign.Campaign) *runner.StateRead {
			return runner.PrefetchState(ctx, func() (state.Reader, error) { return nil, errors.New("no state") }, cs, now)
		}, 1},
		{"none", func(open func() (state.Reader, error), cs []*campaign.Campaign) *runner.StateRead { return nil }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &snapshotCounter{Reader: s}
			open := func() (state.Reader, error) { return r, nil }
			var early *runner.StateRead
			in, err := runner.LoadInputs([]string{dir}, s.Path(), sameNames, false, func(cs []*campaign.Campaign) { early = tc.early(open, cs) })
			if err != nil {
				t.Fatal(err)
			}
			p, err := runner.PlanFrom(ctx, r, in.Set, now, runner.PlanOptions{}, early)
			if err != nil {
				t.Fatal(err)
			}
			// The message recorded sending is not sent again: the plan saw the record.
			if p.Summary.Send != 2 {
				t.Errorf("plan sends %d messages, want 2 (one of the three is recorded)", p.Summary.Send)
			}
			if got := r.count(); got != tc.reads {
				t.Errorf("%d snapshot reads (%v), want %d", got, r.reads, tc.reads)
			}
			if last := r.reads[len(r.reads)-1]; !slices.Equal(last, runner.Rounds(in.Set)) {
				t.Errorf("the plan's snapshot was read for %v, want %v", last, runner.Rounds(in.Set))
			}
		})
	}
}

// TestCapsResendNotCapped: a message of unknown outcome that reconciliation cleared for
// sending again completes a send already made: it is not capped, though its number has had
// its share; the same message not cleared, and a new one to another number over the cap,
// are held as before.
func TestCapsResendNotCapped(t *testing.T) {
	set := load(t, map[string]string{
		"smsform.yaml": capFile(1),
		"c.yaml":       "id: promo\nfrom: Shop\ntext: Hi\ndestinations: [{to: \"+41790000001\"}, {to: \"+41790000002\"}]\n",
	})
	for _, cleared := range []bool{false, true} {
		snap := state.NewSnapshot(state.Version{Lineage: "l", Serial: 2}, map[state.Key]state.Record{
			{Campaign: "promo", Round: 1, To: "+41790000001"}: {State: state.Unknown, Hash: 1},
		})
		snap.Contacts = contacts(contactRow{"old", "+41790000001", now.Add(-time.Hour)}, contactRow{"old", "+41790000002", now.Add(-time.Hour)})
		var resend map[state.Key]bool
		if cleared {
			resend = map[state.Key]bool{{Campaign: "promo", Round: 1, To: "+41790000001"}: true}
		}
		p, err := runner.MakePlan(set, snap, now, runner.PlanOptions{Resend: resend})
		if err != nil {
			t.Fatal(err)
		}
		want := "unknown capped"
		if cleared {
			want = "send capped"
		}
		if got := actions(p)["promo"]; got != want {
			t.Errorf("cleared %v: actions %q, want %q", cleared, got, want)
		}
	}
}
