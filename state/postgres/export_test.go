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
