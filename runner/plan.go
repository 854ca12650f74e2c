// Package runner turns campaigns and state into a plan, and carries a plan out: apply sends
// through a Sender and records every message in the state.
package runner

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"iter"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/state"
)

// Action is what a plan does with one message.
type Action uint8

// The actions, as the JSON view names them.
const (
	Send    Action = iota // not recorded yet (or a failed one, with -retry-failed): send it
	Noop                  // recorded as sent with the same text and options
	Changed               // recorded as sent, but the text or options changed since: not resent
	Unknown               // recorded, outcome unknown (a previous run died or lost the answer)
	Failed                // recorded as failed; sent again only with -retry-failed
	// Suppressed would be sent, but the number is on a suppression list of a marketing
	// campaign: never sent.
	Suppressed
	// Held is a recipient held out of an experiment's test while no winner is decided: not
	// sent, not recorded; it is sent the winner once there is one.
	Held
	// Capped would be sent, but a frequency cap holds it back (caps.go), or it is
	// recorded so: never sent for its round.
	Capped
)

var actionNames = [...]string{"send", "noop", "changed", "unknown", "failed", "suppressed", "held", "capped"}

func (a Action) String() string { return actionNames[a] }

// Message is one planned message: 8 bytes per recipient, the rest is looked up in the
// campaign's recipients.
type Message struct {
	Recipient int32  // index into Campaign.Recipients
	Attempt   uint16 // 0 for the first send; -retry-failed bumps it for a fresh messageId
	Action    Action
	// Variant is, in an experiment, the index of the variant the message is sent with (a
	// held recipient's: the winner's), -1 for a held recipient without winner; 0 otherwise.
	Variant int8
}

// Counts are a plan's figures.
type Counts struct {
	Send     int `json:"send"`
	Noop     int `json:"noop"`
	Changed  int `json:"changed"`
	Unknown  int `json:"unknown"`
	Failed   int `json:"failed"`
	Orphaned int `json:"orphaned"`
	SmsParts int `json:"sms_parts"` // of the messages to send
	// Suppressed counts messages held back by a suppression list (omitted when none, so
	// plans of campaigns without lists read as before).
	Suppressed int `json:"suppressed,omitempty"`
	// Held counts recipients held out of an experiment's test while no winner is decided
	// (omitted when none).
	Held int `json:"held,omitempty"`
	// Capped counts messages held back by a frequency cap, in this plan or recorded so
	// (omitted when none).
	Capped int `json:"capped,omitempty"`
}

func (c *Counts) add(o Counts) {
	c.Send += o.Send
	c.Noop += o.Noop
	c.Changed += o.Changed
	c.Unknown += o.Unknown
	c.Failed += o.Failed
	c.Orphaned += o.Orphaned
	c.SmsParts += o.SmsParts
	c.Suppressed += o.Suppressed
	c.Held += o.Held
	c.Capped += o.Capped
}

// CampaignPlan is the plan of one campaign round.
type CampaignPlan struct {
	Campaign *campaign.Campaign
	Messages []Message // in file order
	// Orphaned are numbers recorded for this round that the files no longer list (sorted).
	Orphaned []string
	// Errors holds, for failed and recorded capped messages, the recorded reason, by
	// recipient index.
	Errors map[int32]string
	// Capped holds, for the messages this plan caps (to be recorded so by apply), why, by
	// recipient index.
	Capped map[int32]string
	// Suppressions holds, for suppressed messages, the list entry, by recipient index.
	Suppressions map[int32]campaign.Suppression
	Counts       Counts
	// Cost is the estimated cost of the messages to send; nil without PlanOptions.Prices.
	Cost *Cost
	// Schedule, for a campaign with quiet hours, groups the messages to send by their
	// recipients' time zones with when each group goes out (schedule.go); groupOf holds
	// each message's group, -1 for messages not sent. Both nil without quiet hours.
	Schedule []SendGroup
	groupOf  []int32
	// Experiment is the state of the campaign's experiment; nil without variants. rolled
	// holds, by recipient index, what a held recipient's text weighs with the variant it
	// is planned with (see experiment.go); nil when no held recipient has one.
	Experiment *Experiment
	rolled     []rolled
}

// Recipient returns the recipient of a planned message: in an experiment, a held
// recipient planned with the winner carries the winner's variant, hash and parts.
func (cp *CampaignPlan) Recipient(m Message) campaign.Recipient {
	return cp.planned(m, cp.Campaign.Recipients.At(int(m.Recipient)))
}

// planned is the recipient r of message m as the plan sends it (see Recipient).
func (cp *CampaignPlan) planned(m Message, r campaign.Recipient) campaign.Recipient {
	if r.Held() && m.Variant >= 0 && cp.rolled != nil {
		w := cp.rolled[m.Recipient]
		r.Variant, r.Hash, r.Parts = m.Variant, w.hash, w.parts
	}
	return r
}

// All yields the index of every message with its recipient as Recipient gives it, reading
// the recipients one after the other: what a pass over a whole campaign uses.
func (cp *CampaignPlan) All() iter.Seq2[int, campaign.Recipient] {
	return func(yield func(int, campaign.Recipient) bool) {
		for i, r := range cp.Campaign.Recipients.All() {
			if !yield(i, cp.planned(cp.Messages[i], r)) {
				return
			}
		}
	}
}

// MessageID returns the messageId of a planned message.
func (cp *CampaignPlan) MessageID(m Message) string {
	return cp.messageID(m, cp.Recipient(m))
}

// messageID is MessageID of message m, whose recipient (Recipient) is r.
func (cp *CampaignPlan) messageID(m Message, r campaign.Recipient) string {
	return MessageID(cp.Campaign.ID, cp.Campaign.Round, r.To, int(m.Attempt))
}

// Plan is what apply would do. It is plain data: computing it does no I/O.
type Plan struct {
	Campaigns []*CampaignPlan // sorted by campaign id
	Summary   Counts
	// State is the state version the plan was made against; Inputs the digest of the files.
	State  state.Version
	Inputs string
	// Cost is the estimated cost of all campaigns; nil without PlanOptions.Prices.
	Cost *Cost
	// ScheduledFrom is the clock the quiet-hours schedule was computed from: the plan's
	// now, or a saved plan's (PlanOptions.ScheduleFrom).
	ScheduledFrom time.Time
	// Settings are the settings files (smsform.yaml) the campaigns were loaded with.
	Settings []*campaign.Settings
}

// PlanOptions change what a plan does.
type PlanOptions struct {
	// RetryFailed plans failed messages for sending again, with a fresh messageId.
	RetryFailed bool
	// Resend lists messages of unknown outcome that reconciliation cleared for sending
	// again, with the same messageId (see Reconcile).
	Resend map[state.Key]bool
	// Prices, when set, give each campaign and the plan an estimated cost.
	Prices *campaign.Prices
	// ScheduleFrom, when set, is the clock quiet hours are scheduled from instead of now:
	// a saved plan's, so applying it later computes the very send times it showed.
	ScheduleFrom time.Time
}

// Rounds lists the campaign rounds a plan of set needs from state, by campaign id: the
// same list for the same campaigns, whether they come in the order of their files (to
// PrefetchState) or of their ids (a loaded Set).
func Rounds(set *campaign.Set) []state.Round {
	rounds := make([]state.Round, 0, len(set.Campaigns))
	for _, c := range set.Campaigns {
		rounds = append(rounds, state.Round{Campaign: c.ID, Round: c.Round})
	}
	slices.SortFunc(rounds, func(a, b state.Round) int {
		return cmp.Or(strings.Compare(a.Campaign, b.Campaign), cmp.Compare(a.Round, b.Round))
	})
	return rounds
}

// MakePlan compares the campaigns with the recorded state at time now. It is a pure
// function: the same inputs give the same plan.
func MakePlan(set *campaign.Set, snap *state.Snapshot, now time.Time, opts PlanOptions) (*Plan, error) {
	return makePlan(set, snap, now, opts, planParts)
}

// makePlan is MakePlan planning each campaign in parts(recipients) parts.
func makePlan(set *campaign.Set, snap *state.Snapshot, now time.Time, opts PlanOptions, parts func(int) int) (*Plan, error) {
	p := &Plan{State: snap.Version, Inputs: set.Digest, ScheduledFrom: now, Settings: set.Settings}
	if !opts.ScheduleFrom.IsZero() {
		p.ScheduledFrom = opts.ScheduleFrom
	}
	if opts.Prices != nil {
		p.Cost = newCost()
	}
	var bad []campaign.Problem
	for _, c := range set.Campaigns {
		round := state.Round{Campaign: c.ID, Round: c.Round}
		var e *Experiment
		if c.IsExperiment() {
			var pr *campaign.Problem
			if e, pr = planExperiment(c, snap.Trial(round), now); pr != nil {
				bad = append(bad, *pr)
				continue
			}
		}
		cp, err := planCampaign(c, snap.Round(round), snap.OptOuts, opts, e, parts)
		if err != nil {
			return nil, err
		}
		// send_at matters only for what is still to send: a campaign sent yesterday at its
		// send_at must not stop today's plan.
		if cp.Counts.Send > 0 {
			if pr := c.CheckSendAt(now); pr != nil {
				bad = append(bad, *pr)
			}
		}
		bad = append(bad, cp.schedule(p.ScheduledFrom, now)...)
		p.Campaigns = append(p.Campaigns, cp)
	}
	if len(bad) == 0 {
		// Caps need every campaign's send times; what they hold back is counted again.
		for _, cp := range applyCaps(p.Campaigns, snap.Contacts, p.ScheduledFrom, opts.Resend) {
			cp.recount(opts)
			cp.Schedule, cp.groupOf = nil, nil
			bad = append(bad, cp.schedule(p.ScheduledFrom, now)...)
		}
	}
	for _, cp := range p.Campaigns {
		p.Summary.add(cp.Counts)
		if p.Cost != nil {
			p.Cost.merge(cp.Cost)
		}
	}
	if len(bad) > 0 {
		return nil, &campaign.ValidationError{Problems: bad}
	}
	return p, nil
}

// planParts is how many parts a campaign of n recipients is planned in, one goroutine
// each: one below planSplit recipients, where goroutines would cost more than they save;
// GOMAXPROCS at or above, so that the pass over millions uses every processor. The parts
// are put together in order: the plan is the same.
func planParts(n int) int {
	if n < planSplit {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

const planSplit = 1 << 16

func planCampaign(c *campaign.Campaign, recs *state.Recorded, optOuts map[string]state.OptOut, opts PlanOptions, e *Experiment, parts func(int) int) (*CampaignPlan, error) {
	n := c.Recipients.Len()
	cp := &CampaignPlan{Campaign: c, Messages: make([]Message, n), Experiment: e}
	if opts.Prices != nil {
		cp.Cost = newCost()
	}
	if err := cp.planHeld(recs); err != nil {
		return nil, err
	}
	// planned marks the recorded messages the files still list, by slot: the rest are
	// orphaned. The parts mark it at once (atomically: their slots may share a word).
	var planned []uint64
	if recs.Len() > 0 {
		planned = make([]uint64, (recs.Slots()+63)/64)
	}
	k := max(1, min(parts(n), n))
	pts := make([]partResult, k)
	var wg sync.WaitGroup
	for j := range pts {
		pt := &pts[j]
		pt.lo, pt.hi = n*j/k, n*(j+1)/k
		if opts.Prices != nil {
			pt.cost = newCost()
		}
		plan := func() { pt.err = cp.planRange(pt, recs, planned, optOuts, opts) }
		if j == k-1 {
			plan() // the last part on this goroutine
		} else {
			wg.Go(plan)
		}
	}
	wg.Wait()
	matched := 0
	for j := range pts {
		pt := &pts[j]
		if pt.err != nil {
			return nil, pt.err // the first part's: the first recipient's, as one pass would
		}
		cp.Counts.add(pt.counts)
		if cp.Cost != nil {
			cp.Cost.merge(pt.cost)
		}
		cp.Errors = mergeByIndex(cp.Errors, pt.errors)
		cp.Suppressions = mergeByIndex(cp.Suppressions, pt.suppressions)
		matched += pt.matched
	}
	if matched < recs.Len() {
		for slot := range recs.Slots() {
			if planned[slot/64]&(1<<(slot%64)) == 0 {
				to, _, _ := recs.At(slot)
				cp.Orphaned = append(cp.Orphaned, to)
			}
		}
		slices.Sort(cp.Orphaned)
		cp.Counts.Orphaned = len(cp.Orphaned)
	}
	return cp, nil
}

// A partResult is the counts, cost, reasons, suppressions and matched records of the
// recipients [lo, hi) of a campaign; their messages go straight into the campaign's plan.
type partResult struct {
	lo, hi       int
	counts       Counts
	cost         *Cost
	errors       map[int32]string
	suppressions map[int32]campaign.Suppression
	matched      int
	err          error
}

// mergeByIndex adds part's entries to m; the first part with any gives its map.
func mergeByIndex[V any](m, part map[int32]V) map[int32]V {
	switch {
	case len(part) == 0:
		return m
	case m == nil:
		return part
	}
	maps.Copy(m, part)
	return m
}

// planRange plans the recipients [pt.lo, pt.hi) of the campaign, comparing each with its
// record, and marks the slots of the records it matched in planned.
func (cp *CampaignPlan) planRange(pt *partResult, recs *state.Recorded, planned []uint64, optOuts map[string]state.OptOut, opts PlanOptions) error {
	c := cp.Campaign
	find := recs.Finder()
	for i, pk := range c.Recipients.PeeksOf(pt.lo, pt.hi) {
		m := Message{Recipient: int32(i), Action: Send, Variant: pk.Variant()}
		// r is the whole recipient, as planned, read only for a message that needs it (held,
		// or to send): one recorded sent unchanged needs its number's digits and hash alone.
		var r campaign.Recipient
		hash := pk.Hash()
		held := pk.Variant() == campaign.HeldVariant
		if held {
			m.Variant = cp.heldVariant(i)
			r = cp.planned(m, pk.Recipient())
			hash = r.Hash
		}
		if slot, rec, ok := find.Find(pk.Key()); ok {
			pt.matched++
			atomic.OrUint64(&planned[slot/64], 1<<(slot%64))
			if rec.Attempt < 0 || rec.Attempt >= math.MaxUint16 {
				return fmt.Errorf("the state records attempt %d for %s in campaign %s round %d, which smsform never writes (attempts run from 0 to %d): the state was changed by something else; restore it from a copy you trust", rec.Attempt, state.NumberText(pk.Key()), c.ID, c.Round, math.MaxUint16-1)
			}
			m.Attempt = uint16(rec.Attempt)
			switch rec.State {
			case state.Sent:
				m.Action = Noop
				if rec.Hash != hash {
					m.Action = Changed
				}
			case state.Capped:
				// Held back by a cap when it was due: never sent later for this round.
				m.Action = Capped
				pt.errors = setByIndex(pt.errors, int32(i), rec.Error)
			case state.Failed:
				if opts.RetryFailed {
					m.Attempt++
				} else {
					m.Action = Failed
					pt.errors = setByIndex(pt.errors, int32(i), rec.Error)
				}
			default: // sending, unknown or abandoned: the previous send may have gone through
				m.Action = Unknown
				if opts.Resend[state.Key{Campaign: c.ID, Round: c.Round, To: state.NumberText(pk.Key())}] {
					m.Action = Send // same attempt, so the same messageId
				}
			}
		}
		if m.Action == Send {
			if !held {
				r = pk.Recipient()
			}
			s, ok := c.Suppressed(r.To)
			if o, out := optOuts[r.To]; out && !ok && c.IsMarketing() {
				s, ok = optOutSuppression(o), true
			}
			if ok {
				m.Action = Suppressed
				pt.suppressions = setByIndex(pt.suppressions, int32(i), s)
			}
		}
		if m.Action == Send && m.Variant < 0 {
			m.Action = Held
		}
		cp.Messages[i] = m
		count(&pt.counts, pt.cost, m, r, opts) // count reads r only of a message to send, whose r is read (and planned) above
	}
	return nil
}

// setByIndex sets m[i] = v, making m when it is nil.
func setByIndex[V any](m map[int32]V, i int32, v V) map[int32]V {
	if m == nil {
		m = map[int32]V{}
	}
	m[i] = v
	return m
}

// count adds a message to counts (and cost, unless nil); r is its recipient, as planned.
func count(counts *Counts, cost *Cost, m Message, r campaign.Recipient, opts PlanOptions) {
	switch m.Action {
	case Send:
		counts.Send++
		counts.SmsParts += int(r.Parts)
		if cost != nil {
			cost.add(opts.Prices, r.To, int(r.Parts))
		}
	case Noop:
		counts.Noop++
	case Changed:
		counts.Changed++
	case Unknown:
		counts.Unknown++
	case Failed:
		counts.Failed++
	case Suppressed:
		counts.Suppressed++
	case Held:
		counts.Held++
	case Capped:
		counts.Capped++
	}
}

// recount counts the campaign's messages (and cost) again, after caps changed actions.
func (cp *CampaignPlan) recount(opts PlanOptions) {
	cp.Counts = Counts{Orphaned: cp.Counts.Orphaned}
	if cp.Cost != nil {
		cp.Cost = newCost()
	}
	for i, r := range cp.All() {
		count(&cp.Counts, cp.Cost, cp.Messages[i], r, opts)
	}
}

// MessageID is the deterministic messageId of a message (state.MessageID).
func MessageID(campaignID string, round int, to string, attempt int) string {
	return state.MessageID(campaignID, round, to, attempt)
}

// BulkID is the deterministic bulkId of one request: the campaign, round and a hash of the
// messageIds it carries, so the same batch sent again has the same bulkId.
func BulkID(campaignID string, round int, messageIDs []string) string {
	h := sha256.New()
	for _, id := range messageIDs {
		h.Write([]byte(id))
	}
	var sum [sha256.Size]byte
	return fmt.Sprintf("%s-r%d-%016x", campaignID, round, binary.BigEndian.Uint64(h.Sum(sum[:0])))
}

// Digest fingerprints the plan's decisions, so a saved plan can be checked against a
// fresh one.
func (p *Plan) Digest() string {
	h := sha256.New()
	var b [8]byte
	for _, cp := range p.Campaigns {
		fmt.Fprintf(h, "%s\x00%d\x00", cp.Campaign.ID, cp.Campaign.Round)
		for i, r := range cp.All() {
			m := cp.Messages[i]
			h.Write([]byte(r.To))
			binary.BigEndian.PutUint64(b[:], r.Hash)
			h.Write(b[:])
			binary.BigEndian.PutUint64(b[:], uint64(m.Attempt)<<8|uint64(m.Action))
			h.Write(b[:])
		}
		// The send times are part of what a saved plan promises.
		for _, g := range cp.Schedule {
			fmt.Fprintf(h, "%s\x00%d\x00%d\x00", g.Zones, g.At.UnixNano(), g.Count)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SendDigest fingerprints only what the plan sends (message and attempt), so a saved plan
// can be checked again after reconciliation, which may settle or add sends.
func (p *Plan) SendDigest() string {
	h := sha256.New()
	for _, cp := range p.Campaigns {
		for i, r := range cp.All() {
			if m := cp.Messages[i]; m.Action == Send {
				fmt.Fprintf(h, "%s\x00%s\x00", cp.messageID(m, r), r.To)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
