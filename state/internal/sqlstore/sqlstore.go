// Package sqlstore holds what the SQL backends (state/sqlite, state/postgres) share: every
// read query, and the writes whose cost does not depend on the database, each written once
// over database/sql. Where the two differ only in dialect, a Dialect says how (the form of
// placeholders, how text is compared), as pressly/goose keeps a querier per dialect; the
// writes whose speed does depend on the database (a batch's messages, COPY, unnest) stay
// in the backends.
package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

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

// Backend is what the shared writes need of the backend that embeds them.
type Backend struct {
	// Write runs fn in one durable write transaction (committed, and on disk, when it
	// returns) and bumps the state's serial when fn changed any row; fn returns how many it
	// changed.
	Write func(ctx context.Context, fn func(tx *sql.Tx) (int64, error)) error
	// Upsert writes messages (in key order, each once) with their outcomes in tx, a message
	// recorded before being overwritten in place, and returns how many rows it wrote: the
	// write apply makes for every answer, in the backend's fastest way.
	Upsert func(ctx context.Context, tx *sql.Tx, msgs []state.Outgoing, outs []state.Outcome, sendingAt, ts string) (int64, error)
}

// Queries runs the shared queries of one state. A backend embeds it, so that its methods
// are the backend's.
type Queries struct {
	db *sql.DB
	d  Dialect
	b  Backend
}

// New returns the shared queries over db, in dialect d, writing through b.
func New(db *sql.DB, d Dialect, b Backend) *Queries { return &Queries{db: db, d: d, b: b} }

// write runs fn in the backend's durable write transaction.
func (q *Queries) write(ctx context.Context, fn func(tx *sql.Tx) (int64, error)) error {
	return q.b.Write(ctx, fn)
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanAll reads every row with scan, and closes rows.
func scanAll[T any](rows *sql.Rows, scan func(func(...any) error) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
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

// null is v, or NULL when it is the zero value.
func null[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}
