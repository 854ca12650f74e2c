package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"sync"
)

// maxStmtRows is how many rows one multi-row statement writes. Running a statement has a
// fixed cost (binding, halting, resetting) that, row by row, was half of apply's time in
// SQLite; 64 measured best (BenchmarkSettle).
const maxStmtRows = 64

// rowStmts is one multi-row statement in seven sizes, 64, 32, ... 1 rows, prepared once per
// Store: parsing a 64-row statement again for every batch took SQLite a fifth of the time it
// spent writing apply's answers. Any number of rows is written as a sum of these sizes.
type rowStmts struct {
	build func(rows int) string // the statement's SQL for so many rows

	mu    sync.Mutex
	stmts [7]*sql.Stmt // stmts[k] writes maxStmtRows>>k rows; nil until prepared
}

// prepare prepares the statements, if not done yet. It must be called outside any
// transaction: the Store has one connection, which a transaction holds.
func (r *rowStmts) prepare(ctx context.Context, db *sql.DB) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stmts[0] != nil {
		return nil
	}
	var stmts [7]*sql.Stmt
	for k := range stmts {
		st, err := db.PrepareContext(ctx, r.build(maxStmtRows>>k))
		if err != nil {
			for _, s := range stmts[:k] {
				s.Close()
			}
			return err
		}
		stmts[k] = st
	}
	r.stmts = stmts
	return nil
}

func (r *rowStmts) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, st := range r.stmts {
		if st != nil {
			st.Close()
		}
		r.stmts[k] = nil
	}
}

// exec writes n rows in tx, in chunks: as many rows as one statement takes, from start on,
// while together(start, i) says row i may share start's statement (nil: any may). args
// appends a chunk's arguments (its shared values, then each row's) to buf. A failure names
// the chunk's rows through what. It returns how many rows the statements changed. Without
// prepare before, each statement is prepared in tx, for this transaction only.
func (r *rowStmts) exec(ctx context.Context, tx *sql.Tx, n int, together func(start, i int) bool,
	args func(buf []any, start, end int) []any, what func(start, end int) string) (int64, error) {
	r.mu.Lock()
	stmts := r.stmts
	r.mu.Unlock()
	var inTx [7]*sql.Stmt // bound to tx when first used; closed with tx
	var buf []any
	var changed int64
	for start := 0; start < n; {
		m := 1
		for m < maxStmtRows && start+m < n && (together == nil || together(start, start+m)) {
			m++
		}
		k := bits.LeadingZeros8(uint8(m)) - 1 // the largest statement that fits: maxStmtRows>>k rows
		end := start + maxStmtRows>>k
		buf = args(buf[:0], start, end)
		if inTx[k] == nil {
			if stmts[k] != nil {
				inTx[k] = tx.StmtContext(ctx, stmts[k])
			} else {
				st, err := tx.PrepareContext(ctx, r.build(maxStmtRows>>k))
				if err != nil {
					return changed, err
				}
				inTx[k] = st
			}
		}
		res, err := inTx[k].ExecContext(ctx, buf...)
		if err != nil {
			return changed, fmt.Errorf("%s: %w", what(start, end), err)
		}
		c, _ := res.RowsAffected()
		changed += c
		start = end
	}
	return changed, nil
}
