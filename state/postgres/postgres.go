// Package postgres keeps smsform's state in a PostgreSQL database (pgx), so that several
// CI runners, hosted ones included, plan and apply against one record. It holds the same
// tables as the SQLite file, numbers its migrations alike, and makes the same promises: a
// batch is committed as in flight before its request leaves; one writer at a time, through
// an advisory lock held by the writer's session (see lock.go). The reads, and the writes
// whose cost does not depend on the database, are shared with SQLite
// (state/internal/sqlstore, over database/sql on the same pool); apply's and convert's
// writes are this package's own, over arrays (unnest) and COPY.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state/internal/sqlstore"
)

// migrations are the migrations PostgreSQL writes its own way; the others are shared with
// SQLite (see sqlstore.Migrations).
//
//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotInitialized means the database holds no smsform state (yet).
var ErrNotInitialized = errors.New("no smsform state in this database")

// IsURL reports whether a --state value names a PostgreSQL database: a postgres:// or
// postgresql:// URL, the scheme in any case (POSTGRES:// too, as RFC 3986 has it).
func IsURL(s string) bool {
	sch := safetext.URLScheme(s)
	return sch == "postgres" || sch == "postgresql"
}

// normalize is a URL as pgx reads it: without surrounding blanks, its scheme in lower case.
func normalize(raw string) string {
	raw = strings.TrimSpace(raw)
	if sch := safetext.URLScheme(raw); sch != "" {
		raw = sch + raw[len(sch):]
	}
	return raw
}

// Redact is the URL without its password or any other credential (see safetext.RedactURL),
// for messages and saved plans.
func Redact(raw string) string { return safetext.RedactURL(raw) }

// Store is an open PostgreSQL state.
type Store struct {
	*sqlstore.Queries // the reads, and the writes shared with SQLite

	pool *pgxpool.Pool
	db   *sql.DB // the pool through database/sql: the shared writes and the migrations
	cfg  *pgxpool.Config
	name string
	// lockPID is the server process of the session holding the writer's lock, once this
	// store took it (Lock): writes that guard a request check that it still holds it.
	lockPID atomic.Uint32
	// rewrites is set once a settlement met a message recorded before: settlements upsert
	// from then on, instead of copying (see SettleMany).
	rewrites atomic.Bool
}

// ErrLockLost means the session holding the writer's lock is gone (its connection broke):
// another run may be writing now, so nothing more is sent.
var ErrLockLost = errors.New("the state's lock was lost: its connection to PostgreSQL closed")

// guardSQL is true while the guarded session holds an advisory lock (param: the parameter
// holding its pid, 0 when not guarded). pg_locks is readable by every role.
func guardSQL(param string) string {
	return "(" + param + "::int = 0 OR EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = " + param + "::int))"
}

func (s *Store) checkGuard(ctx context.Context, tx pgx.Tx) error {
	var ok bool
	if err := tx.QueryRow(ctx, "SELECT "+guardSQL("$1"), int32(s.lockPID.Load())).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w; nothing more is sent: run again once the state is reachable (messages in flight are reconciled)", ErrLockLost)
	}
	return nil
}

func config(raw string) (*pgxpool.Config, error) {
	raw = normalize(raw)
	if ambiguous(raw) {
		return nil, fmt.Errorf("state %s: not a valid PostgreSQL URL: its '@' is not where the user and password end; percent-encode a password's '@', '/', '?', '#' and '%%' (%%40, %%2F, %%3F, %%23, %%25), or give it in PGPASSWORD", Redact(raw))
	}
	cfg, err := pgxpool.ParseConfig(raw)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, fmt.Errorf("state %s: not a valid PostgreSQL URL; the form is postgres://USER@HOST:PORT/DB?sslmode=require (password in the URL or PGPASSWORD)", Redact(raw))
	}
	// Every commit is durable before it returns, whatever the server's default: a "sending"
	// record lost after its request left could mean a double send. Writes that may be lost
	// lower it for their own transaction (see write).
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	cfg.ConnConfig.RuntimeParams["application_name"] = "smsform"
	if !strings.Contains(raw, "pool_max_conns") {
		cfg.MaxConns = 16 // apply's workers and its settlers (Writers) each hold one while they write
	}
	return cfg, nil
}

// ambiguous reports a URL whose user and password a parser may read in more than one way:
// with several '@', or with a '/', '?' or '#' before its '@'. pgx then takes part of the
// password for the host, and its errors print the host; Redact, which cuts at the last '@',
// would not know to hide it.
func ambiguous(raw string) bool {
	_, rest, _ := strings.Cut(raw, "://")
	at := strings.IndexByte(rest, '@')
	return at >= 0 && (strings.Count(rest, "@") > 1 || strings.ContainsAny(rest[:at], "/?#"))
}

func connect(ctx context.Context, raw string) (*pgxpool.Pool, *pgxpool.Config, error) {
	cfg, err := config(raw)
	if err != nil {
		return nil, nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to state %s: %w", Redact(raw), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("connect to state %s: %w; check the URL, the network and the credentials (PGPASSWORD)", Redact(raw), err)
	}
	return pool, cfg, nil
}

// Open connects to a state that `smsform init` created. It writes nothing, so that plan and
// report work with a role that may only SELECT.
func Open(ctx context.Context, raw string) (*Store, error) {
	pool, cfg, err := connect(ctx, raw)
	if err != nil {
		return nil, err
	}
	s := &Store{pool: pool, db: stdlib.OpenDBFromPool(pool), cfg: cfg, name: Redact(raw)}
	s.Queries = sqlstore.New(s.db, sqlstore.Postgres, sqlstore.Backend{Write: s.writeSQL, Upsert: upsertTx, Query: reader{pool}, Read: s.read})
	if err := s.checkVersion(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) checkVersion(ctx context.Context) error {
	ms, err := sqlstore.Migrations(migrations, sqlstore.Postgres)
	if err != nil {
		return err
	}
	var version int
	err = s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&version)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return fmt.Errorf("%w %s: run `smsform init -state URL` (with the writer's URL) first; an apply against a new, empty state would send every campaign again", ErrNotInitialized, s.name)
	}
	if err != nil {
		return fmt.Errorf("read state %s: %w", s.name, err)
	}
	if version > 0 {
		ok, err := hasLineage(ctx, s.db)
		if err != nil {
			return fmt.Errorf("read state %s: %w", s.name, err)
		}
		if !ok {
			return fmt.Errorf("%w %s: %s", ErrNotInitialized, s.name, foreignMigrations)
		}
		if version, err = alignedVersion(ctx, s.db, version); err != nil {
			return fmt.Errorf("read state %s: %w", s.name, err)
		}
	}
	switch {
	case version == 0:
		return fmt.Errorf("%w %s: run `smsform init -state URL` first", ErrNotInitialized, s.name)
	case version > len(ms):
		return fmt.Errorf("state %s: %w", s.name, sqlstore.TooNew(version, ms))
	case version < len(ms):
		return fmt.Errorf("state %s has schema version %d, this smsform needs %d: run `smsform init -state URL` with the writer's URL to upgrade it", s.name, version, len(ms))
	}
	return nil
}

// foreignMigrations says what is wrong with a schema_migrations table without smsform's
// lineage beside it, and what to do.
const foreignMigrations = "its schema_migrations table is not smsform's (there is no smsform lineage in a meta table): another tool's migrations live in this schema; give smsform a database (or a schema, through search_path) of its own, and run `smsform init` there"

// Until PostgreSQL's migrations were numbered as SQLite's, its 0001 held SQLite's 0001 and
// 0002, and its 0002 and 0003 were SQLite's 0003 and 0004. A state migrated then has no
// 'migrations' row in meta (the new 0002 writes it): its versions from 2 on are one lower.
const alignedMarker = "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'migrations')"

// alignedVersion is a state's schema version in today's numbering.
func alignedVersion(ctx context.Context, q queryer, version int) (int, error) {
	if version < 2 {
		return version, nil // 0001 is the same in both numberings
	}
	var aligned bool
	if err := q.QueryRowContext(ctx, alignedMarker).Scan(&aligned); err != nil || aligned {
		return version, err
	}
	return version + 1, nil
}

// renumber brings the schema_migrations of a state migrated before the numbering was
// aligned into today's: each version from 2 on one higher, and 0002 (which that state's
// 0001 did) recorded with the marker it writes. Run inside Init's transaction, under its
// lock.
func renumber(ctx context.Context, tx *sql.Tx, ms []sqlstore.Migration, version int) (int, error) {
	aligned, err := alignedVersion(ctx, tx, version)
	if err != nil || aligned == version {
		return version, err
	}
	// From the highest down: versions are a primary key.
	for v := version; v >= 2; v-- {
		if _, err := tx.ExecContext(ctx, "UPDATE schema_migrations SET version = $1 WHERE version = $2", v+1, v); err != nil {
			return 0, err
		}
	}
	if err := ms[1].Run(ctx, tx, sqlstore.Postgres); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version) VALUES (2)"); err != nil {
		return 0, err
	}
	return aligned, nil
}

// hasLineage reports whether the schema holds smsform's meta table with a lineage, which
// smsform's first migration writes: what tells smsform's schema_migrations from another
// tool's table of the same name.
func hasLineage(ctx context.Context, q queryer) (bool, error) {
	var ok bool
	if err := q.QueryRowContext(ctx, "SELECT to_regclass('meta') IS NOT NULL").Scan(&ok); err != nil || !ok {
		return false, err
	}
	err := q.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'lineage')").Scan(&ok)
	return ok, err
}

// Init creates the schema, or brings it up to date, and reports whether it created it.
// Concurrent Inits are safe: each migration runs in a transaction that first takes a
// transaction-level advisory lock, so the second waits and then finds the work done.
func Init(ctx context.Context, raw string) (created bool, err error) {
	pool, _, err := connect(ctx, raw)
	if err != nil {
		return false, err
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	ms, err := sqlstore.Migrations(migrations, sqlstore.Postgres)
	if err != nil {
		return false, err
	}
	if err := initSchema(ctx, db, ms, &created); err != nil {
		return false, fmt.Errorf("init state %s: %w", Redact(raw), err)
	}
	return created, nil
}

// initSchema runs the migrations db has not run yet, in one transaction.
func initSchema(ctx context.Context, db *sql.DB, ms []sqlstore.Migration, created *bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('smsform.init.' || current_schema()))"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"); err != nil {
		return err
	}
	var version int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&version); err != nil {
		return err
	}
	if version > 0 {
		// Migrations are run only on top of smsform's own: never into another tool's schema.
		ok, err := hasLineage(ctx, tx)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New(foreignMigrations)
		}
		if version, err = renumber(ctx, tx, ms, version); err != nil {
			return fmt.Errorf("renumber the migrations: %w", err)
		}
	}
	if version > len(ms) {
		return sqlstore.TooNew(version, ms)
	}
	*created = version == 0
	for _, m := range ms[version:] {
		if err := m.Run(ctx, tx, sqlstore.Postgres); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", m.Version); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close closes the connections.
func (s *Store) Close() error {
	err := s.db.Close()
	s.pool.Close()
	return err
}

// Name is the URL without its password.
func (s *Store) Name() string { return s.name }

// write runs fn in a transaction and bumps the serial when fn changed rows, so that a saved
// plan can tell the state changed since. durable=false lowers synchronous_commit for this
// transaction only: for answers whose loss leaves their batch in flight, to be reconciled,
// never a double send (as withLazyTx does for SQLite).
func (s *Store) write(ctx context.Context, durable bool, fn func(tx pgx.Tx) (int64, error)) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if !durable {
			if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
				return err
			}
		}
		n, err := fn(tx)
		if err != nil || n == 0 {
			return err
		}
		_, err = tx.Exec(ctx, bumpSerial)
		return err
	})
}

// writeSQL is write for the shared writes (sqlstore.Backend.Write): a durable transaction
// over database/sql on the same pool.
func (s *Store) writeSQL(ctx context.Context, fn func(tx *sql.Tx) (int64, error)) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	n, err := fn(tx)
	if err != nil {
		return err
	}
	if n > 0 {
		if _, err := tx.ExecContext(ctx, bumpSerial); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// bumpSerial tells a saved plan that the state changed. Last in a transaction, so that the
// row lock on the serial is held for the commit only.
const bumpSerial = "UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'serial'"

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
