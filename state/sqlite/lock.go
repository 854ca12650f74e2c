package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/smsform/smsform/internal/safefile"
	"github.com/smsform/smsform/state"
)

// liveHolderError is Unlock's refusal to force a lock whose holder is alive on this host.
type liveHolderError struct{ state.LockedError }

func (e *liveHolderError) Error() string {
	return fmt.Sprintf("state %s is locked by %s, alive on this host: refusing to break its lock, even with -force (a second writer beside it could send messages twice); let it finish, or stop it", e.Path, e.Holder)
}

// Lock takes the state's one-writer lock (see AcquireLock).
func (s *Store) Lock(ctx context.Context, command string, timeout time.Duration) (state.Lock, error) {
	l, err := AcquireLock(ctx, s.path, command, timeout)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Lock is the one-writer lock of a state file: an OS lock (flock) on FILE.lock beside it.
// The kernel drops it when its process dies, however it dies, so a killed apply never
// leaves a lock that blocks the next run.
type Lock struct {
	f    *os.File
	path string
}

// LockPath is the lock file of a state file.
func LockPath(statePath string) string { return statePath + ".lock" }

// AcquireLock takes the lock for command, waiting up to timeout (0: fail at once) while
// another process holds it.
func AcquireLock(ctx context.Context, statePath, command string, timeout time.Duration) (*Lock, error) {
	if err := checkFiles(statePath); err != nil {
		return nil, err
	}
	path := LockPath(statePath)
	// Never through a link: Truncate below would empty the file it points to.
	f, err := safefile.Open(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			h, _ := readHolder(f)
			f.Close()
			return nil, &state.LockedError{Path: statePath, Holder: h}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	host, _ := os.Hostname()
	h := state.Holder{Host: host, PID: os.Getpid(), Command: command, Since: time.Now().UTC().Truncate(time.Second)}
	data, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		f.WriteAt(append(data, '\n'), 0)
	}
	return &Lock{f: f, path: path}, nil
}

// Release gives the lock up.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := unlock(l.f)
	l.f.Close()
	l.f = nil
	return err
}

func readHolder(f *os.File) (state.Holder, error) {
	var h state.Holder
	buf := make([]byte, 4096)
	n, _ := f.ReadAt(buf, 0)
	if n == 0 {
		return h, nil
	}
	return h, json.Unmarshal([]byte(strings.TrimSpace(string(buf[:n]))), &h)
}

// Unlock is the manual way out for a lock the OS did not clear (a state on a network file
// system without working locks, say). It refuses while a live process holds the lock unless
// force is set. It reports the holder it removed, if any.
func Unlock(statePath string, force bool) (state.Holder, error) {
	if err := checkFiles(statePath); err != nil {
		return state.Holder{}, err
	}
	path := LockPath(statePath)
	f, err := safefile.Open(path, os.O_RDWR, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		return state.Holder{}, nil
	}
	if err != nil {
		return state.Holder{}, err
	}
	defer f.Close()
	h, _ := readHolder(f)
	ok, err := tryLock(f)
	if err != nil {
		return h, err
	}
	if ok {
		// Nobody holds it: clear stale details and let go.
		f.Truncate(0)
		unlock(f)
		return state.Holder{}, nil
	}
	if !force {
		return h, &state.LockedError{Path: statePath, Holder: h}
	}
	// Force is for a holder known to be gone, such as a run on another machine sharing the
	// file. A holder alive on this host is never broken: a second writer beside it could
	// send a message twice.
	host, _ := os.Hostname()
	if h.PID == 0 || (h.Host == host && alive(h.PID)) {
		return h, &liveHolderError{state.LockedError{Path: statePath, Holder: h}}
	}
	// The holder keeps its lock on the old file; new runs lock a new one. Only for a holder
	// that is known to be gone.
	return h, os.Remove(path)
}
