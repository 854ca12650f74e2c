package runner

import (
	"context"
	"time"

	"github.com/smsform/smsform/state"
)

// Lock takes the state's one-writer lock for command, waiting up to timeout (0: fail at
// once) for another run, and then recovers what a run that died left behind: the messages
// of every batch it left in flight ("sending") are recorded as unknown, to be looked up in
// Infobip's logs. Every run that writes the state starts here, so a crash is recovered in
// this one place; interrupted counts those messages.
func Lock(ctx context.Context, store state.Store, command string, timeout time.Duration) (release func(), interrupted int, err error) {
	lock, err := store.Lock(ctx, command, timeout)
	if err != nil {
		return nil, 0, err
	}
	release = func() { lock.Release() }
	n, err := store.MarkInterrupted(ctx)
	if err != nil {
		release()
		return nil, 0, err
	}
	return release, n, nil
}
