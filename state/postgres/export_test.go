package postgres

import (
	"strings"

	"github.com/smsform/smsform/state/internal/sqlstore"
)

// LatestMigration is the number of the newest migration this binary knows: what Init
// brings a state to.
func LatestMigration() int {
	ms, err := sqlstore.Migrations(migrations, sqlstore.Postgres)
	if err != nil {
		panic(err)
	}
	return ms[len(ms)-1].Version
}

// UseUpserts makes s settle with upserts, as after a settlement met a message recorded
// before.
func UseUpserts(s *Store) { s.rewrites.Store(true) }

// Rewrites says s settles with upserts.
func Rewrites(s *Store) bool { return s.rewrites.Load() }

// Columns are the columns upsertSQL inserts, as its text lists them, and those the copy
// writes.
func Columns() (upserted, copied []string) {
	list := upsertSQL[strings.Index(upsertSQL, "(")+1 : strings.Index(upsertSQL, ")")]
	for _, c := range strings.Split(list, ",") {
		upserted = append(upserted, strings.TrimSpace(c))
	}
	return upserted, copyColumns
}
