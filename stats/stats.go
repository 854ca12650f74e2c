// Package stats holds the statistics an experiment is decided and reported with: the
// Wilson score interval of a conversion rate, the two-sided two-proportion z-test with
// pooled variance, the Holm–Bonferroni adjustment across comparisons, and Decide, which
// names an experiment's winner (or none) and says why in words a marketing lead reads.
//
// Everything here is a pure function of counts: no clock, no state. The normal
// distribution comes from the standard library (math.Erfc, math.Erfinv).
package stats

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Z is the two-sided critical value of the standard normal distribution for a
// confidence level (0.95 gives 1.959964): Φ⁻¹(1 − (1 − confidence)/2), which is
// √2·erfinv(confidence).
func Z(confidence float64) float64 { return math.Sqrt2 * math.Erfinv(confidence) }

// Interval is a confidence interval of a proportion, both ends within [0, 1].
type Interval struct{ Low, High float64 }

// HalfWidth is half the interval's width: what "± x" shows. A Wilson interval is not
// symmetric around the rate, so this is a reading aid, not the interval.
func (i Interval) HalfWidth() float64 { return (i.High - i.Low) / 2 }

// Wilson is the Wilson score interval of converted out of sent at the confidence level
// (0.95 for 95 %). Unlike the textbook rate ± z·√(p(1−p)/n), it stays within [0, 1] and
// is not zero-width at 0 or n conversions, which matters for the small counts of a young
// experiment. With nothing sent it is [0, 1]: nothing is known.
//
//	center = (p + z²/2n) / (1 + z²/n)
//	half   = z / (1 + z²/n) · √(p(1−p)/n + z²/4n²)
func Wilson(converted, sent int, confidence float64) Interval {
	if sent <= 0 {
		return Interval{0, 1}
	}
	n := float64(sent)
	p := float64(converted) / n
	z := Z(confidence)
	z2 := z * z
	denom := 1 + z2/n
	center := (p + z2/(2*n)) / denom
	half := z / denom * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	iv := Interval{max(0, center-half), min(1, center+half)}
	// With none (or all) converted the end is exactly 0 (or 1); computed, it can miss by
	// a rounding error (2.8e-17), which a report would print.
	if converted <= 0 {
		iv.Low = 0
	}
	if converted >= sent {
		iv.High = 1
	}
	return iv
}

// ZTest is the two-sided p-value of the two-proportion z-test with pooled variance:
// whether x1 of n1 and x2 of n2 could come from one conversion rate. ok is false when a
// side has nothing sent (no test is possible). When both rates are 0, or both 1, there
// is no difference to test and p is 1.
//
//	p̂ = (x1 + x2) / (n1 + n2),  z = (x1/n1 − x2/n2) / √(p̂(1 − p̂)(1/n1 + 1/n2)),
//	p = 2·(1 − Φ(|z|)) = erfc(|z|/√2)
func ZTest(x1, n1, x2, n2 int) (p float64, ok bool) {
	if n1 <= 0 || n2 <= 0 {
		return math.NaN(), false
	}
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	pooled := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(pooled * (1 - pooled) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 1, true
	}
	z := (p1 - p2) / se
	return math.Erfc(math.Abs(z) / math.Sqrt2), true
}

// Holm adjusts p-values for testing them together (Holm–Bonferroni, step-down): the k-th
// smallest of m is multiplied by m − k + 1, and each adjusted value is at least the one
// before it in that order, at most 1. A comparison is significant at level α when its
// adjusted p-value is at most α; the chance that any of the m is a false positive then
// stays at most α, where testing each at α alone would let it grow towards m·α.
func Holm(p []float64) []float64 {
	m := len(p)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case p[a] < p[b]:
			return -1
		case p[a] > p[b]:
			return 1
		}
		return 0
	})
	adjusted := make([]float64, m)
	running := 0.0
	for k, i := range order {
		running = max(running, min(1, float64(m-k)*p[i]))
		adjusted[i] = running
	}
	return adjusted
}

// Arm is one variant's figures: messages sent with conversion tracking, and how many of
// them converted.
type Arm struct {
	Name      string
	Sent      int
	Converted int
}

// Rate is the conversion rate, converted / sent; 0 with nothing sent.
func (a Arm) Rate() float64 {
	if a.Sent <= 0 {
		return 0
	}
	return float64(a.Converted) / float64(a.Sent)
}

// Comparison is the best variant tested against another.
type Comparison struct {
	Other    int     // index of the other arm
	P        float64 // two-sided pooled z-test p-value
	Adjusted float64 // P after Holm–Bonferroni across all the comparisons
}

// Decision is what Decide concluded.
type Decision struct {
	// Winner is the index of the winning arm, or -1: no winner (yet).
	Winner int
	// Best is the index of the arm with the highest rate, or -1 when there is none to
	// speak of (too few sent, no conversions, a tie at the top).
	Best int
	// Comparisons are Best against each other arm, in arm order; empty when Best is -1.
	Comparisons []Comparison
	// Reason says, in a line, why there is a winner or why not.
	Reason string
}

// DisplayConfidence is the confidence of the intervals Decide's reason shows (± half the
// 95 % Wilson interval), whatever the confidence it decides at: the report shows the same
// intervals, so the two read alike.
const DisplayConfidence = 0.95

// Decide picks an experiment's winner from each variant's figures. The variant with the
// highest conversion rate wins when
//   - every variant has at least minSent sent (with tracking),
//   - at least one message converted,
//   - no other variant has the same rate (a tie has no winner), and
//   - it beats every other variant by the two-sided pooled z-test at level
//     α = 1 − confidence, the p-values adjusted with Holm–Bonferroni for testing them
//     together (with two variants there is one comparison and nothing to adjust).
//
// Otherwise there is no winner. The caller checks what is not a matter of counts (the
// wait since the last test message) before asking. Reason reads, for instance:
//
//	no winner at 95 % confidence: personal 5.6 % ± 0.6 vs short 5.1 % ± 0.6, p = 0.21
func Decide(arms []Arm, minSent int, confidence float64) Decision {
	d := Decision{Winner: -1, Best: -1}
	if len(arms) < 2 {
		d.Reason = "no winner: an experiment compares at least 2 variants"
		return d
	}
	minSent = max(minSent, 1) // a variant with nothing sent can never be compared
	var short []string
	total, converted := 0, 0
	for _, a := range arms {
		if a.Sent < minSent {
			short = append(short, fmt.Sprintf("%s %d", a.Name, a.Sent))
		}
		total += a.Sent
		converted += a.Converted
	}
	if len(short) > 0 {
		d.Reason = fmt.Sprintf("no winner yet: every variant needs %d sent with tracking (%s)", minSent, strings.Join(short, ", "))
		return d
	}
	if converted == 0 {
		d.Reason = fmt.Sprintf("no winner yet: no conversions among %d sent", total)
		return d
	}
	best := 0
	for i, a := range arms {
		if a.Rate() > arms[best].Rate() {
			best = i
		}
	}
	var tied []string
	for i, a := range arms {
		// Compared as fractions of integers: equal rates from different counts
		// (1 of 20, 5 of 100) are equal, not a rounding error apart.
		if i != best && a.Converted*arms[best].Sent == arms[best].Converted*a.Sent {
			tied = append(tied, a.Name)
		}
	}
	if len(tied) > 0 {
		d.Reason = fmt.Sprintf("no winner: %s and %s convert at the same rate (%s)", arms[best].Name, strings.Join(tied, " and "), Percent(arms[best].Rate()))
		return d
	}
	d.Best = best
	var ps []float64
	for i, a := range arms {
		if i == best {
			continue
		}
		p, _ := ZTest(arms[best].Converted, arms[best].Sent, a.Converted, a.Sent)
		d.Comparisons = append(d.Comparisons, Comparison{Other: i, P: p})
		ps = append(ps, p)
	}
	alpha := 1 - confidence
	won := true
	for i, adj := range Holm(ps) {
		d.Comparisons[i].Adjusted = adj
		// A hair of tolerance: 1 − 0.95 is 0.050000000000000044 in floating point.
		won = won && adj <= alpha+1e-12
	}
	var parts []string
	for _, c := range d.Comparisons {
		parts = append(parts, fmt.Sprintf("vs %s, %s", describe(arms[c.Other]), PValue(c.Adjusted)))
	}
	figures := describe(arms[best]) + " " + strings.Join(parts, "; ")
	if len(d.Comparisons) > 1 {
		figures += fmt.Sprintf(" (p adjusted for %d comparisons, Holm)", len(d.Comparisons))
	}
	conf := strconv.FormatFloat(math.Round(confidence*10000)/100, 'f', -1, 64) + " % confidence"
	if won {
		d.Winner = best
		d.Reason = fmt.Sprintf("%s wins at %s: %s", arms[best].Name, conf, figures)
	} else {
		d.Reason = fmt.Sprintf("no winner at %s: %s", conf, figures)
	}
	return d
}

// describe reads "personal 5.6 % ± 0.6": the rate and half its 95 % Wilson interval, to
// as many decimals as the rate.
func describe(a Arm) string {
	ci := Wilson(a.Converted, a.Sent, DisplayConfidence)
	rate := a.Rate()
	return fmt.Sprintf("%s %s ± %.*f", a.Name, Percent(rate), decimals(rate), ci.HalfWidth()*100)
}

// Percent writes a fraction as a percentage for people: one decimal ("5.6 %"), two below
// 1 % ("0.45 %"), so that small rates do not all read 0.0 %.
func Percent(f float64) string {
	return fmt.Sprintf("%.*f %%", decimals(f), f*100)
}

// decimals is how many decimals Percent writes of f.
func decimals(f float64) int {
	if f != 0 && math.Abs(f) < 0.01 {
		return 2
	}
	return 1
}

// PValue writes a p-value for people: "p = 0.21" with two decimals, three below 0.01, and
// "p < 0.001" below that.
func PValue(p float64) string {
	switch {
	case math.IsNaN(p):
		return "p n/a"
	case p < 0.001:
		return "p < 0.001"
	case p < 0.01:
		return fmt.Sprintf("p = %.3f", p)
	}
	return fmt.Sprintf("p = %.2f", p)
}
