package runner_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// settlingStore is a SQLite state whose settler waits until a worker has tried to record
// its batch together with waiting answers (or a second), so that answers do queue for the
// workers; refuse makes that first try fail.
type settlingStore struct {
	*sqlite.Store
	refuse   atomic.Bool
	together atomic.Int32 // MarkSendingAfter calls that carried answers and succeeded
	answers  atomic.Int32 // answers they carried
	first    chan struct{}
	once     sync.Once
}

func (s *settlingStore) MarkSendingAfter(ctx context.Context, items []state.Settlement, msgs []state.Outgoing) (*state.Batch, error) {
	defer s.once.Do(func() { close(s.first) })
	if s.refuse.CompareAndSwap(true, false) {
		return nil, errors.New("the disk is full")
	}
	b, err := s.Store.MarkSendingAfter(ctx, items, msgs)
	if err == nil {
		s.together.Add(1)
		s.answers.Add(int32(len(items)))
	}
	return b, err
}

func (s *settlingStore) SettleMany(ctx context.Context, items []state.Settlement) error {
	select {
	case <-s.first:
	case <-time.After(time.Second):
	}
	return s.Store.SettleMany(ctx, items)
}

// TestApplyRecordsAnswersWithNextBatch: answers waiting to be recorded go into the
// transaction that marks the next batch sending, and every message ends recorded once,
// nothing left in flight.
func TestApplyRecordsAnswersWithNextBatch(t *testing.T) {
	const n = 1000
	set := load(t, map[string]string{
		"big.yaml": "id: big\nfrom: InfoSMS\ntext: \"Hello {{.name}}\"\ndestinations_file: big.csv\n",
		"big.csv":  numbersCSV(n),
	})
	s := &settlingStore{Store: openStore(t), first: make(chan struct{})}
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	p := planFromStore(t, set, s.Store, runner.PlanOptions{})
	res, err := runner.Apply(context.Background(), p, client, s, runner.ApplyOptions{BatchSize: 100, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != n || res.NotSent != 0 {
		t.Errorf("result %+v", res)
	}
	if s.together.Load() == 0 || s.answers.Load() == 0 {
		t.Errorf("no batch was recorded with waiting answers (%d calls, %d answers)", s.together.Load(), s.answers.Load())
	}
	if got := len(byMessageID(t, sb)); got != n {
		t.Errorf("sandbox received %d messages, want %d", got, n)
	}
	counts, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := counts[state.Round{Campaign: "big", Round: 1}][state.Sent]; got != n {
		t.Errorf("recorded %d sent, want %d: %v", got, n, counts)
	}
	if b, err := s.InFlight(context.Background()); err != nil || len(b) != 0 {
		t.Errorf("left in flight: %d batches, %v", len(b), err)
	}
}

// TestApplyRecordsAnswersWhenNextBatchRefused: when the state refuses the batch the waiting
// answers were to go with, the run stops before that batch's request, and the answers are
// recorded on their own: every message sent is recorded sent, nothing is left in flight.
func TestApplyRecordsAnswersWhenNextBatchRefused(t *testing.T) {
	const n = 1000
	set := load(t, map[string]string{
		"big.yaml": "id: big\nfrom: InfoSMS\ntext: \"Hello {{.name}}\"\ndestinations_file: big.csv\n",
		"big.csv":  numbersCSV(n),
	})
	s := &settlingStore{Store: openStore(t), first: make(chan struct{})}
	s.refuse.Store(true)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	p := planFromStore(t, set, s.Store, runner.PlanOptions{})
	res, err := runner.Apply(context.Background(), p, client, s, runner.ApplyOptions{BatchSize: 100, Parallelism: 1})
	if err == nil {
		t.Fatalf("apply succeeded with a batch the state refused: %+v", res)
	}
	received := len(byMessageID(t, sb))
	if s.together.Load() != 0 {
		t.Errorf("%d batches recorded with answers after the refusal; the run should have stopped", s.together.Load())
	}
	if res.Sent != received || res.Sent+res.NotSent != n || res.Sent == 0 || res.Sent == n {
		t.Errorf("result %+v, sandbox received %d", res, received)
	}
	counts, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := counts[state.Round{Campaign: "big", Round: 1}][state.Sent]; got != received {
		t.Errorf("recorded %d sent; the sandbox received %d", got, received)
	}
	if b, err := s.InFlight(context.Background()); err != nil || len(b) != 0 {
		t.Errorf("left in flight: %d batches, %v", len(b), err)
	}
}

// parallelStore is a state that says how many writers it takes (state.ConcurrentWriter,
// unless writers is 0); its SettleMany notes how many run at once, and waits a moment for
// a second one before it writes.
type parallelStore struct {
	state.Store // not *sqlite.Store: answers go to the settlers, not with the next batch
	writers     int
	inFlight    atomic.Int32
	most        atomic.Int32
	both        chan struct{}
	bothOnce    sync.Once
	wait        chan struct{} // closed a moment after the first SettleMany
	waitOnce    sync.Once
}

type concurrentStore struct{ *parallelStore }

func (s concurrentStore) Writers() int { return s.writers }

func (s *parallelStore) SettleMany(ctx context.Context, items []state.Settlement) error {
	s.waitOnce.Do(func() { time.AfterFunc(300*time.Millisecond, func() { close(s.wait) }) })
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.most.Load(); n > m && !s.most.CompareAndSwap(m, n); m = s.most.Load() {
	}
	if n >= 2 {
		s.bothOnce.Do(func() { close(s.both) })
	}
	select {
	case <-s.both:
	case <-s.wait:
	}
	return s.Store.SettleMany(ctx, items)
}

// TestApplyConcurrentSettlers: a state that takes two writers at once has apply's answers
// recorded by two transactions at once; one that does not, by one at a time. Either way
// every message is recorded sent once, nothing left in flight.
func TestApplyConcurrentSettlers(t *testing.T) {
	for _, writers := range []int{0, 2} {
		const n = 2000
		set := load(t, map[string]string{
			"big.yaml": "id: big\nfrom: InfoSMS\ntext: \"Hello {{.name}}\"\ndestinations_file: big.csv\n",
			"big.csv":  numbersCSV(n),
		})
		db := openStore(t)
		ps := &parallelStore{Store: db, writers: writers, both: make(chan struct{}), wait: make(chan struct{})}
		var s state.Store = ps
		if writers > 0 {
			s = concurrentStore{ps}
		}
		sb, client := startSandbox(t, sandbox.Options{}, nil)
		p := planFromStore(t, set, db, runner.PlanOptions{})
		res, err := runner.Apply(context.Background(), p, client, s, runner.ApplyOptions{BatchSize: 100, Parallelism: 4})
		if err != nil {
			t.Fatal(err)
		}
		if res.Sent != n || res.NotSent != 0 {
			t.Errorf("writers %d: result %+v", writers, res)
		}
		if got, want := ps.most.Load(), int32(max(writers, 1)); got != want {
			t.Errorf("writers %d: %d settling transactions at once at most, want %d", writers, got, want)
		}
		if got := len(byMessageID(t, sb)); got != n {
			t.Errorf("writers %d: sandbox received %d messages, want %d", writers, got, n)
		}
		counts, err := ps.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := counts[state.Round{Campaign: "big", Round: 1}][state.Sent]; got != n {
			t.Errorf("writers %d: recorded %d sent, want %d: %v", writers, got, n, counts)
		}
		if batches, err := ps.InFlight(context.Background()); err != nil || len(batches) != 0 {
			t.Errorf("writers %d: %d batches left in flight (%v)", writers, len(batches), err)
		}
	}
}
