package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
)

// A checkRewrite is a CHECK constraint as the migrations wrote it and the same constraint
// as SQLite evaluates it cheaply. SQLite codes "x IN (list)" of more than two values in a
// CHECK as a temporary B-tree built and searched for every row written: a fifth of what
// writing a message cost apply (a second per million messages), where a chain of
// comparisons costs next to nothing. The two forms accept exactly the same values.
type checkRewrite struct {
	table     string
	in, chain string
}

// checkRewrites are the CHECKs with such lists: of messages (written by apply, refresh and
// reconciliation) and of conversions (written by convert).
var checkRewrites = []checkRewrite{
	{"messages",
		"CHECK (state IN ('sending', 'sent', 'failed', 'unknown', 'abandoned', 'capped'))",
		"CHECK (state = 'sent' OR state = 'sending' OR state = 'failed' OR state = 'unknown' OR state = 'abandoned' OR state = 'capped')"},
	{"conversions",
		"CHECK (state IN ('submitting', 'converted', 'failed', 'unknown'))",
		"CHECK (state = 'converted' OR state = 'submitting' OR state = 'failed' OR state = 'unknown')"},
}

// rewriteChecks rewrites, in a state whose tables still have them, checkRewrites' lists as
// their chains. SQLite cannot change a constraint in place; rebuilding the tables would
// copy every row (two minutes and twice the disk for ten million messages), so the tables'
// definitions are edited where SQLite keeps them, by the procedure SQLite documents for
// changing CHECK constraints (lang_altertable.html, "Making other kinds of table schema
// changes"): in one transaction, with writable_schema, the schema version bumped, and the
// schema read again before the commit, so that an edit SQLite could not parse rolls back
// and leaves the file as it was. Nothing else changes: no row, no page of a table, not the
// state's serial, and since both forms accept the same values no row can break the new one.
// It is no numbered migration because it changes nothing a migration describes; PostgreSQL,
// which evaluates such lists cheaply, has nothing to do.
//
// It is only faster writes: a state it cannot rewrite (SQLite refusing writable_schema,
// say, or a lock held past the busy timeout) is used as it is, with the lists, and the
// next open tries again. The edit runs on a connection of its own, which is thrown away
// unless the edit committed, so that none goes back to the pool with writable_schema on.
func (s *Store) rewriteChecks(ctx context.Context) {
	todo, err := checksToRewrite(ctx, s.db)
	if err != nil || len(todo) == 0 {
		return
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	if err := rewriteOn(ctx, conn); err != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// rewriteOn rewrites the lists still in the schema, on conn, in one transaction.
func rewriteOn(ctx context.Context, conn *sql.Conn) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Read again in the write transaction: another process may have done it meanwhile.
	todo, err := checksToRewrite(ctx, tx)
	if err != nil || len(todo) == 0 {
		return err
	}
	if err := editSchema(ctx, tx, todo); err != nil {
		return err
	}
	return tx.Commit()
}

// querier is what rewriteChecks reads through: the database or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// checksToRewrite lists the rewrites whose list is still in their table's definition.
func checksToRewrite(ctx context.Context, q querier) ([]checkRewrite, error) {
	var todo []checkRewrite
	for _, c := range checkRewrites {
		var def sql.NullString
		err := q.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", c.table).Scan(&def)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, err
		}
		if strings.Contains(def.String, c.in) {
			todo = append(todo, c)
		}
	}
	return todo, nil
}

// editSchema replaces, in tx, each rewrite's list by its chain in its table's definition,
// and has SQLite read the schema again: an error says SQLite could not, and tx must be
// rolled back and its connection thrown away (writable_schema may still be on).
func editSchema(ctx context.Context, tx *sql.Tx, todo []checkRewrite) error {
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&version); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA writable_schema = ON"); err != nil {
		return err
	}
	for _, c := range todo {
		if _, err := tx.ExecContext(ctx, "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?", c.in, c.chain, c.table); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA schema_version = %d", version+1)); err != nil {
		return err
	}
	// RESET turns writable_schema off and has the schema read again at the next statement:
	// the reads below fail on a definition that does not parse, inside the transaction.
	if _, err := tx.ExecContext(ctx, "PRAGMA writable_schema = RESET"); err != nil {
		return err
	}
	for _, c := range todo {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM "+c.table+" LIMIT 1)").Scan(&n); err != nil {
			return err
		}
	}
	return nil
}
