package campaign

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// Share is a part of a whole in hundredths of a percent: 2000 is 20 %, Whole is 100 %.
// Experiments write shares as percentages with at most two decimals (20%, 99.9%), which
// this holds exactly.
type Share int

// Whole is 100 %.
const Whole Share = 10000

// Fraction is the share as a fraction of 1: 2000 is 0.2.
func (s Share) Fraction() float64 { return float64(s) / float64(Whole) }

// String writes the share as a percentage, as a campaign file does: "20%", "99.9%".
func (s Share) String() string {
	whole, frac := int(s)/100, int(s)%100
	if frac == 0 {
		return strconv.Itoa(whole) + "%"
	}
	return strings.TrimRight(strconv.Itoa(whole)+"."+strconv.Itoa(100 + frac)[1:], "0") + "%"
}

// Assigner puts the recipients of one campaign round in or out of its experiment's sample,
// and each one in the sample on a variant by the variants' weights. It is a pure function
// of (campaign id, round, E.164 number) and the experiment's settings: the same recipient
// gets the same answer on every plan and every machine, whatever the order of the files
// and the recipients, and adding or removing recipients moves nobody else.
//
// The construction, exactly, so that another implementation can reproduce it:
//
//	key(purpose)  = purpose + 0x00 + campaign id + 0x00 + round in decimal + 0x00 + number
//	                (the number in E.164 with its '+': "+41793026731")
//	u(purpose)    = the first 8 bytes of SHA-256(key(purpose)), as a big-endian uint64
//	bucket        = floor(u("smsform sample") × 10000 / 2^64), in 0..9999
//	in the sample ⇔ bucket < sample in hundredths of a percent (20% is 2000)
//	point         = floor(u("smsform variant") × W / 2^64), W the sum of the weights
//	variant       = with the variants in order of their names (byte-wise), the first
//	                whose running sum of weights exceeds point
//
// Two purposes make two independent hashes: whether someone is in the sample says
// nothing about their variant. Ordering the variants by name keeps everyone where they
// were when the variants are reordered in the file. SHA-256 rather than a faster hash:
// it is the same in every language and version, and seeded by nothing.
type Assigner struct {
	prefix string // campaign id + 0x00 + round + 0x00
	sample Share
	order  []int // variant indexes in order of their names
	cum    []uint64
	total  uint64
}

// NewAssigner makes the assigner of a campaign round, for a sample share and variants
// given by name and weight (in the campaign's order). Weights must be at least 1.
func NewAssigner(id string, round int, sample Share, names []string, weights []int) *Assigner {
	a := &Assigner{prefix: id + "\x00" + strconv.Itoa(round) + "\x00", sample: sample}
	a.order = make([]int, len(names))
	for i := range a.order {
		a.order[i] = i
	}
	slices.SortStableFunc(a.order, func(x, y int) int { return strings.Compare(names[x], names[y]) })
	for _, i := range a.order {
		a.total += uint64(max(weights[i], 1))
		a.cum = append(a.cum, a.total)
	}
	return a
}

// Assign returns whether the number is in the sample and, if it is, the index of its
// variant; -1 for a recipient held back.
func (a *Assigner) Assign(e164 string) (variant int, inSample bool) {
	if !a.InSample(e164) {
		return -1, false
	}
	return a.Variant(e164), true
}

// InSample reports whether the number is in the sample.
func (a *Assigner) InSample(e164 string) bool {
	if a.sample >= Whole {
		return true
	}
	bucket, _ := bits.Mul64(a.hash("smsform sample", e164), uint64(Whole))
	return bucket < uint64(a.sample)
}

// Variant returns the index of the variant the weights give the number, in or out of
// the sample (a held recipient's is not sent; Lint reads texts by it).
func (a *Assigner) Variant(e164 string) int {
	if len(a.order) == 0 {
		return -1
	}
	point, _ := bits.Mul64(a.hash("smsform variant", e164), a.total)
	k, _ := slices.BinarySearch(a.cum, point+1)
	return a.order[k]
}

func (a *Assigner) hash(purpose, e164 string) uint64 {
	h := sha256.New()
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(a.prefix))
	h.Write([]byte(e164))
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}
