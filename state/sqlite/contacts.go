package sqlite

import (
	"context"
	"time"

	"github.com/smsform/smsform/state"
)

// Contacts reads the marketing messages frequency caps count (sqlstore.Queries.Contacts)
// through a small page cache: the read visits every page of the messages table once, and
// filling the 64 MB cache apply needs, page by page, and freeing it at Close cost more than
// the read itself. The cache is set back after it.
func (s *Store) Contacts(ctx context.Context, since time.Time) (*state.Contacts, error) {
	if _, err := s.db.ExecContext(ctx, "PRAGMA cache_size(-4096)"); err != nil {
		return nil, err
	}
	c, err := s.Queries.Contacts(ctx, since)
	if _, perr := s.db.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size("+pageCache+")"); err == nil {
		err = perr
	}
	return c, err
}
