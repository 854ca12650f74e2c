//go:build !unix

package safefile

// noFollow is not available here: Check's Lstat is the only guard.
const noFollow = 0

func isLoop(error) bool { return false }
