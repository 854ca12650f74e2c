package sqlstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/smsform/smsform/state"
)

// shared are the migrations both backends run as written. {{identity}} stands for the
// dialect's auto-numbered primary key.
//
//go:embed migrations/*.sql
var shared embed.FS

// Migration is one numbered schema change, a file NNNN_what.sql. A number names the same
// change in every backend: one they make alike is written once, in this package's
// migrations; one they write differently is in each backend's own (a backend that needs
// nothing for a number has a file saying so).
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations is the migrations of a backend, the shared ones and its own (in own), in
// order, in dialect d. A number missing or given twice is an error.
func Migrations(own fs.FS, d Dialect) ([]Migration, error) {
	var out []Migration
	for _, fsys := range []fs.FS{shared, own} {
		names, err := fs.Glob(fsys, "migrations/*.sql")
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			n, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0])
			if err != nil {
				return nil, fmt.Errorf("migration %s: its name does not start with its number", name)
			}
			body, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, err
			}
			out = append(out, Migration{Version: n, Name: path.Base(name), SQL: strings.ReplaceAll(string(body), "{{identity}}", d.identity)})
		}
	}
	slices.SortFunc(out, func(a, b Migration) int { return cmp.Compare(a.Version, b.Version) })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s is out of sequence", m.Name)
		}
	}
	return out, nil
}

// Run applies the migration in tx. The first one, which creates the meta table, also
// records the new state's lineage (fixed for its life) and serial.
func (m Migration) Run(ctx context.Context, tx *sql.Tx, d Dialect) error {
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if m.Version != 1 {
		return nil
	}
	lineage := make([]byte, 16)
	rand.Read(lineage)
	_, err := tx.ExecContext(ctx, d.SQL("INSERT INTO meta (key, value) VALUES ('lineage', ?), ('serial', '0')"), hex.EncodeToString(lineage))
	return err
}

// TooNew refuses a state whose schema a newer smsform migrated.
func TooNew(version int, ms []Migration) error {
	return fmt.Errorf("%w: schema version %d, this binary knows %d; upgrade smsform", state.ErrTooNew, version, len(ms))
}
