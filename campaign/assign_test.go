package campaign_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/smsform/smsform/campaign"
)

// TestAssignerVectors pins the construction documented on Assigner to values computed
// independently, with Python's hashlib:
//
//	u = lambda purpose, num: int.from_bytes(hashlib.sha256(
//	        (purpose + "\0" + "spring-sale" + "\0" + "1" + "\0" + num).encode()).digest()[:8], "big")
//	bucket = (u("smsform sample", num) * 10000) >> 64
//	point = (u("smsform variant", num) * 3) >> 64   # personal (weight 2) before short (1)
func TestAssignerVectors(t *testing.T) {
	t.Parallel()
	names, weights := []string{"short", "personal"}, []int{1, 2}
	cases := []struct {
		to      string
		bucket  int
		variant int // 0 short (point 2), 1 personal (point 0 or 1)
	}{
		{"+41793026731", 9625, 1},
		{"+41793026732", 5355, 1},
		{"+41793026733", 9396, 1},
		{"+41793026735", 3199, 1},
		{"+41793026737", 1777, 1},
		{"+41793026742", 3290, 0},
		{"+41793026746", 4377, 0},
		{"+41793026748", 4626, 0},
		{"+41793026749", 3000, 0},
		{"+41793026750", 4484, 1},
	}
	for _, c := range cases {
		// In the sample exactly when the bucket is under the share: the boundary on both
		// sides pins the bucket.
		at := campaign.NewAssigner("spring-sale", 1, campaign.Share(c.bucket), names, weights)
		above := campaign.NewAssigner("spring-sale", 1, campaign.Share(c.bucket+1), names, weights)
		if at.InSample(c.to) || !above.InSample(c.to) {
			t.Errorf("%s: in the sample at %d: %v, at %d: %v; want its bucket to be %d", c.to, c.bucket, at.InSample(c.to), c.bucket+1, above.InSample(c.to), c.bucket)
		}
		if v, in := above.Assign(c.to); !in || v != c.variant {
			t.Errorf("%s: Assign = %d, %v; want variant %d in the sample", c.to, v, in, c.variant)
		}
		if v, in := at.Assign(c.to); in || v != -1 {
			t.Errorf("%s: Assign outside the sample = %d, %v; want -1, false", c.to, v, in)
		}
		// Reordering the variants in the file moves nobody.
		swapped := campaign.NewAssigner("spring-sale", 1, campaign.Whole, []string{"personal", "short"}, []int{2, 1})
		if got := names[1-swapped.Variant(c.to)]; got != names[c.variant] {
			t.Errorf("%s: variant %s after reordering the variants, want %s", c.to, got, names[c.variant])
		}
	}
	// Round 2 is another draw: +41793026731's bucket is 1813 there.
	r2 := campaign.NewAssigner("spring-sale", 2, 1814, names, weights)
	if !r2.InSample("+41793026731") || campaign.NewAssigner("spring-sale", 2, 1813, names, weights).InSample("+41793026731") {
		t.Error("round 2: +41793026731 should have bucket 1813")
	}
}

// numbers are n distinct E.164 numbers.
func numbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+4179%07d", i)
	}
	return out
}

// TestAssignerSplit: over 10,000 recipients, each variant's share and the sample's are
// within 3 standard deviations of what the weights and the sample ask for, for several
// weight sets; and the variants of those in the sample follow the weights too (the two
// hashes are independent).
func TestAssignerSplit(t *testing.T) {
	t.Parallel()
	const n = 10000
	nums := numbers(n)
	within := func(t *testing.T, what string, got, trials int, p float64) {
		t.Helper()
		mean := float64(trials) * p
		sd := math.Sqrt(float64(trials) * p * (1 - p))
		if math.Abs(float64(got)-mean) > 3*sd {
			t.Errorf("%s: %d of %d, want %.0f ± %.0f (3 standard deviations)", what, got, trials, mean, 3*sd)
		}
	}
	sets := []struct {
		names   []string
		weights []int
	}{
		{[]string{"a", "b"}, []int{1, 1}},
		{[]string{"short", "personal"}, []int{1, 2}},
		{[]string{"x", "y", "z"}, []int{1, 1, 1}},
		{[]string{"c", "b", "a", "d"}, []int{5, 3, 2, 10}},
		{[]string{"rare", "common"}, []int{1, 100}},
		{[]string{"v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10"}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	}
	for _, s := range sets {
		t.Run(fmt.Sprint(s.weights), func(t *testing.T) {
			t.Parallel()
			total := 0
			for _, w := range s.weights {
				total += w
			}
			all := campaign.NewAssigner("spring-sale", 1, campaign.Whole, s.names, s.weights)
			counts := make([]int, len(s.names))
			for _, num := range nums {
				v, in := all.Assign(num)
				if !in {
					t.Fatalf("%s is out of a 100%% sample", num)
				}
				counts[v]++
			}
			for i, c := range counts {
				within(t, "variant "+s.names[i], c, n, float64(s.weights[i])/float64(total))
			}

			sampled := campaign.NewAssigner("spring-sale", 1, 2000, s.names, s.weights)
			in := 0
			inCounts := make([]int, len(s.names))
			for _, num := range nums {
				v, ok := sampled.Assign(num)
				if !ok {
					continue
				}
				in++
				inCounts[v]++
				if v != all.Variant(num) {
					t.Fatalf("%s: variant %d in a 20%% sample, %d in a 100%% one; the sample must not change a variant", num, v, all.Variant(num))
				}
			}
			within(t, "sample of 20%", in, n, 0.2)
			for i, c := range inCounts {
				within(t, "in the sample, variant "+s.names[i], c, in, float64(s.weights[i])/float64(total))
			}
		})
	}
	for _, share := range []campaign.Share{100, 1000, 5000, 9999} {
		a := campaign.NewAssigner("c", 1, share, []string{"a", "b"}, []int{1, 1})
		in := 0
		for _, num := range nums {
			if a.InSample(num) {
				in++
			}
		}
		within(t, "sample of "+share.String(), in, n, share.Fraction())
	}
}

func TestShareString(t *testing.T) {
	t.Parallel()
	for s, want := range map[campaign.Share]string{2000: "20%", 10000: "100%", 9990: "99.9%", 2005: "20.05%", 100: "1%", 150: "1.5%"} {
		if got := s.String(); got != want {
			t.Errorf("Share(%d) = %q, want %q", int(s), got, want)
		}
	}
}
