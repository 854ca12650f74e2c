package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/internal/sqlstore"
)

// writeGroup commits apply's writes in groups. SQLite has one writer: while one
// transaction records a batch in flight or settles answers, the calls that come in wait,
// and the next transaction writes all of them together, one commit instead of one each,
// the pages they share (the serial, the batches in flight, the messages' last leaves)
// written once. Each call returns once its write is committed, as it would alone.
type writeGroup struct {
	mu      sync.Mutex
	queue   []*groupWrite // waiting for the next transaction
	leading bool          // a call is writing a group, and will hand over to queue[0]
}

// groupWrite is one call's share of a group: answers to settle and, for MarkSendingAfter,
// a batch to record in flight (data, its messages as the inflight table keeps them).
type groupWrite struct {
	ctx   context.Context
	items []state.Settlement
	batch *state.Batch
	data  string

	wake    chan struct{} // written, or handed the lead
	written bool
	tried   bool // its write was tried on its own (see grouped)
	err     error
}

// maxGroupSettlements caps the answers one group's transaction writes: a worker waits for
// it before its request leaves, and apply hands over up to settleGroup (8) batches' answers
// a call.
const maxGroupSettlements = 16

// grouped writes w, in a group with the calls waiting when its transaction begins. The
// first caller leads: it writes the queue (up to maxGroupSettlements answers), itself
// included, then wakes every call written and hands the lead to the first call left
// waiting, which writes the next group. The transaction is not cancelled with the leader's
// ctx, which would fail the others' writes; a call whose own ctx is done when its group is
// taken is not written (it still waits for its group). A group refused by a constraint (one
// call's answer the table refuses) is written again call by call, so that each call gets
// its own error; any other failure (a full disk, a busy or failing database) is every
// call's, as it would be alone.
func (s *Store) grouped(ctx context.Context, w *groupWrite) (err error) {
	g := &s.group
	w.ctx, w.wake = ctx, make(chan struct{}, 1)
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if !lead {
		if <-w.wake; w.written {
			return w.err
		}
	}
	g.mu.Lock()
	ws := takeGroup(&g.queue) // w first among them
	g.mu.Unlock()

	defer func() {
		p := recover()
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, o := range ws {
			if p != nil && !o.tried {
				o.err = fmt.Errorf("record in the state: %v", p)
			}
			o.written = true
			if o != w {
				o.wake <- struct{}{}
			}
		}
		if len(g.queue) > 0 {
			g.queue[0].wake <- struct{}{}
		} else {
			g.leading = false
		}
		err = w.err
		clear(ws) // the queue's array may hold them a while yet
		if p != nil {
			panic(p)
		}
	}()
	var live []*groupWrite
	for _, o := range ws {
		if o.err = o.ctx.Err(); o.err == nil {
			live = append(live, o)
		}
	}
	if len(live) == 0 {
		return nil
	}
	write := context.WithoutCancel(ctx)
	if gerr := s.writeGroup(write, live); gerr != nil {
		alone := len(live) > 1 && isConstraint(gerr)
		for _, o := range live {
			o.err = gerr
			if alone {
				o.err = s.writeGroup(write, []*groupWrite{o})
				o.tried = true
			}
		}
	}
	return nil // w.err, set by the deferred hand-over
}

// takeGroup removes from queue the calls the next group writes: the first, and those after
// it while the group's answers stay within maxGroupSettlements.
func takeGroup(queue *[]*groupWrite) []*groupWrite {
	q := *queue
	n, items := 1, len(q[0].items)
	for n < len(q) && items+len(q[n].items) <= maxGroupSettlements {
		items += len(q[n].items)
		n++
	}
	*queue = q[n:]
	return q[:n:n]
}

// writeGroup writes ws in one transaction: their answers, then their batches in flight.
// It is committed with an fsync when it records a batch in flight (the batch must be
// durable before its request leaves), lazily when it only settles (see withLazyTx).
func (s *Store) writeGroup(ctx context.Context, ws []*groupWrite) error {
	var items []state.Settlement
	durable := false
	for _, w := range ws {
		items = append(items, w.items...)
		durable = durable || w.batch != nil
	}
	ts := state.FormatTime(time.Now())
	// The rows are inserted, not upserted, while no settlement of this Store has met a
	// message recorded before (sqlstore.Settling). An upsert may abort halfway through its
	// rows, so SQLite writes every page it touches to a statement journal first, in case;
	// an INSERT OR FAIL cannot (a failure leaves the transaction to its rollback, which
	// withTx does anyway), and that journal was a fifth of what apply spent on its state.
	return sqlstore.Settling(&s.rewrites, isKeyConflict, func(fresh bool) error {
		write := func(tx *sql.Tx) error {
			if err := s.settleTx(ctx, tx, items, ts, fresh); err != nil {
				return err
			}
			for _, w := range ws {
				if w.batch == nil {
					continue
				}
				// An id above any this Store gave before: SQLite would give the id of a
				// batch just settled (the table's largest, deleted) to the next one, and a
				// stale Batch settled twice would then take another's record with it.
				res, err := tx.ExecContext(ctx, `INSERT INTO inflight (id, created_at, messages)
					VALUES ((SELECT max(COALESCE(max(id), 0), ?) + 1 FROM inflight), ?, ?)`, s.lastInflight.Load(), state.FormatTime(w.batch.CreatedAt), w.data)
				if err != nil {
					return fmt.Errorf("record %d messages as sending: %w", len(w.batch.Messages), err)
				}
				if w.batch.ID, err = res.LastInsertId(); err != nil {
					return err
				}
				s.lastInflight.Store(w.batch.ID)
			}
			return nil
		}
		if durable {
			return s.withTx(ctx, write)
		}
		return s.withLazyTx(ctx, write)
	})
}
