package sqlite

import (
	"context"
	"time"

	"github.com/smsform/smsform/state"
)

// Contacts reads the marketing messages frequency caps count (sqlstore.Queries.Contacts)
// through a small page cache (see withSmallCache).
func (s *Store) Contacts(ctx context.Context, since time.Time) (*state.Contacts, error) {
	return withSmallCache(ctx, s, func() (*state.Contacts, error) { return s.Queries.Contacts(ctx, since) })
}

// Snapshot reads the recorded messages of rounds (sqlstore.Queries.Snapshot) through a
// small page cache (see withSmallCache): a re-plan with every message recorded reads the
// whole messages table once.
func (s *Store) Snapshot(ctx context.Context, rounds []state.Round) (*state.Snapshot, error) {
	return withSmallCache(ctx, s, func() (*state.Snapshot, error) { return s.Queries.Snapshot(ctx, rounds) })
}

// withSmallCache runs read with a 4 MB page cache and sets the cache back after it. A read
// that visits every page of the messages table once gains nothing from the 64 MB cache apply
// needs, and filling it page by page, then freeing it at Close, costs more than the read
// itself.
func withSmallCache[T any](ctx context.Context, s *Store, read func() (T, error)) (T, error) {
	if _, err := s.db.ExecContext(ctx, "PRAGMA cache_size(-4096)"); err != nil {
		var zero T
		return zero, err
	}
	v, err := read()
	if _, perr := s.db.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size("+pageCache+")"); err == nil {
		err = perr
	}
	return v, err
}
