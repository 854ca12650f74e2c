//go:build unix

package safefile

import (
	"errors"
	"syscall"
)

// noFollow makes open fail on a symbolic link at the path's last element.
const noFollow = syscall.O_NOFOLLOW

func isLoop(err error) bool { return errors.Is(err, syscall.ELOOP) }
