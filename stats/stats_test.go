package stats_test

import (
	"math"
	"strings"
	"testing"

	"github.com/smsform/smsform/stats"
)

const tolerance = 1e-4

// The expected values below were computed independently of this package, with Python's
// statistics.NormalDist (inv_cdf for z, cdf for p-values) and the textbook formulas
// written out in Python:
//
//	z = NormalDist().inv_cdf(1 - (1 - conf) / 2)
//	p = x / n; d = 1 + z*z/n; c = (p + z*z/(2*n)) / d
//	h = z/d * sqrt(p*(1-p)/n + z*z/(4*n*n)); Wilson = (max(0, c-h), min(1, c+h))
//	pooled = (x1+x2)/(n1+n2); se = sqrt(pooled*(1-pooled)*(1/n1+1/n2))
//	zstat = (x1/n1 - x2/n2)/se; p-value = 2*(1 - NormalDist().cdf(abs(zstat)))

func TestWilson(t *testing.T) {
	t.Parallel()
	cases := []struct {
		converted, sent int
		confidence      float64
		low, high       float64
	}{
		{56, 1000, 0.95, 0.0433748134, 0.0720233481},
		{51, 1000, 0.95, 0.0390009428, 0.0664354863},
		{0, 20, 0.95, 0.0000000000, 0.1611251581},
		{20, 20, 0.95, 0.8388748419, 1.0000000000},
		{1, 1, 0.95, 0.2065493144, 1.0000000000},
		{2, 34, 0.95, 0.0162826552, 0.1909360690},
		{3, 34, 0.95, 0.0304659437, 0.2296048656}, // the report's "8.8 % of 34" of issue 19
		{3, 40, 0.95, 0.0258360258, 0.1986423352}, // against "7.5 % of 40"
		{123, 4567, 0.99, 0.0214146605, 0.0338225638},
		{5, 10, 0.80, 0.3122044449, 0.6877955551},
		{7, 250, 0.999, 0.0086872964, 0.0865003654},
	}
	for _, c := range cases {
		got := stats.Wilson(c.converted, c.sent, c.confidence)
		if math.Abs(got.Low-c.low) > tolerance || math.Abs(got.High-c.high) > tolerance {
			t.Errorf("Wilson(%d, %d, %v) = [%.6f, %.6f], want [%.6f, %.6f]", c.converted, c.sent, c.confidence, got.Low, got.High, c.low, c.high)
		}
	}
	if got := stats.Wilson(0, 0, 0.95); got != (stats.Interval{Low: 0, High: 1}) {
		t.Errorf("Wilson with nothing sent = %+v, want [0, 1]", got)
	}
}

func TestZ(t *testing.T) {
	t.Parallel()
	// NormalDist().inv_cdf(0.975), inv_cdf(0.995), inv_cdf(0.9), inv_cdf(0.9995).
	for conf, want := range map[float64]float64{0.95: 1.959963985, 0.99: 2.575829304, 0.80: 1.281551566, 0.999: 3.290526731} {
		if got := stats.Z(conf); math.Abs(got-want) > 1e-6 {
			t.Errorf("Z(%v) = %.9f, want %.9f", conf, got, want)
		}
	}
}

func TestZTest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		x1, n1, x2, n2 int
		p              float64
	}{
		{56, 1000, 51, 1000, 0.6193008742},     // z = 0.496841
		{3, 34, 3, 40, 0.8353315903},           // z = 0.207869: issue 19's 8.8 % vs 7.5 %
		{120, 1000, 80, 1000, 0.0028691128},    // z = 2.981424
		{30, 500, 10, 500, 0.0012488310},       // z = 3.227486
		{5, 100, 1, 20, 1.0000000000},          // z = 0: equal rates from different counts
		{0, 50, 3, 50, 0.0786401793},           // z = -1.758631
		{560, 10000, 510, 10000, 0.1161476793}, // z = 1.571151
		{200, 2000, 150, 2100, 0.0010654628},   // z = 3.272645
	}
	for _, c := range cases {
		got, ok := stats.ZTest(c.x1, c.n1, c.x2, c.n2)
		if !ok || math.Abs(got-c.p) > tolerance {
			t.Errorf("ZTest(%d/%d vs %d/%d) = %.8f, %v; want %.8f", c.x1, c.n1, c.x2, c.n2, got, ok, c.p)
		}
		// The test is two-sided: the order of the sides does not matter.
		if back, _ := stats.ZTest(c.x2, c.n2, c.x1, c.n1); math.Abs(back-got) > 1e-12 {
			t.Errorf("ZTest is not symmetric: %v one way, %v the other", got, back)
		}
	}
	if _, ok := stats.ZTest(1, 10, 0, 0); ok {
		t.Error("ZTest with a side of nothing sent: ok, want not ok")
	}
	for _, c := range [][4]int{{0, 10, 0, 20}, {10, 10, 20, 20}} {
		if p, ok := stats.ZTest(c[0], c[1], c[2], c[3]); !ok || p != 1 {
			t.Errorf("ZTest(%v) = %v, %v; want 1 (both rates 0 or both 1: no difference)", c, p, ok)
		}
	}
}

func TestHolm(t *testing.T) {
	t.Parallel()
	// Worked by hand: sort ascending, multiply the k-th smallest (from 0) by m-k, keep
	// the running maximum, cap at 1.
	cases := []struct{ p, want []float64 }{
		{[]float64{0.01, 0.04, 0.03}, []float64{0.03, 0.06, 0.06}},
		{[]float64{0.2, 0.001}, []float64{0.2, 0.002}},
		{[]float64{0.6, 0.7}, []float64{1, 1}},
		{[]float64{0.04}, []float64{0.04}},
		{[]float64{0.02, 0.02, 0.5}, []float64{0.06, 0.06, 0.5}},
		{nil, []float64{}},
	}
	for _, c := range cases {
		got := stats.Holm(c.p)
		if len(got) != len(c.want) {
			t.Fatalf("Holm(%v) = %v, want %v", c.p, got, c.want)
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Errorf("Holm(%v) = %v, want %v", c.p, got, c.want)
				break
			}
		}
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		arms       []stats.Arm
		minSent    int
		confidence float64
		winner     int
		best       int
		reason     string // exactly
	}{
		{
			name:       "too few sent",
			arms:       []stats.Arm{{"short", 412, 20}, {"personal", 1398, 80}},
			minSent:    1000,
			confidence: 0.95,
			winner:     -1, best: -1,
			reason: "no winner yet: every variant needs 1000 sent with tracking (short 412)",
		},
		{
			name:       "a variant with nothing sent",
			arms:       []stats.Arm{{"short", 0, 0}, {"personal", 10, 3}},
			minSent:    0,
			confidence: 0.95,
			winner:     -1, best: -1,
			reason: "no winner yet: every variant needs 1 sent with tracking (short 0)",
		},
		{
			name:       "no conversions at all",
			arms:       []stats.Arm{{"short", 1000, 0}, {"personal", 1000, 0}},
			minSent:    1000,
			confidence: 0.95,
			winner:     -1, best: -1,
			reason: "no winner yet: no conversions among 2000 sent",
		},
		{
			name:       "equal rates from different counts",
			arms:       []stats.Arm{{"short", 100, 5}, {"personal", 20, 1}},
			minSent:    20,
			confidence: 0.95,
			winner:     -1, best: -1,
			reason: "no winner: short and personal convert at the same rate (5.0 %)",
		},
		{
			name:       "the issue's example: a difference that is noise",
			arms:       []stats.Arm{{"short", 10000, 510}, {"personal", 10000, 560}},
			minSent:    1000,
			confidence: 0.95,
			winner:     -1, best: 1,
			reason: "no winner at 95 % confidence: personal 5.6 % ± 0.5 vs short 5.1 % ± 0.4, p = 0.12",
		},
		{
			name:       "a clear winner",
			arms:       []stats.Arm{{"short", 1000, 80}, {"personal", 1000, 120}},
			minSent:    1000,
			confidence: 0.95,
			winner:     1, best: 1,
			reason: "personal wins at 95 % confidence: personal 12.0 % ± 2.0 vs short 8.0 % ± 1.7, p = 0.003",
		},
		{
			name:       "the same figures at 99.9 %",
			arms:       []stats.Arm{{"short", 1000, 80}, {"personal", 1000, 120}},
			minSent:    1000,
			confidence: 0.999,
			winner:     -1, best: 1,
			reason: "no winner at 99.9 % confidence: personal 12.0 % ± 2.0 vs short 8.0 % ± 1.7, p = 0.003",
		},
		{
			// p = 0.000265 against b and 0.0355 against c; Holm: 0.00053 and 0.0355.
			name:       "three variants, the best beats both",
			arms:       []stats.Arm{{"a", 1000, 130}, {"b", 1000, 80}, {"c", 1000, 100}},
			minSent:    1000,
			confidence: 0.95,
			winner:     0, best: 0,
			reason: "a wins at 95 % confidence: a 13.0 % ± 2.1 vs b 8.0 % ± 1.7, p < 0.001; vs c 10.0 % ± 1.9, p = 0.04 (p adjusted for 2 comparisons, Holm)",
		},
		{
			// p = 0.0295 against b and 0.0355 against c: each under 0.05 alone, but
			// Holm doubles the smaller one to 0.059.
			name:       "three variants, significant only without the adjustment",
			arms:       []stats.Arm{{"a", 1000, 130}, {"b", 1000, 99}, {"c", 1000, 100}},
			minSent:    1000,
			confidence: 0.95,
			winner:     -1, best: 0,
			reason: "no winner at 95 % confidence: a 13.0 % ± 2.1 vs b 9.9 % ± 1.9, p = 0.06; vs c 10.0 % ± 1.9, p = 0.06 (p adjusted for 2 comparisons, Holm)",
		},
		{
			name:       "one variant",
			arms:       []stats.Arm{{"short", 1000, 80}},
			minSent:    1,
			confidence: 0.95,
			winner:     -1, best: -1,
			reason: "no winner: an experiment compares at least 2 variants",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := stats.Decide(c.arms, c.minSent, c.confidence)
			if d.Winner != c.winner || d.Best != c.best || d.Reason != c.reason {
				t.Errorf("Decide = winner %d, best %d, %q\nwant winner %d, best %d, %q", d.Winner, d.Best, d.Reason, c.winner, c.best, c.reason)
			}
			if d.Best >= 0 && len(d.Comparisons) != len(c.arms)-1 {
				t.Errorf("%d comparisons, want %d", len(d.Comparisons), len(c.arms)-1)
			}
		})
	}
}

func TestDecideComparisons(t *testing.T) {
	t.Parallel()
	d := stats.Decide([]stats.Arm{{"a", 1000, 130}, {"b", 1000, 99}, {"c", 1000, 100}}, 1000, 0.95)
	// Python, as above: p = 0.0294838436 (a vs b), 0.0354884505 (a vs c).
	want := []stats.Comparison{{Other: 1, P: 0.0294838436, Adjusted: 2 * 0.0294838436}, {Other: 2, P: 0.0354884505, Adjusted: 2 * 0.0294838436}}
	for i, c := range d.Comparisons {
		if c.Other != want[i].Other || math.Abs(c.P-want[i].P) > tolerance || math.Abs(c.Adjusted-want[i].Adjusted) > tolerance {
			t.Errorf("comparison %d = %+v, want %+v", i, c, want[i])
		}
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	for f, want := range map[float64]string{0.056: "5.6 %", 0.0045: "0.45 %", 0: "0.0 %", 1: "100.0 %"} {
		if got := stats.Percent(f); got != want {
			t.Errorf("Percent(%v) = %q, want %q", f, got, want)
		}
	}
	for p, want := range map[float64]string{0.2104: "p = 0.21", 0.0029: "p = 0.003", 0.0004: "p < 0.001", 1: "p = 1.00"} {
		if got := stats.PValue(p); got != want {
			t.Errorf("PValue(%v) = %q, want %q", p, got, want)
		}
	}
	if !strings.HasPrefix(stats.PValue(math.NaN()), "p ") {
		t.Error("PValue(NaN) should still read as a p")
	}
}
