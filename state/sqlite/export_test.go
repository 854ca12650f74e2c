package sqlite

// Rewrites says s settles with upserts, having met a message recorded before (settling).
func Rewrites(s *Store) bool { return s.rewrites.Load() }
