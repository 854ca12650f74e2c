package sqlite

// Rewrites says s settles with upserts, having met a message recorded before (see writeGroup).
func Rewrites(s *Store) bool { return s.rewrites.Load() }

// Waiting is how many calls wait for the next group's transaction (grouped).
func Waiting(s *Store) int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.queue)
}

// Writing says a group's transaction runs with no call waiting for the next.
func Writing(s *Store) bool {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return s.group.leading && len(s.group.queue) == 0
}
