package state

import (
	"errors"
	"fmt"
	"time"
)

// ErrLocked means another process holds the state's write lock.
var ErrLocked = errors.New("state is locked")

// Holder describes the process holding the lock: who, what and since when.
type Holder struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

func (h Holder) String() string {
	if h.PID == 0 {
		return "another process (it has not written its details yet)"
	}
	return fmt.Sprintf("`smsform %s` (pid %d on %s, since %s)", h.Command, h.PID, h.Host, h.Since.Local().Format(time.RFC3339))
}

// LockedError says who holds the lock.
type LockedError struct {
	Path   string
	Holder Holder
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("state %s is locked by %s; wait for it to finish, or pass -lock-timeout to wait", e.Path, e.Holder)
}

func (e *LockedError) Unwrap() error { return ErrLocked }
