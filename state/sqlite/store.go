// Package sqlite keeps smsform's state in a SQLite file (modernc.org/sqlite, no cgo), the
// default backend: embedded, numbered migrations; WAL, so that plan reads while apply
// writes; synchronous=FULL, so that a batch recorded as in flight is on disk before its
// request leaves; one writer at a time through an OS lock on FILE.lock (lock.go). The reads,
// and the writes whose cost does not depend on the database, are shared with PostgreSQL
// (state/internal/sqlstore); the writes of apply and convert are this package's own, in
// multi-row statements prepared once (rowstmt.go).
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/smsform/smsform/internal/safefile"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/internal/sqlstore"
)

// migrations are the migrations SQLite writes its own way; the others are shared with
// PostgreSQL (see sqlstore.Migrations).
//
//go:embed migrations/*.sql
var migrations embed.FS

// Store is an open state file.
type Store struct {
	*sqlstore.Queries // the reads, and the writes shared with PostgreSQL

	db   *sql.DB
	path string

	// Multi-row statements, prepared when first needed.
	inserts         rowStmts // upserts without their ON CONFLICT (see writeGroup)
	leanInserts     rowStmts // inserts of lean messages (insertLeanSQL)
	upserts         rowStmts
	markSubmitting  rowStmts
	settleConverted rowStmts

	// rewrites is set once a settlement met a message recorded before (see writeGroup).
	rewrites atomic.Bool
	group    writeGroup
	// lastInflight is the largest id this Store gave a batch in flight (see writeGroup).
	lastInflight atomic.Int64
}

// Open opens the state file at path and brings its schema up to date, creating it (mode
// 0600) when there is none, or when the file there is empty or a blank SQLite database, as
// `smsform init` does. Anything else that is not a state is refused (see OpenExisting).
func Open(ctx context.Context, path string) (*Store, error) {
	s, _, err := open(ctx, path, true, nil)
	return s, err
}

// open recognises what is at path before SQLite opens it for writing: a state is opened;
// nothing, an empty file or a blank database become a state only when mayCreate; anything
// else is refused. created says whether a state was made. A file (or its side files)
// readable by others is tightened to 0600 first, and warn is told.
func open(ctx context.Context, path string, mayCreate bool, warn func(string)) (s *Store, created bool, err error) {
	what, err := inspect(ctx, path)
	if err != nil {
		return nil, false, err
	}
	if what != foundState && !mayCreate {
		return nil, false, notState(path, what)
	}
	if what == foundNothing {
		if err := create(path); err != nil {
			return nil, false, err
		}
	}
	if err := tighten(path, warn); err != nil {
		return nil, false, err
	}
	if what.noDatabase() {
		if err := makePages(ctx, path); err != nil {
			return nil, false, err
		}
	}
	s, err = openDB(ctx, path)
	return s, what != foundState, err
}

// pageSize is the size of a new state's pages, in bytes: 16 KiB rather than SQLite's 4.
// Reading a million messages, as a re-plan does, steps through a quarter as many pages,
// each read with one system call; a fifth of the read's time with 4 KiB pages.
const pageSize = 16384

// makePages gives the empty file at path its page size, which SQLite fixes when it writes
// the first page: before the WAL mode that openDB sets does.
func makePages(ctx context.Context, path string) error {
	// The page size is set as the connection opens (the driver runs busy_timeout first): a
	// second process making the same state at once waits for this one rather than fails.
	db, err := sql.Open("sqlite", fmt.Sprintf("%s?_pragma=busy_timeout(10000)&_pragma=page_size(%d)", fileURI(path), pageSize))
	if err != nil {
		return fmt.Errorf("create state %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// SQLite refuses the change without waiting while another process makes the file a
	// database: it is tried again until the file is one (its pages are then the size that
	// process set), for up to 10 s, as busy_timeout waits.
	for tries := 0; ; tries++ {
		_, err := db.ExecContext(ctx, "PRAGMA journal_mode = WAL")
		if err == nil {
			return db.Close()
		}
		if what, ierr := inspect(ctx, path); ierr == nil && !what.noDatabase() {
			return nil
		}
		if tries == 1000 || ctx.Err() != nil {
			return fmt.Errorf("create state %s: %w (if another smsform is making it at this moment, run again once it is done; otherwise check that its directory is writable)", path, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pageCache is SQLite's page cache, in KiB (negative): 64 MB (see openDB).
const pageCache = "-65536"

// openDB opens the SQLite file at path, which inspect recognised, and brings its schema up
// to date.
func openDB(ctx context.Context, path string) (*Store, error) {
	// WAL lets plan read while apply writes; synchronous=FULL makes each commit durable
	// before it returns, because a "sending" row lost to a power cut could mean a double
	// send; busy_timeout makes a second connection wait instead of failing; _txlock=immediate
	// takes the write lock at BEGIN, so a transaction never fails half-way on a lock upgrade.
	// A 64 MB page cache keeps the B-tree of a million messages in memory while apply
	// writes it: with SQLite's default 2 MB, most inserts wait on a page read. Checkpoints
	// every 10000 pages (40 MB of WAL) instead of 1000 copy each page back once rather than
	// over and over while a million rows go in.
	dsn := fileURI(path) +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=cache_size(" + pageCache + ")" +
		"&_pragma=wal_autocheckpoint(10000)&_pragma=trusted_schema(0)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and this keeps the pragmas on every use.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path}
	s.Queries = sqlstore.New(db, sqlstore.SQLite, sqlstore.Backend{
		// The serial is bumped by what SQLite counts changed (see finish).
		Write: func(ctx context.Context, fn func(*sql.Tx) (int64, error)) error {
			return s.withTx(ctx, func(tx *sql.Tx) error { _, err := fn(tx); return err })
		},
		Upsert: s.upsertMessages,
		Each:   each,
	})
	s.upserts.build = upsertSQL
	s.inserts.build = insertFreshSQL
	s.leanInserts.build = insertLeanSQL
	s.markSubmitting.build = markSubmittingSQL
	s.settleConverted.build = settleConvertedSQL
	if err := s.check(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	return s, nil
}

// fileURI is path as SQLite's URI filename, escaped: '?', '#' and '%' would otherwise be
// read as parts of the URI.
func fileURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// create makes the file with mode 0600 before SQLite does, so phone numbers are never
// readable by others, whatever the umask. SQLite gives the -wal and -shm files the same mode.
func create(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create state %s: %w (set --state or SMSFORM_STATE to a writable path)", path, err)
	}
	return f.Close()
}

// What inspect found at a state's path.
type found int

const (
	foundNothing found = iota // no file
	foundEmpty                // a file of 0 bytes
	foundBlank                // a SQLite database without a table
	foundState                // smsform's schema and lineage
)

// noDatabase says the path holds no SQLite database yet: no file, or an empty one.
func (f found) noDatabase() bool { return f == foundNothing || f == foundEmpty }

// ErrNotState means the file at a state's path is not a state smsform made: an empty file,
// another file, or a database without smsform's schema.
var ErrNotState = errors.New("not an smsform state")

// notStateError is an error that says in its own words what was found instead of a state,
// and is ErrNotState.
type notStateError string

func (e notStateError) Error() string        { return string(e) }
func (e notStateError) Is(target error) bool { return target == ErrNotState }

func notStatef(format string, args ...any) error { return notStateError(fmt.Sprintf(format, args...)) }

// sideFiles are the files SQLite and smsform keep beside a state: its lock, its write-ahead
// log, the log's index and a rollback journal (which SQLite would replay into the file).
func sideFiles(path string) []string {
	return []string{LockPath(path), path + "-wal", path + "-shm", path + "-journal"}
}

// checkFiles refuses a state path, or a side file's, that is a symbolic link or not a
// regular file: SQLite, the lock and the 0600 tightening would follow a link planted there
// (the default ./smsform.db is in the repository's checkout) and write, lock or chmod the
// file it points to.
func checkFiles(path string) error {
	info, err := os.Lstat(path)
	switch {
	case err == nil && info.IsDir():
		return fmt.Errorf("open state %s: it is a directory; point --state (or SMSFORM_STATE) at the state file", path)
	case err == nil && info.Mode()&fs.ModeSymlink != 0:
		return notStatef("state %s is a symbolic link: smsform does not follow one where a state goes, since it would write and chmod the file it points to; point --state (or SMSFORM_STATE) at the state file itself", path)
	case err == nil && !info.Mode().IsRegular():
		return notStatef("state %s is not a regular file; point --state (or SMSFORM_STATE) at the state file", path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("open state %s: %w", path, err)
	}
	for _, p := range sideFiles(path) {
		if err := safefile.Check(p); err != nil {
			return fmt.Errorf("state %s: %w; smsform keeps its lock, -wal, -shm and -journal files beside it (remove what is not one)", path, err)
		}
	}
	return nil
}

// sqliteHeader is how every SQLite database file starts.
const sqliteHeader = "SQLite format 3\x00"

// inspect tells what is at a state's path without writing anything: nothing, an empty file,
// a blank database or a state. Anything else is an error that says what was found.
func inspect(ctx context.Context, path string) (found, error) {
	if err := checkFiles(path); err != nil {
		return 0, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return foundNothing, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open state %s: %w", path, err)
	}
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	f.Close()
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return foundEmpty, nil
	case err != nil && err != io.ErrUnexpectedEOF:
		return 0, fmt.Errorf("open state %s: %w", path, err)
	case string(head[:n]) != sqliteHeader:
		return 0, notStatef("state %s is not a SQLite database: point --state (or SMSFORM_STATE) at the state file; smsform does not change another file", path)
	}
	// Read-only: nothing is written. Without a write-ahead log beside the file (no run has
	// it open, none died with it open), also immutable, so that not even a -shm is made for
	// reading a file that may not be a state; with one, the log is read too (it may hold the
	// commit of an init that was killed before it closed the file).
	uri := fileURI(path) + "?mode=ro&_pragma=busy_timeout(10000)&_pragma=trusted_schema(0)"
	if _, err := os.Lstat(path + "-wal"); err != nil {
		uri += "&immutable=1"
	}
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		return 0, fmt.Errorf("open state %s: %w", path, err)
	}
	defer db.Close()
	// One read transaction: another process making this state at once commits either
	// before all three reads or after them, never between (its tables without its version).
	var version, objects, lineage int
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err == nil {
		defer tx.Rollback()
		err = tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version)
	}
	if err == nil {
		err = tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&objects)
	}
	if err == nil && version > 0 {
		err = tx.QueryRowContext(ctx, "SELECT count(*) FROM meta WHERE key = 'lineage'").Scan(&lineage)
	}
	switch {
	case err != nil && version > 0:
		return 0, notStatef("state %s is a SQLite database, but not an smsform state (its schema has no lineage); point --state (or SMSFORM_STATE) at the state file; smsform does not change another application's database", path)
	case err != nil:
		return 0, fmt.Errorf("open state %s: cannot read it as a SQLite state file (%w); check --state or SMSFORM_STATE", path, err)
	case version == 0 && objects == 0:
		return foundBlank, nil
	case lineage == 0:
		return 0, notStatef("state %s is a SQLite database, but not an smsform state (it has tables, but not smsform's); point --state (or SMSFORM_STATE) at the state file; smsform does not change another application's database", path)
	}
	return foundState, nil
}

// notState is the refusal of what inspect found when it is not a state, for every command
// but init.
func notState(path string, what found) error {
	const next = "Point --state (or SMSFORM_STATE) at the state apply used, or restore it from a backup; run `smsform init -state %s` only if this state is really new (an apply against a new, empty state sends every campaign again)"
	switch what {
	case foundNothing:
		return fmt.Errorf("%w at %s: run `smsform init -state %s` to create one, or point --state (or SMSFORM_STATE) at the state apply used", state.ErrNoState, path, path)
	case foundEmpty:
		return notStatef("state %s is empty (0 bytes): it is not a state. "+next, path, path)
	default:
		return notStatef("state %s is a SQLite database without smsform's tables: it is not a state. "+next, path, path)
	}
}

// tighten makes a state file, and the side files SQLite keeps beside it, private (0600)
// when others may read them, and tells warn.
func tighten(path string, warn func(string)) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Lstat(p)
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, info.Mode().Perm()&0o700); err != nil {
			return fmt.Errorf("state %s has mode %04o (readable by others) and cannot be tightened: %w; run `chmod 600 %s`", p, info.Mode().Perm(), err, p)
		}
		if warn != nil {
			warn(fmt.Sprintf("Warning: state file %s had mode %04o, readable by others; tightened it to %04o (it holds phone numbers).", p, info.Mode().Perm(), info.Mode().Perm()&0o700))
		}
	}
	return nil
}

func (s *Store) check(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("cannot read it as a SQLite state file (%w); check --state or SMSFORM_STATE", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, not wal; is the file on a network share? Try a local path", mode)
	}
	return nil
}

// Close closes the file.
func (s *Store) Close() error {
	s.upserts.close()
	s.inserts.close()
	s.leanInserts.close()
	s.markSubmitting.close()
	s.settleConverted.close()
	return s.db.Close()
}

// Path is where the file is.
func (s *Store) Path() string { return s.path }

// Name is the file's path, for messages.
func (s *Store) Name() string { return s.path }

// migrate brings the schema up to date: the migrations this file has not run yet (its
// user_version counts those it has), each in a transaction of its own, then the CHECKs
// SQLite evaluates slowly rewritten (rewriteChecks).
func (s *Store) migrate(ctx context.Context) error {
	ms, err := sqlstore.Migrations(migrations, sqlstore.SQLite)
	if err != nil {
		return err
	}
	for {
		// The version is read inside the write transaction, so two processes opening a new
		// file at once apply each migration once.
		done := false
		err := s.withTx(ctx, func(tx *sql.Tx) error {
			var version int
			if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
				return err
			}
			if version > len(ms) {
				return sqlstore.TooNew(version, ms)
			}
			if version == len(ms) {
				done = true
				return nil
			}
			if err := ms[version].Run(ctx, tx, sqlstore.SQLite); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version+1))
			return err
		})
		if done {
			s.rewriteChecks(ctx)
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// withTx runs fn in a durable write transaction and bumps the serial if it changed
// anything, so a saved plan can tell the state changed since. Every write goes through here or through withLazyTx.
func (s *Store) withTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	return s.finish(ctx, tx, fn)
}

// withLazyTx is withTx without the fsync at commit (synchronous=NORMAL), for writes whose
// loss a crash can only turn into work for reconciliation, never into a double send: the
// answers recorded after a request. In WAL mode the next durable commit makes them durable
// too, so they are never lost behind a later "sending" record.
func (s *Store) withLazyTx(ctx context.Context, fn func(*sql.Tx) error) error {
	conn, err := s.db.Conn(ctx) // the only connection: no other write can slip in between
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		return err
	}
	defer func() {
		// The connection must not go back to the pool without its durability: if the
		// reset fails, it is thrown away and the pool opens a new one (with FULL).
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = FULL"); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	return s.finish(ctx, tx, fn)
}

// finish runs fn and commits, bumping the serial when fn changed any row: a transaction
// that found nothing to do leaves a saved plan valid.
func (s *Store) finish(ctx context.Context, tx *sql.Tx, fn func(*sql.Tx) error) error {
	defer tx.Rollback()
	var before, after int64
	if err := tx.QueryRowContext(ctx, "SELECT total_changes()").Scan(&before); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, "SELECT total_changes()").Scan(&after); err != nil {
		return err
	}
	if after != before {
		if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'serial'"); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// OpenExisting opens a state file that `smsform init` created, refusing to create one: an
// apply against a new, empty state would send every campaign again. It refuses, saying what
// it found, anything but a state: an empty file, another file, a database without smsform's
// schema, a symbolic link. A state (or its -wal and -shm files) readable by others is
// tightened to 0600 first, and warn is told.
func OpenExisting(ctx context.Context, path string, warn func(string)) (*Store, error) {
	s, _, err := open(ctx, path, false, warn)
	return s, err
}

// Init creates the state file at path (mode 0600) or brings an existing one's schema up to
// date, and reports whether it created it. An empty file or a blank SQLite database becomes
// a state; any other file is refused.
func Init(ctx context.Context, path string) (created bool, err error) {
	s, created, err := open(ctx, path, true, nil)
	if err != nil {
		return false, err
	}
	return created, s.Close()
}
