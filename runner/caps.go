package runner

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/state"
)

// Frequency caps (spec §12): a marketing message is capped when its number would receive
// more than the cap's max marketing messages in a window of the cap's length. What counts
// are the marketing messages of the whole state, every campaign's, recorded sent, sending
// or unknown (state.Contacts), and those this same plan sends before it, in capOrder.
// Every message counts at the time it goes out: send_at, the end of its quiet hours, or
// the plan's clock. A campaign without a cap is never capped, but its marketing messages
// count against the campaigns whose settings cap: a cap is per number, across the state.
// Transactional messages are neither capped nor counted; opt-outs and suppression lists
// come first (a suppressed message is never sent, so neither capped nor counted).
//
// A window counts messages on both sides of t: a message planned for next week, or one a
// higher-priority campaign of this plan sends later, would otherwise see this one go over
// the cap in its own window. The cap is kept when no window of the cap's length that holds
// t holds more than max messages; for messages all earlier than t, that is the window
// (t-per, t] (one exactly per ago does not count).

// CapsSince is how far back a plan of campaigns at now needs the state's marketing
// messages: the longest cap's window before now (messages go out at now or later); ok is
// false when no campaign is capped.
func CapsSince(campaigns []*campaign.Campaign, now time.Time) (since time.Time, ok bool) {
	var longest time.Duration
	for _, c := range campaigns {
		if cp := c.Settings.MarketingCap(); cp != nil && c.IsMarketing() {
			longest = max(longest, cp.Window())
		}
	}
	if longest == 0 {
		return time.Time{}, false
	}
	return now.Add(-longest), true
}

// counted is one message a cap counts, for its reason.
type counted struct {
	at       int64 // Unix milliseconds
	campaign string
	planned  bool // sent by this plan, not recorded
}

// capper holds the messages the plan sends, by number, as campaigns are taken in order.
type capper struct {
	contacts *state.Contacts
	from     time.Time
	planned  map[uint64][]counted // by the number's E.164 digits
	near     []counted            // reused by check
}

// capOrder is the order in which campaigns claim a number's place under a cap: priority
// (higher first), then send time, then id.
func capOrder(cps []*CampaignPlan, from time.Time) []*CampaignPlan {
	order := slices.Clone(cps)
	slices.SortStableFunc(order, func(a, b *CampaignPlan) int {
		ca, cb := a.Campaign, b.Campaign
		return cmp.Or(cmp.Compare(cb.Priority, ca.Priority), goesOut(ca, from).Compare(goesOut(cb, from)), strings.Compare(ca.ID, cb.ID))
	})
	return order
}

// applyCaps caps the messages to send over their campaign's cap, in capOrder, and reports
// the campaigns it capped messages of. Messages sent again after an unknown outcome
// (resend) are not capped: they complete a send already made.
func applyCaps(cps []*CampaignPlan, contacts *state.Contacts, from time.Time, resend map[state.Key]bool) []*CampaignPlan {
	order := capOrder(cps, from)
	// The messages of this plan are remembered only while a later campaign may count them.
	last := -1
	capping := false
	for i, cp := range order {
		if cp.Campaign.IsMarketing() && cp.Counts.Send > 0 {
			last = i
			if cp.Campaign.Settings.MarketingCap() != nil {
				capping = true
			}
		}
	}
	if !capping {
		return nil
	}
	k := &capper{contacts: contacts, from: from, planned: map[uint64][]counted{}}
	var capped []*CampaignPlan
	for i, cp := range order {
		c := cp.Campaign
		if !c.IsMarketing() || cp.Counts.Send == 0 {
			continue
		}
		limit := c.Settings.MarketingCap()
		remember := i < last
		n := 0
		// Only the numbers are needed: the recipients' records are not decoded whole.
		for j, to := range c.Recipients.Keys() {
			m := cp.Messages[j]
			if m.Action != Send {
				continue
			}
			t := cp.sendTime(j, from)
			if limit != nil && (len(resend) == 0 || !resend[state.Key{Campaign: c.ID, Round: c.Round, To: state.NumberText(to)}]) {
				if why, over := k.check(c, to, t, limit); over {
					cp.Messages[j].Action = Capped
					if cp.Capped == nil {
						cp.Capped = map[int32]string{}
					}
					cp.Capped[m.Recipient] = why
					n++
					continue
				}
			}
			if remember {
				k.planned[to] = append(k.planned[to], counted{at: t.UnixMilli(), campaign: c.ID, planned: true})
			}
		}
		if n > 0 {
			capped = append(capped, cp)
		}
	}
	return capped
}

// sendTime is when message j goes out: its quiet-hours group's time, the campaign's
// send_at, or the plan's clock.
func (cp *CampaignPlan) sendTime(j int, from time.Time) time.Time {
	if at, ok := cp.SendAt(j); ok {
		return at
	}
	return goesOut(cp.Campaign, from)
}

// goesOut is when a campaign's messages go out but for quiet hours: its send_at, or the
// plan's clock.
func goesOut(c *campaign.Campaign, from time.Time) time.Time {
	if t := c.SendTime(); !t.IsZero() {
		return t
	}
	return from
}

// check reports whether a message of c to a number (its E.164 digits) at t goes over the
// cap, and why.
func (k *capper) check(c *campaign.Campaign, to uint64, t time.Time, limit *campaign.Cap) (string, bool) {
	per := limit.Window().Milliseconds()
	tm := t.UnixMilli()
	near := k.near[:0]
	k.contacts.EachKey(to, func(x state.Contact) {
		if x.Campaign == c.ID && x.Round == c.Round {
			return // this very message, recorded before (a failed one retried)
		}
		if at := x.At.UnixMilli(); at > tm-per && at < tm+per {
			near = append(near, counted{at: at, campaign: x.Campaign})
		}
	})
	k.near = near
	for _, x := range k.planned[to] {
		if x.at > tm-per && x.at < tm+per {
			near = append(near, x)
		}
	}
	if len(near) < limit.Count() {
		return "", false
	}
	in := worstWindow(tm, per, near)
	if len(in) < limit.Count() {
		return "", false
	}
	return capReason(len(in)+1, limit, in, k.from), true
}

// worstWindow returns the messages of near in the window of length per holding tm that
// holds the most of them; of equals, the one ending at tm (the trailing window). near are
// the messages within per of tm.
func worstWindow(tm, per int64, near []counted) []counted {
	slices.SortFunc(near, func(a, b counted) int {
		return cmp.Or(cmp.Compare(a.at, b.at), strings.Compare(a.campaign, b.campaign))
	})
	var best []counted
	// A window (s-per, s] holds tm for s in [tm, tm+per); its count changes only where s
	// reaches a message, so those ends (and tm) are the ones to try.
	try := func(s int64) {
		var in []counted
		for _, x := range near {
			if x.at > s-per && x.at <= s {
				in = append(in, x)
			}
		}
		if len(in) > len(best) {
			best = in
		}
	}
	try(tm)
	for _, x := range near {
		if x.at > tm {
			try(x.at)
		}
	}
	return best
}

// capReason says which cap a message goes over and which messages count:
// "3rd marketing message in 7d (cap 2/7d): sent 2026-12-05 09:00Z by promo-x, planned
// 2026-12-06 09:00Z by promo-y".
func capReason(nth int, limit *campaign.Cap, in []counted, from time.Time) string {
	span := campaign.FormatSpan(limit.Window())
	const shown = 5
	items := make([]string, 0, min(len(in), shown))
	for i, x := range in {
		if i == shown {
			items = append(items, fmt.Sprintf("and %d more", len(in)-shown))
			break
		}
		at := time.UnixMilli(x.at).UTC()
		verb := "sent"
		switch {
		case x.planned:
			verb = "planned"
		case at.After(from):
			verb = "scheduled"
		}
		items = append(items, fmt.Sprintf("%s %s by %s", verb, at.Format("2006-01-02 15:04Z"), x.campaign))
	}
	return fmt.Sprintf("%s marketing message in %s (cap %d/%s): %s", ordinal(nth), span, limit.Count(), span, strings.Join(items, ", "))
}

// ordinal is 1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st, ...
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// CapReason returns why a capped message is held back; recorded is set when an earlier
// apply recorded it so (the plan does not cap it again, the state does).
func (cp *CampaignPlan) CapReason(m Message) (why string, recorded bool) {
	if why, ok := cp.Capped[m.Recipient]; ok {
		return why, false
	}
	return cp.Errors[m.Recipient], true
}

// capText is how the views show a capped message.
func capText(cp *CampaignPlan, m Message) string {
	why, recorded := cp.CapReason(m)
	if recorded {
		return "capped (recorded; never sent for this round): " + why
	}
	return "capped: " + why
}

// ReadState reads what a plan of set at now needs of the state: the records of its rounds
// and, when a campaign is capped, the marketing messages the caps count (from early, when
// given, read without a failure while the state is still as it is now, for the same
// rounds and a window that covers now's: see PrefetchState).
func ReadState(ctx context.Context, store state.Reader, set *campaign.Set, now time.Time, early *StateRead) (*state.Snapshot, error) {
	rounds := Rounds(set)
	if early != nil {
		early.Wait()
		current, err := early.current(ctx, store)
		if err != nil {
			return nil, err
		}
		if !current {
			early = nil
		}
	}
	var snap *state.Snapshot
	// The early read saw the campaigns before they were checked: what it read is used only
	// for exactly the rounds planned.
	if early != nil && slices.Equal(early.rounds, rounds) {
		snap = early.snap
	}
	if snap == nil {
		var err error
		if snap, err = store.Snapshot(ctx, rounds); err != nil {
			return nil, fmt.Errorf("read state %s: %w", store.Name(), err)
		}
	}
	since, ok := CapsSince(set.Campaigns, now)
	if !ok {
		return snap, nil
	}
	var err error
	if early != nil && early.capped && !early.since.After(since) {
		snap.Contacts, err = early.contacts, early.err
	} else {
		snap.Contacts, err = store.Contacts(ctx, since)
	}
	if err != nil {
		return nil, fmt.Errorf("read state %s (the messages frequency caps count): %w", store.Name(), err)
	}
	return snap, nil
}

// StateRead is a read of the state started while the campaigns load: the records of their
// rounds and, under a frequency cap, the contacts the caps count.
type StateRead struct {
	done chan struct{}

	rounds  []state.Round
	snap    *state.Snapshot
	snapErr error

	capped   bool // contacts were read, since since
	since    time.Time
	contacts *state.Contacts
	err      error
}

// current says the read succeeded and store is still as it read it. A failed read is done
// again by ReadState, where its error is reported as it always was; a read of a state
// written since (a reconciliation's outcomes, another apply's sends) would plan what is
// sent already as still to send.
func (r *StateRead) current(ctx context.Context, store state.Reader) (bool, error) {
	if r.snapErr != nil {
		return false, nil
	}
	v, err := store.Version(ctx)
	if err != nil {
		return false, fmt.Errorf("read state %s: %w", store.Name(), err)
	}
	return v == r.snap.Version, nil
}

// PrefetchState starts reading, in the background, what a plan at now of campaigns (parsed,
// their recipients not read yet: campaign.Options.Parsed) will need of the state open
// returns: the records of their rounds and, when a campaign is capped, the marketing
// messages the caps count. Reading a million records or messages takes about as long as
// loading a million recipients: side by side, a re-plan with everything recorded, or a
// plan under a cap, takes little longer than an empty one. Wait ends the read.
func PrefetchState(ctx context.Context, open func() (state.Reader, error), campaigns []*campaign.Campaign, now time.Time) *StateRead {
	r := &StateRead{done: make(chan struct{})}
	r.rounds = Rounds(&campaign.Set{Campaigns: campaigns})
	r.since, r.capped = CapsSince(campaigns, now)
	go func() {
		defer close(r.done)
		store, err := open()
		if err != nil {
			r.snapErr, r.err = err, err
			return
		}
		r.snap, r.snapErr = store.Snapshot(ctx, r.rounds)
		if r.capped {
			r.contacts, r.err = store.Contacts(ctx, r.since)
		}
	}()
	return r
}

// Wait waits for the read to end (a nil read has none).
func (r *StateRead) Wait() {
	if r != nil {
		<-r.done
	}
}

// CappedOutgoing lists the messages the plan caps, to be recorded so (Store.RecordCapped),
// with their reasons.
func (p *Plan) CappedOutgoing() (msgs []state.Outgoing, reasons []string) {
	for _, cp := range p.Campaigns {
		if len(cp.Capped) == 0 {
			continue
		}
		for i, r := range cp.All() {
			m := cp.Messages[i]
			if m.Action != Capped {
				continue
			}
			if why, ok := cp.Capped[m.Recipient]; ok {
				msgs = append(msgs, outgoing(cp, m, r))
				reasons = append(reasons, why)
			}
		}
	}
	return msgs, reasons
}

// NewlyCapped counts the messages the plan caps (not those recorded capped before).
func (p *Plan) NewlyCapped() int {
	n := 0
	for _, cp := range p.Campaigns {
		n += len(cp.Capped)
	}
	return n
}
