// Package sqlstore holds what the SQL backends (state/sqlite, state/postgres) share, each
// written once: every read query, the writes whose cost does not depend on the database,
// and the migrations they make alike. Where the two differ only in dialect, a Dialect says
// how (the form of placeholders, how text is compared), as pressly/goose keeps a querier
// per dialect. Reads go through a Querier, database/sql's unless a backend's driver reads
// faster through its own protocol (pgx); writes through database/sql, in the backend's
// transaction. The writes whose speed does depend on the database (apply's and convert's:
// multi-row statements, unnest, COPY) stay in the backends.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/smsform/smsform/state"
)

// Dialect is how one database writes the shared queries. They are written for both: with
// '?' placeholders and with COLLATE "C" wherever text is compared or ordered, so that it
// goes by its bytes, as the state's keys are ordered.
type Dialect struct {
	// Numbered placeholders ($1, $2, ...) instead of '?'.
	numbered bool
	// bytewise: text compares by its bytes without being told (COLLATE "C" is dropped).
	bytewise bool
	// identity is how a migration declares an auto-numbered primary key.
	identity string
}

var (
	// SQLite compares text by its bytes (BINARY) unless told otherwise, and knows no "C"
	// collation.
	SQLite = Dialect{bytewise: true, identity: "INTEGER PRIMARY KEY"}
	// Postgres numbers its placeholders and compares text by the database's locale unless
	// told COLLATE "C".
	Postgres = Dialect{numbered: true, identity: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"}
)

const byteOrder = ` COLLATE "C"`

// SQL is q in the dialect.
func (d Dialect) SQL(q string) string {
	if d.bytewise {
		q = strings.ReplaceAll(q, byteOrder, "")
	}
	if !d.numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for _, r := range q {
		if r != '?' {
			b.WriteRune(r)
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// Rows is a read's rows as the shared reads go through them: *sql.Rows is one.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Querier runs a read.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (Rows, error)
}

// sqlDB is database/sql's Querier, over a *sql.DB or a *sql.Tx.
type sqlDB struct {
	q interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	}
}

// Query runs the read.
func (db sqlDB) Query(ctx context.Context, query string, args ...any) (Rows, error) {
	rows, err := db.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// Backend is what the shared queries need of the backend that embeds them.
type Backend struct {
	// Write runs fn in one durable write transaction (committed, and on disk, when it
	// returns) and bumps the state's serial when fn changed any row; fn returns how many it
	// changed.
	Write func(ctx context.Context, fn func(tx *sql.Tx) (int64, error)) error
	// Upsert writes messages (in key order, each once) with their outcomes in tx, a message
	// recorded before being overwritten in place, and returns how many rows it wrote: the
	// write apply makes for every answer, in the backend's fastest way.
	Upsert func(ctx context.Context, tx *sql.Tx, msgs []state.Outgoing, outs []state.Outcome, sendingAt, ts string) (int64, error)
	// Query runs the reads, and Read runs fn in a read-only transaction that sees one
	// moment of the state. When nil, database/sql's, over the db given to New. A backend
	// whose driver reads faster through its own protocol gives its own; it must fill a
	// *sql.RawBytes it is asked to scan into as database/sql does (bytes valid until the
	// next row).
	Query Querier
	Read  func(ctx context.Context, fn func(Querier) error) error
	// Each, when set, runs the read SELECT cols FROM from (in the dialect) through tx and,
	// for every row, scans its columns into dest and calls row, stopping at row's first
	// error. It is for the reads of a row per message, a million rows and more, that a
	// driver can serve faster than row by row through Query. dest holds *sql.RawBytes
	// (valid until the next row), *int64 and *int32 only. When nil, the read goes through
	// Query and Scan.
	Each func(ctx context.Context, tx Querier, cols []string, from string, args []any, dest []any, row func() error) error
}

// Queries runs the shared queries of one state. A backend embeds it, so that its methods
// are the backend's.
type Queries struct {
	d Dialect
	b Backend
}

// New returns the shared queries over db, in dialect d, through b.
func New(db *sql.DB, d Dialect, b Backend) *Queries {
	if b.Query == nil {
		b.Query = sqlDB{db}
	}
	if b.Read == nil {
		b.Read = func(ctx context.Context, fn func(Querier) error) error {
			// Repeatable read where the database tells levels apart; in SQLite's WAL mode
			// any read transaction sees one moment.
			tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if err := fn(sqlDB{tx}); err != nil {
				return err
			}
			return tx.Commit()
		}
	}
	return &Queries{d: d, b: b}
}

// write runs fn in the backend's durable write transaction.
func (q *Queries) write(ctx context.Context, fn func(tx *sql.Tx) (int64, error)) error {
	return q.b.Write(ctx, fn)
}

// query runs a read in the dialect, through db (nil: outside a transaction).
func (q *Queries) query(ctx context.Context, db Querier, query string, args ...any) (Rows, error) {
	if db == nil {
		db = q.b.Query
	}
	return db.Query(ctx, q.d.SQL(query), args...)
}

// each runs SELECT cols FROM from through db (see Backend.Each), scanning each row into
// dest before calling row. dest holds *sql.RawBytes, *int64 and *int32 only, what every
// backend's Each scans alike.
func (q *Queries) each(ctx context.Context, db Querier, cols []string, from string, args []any, dest []any, row func() error) error {
	if db == nil {
		db = q.b.Query
	}
	if q.b.Each != nil {
		in := make([]string, len(cols))
		for i, c := range cols {
			in[i] = q.d.SQL(c)
		}
		return q.b.Each(ctx, db, in, q.d.SQL(from), args, dest, row)
	}
	rows, err := q.query(ctx, db, "SELECT "+strings.Join(cols, ", ")+" FROM "+from, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return err
		}
		if err := row(); err != nil {
			rows.Close()
			return err
		}
	}
	return errors.Join(rows.Err(), rows.Close())
}

// scanOne reads the one row a read returns into dest, and closes rows: sql.ErrNoRows when
// there is none.
func scanOne(rows Rows, err error, dest ...any) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// scanAll reads every row of a read into a T, and closes rows. cols gives the destinations
// of a row's columns, pointers into v or into variables that done (if not nil) turns into
// v's fields. They are made once: a million rows are read without a million []any.
func scanAll[T any](rows Rows, err error, cols func(v *T) []any, done func(v *T) error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var v T
	dest := cols(&v)
	var out []T
	for rows.Next() {
		v = *new(T)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if done != nil {
			if err := done(&v); err != nil {
				return nil, err
			}
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}

// affected is how many rows a statement changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// placeholders is n placeholders, for an IN list.
func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

// Null is v, or NULL when it is the zero value.
func Null[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// TrackingOf is the tracking type a message is recorded with: none (NULL) when it was sent
// without tracking; sent with tracking of no type, the empty type.
func TrackingOf(m *state.Outgoing) any {
	if m.Tracked {
		return m.TrackingType
	}
	return nil
}

// Parts is the SMS parts a message is recorded with: Infobip's count when its answer gave
// one, else the planned count.
func Parts(m *state.Outgoing, o *state.Outcome) int {
	if o.SmsCount > 0 {
		return o.SmsCount
	}
	return m.Parts
}

// Settling writes settlements through write, a transaction, with fresh set while rewrites
// is not: new messages are then inserted, which each backend does faster than it upserts.
// A message recorded before (a failed one retried, an unknown one resent) fails the insert
// on its key (conflict says which error that is): the transaction is rolled back whole and
// written again with upserts, as is every settlement after it (rewrites is set).
func Settling(rewrites *atomic.Bool, conflict func(error) bool, write func(fresh bool) error) error {
	if !rewrites.Load() {
		err := write(true)
		if !conflict(err) {
			return err
		}
		rewrites.Store(true)
	}
	return write(false)
}
