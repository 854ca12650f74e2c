package postgres

import "github.com/smsform/smsform/state/internal/sqlstore"

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
