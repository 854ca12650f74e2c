// Package backend picks the state's backend from what a user wrote in --state or
// SMSFORM_STATE: a postgres:// or postgresql:// URL is a PostgreSQL database (package
// state/postgres), anything else a SQLite file (package state). The CLI calls it and hands
// the result to runner, which sees only runner.Store.
package backend

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"time"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/postgres"
)

// IsPostgres reports whether spec names a PostgreSQL database.
func IsPostgres(spec string) bool { return postgres.IsURL(spec) }

// Name is spec as it may be shown and saved: a URL without its password or any other
// credential (see safetext.RedactURL); a file path as it is.
func Name(spec string) string {
	switch {
	case safetext.URLScheme(spec) != "":
		return safetext.RedactURL(spec)
	case keyValue.MatchString(spec):
		return "(a key=value connection string, not shown)"
	}
	return spec
}

// keyValue matches a PostgreSQL key=value connection string ("host=db password=..."),
// which smsform does not take: it would otherwise be a file path, printed with its password.
var keyValue = regexp.MustCompile(`(?i)(^|\s)(host|hostaddr|port|dbname|user|password|passfile|sslmode|sslpassword|sslkey|service|servicefile|connect_timeout|options|application_name)\s*=`)

// ErrSpec means a state spec is neither a file path nor a PostgreSQL URL.
var ErrSpec = errors.New("not a state smsform can use")

// check refuses a spec that would otherwise be taken for a file path while it is meant as a
// database: a URL of another scheme, a key=value connection string. Neither is printed
// whole: both may hold a password.
func check(spec string) error {
	if sch := safetext.URLScheme(spec); sch != "" && !IsPostgres(spec) {
		return fmt.Errorf("state %s is a URL smsform cannot use (%w): give a SQLite file path, or a postgres:// URL", Name(spec), ErrSpec)
	}
	if keyValue.MatchString(spec) {
		return fmt.Errorf("the state looks like a PostgreSQL key=value connection string (%w; not shown, as it may hold a password): give a URL, postgres://USER@HOST:PORT/DB?sslmode=require (password in PGPASSWORD), or, for a file of that name, a path starting with ./", ErrSpec)
	}
	return nil
}

// Same reports whether two specs name the same state (two spellings of one file path, or
// one URL with or without its password).
func Same(a, b string) bool {
	if IsPostgres(a) || IsPostgres(b) {
		return Name(a) == Name(b)
	}
	abs := func(p string) string {
		if q, err := filepath.Abs(p); err == nil {
			p = q
		}
		if q, err := filepath.EvalSymlinks(p); err == nil {
			p = q
		}
		return p
	}
	return abs(a) == abs(b)
}

// Init creates the state (a SQLite file, or the schema in a PostgreSQL database) or brings
// its schema up to date, and reports whether it created it. It is the only way a state
// comes to exist.
func Init(ctx context.Context, spec string) (bool, error) {
	if err := check(spec); err != nil {
		return false, err
	}
	if IsPostgres(spec) {
		return postgres.Init(ctx, spec)
	}
	return state.Init(ctx, spec)
}

// Open opens an existing state. It refuses a state that does not exist, with an error that
// says to run `smsform init`; warn hears of anything fixed on the way (a state file's mode).
// Opening a PostgreSQL state writes nothing, so that plan and report work with a role that
// may only SELECT.
func Open(ctx context.Context, spec string, warn func(string)) (runner.Store, error) {
	if err := check(spec); err != nil {
		return nil, err
	}
	if IsPostgres(spec) {
		return postgres.Open(ctx, spec)
	}
	return state.OpenExisting(ctx, spec, warn)
}

// Lock is a held writer's lock.
type Lock interface{ Release() error }

// AcquireLock takes the state's one-writer lock for command, waiting up to timeout.
func AcquireLock(ctx context.Context, spec, command string, timeout time.Duration) (Lock, error) {
	if err := check(spec); err != nil {
		return nil, err
	}
	if IsPostgres(spec) {
		return postgres.AcquireLock(ctx, spec, command, timeout)
	}
	return state.AcquireLock(ctx, spec, command, timeout)
}

// Guard ties a store's writes to the lock its run holds, where the backend can check it: a
// PostgreSQL store then records nothing in flight once the lock's session is gone (its
// connection broke), so a run never sends beside the next holder. A file's OS lock cannot be
// lost while its process lives.
func Guard(s runner.Store, l Lock) {
	ps, ok := s.(*postgres.Store)
	pl, ok2 := l.(*postgres.Lock)
	if ok && ok2 {
		ps.Guard(pl)
	}
}

// Unlock clears a stale lock and reports the holder it removed. It never breaks a live
// holder's lock: a PostgreSQL lock belongs to a live session by definition; a SQLite one is
// broken by force only when its holder is not alive on this host.
func Unlock(ctx context.Context, spec string, force bool) (state.Holder, error) {
	if err := check(spec); err != nil {
		return state.Holder{}, err
	}
	if IsPostgres(spec) {
		return postgres.Unlock(ctx, spec)
	}
	return state.Unlock(spec, force)
}

// copier is what a backend offers for copying a state to another.
type copier interface {
	Contents(ctx context.Context) (state.Contents, error)
	ExportMessages(ctx context.Context, fn func([]state.MessageRow) error) error
	ExportConversions(ctx context.Context, fn func([]state.ConversionRow) error) error
	InFlight(ctx context.Context) ([]state.Batch, error)
	ExportSideTables(ctx context.Context) (state.SideTables, error)
	Import(ctx context.Context, export func(msgs func([]state.MessageRow) error, convs func([]state.ConversionRow) error) error, batches []state.Batch, side state.SideTables) error
}

var (
	_ copier = (*state.Store)(nil)
	_ copier = (*postgres.Store)(nil)
)

// ErrNotEmpty means a copy's destination already holds a state.
var ErrNotEmpty = errors.New("the destination is not empty")

// Migrate copies every message, conversion and batch in flight from one state to another
// (SQLite to PostgreSQL or back), holding both states' writer locks, in one transaction on
// the destination. It refuses a destination that holds anything, and checks the counts
// after. Both must exist (`smsform init`).
func Migrate(ctx context.Context, from, to string, timeout time.Duration, warn func(string)) (state.Contents, error) {
	if Same(from, to) {
		return state.Contents{}, fmt.Errorf("state migrate: -from and -to are the same state (%s)", Name(from))
	}
	open := func(spec, role string) (copier, func(), error) {
		// Opened first: a missing state says to run init.
		s, err := Open(ctx, spec, warn)
		if err != nil {
			return nil, nil, fmt.Errorf("state migrate: %s: %w", role, err)
		}
		lock, err := AcquireLock(ctx, spec, "state migrate", timeout)
		if err != nil {
			s.Close()
			return nil, nil, fmt.Errorf("state migrate: %s: %w", role, err)
		}
		return s.(copier), func() { s.Close(); lock.Release() }, nil
	}
	src, closeSrc, err := open(from, "-from")
	if err != nil {
		return state.Contents{}, err
	}
	defer closeSrc()
	dst, closeDst, err := open(to, "-to")
	if err != nil {
		return state.Contents{}, err
	}
	defer closeDst()
	have, err := dst.Contents(ctx)
	if err != nil {
		return state.Contents{}, err
	}
	if !have.Empty() {
		return state.Contents{}, fmt.Errorf("state migrate: %w: %s holds %d messages, %d conversions and %d batches in flight; copy into a new state (`smsform init -state DST`)",
			ErrNotEmpty, Name(to), have.Messages, have.Conversions, have.InFlight)
	}
	want, err := src.Contents(ctx)
	if err != nil {
		return state.Contents{}, err
	}
	batches, err := src.InFlight(ctx)
	if err != nil {
		return state.Contents{}, err
	}
	side, err := src.ExportSideTables(ctx)
	if err != nil {
		return state.Contents{}, err
	}
	err = dst.Import(ctx, func(msgs func([]state.MessageRow) error, convs func([]state.ConversionRow) error) error {
		if err := src.ExportMessages(ctx, msgs); err != nil {
			return err
		}
		return src.ExportConversions(ctx, convs)
	}, batches, side)
	if err != nil {
		return state.Contents{}, fmt.Errorf("state migrate: copy into %s (nothing was written): %w", Name(to), err)
	}
	got, err := dst.Contents(ctx)
	if err != nil {
		return got, err
	}
	if got != want {
		return got, fmt.Errorf("state migrate: %s holds %+v after the copy, the source %+v; do not use it (drop it and copy again)", Name(to), got, want)
	}
	return got, nil
}
