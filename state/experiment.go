package state

import (
	"slices"
	"strings"
	"time"
)

// How an experiment's winner was decided.
const (
	DecidedByFile = "file" // a person named it in the campaign file (winner: NAME)
	DecidedByAuto = "auto" // winner: auto, by the test's conversions
)

// Arm is one variant's figures in an experiment's test: messages sent with conversion
// tracking (the base of its conversion rate) and how many of them converted. Recipients
// held out of the test and sent the winner afterwards are not counted.
type Arm struct {
	Variant     string `json:"variant"`
	SentTracked int    `json:"sent_with_tracking"`
	Converted   int    `json:"converted"`
}

// Decision is an experiment round's decision as recorded: once, when apply first sent the
// held recipients the winner, and never changed afterwards.
type Decision struct {
	Round
	Winner    string
	DecidedBy string // DecidedByFile or DecidedByAuto
	DecidedAt time.Time
	// Reason is the plan's line that explained the decision; Arms the figures it rested on.
	Reason string
	Arms   []Arm
}

// Trial is what the state holds of one experiment round: its test's figures, when its
// last test message was sent, and its decision if one was recorded.
type Trial struct {
	// Arms are the variants' figures, by variant name (sorted); a variant nothing was sent
	// with is absent.
	Arms []Arm
	// LastTestSend is when the latest test message recorded as sent was sent (zero: none).
	LastTestSend time.Time
	Decision     *Decision
}

// Arm returns the figures of the named variant (zero ones when nothing was sent with it).
func (t *Trial) Arm(variant string) Arm {
	if t != nil {
		if i, ok := slices.BinarySearchFunc(t.Arms, variant, func(a Arm, v string) int { return strings.Compare(a.Variant, v) }); ok {
			return t.Arms[i]
		}
	}
	return Arm{Variant: variant}
}

// Trial returns what the state holds of an experiment round: nil when it holds nothing
// (no message sent with a variant, no decision).
func (s *Snapshot) Trial(r Round) *Trial { return s.trials[r] }

// Trial sets what the state holds of experiment round r.
func (b *SnapshotBuilder) Trial(r Round, t *Trial) {
	if b.snap.trials == nil {
		b.snap.trials = map[Round]*Trial{}
	}
	slices.SortFunc(t.Arms, func(a, b Arm) int { return strings.Compare(a.Variant, b.Variant) })
	b.snap.trials[r] = t
}

// WithTrial returns a copy of the snapshot holding t for round r, for tests and tools.
func (s *Snapshot) WithTrial(r Round, t *Trial) *Snapshot {
	out := *s
	out.trials = map[Round]*Trial{}
	for k, v := range s.trials {
		out.trials[k] = v
	}
	(&SnapshotBuilder{snap: &out}).Trial(r, t)
	return &out
}
