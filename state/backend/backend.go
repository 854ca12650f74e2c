// Package backend picks the state's backend from what a user wrote in --state or
// SMSFORM_STATE, through one table (kinds): a postgres:// or postgresql:// URL is a
// PostgreSQL database (package state/postgres), a path a SQLite file (package
// state/sqlite). It is the one package that imports both; the CLI calls it and hands the
// result, a state.Store, to runner. Adding a backend is a package of its own and one entry
// in kinds.
package backend

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/postgres"
	"github.com/smsform/smsform/state/sqlite"
)

// kind is one kind of state: the specs that name one, and what creates, opens and unlocks
// it.
type kind struct {
	// id names the kind (Kind).
	id string
	// form is how a user writes a spec of this kind, for the error that refuses another.
	form string
	// match reports whether spec names a state of this kind.
	match func(spec string) bool
	// name is spec as it may be shown and saved: without a password or any other
	// credential.
	name func(spec string) string
	// same reports whether two specs of this kind name one state.
	same func(a, b string) bool
	// init creates the state or brings its schema up to date, and reports whether it
	// created it.
	init func(ctx context.Context, spec string) (bool, error)
	// open opens an existing state, refusing to create one; warn hears of anything fixed
	// on the way.
	open func(ctx context.Context, spec string, warn func(string)) (state.Store, error)
	// unlock clears a stale lock and reports the holder it removed, never breaking a live
	// holder's lock (force: unless the backend can tell that holder is gone).
	unlock func(ctx context.Context, spec string, force bool) (state.Holder, error)
}

// kinds are the backends smsform knows, the first that matches a spec taking it.
var kinds = []kind{
	{
		id:    "postgres",
		form:  "a postgres:// URL",
		match: postgres.IsURL, // postgres:// or postgresql://, the scheme in any case
		name:  postgres.Redact,
		same:  func(a, b string) bool { return postgres.Redact(a) == postgres.Redact(b) },
		init:  postgres.Init,
		open: func(ctx context.Context, spec string, _ func(string)) (state.Store, error) {
			return opened(postgres.Open(ctx, spec))
		},
		// A PostgreSQL lock belongs to a live session by definition: force changes nothing.
		unlock: func(ctx context.Context, spec string, _ bool) (state.Holder, error) {
			return postgres.Unlock(ctx, spec)
		},
	},
	{
		id:    "sqlite",
		form:  "a SQLite file path",
		match: isPath,
		name:  func(spec string) string { return spec },
		same:  func(a, b string) bool { return realPath(a) == realPath(b) },
		init:  sqlite.Init,
		open: func(ctx context.Context, spec string, warn func(string)) (state.Store, error) {
			return opened(sqlite.OpenExisting(ctx, spec, warn))
		},
		// Broken by force only when its holder is not alive on this host.
		unlock: func(_ context.Context, spec string, force bool) (state.Holder, error) {
			return sqlite.Unlock(spec, force)
		},
	},
}

// opened is a backend's store as a state.Store: nil, not a nil pointer in an interface,
// when it failed.
func opened[S state.Store](s S, err error) (state.Store, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// isPath reports whether spec is a file path: not a URL, and not a PostgreSQL key=value
// connection string ("host=db password=..."), which smsform does not take and which would
// otherwise be printed, password and all, as the name of a file.
func isPath(spec string) bool { return safetext.URLScheme(spec) == "" && !keyValue.MatchString(spec) }

var keyValue = regexp.MustCompile(`(?i)(^|\s)(host|hostaddr|port|dbname|user|password|passfile|sslmode|sslpassword|sslkey|service|servicefile|connect_timeout|options|application_name)\s*=`)

// realPath is a file path made absolute, through any symbolic links, so that two
// spellings of one file compare equal.
func realPath(p string) string {
	if q, err := filepath.Abs(p); err == nil {
		p = q
	}
	if q, err := filepath.EvalSymlinks(p); err == nil {
		p = q
	}
	return p
}

func kindOf(spec string) *kind {
	for i := range kinds {
		if kinds[i].match(spec) {
			return &kinds[i]
		}
	}
	return nil
}

// Kind names the backend that takes spec ("postgres", "sqlite"), "" when none does.
func Kind(spec string) string {
	if k := kindOf(spec); k != nil {
		return k.id
	}
	return ""
}

// Name is spec as it may be shown and saved: a URL without its password or any other
// credential (see safetext.RedactURL); a file path as it is.
func Name(spec string) string {
	switch k := kindOf(spec); {
	case k != nil:
		return k.name(spec)
	case safetext.URLScheme(spec) != "":
		return safetext.RedactURL(spec)
	case keyValue.MatchString(spec):
		return "(a key=value connection string, not shown)"
	}
	return spec
}

// ErrSpec means a state spec is neither a file path nor a URL of a database smsform keeps
// a state in.
var ErrSpec = errors.New("not a state smsform can use")

// check finds the kind of spec, refusing what would otherwise be taken for a file path
// while it is meant as a database: a URL of another scheme, a key=value connection string.
// Neither is printed whole: both may hold a password.
func check(spec string) (*kind, error) {
	if k := kindOf(spec); k != nil {
		return k, nil
	}
	var forms []string
	for _, k := range kinds {
		forms = append(forms, k.form)
	}
	if keyValue.MatchString(spec) {
		return nil, fmt.Errorf("the state looks like a PostgreSQL key=value connection string (%w; not shown, as it may hold a password): give a URL, postgres://USER@HOST:PORT/DB?sslmode=require (password in PGPASSWORD), or, for a file of that name, a path starting with ./", ErrSpec)
	}
	return nil, fmt.Errorf("state %s is a URL smsform cannot use (%w): give %s", Name(spec), ErrSpec, strings.Join(forms, ", or "))
}

// Same reports whether two specs name the same state (two spellings of one file path, or
// one URL with or without its password).
func Same(a, b string) bool {
	switch ka, kb := kindOf(a), kindOf(b); {
	case ka != kb:
		return false
	case ka == nil:
		return a == b
	default:
		return ka.same(a, b)
	}
}

// Init creates the state (a SQLite file, or the schema in a PostgreSQL database) or brings
// its schema up to date, and reports whether it created it. It is the only way a state
// comes to exist.
func Init(ctx context.Context, spec string) (bool, error) {
	k, err := check(spec)
	if err != nil {
		return false, err
	}
	return k.init(ctx, spec)
}

// Open opens an existing state. It refuses a state that does not exist, with an error that
// says to run `smsform init`; warn hears of anything fixed on the way (a state file's mode).
// Opening a PostgreSQL state writes nothing, so that plan and report work with a role that
// may only SELECT.
func Open(ctx context.Context, spec string, warn func(string)) (state.Store, error) {
	k, err := check(spec)
	if err != nil {
		return nil, err
	}
	return k.open(ctx, spec, warn)
}

// Unlock clears a stale lock and reports the holder it removed. It never breaks a live
// holder's lock: a PostgreSQL lock belongs to a live session by definition; a SQLite one is
// broken by force only when its holder is not alive on this host.
func Unlock(ctx context.Context, spec string, force bool) (state.Holder, error) {
	k, err := check(spec)
	if err != nil {
		return state.Holder{}, err
	}
	return k.unlock(ctx, spec, force)
}

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
	open := func(spec, role string) (state.Store, func(), error) {
		// Opened first: a missing state says to run init.
		s, err := Open(ctx, spec, warn)
		if err != nil {
			return nil, nil, fmt.Errorf("state migrate: %s: %w", role, err)
		}
		lock, err := s.Lock(ctx, "state migrate", timeout)
		if err != nil {
			s.Close()
			return nil, nil, fmt.Errorf("state migrate: %s: %w", role, err)
		}
		return s, func() { s.Close(); lock.Release() }, nil
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
