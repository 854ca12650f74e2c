package runner

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/stats"
)

// An experiment in a plan (spec §11). Recipients in the test are sent their own variant;
// those held out wait for a winner. The winner is, in this order:
//   - the decision recorded in the state, which never changes once apply has sent the
//     held recipients the winner;
//   - the variant the file names (winner: NAME), a person's decision reviewed in the pull
//     request;
//   - with winner: auto, the variant stats.Decide picks from the test's figures in the
//     state, once every variant has min_sent sent with tracking and wait has passed since
//     the last test message;
//   - none: the held stay held.
//
// A held recipient already sent the winner is compared with the text the file asks for
// now: the variant it names, or, when it names none (or auto), the recorded winner. So a
// later edit of winner: shows those messages as changed (never resent), while recipients
// added later are sent the recorded winner: the decision stands.

// Experiment is an experiment campaign's state in a plan: its sizes, its figures, and its
// winner or why there is none yet.
type Experiment struct {
	Sample campaign.Share
	// Test and Held count the recipients in the test and held out of it.
	Test, Held int
	// Variants are the variants in the campaign's order, with the test's figures.
	Variants []VariantFigures
	// Winner is the index of the winning variant, or -1: the held stay held.
	Winner int
	// DecidedBy is state.DecidedByFile or state.DecidedByAuto with a winner, else "".
	DecidedBy string
	// Recorded is the decision recorded in the state, nil before apply first sends the
	// held recipients a winner.
	Recorded *state.Decision
	// Reason says, in a line, why this winner or why none: what the plan shows.
	Reason string
	// decided is the line explaining the decision itself (stats.Decide's, or the file's),
	// recorded with it.
	decided string
}

// VariantFigures are one variant's share of the test and the test's figures.
type VariantFigures struct {
	Name   string `json:"name"`
	Weight int    `json:"weight"`
	// Test counts the recipients the files assign the variant in the test.
	Test int `json:"test"`
	// SentTracked and Converted are the state's: sent with tracking, and converted.
	SentTracked int `json:"sent_with_tracking"`
	Converted   int `json:"converted"`
	// Rate is Converted / SentTracked (0 with nothing sent); CILow and CIHigh its 95 %
	// Wilson interval.
	Rate   float64 `json:"conversion_rate"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// PValue is the two-sided pooled z-test against the variant with the highest rate;
	// nil for that variant and when a side has nothing sent.
	PValue *float64 `json:"p_value"`
}

// WinnerName is the winning variant's name, or "".
func (e *Experiment) WinnerName() string {
	if e == nil || e.Winner < 0 {
		return ""
	}
	return e.Variants[e.Winner].Name
}

// planExperiment works out an experiment campaign's winner at time now from the state's
// trial (nil: nothing recorded), with the figures the plan shows. A recorded winner the
// campaign no longer has is a problem: its text cannot be sent.
func planExperiment(c *campaign.Campaign, trial *state.Trial, now time.Time) (*Experiment, *campaign.Problem) {
	set := c.ExperimentSettings()
	e := &Experiment{Sample: set.Sample, Winner: -1}
	e.Variants = make([]VariantFigures, len(c.Variants))
	arms := make([]stats.Arm, len(c.Variants))
	for i := range c.Variants {
		v := &c.Variants[i]
		a := trial.Arm(v.Name)
		e.Variants[i] = VariantFigures{Name: v.Name, Weight: v.Weighting(), SentTracked: a.SentTracked, Converted: a.Converted}
		arms[i] = stats.Arm{Name: v.Name, Sent: a.SentTracked, Converted: a.Converted}
	}
	for _, r := range c.Recipients.All() {
		if r.Held() {
			e.Held++
		} else if int(r.Variant) < len(e.Variants) {
			e.Test++
			e.Variants[r.Variant].Test++
		}
	}
	fillFigures(e.Variants)
	switch {
	case trial != nil && trial.Decision != nil:
		d := trial.Decision
		e.Recorded = d
		e.Winner, e.DecidedBy = c.VariantIndex(d.Winner), d.DecidedBy
		if e.Winner < 0 {
			return e, &campaign.Problem{File: c.File, Line: c.Line("variants"), Field: "variants", Msg: fmt.Sprintf(
				"the state records %s as the winner of round %d (decided %s), and the campaign has no variant of that name any more; restore the variant (its held recipients are sent its text), or bump round to start a new experiment",
				d.Winner, c.Round, d.DecidedAt.Format(time.RFC3339))}
		}
		e.Reason = fmt.Sprintf("winner %s, decided by %s on %s and recorded: %s", d.Winner, byWords(d.DecidedBy), d.DecidedAt.Format(time.DateOnly), d.Reason)
		if named := set.Winner; named != "" && named != "auto" && named != d.Winner {
			e.Reason += fmt.Sprintf("; the file now names %s: the recorded decision stands (the held recipients sent %s show as changed, and are not resent)", named, d.Winner)
		}
	case set.Winner != "" && !set.Auto():
		e.Winner, e.DecidedBy = c.VariantIndex(set.Winner), state.DecidedByFile
		e.decided = fmt.Sprintf("%s named in the file (winner: %s)", set.Winner, set.Winner)
		e.Reason = "winner " + e.decided
		if f := figuresText(arms); f != "" {
			e.Reason += "; test " + f
		}
	case set.Auto():
		e.Reason = autoDecision(e, arms, set, trial, now)
	default:
		e.Reason = "no winner: the file names none (winner: auto lets smsform decide, winner: NAME sends that variant)"
		if f := figuresText(arms); f != "" {
			e.Reason += "; test " + f
		}
	}
	return e, nil
}

// autoDecision decides an experiment with winner: auto, or says why it cannot yet.
func autoDecision(e *Experiment, arms []stats.Arm, set campaign.ExperimentSettings, trial *state.Trial, now time.Time) string {
	var last time.Time
	if trial != nil {
		last = trial.LastTestSend
	}
	figures := figuresText(arms)
	switch {
	case last.IsZero():
		return "no winner yet: no test message has been sent"
	case now.Before(last.Add(set.Wait)):
		// Asked before wait has passed, the test would be read while conversions of its last
		// messages are still coming in.
		return fmt.Sprintf("no winner yet: auto decides %s after the last test message (%s), at %s; test %s",
			campaign.FormatSpan(set.Wait), last.UTC().Format(time.RFC3339), last.Add(set.Wait).UTC().Format(time.RFC3339), figures)
	}
	d := stats.Decide(arms, set.MinSent, set.Confidence.Fraction())
	if d.Winner < 0 {
		if len(d.Comparisons) == 0 { // a reason without figures: too few sent, no conversions, a tie
			return d.Reason + "; test " + figures
		}
		return d.Reason
	}
	e.Winner, e.DecidedBy, e.decided = d.Winner, state.DecidedByAuto, d.Reason
	return d.Reason
}

// byWords says who decided: the file (a person) or auto.
func byWords(by string) string {
	if by == state.DecidedByAuto {
		return "auto"
	}
	return "the file"
}

// fillFigures works out each variant's rate, its 95 % Wilson interval and its p-value
// against the variant with the highest rate (the first of equal ones).
func fillFigures(vs []VariantFigures) {
	best := -1
	for i := range vs {
		v := &vs[i]
		v.Rate = 0
		if v.SentTracked > 0 {
			v.Rate = float64(v.Converted) / float64(v.SentTracked)
		}
		ci := stats.Wilson(v.Converted, v.SentTracked, stats.DisplayConfidence)
		v.CILow, v.CIHigh = ci.Low, ci.High
		if v.SentTracked > 0 && (best < 0 || v.Rate > vs[best].Rate) {
			best = i
		}
	}
	for i := range vs {
		vs[i].PValue = nil
		if best < 0 || i == best {
			continue
		}
		if p, ok := stats.ZTest(vs[best].Converted, vs[best].SentTracked, vs[i].Converted, vs[i].SentTracked); ok {
			vs[i].PValue = &p
		}
	}
}

// figuresText is the test's figures for people, best rate first: "personal 5.6 % ± 0.6
// (45 of 800) vs short 5.1 % ± 0.6 (41 of 800), p = 0.21"; "" with nothing sent. The
// p-values are each against the best, not adjusted (stats.Decide's reason, which decides,
// adjusts them).
func figuresText(arms []stats.Arm) string {
	vs := make([]VariantFigures, len(arms))
	sent := false
	for i, a := range arms {
		vs[i] = VariantFigures{Name: a.Name, SentTracked: a.Sent, Converted: a.Converted}
		sent = sent || a.Sent > 0
	}
	if !sent {
		return "nothing sent with tracking yet"
	}
	fillFigures(vs)
	order := make([]int, 0, len(vs))
	for i := range vs {
		order = append(order, i)
	}
	// Best rate first, then the file's order.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && vs[order[j]].Rate > vs[order[j-1]].Rate; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	var parts []string
	for k, i := range order {
		v := vs[i]
		s := fmt.Sprintf("%s %s ± %s (%s of %s)", v.Name, stats.Percent(v.Rate), halfWidth(v), Thousands(v.Converted), Thousands(v.SentTracked))
		if k > 0 && v.PValue != nil {
			s += ", " + stats.PValue(*v.PValue)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " vs ")
}

// halfWidth is half the 95 % interval in percentage points, to the decimals of the rate.
func halfWidth(v VariantFigures) string {
	d := 1
	if v.Rate != 0 && math.Abs(v.Rate) < 0.01 {
		d = 2
	}
	return fmt.Sprintf("%.*f", d, (v.CIHigh-v.CILow)/2*100)
}

// ExperimentLine is the plan's line about an experiment: its sizes, then its winner and
// why, or why none yet.
func (e *Experiment) ExperimentLine() string {
	var sizes []string
	for _, v := range e.Variants {
		sizes = append(sizes, fmt.Sprintf("%s %s", v.Name, Thousands(v.Test)))
	}
	return fmt.Sprintf("experiment: %s in the test (%s), %s held; %s", Thousands(e.Test), strings.Join(sizes, ", "), Thousands(e.Held), e.Reason)
}

// rolled is what a held recipient's text weighs once a winner applies to it, and that
// variant, plus one: 0 for a recipient not weighed (no winner yet).
type rolled struct {
	hash    uint64
	parts   int32
	variant int8
}

// weighHeld renders, for each held recipient, the text of the variant it is planned with
// (variantOf returns it, or -1), and keeps its weight and that variant (heldVariant).
func (cp *CampaignPlan) weighHeld(variantOf func(to string) int) error {
	c := cp.Campaign
	renderers := map[int]*campaign.Renderer{}
	for i, r := range c.Recipients.All() {
		if !r.Held() {
			continue
		}
		v := variantOf(r.To)
		if v < 0 {
			continue
		}
		rd := renderers[v]
		if rd == nil {
			rd = c.VariantRenderer(v)
			renderers[v] = rd
		}
		parts, hash, err := rd.Weigh(r)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Pos(r), err)
		}
		if cp.rolled == nil {
			cp.rolled = make([]rolled, c.Recipients.Len())
		}
		cp.rolled[i] = rolled{hash: hash, parts: int32(parts), variant: int8(v + 1)}
	}
	return nil
}

// recordDecisions records, before apply sends any held recipient the winner, each such
// experiment's decision: once recorded, it never changes. A decision the state already
// holds is kept; one that differs from the plan's (another run decided meanwhile) stops
// the apply before anything is sent.
func recordDecisions(ctx context.Context, p *Plan, store state.Writer, now time.Time) error {
	for _, cp := range p.Campaigns {
		e := cp.Experiment
		if e == nil || e.Winner < 0 || e.Recorded != nil || !cp.sendsHeld() {
			continue
		}
		c := cp.Campaign
		d := state.Decision{Round: state.Round{Campaign: c.ID, Round: c.Round}, Winner: e.WinnerName(), DecidedBy: e.DecidedBy,
			DecidedAt: now, Reason: e.decided}
		for _, v := range e.Variants {
			d.Arms = append(d.Arms, state.Arm{Variant: v.Name, SentTracked: v.SentTracked, Converted: v.Converted})
		}
		got, err := store.RecordDecision(ctx, d)
		if err != nil {
			return fmt.Errorf("record the winner of %s round %d before sending it: %w", c.ID, c.Round, err)
		}
		if got.Winner != d.Winner {
			return fmt.Errorf("%w: the state records %s as the winner of %s round %d (decided meanwhile), not %s; nothing was sent; run `smsform plan` again",
				ErrStalePlan, got.Winner, c.ID, c.Round, d.Winner)
		}
		e.Recorded = &got
	}
	return nil
}

// sendsHeld reports whether the plan sends a held recipient the winner.
func (cp *CampaignPlan) sendsHeld() bool {
	return slices.ContainsFunc(cp.Messages, func(m Message) bool { return m.Action == Send && cp.heldOut(m) })
}

// heldOut reports whether message m is of a recipient the file holds out of the test,
// planned with the winner: weighHeld weighed its text (a text weighs a part at least).
// What Recipient gives has the winner's variant in place of the file's held one.
func (cp *CampaignPlan) heldOut(m Message) bool { return cp.heldVariant(int(m.Recipient)) >= 0 }

// heldVariant is the variant planHeld planned held recipient i with, or -1.
func (cp *CampaignPlan) heldVariant(i int) int8 {
	if cp.rolled == nil {
		return -1
	}
	return cp.rolled[i].variant - 1
}

// VariantName is the name of the variant a planned message is sent with, or "".
func (cp *CampaignPlan) VariantName(m Message) string {
	if cp.Experiment == nil || m.Variant < 0 || int(m.Variant) >= len(cp.Campaign.Variants) {
		return ""
	}
	return cp.Campaign.Variants[m.Variant].Name
}

// planHeld plans each recipient held out of the test with a variant (heldVariant): the
// winner, unless it was sent already, when it is compared with the text the file asks for
// now (the variant it names, or else the recorded winner; without either, the variant it
// was sent in the test); none without winner. It weighs their texts.
func (cp *CampaignPlan) planHeld(recs *state.Recorded) error {
	e, c := cp.Experiment, cp.Campaign
	if e == nil {
		return nil
	}
	compare := e.Winner
	if named := c.VariantIndex(c.ExperimentSettings().Winner); named >= 0 {
		compare = named
	}
	variantOf := func(to string) int {
		rec, ok := recs.Get(to)
		if ok && rec.State == state.Sent {
			if compare >= 0 {
				return compare
			}
			// Sent, and held now without a winner: the sample shrank since. It was sent in
			// the test, so with the variant the weights give it (independent of the sample).
			return c.Assigner().Variant(to)
		}
		if ok && e.Winner < 0 {
			// Recorded otherwise (failed, unknown) while no winner is decided: only the test
			// sends before a decision, so it was a test message, with the variant the
			// weights give it; shown, retried or resent as such.
			return c.Assigner().Variant(to)
		}
		return e.Winner
	}
	return cp.weighHeld(variantOf)
}

// jsonExperiment is an experiment in the plan's JSON view.
type jsonExperiment struct {
	Sample    string           `json:"sample"`
	Test      int              `json:"test"`
	Held      int              `json:"held"`
	Winner    *string          `json:"winner"`
	DecidedBy *string          `json:"decided_by"`
	Recorded  bool             `json:"recorded"`
	Reason    string           `json:"reason"`
	Variants  []VariantFigures `json:"variants"`
}

func (e *Experiment) jsonView() jsonExperiment {
	j := jsonExperiment{Sample: e.Sample.String(), Test: e.Test, Held: e.Held, Recorded: e.Recorded != nil, Reason: e.Reason, Variants: e.Variants}
	if e.Winner >= 0 {
		w, by := e.WinnerName(), e.DecidedBy
		j.Winner, j.DecidedBy = &w, &by
	}
	return j
}

// HasText reports whether a planned message has a text: all but those of recipients held
// out of an experiment's test without a winner.
func (cp *CampaignPlan) HasText(m Message) bool {
	return cp.Experiment == nil || m.Variant >= 0
}
