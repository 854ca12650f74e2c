package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	sqlite "modernc.org/sqlite"

	"github.com/smsform/smsform/state/internal/sqlstore"
)

// each reads the rows of a read of one row per message (sqlstore.Backend.Each) through an
// aggregate function, eachFunction, that SQLite calls with every row's columns, instead of
// row by row through database/sql. The driver reads a row's columns one call each, every
// call taking the connection's mutex; a row handed to a function costs a fifth of that. A
// round of a million recorded messages, which a re-plan reads whole, was read in 1.4 s row
// by row and is in 0.65 s this way.
//
// The function finds the read it serves by the number each binds as its first argument
// (reads holds them): SQLite's functions are registered once for every connection.
func each(ctx context.Context, tx sqlstore.Querier, cols []string, from string, args []any, dest []any, row func() error) error {
	r := &eachRead{dest: dest, row: row}
	id := rand.Int64()
	for _, taken := reads.LoadOrStore(id, r); taken; _, taken = reads.LoadOrStore(id, r) {
		id = rand.Int64()
	}
	defer reads.Delete(id)
	defer func() { // no destination keeps a view of SQLite's memory past the read
		for _, d := range dest {
			if b, ok := d.(*sql.RawBytes); ok {
				*b = nil
			}
		}
	}()
	// The rows come to the function in the order SQLite reads them, by the index the read
	// uses, not by the read's ORDER BY, which orders the one row the function returns: a
	// subquery would order them, at the cost of a copy of every row. The reads of messages
	// use their key, in the order of the key; state.Recorded sorts rows read in another.
	rows, err := tx.Query(ctx, "SELECT "+eachFunction+"(?, "+strings.Join(cols, ", ")+") FROM "+from, append([]any{id}, args...)...)
	if err != nil { // SQLite steps a read once when it starts it: the whole aggregate
		return r.error(err)
	}
	for rows.Next() { // the function's one row, which says nothing
	}
	return r.error(errors.Join(rows.Err(), rows.Close()))
}

// error is the error that stopped the read: the one the row or a scan gave, rather than
// SQLite's text of it.
func (r *eachRead) error(err error) error {
	if r.err != nil {
		return r.err
	}
	return err
}

// eachFunction is the aggregate function each reads through.
const eachFunction = "smsform_each"

// reads are the reads under way, by a random id: the function is SQLite's on every
// connection, and states are opened with trusted_schema off, so that no view or trigger in
// a state file may call it; an id it could not guess is a second guard.
var reads sync.Map // int64 -> *eachRead

// An eachRead is a read under way: its destinations, what it calls for each row, and the
// first error that stopped it.
type eachRead struct {
	dest []any
	row  func() error
	err  error
}

func init() {
	sqlite.MustRegisterFunction(eachFunction, &sqlite.FunctionImpl{
		NArgs: -1,
		// The columns' text is scanned as views of SQLite's memory, valid until the next
		// row, as a *sql.RawBytes is.
		VolatileArgs:  true,
		MakeAggregate: func(sqlite.FunctionContext) (sqlite.AggregateFunction, error) { return &eachCall{}, nil },
	})
}

// An eachCall is one evaluation of eachFunction: the rows of one read.
type eachCall struct{ r *eachRead }

func (c *eachCall) Step(_ *sqlite.FunctionContext, args []driver.Value) error {
	if c.r == nil { // the first row: which read, and whether its columns fit (they do not change)
		if len(args) == 0 {
			return errors.New(eachFunction + ": no read")
		}
		id, _ := args[0].(int64)
		v, ok := reads.Load(id)
		if !ok {
			return fmt.Errorf("%s: no read %v under way", eachFunction, args[0])
		}
		r := v.(*eachRead)
		if len(args)-1 != len(r.dest) {
			r.err = fmt.Errorf("%s: %d columns for %d destinations", eachFunction, len(args)-1, len(r.dest))
			return r.err
		}
		c.r = r
	}
	r := c.r
	if r.err != nil {
		return r.err
	}
	for i, v := range args[1:] {
		if err := scanValue(r.dest[i], v); err != nil {
			r.err = fmt.Errorf("column %d: %w", i, err)
			return r.err
		}
	}
	if err := r.row(); err != nil {
		r.err = err
		return err
	}
	return nil
}

func (c *eachCall) WindowInverse(*sqlite.FunctionContext, []driver.Value) error {
	return errors.New(eachFunction + " is no window function")
}

func (c *eachCall) WindowValue(*sqlite.FunctionContext) (driver.Value, error) { return nil, nil }

func (c *eachCall) Final(*sqlite.FunctionContext) {}

// scanValue stores v, a column's value as the driver hands it to a function (int64,
// float64, string, []byte or nil), into dest, as database/sql's Scan would: a
// *sql.RawBytes (sharing v's bytes, which stay valid until the next row), a *int64 or a
// *int32. A NULL or fractional number, a number out of range and a value of another kind
// are errors.
func scanValue(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case *sql.RawBytes:
		switch v := v.(type) {
		case nil:
			*d = nil
		case string:
			if v == "" {
				*d = sql.RawBytes{} // empty, not NULL
			} else {
				*d = unsafe.Slice(unsafe.StringData(v), len(v))
			}
		case []byte:
			*d = v
		case int64:
			*d = strconv.AppendInt(nil, v, 10)
		default:
			return fmt.Errorf("cannot scan %T into %T", v, dest)
		}
		return nil
	case *int64:
		if n, ok := v.(int64); ok {
			*d = n
			return nil
		}
	case *int32:
		if n, ok := v.(int64); ok && n == int64(int32(n)) {
			*d = int32(n)
			return nil
		}
	}
	return fmt.Errorf("cannot scan %T %v into %T", v, v, dest)
}
