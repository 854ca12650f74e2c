package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/infobip/sms"
	"github.com/smsform/smsform/internal/words"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/backend"
)

// openExisting opens the state, refusing to create an empty one (`smsform init` does).
func openExisting(c *cli.Context, sys IO) (state.Store, error) {
	return backend.Open(c.Context, statePath(c), func(msg string) { fmt.Fprintln(sys.Stderr, msg) })
}

// withStore opens the state, hands it to fn, and closes it.
func withStore(c *cli.Context, sys IO, fn func(state.Store) error) error {
	store, err := openExisting(c, sys)
	if err != nil {
		return err
	}
	defer store.Close()
	return fn(store)
}

// withLockedStore opens the state, takes its write lock for command (-lock-timeout) and
// hands it to fn; then it closes the state and releases the lock. Taking the lock records
// what a run that died left in flight as unknown (runner.Lock), which is said on stderr.
func withLockedStore(c *cli.Context, sys IO, command string, fn func(state.Store) error) error {
	timeout, err := lockTimeout(c)
	if err != nil {
		return err
	}
	store, unlock, err := lockStore(c, sys, command, timeout)
	if err != nil {
		return err
	}
	defer unlock()
	return fn(store)
}

// lockStore is withLockedStore's first half: the state, opened and locked (waiting up to
// timeout for another run), and what closes it and releases the lock.
func lockStore(c *cli.Context, sys IO, command string, timeout time.Duration) (state.Store, func(), error) {
	// Opened before locking: a missing state says to run init, rather than leaving a lock
	// file beside nothing.
	store, err := openExisting(c, sys)
	if err != nil {
		return nil, nil, err
	}
	release, n, err := runner.Lock(c.Context, store, command, timeout)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	if n > 0 {
		fmt.Fprintf(sys.Stderr, "%d %s left 'sending' by a run that stopped: their outcome is unknown until checked.\n", n, words.Plural(n, "message was", "messages were"))
	}
	return store, func() { store.Close(); release() }, nil
}

// lazyClient builds the API client on first use: runs that need no network need no
// credentials.
func lazyClient(sys IO) func() (*sms.API, error) {
	var api *sms.API
	return func() (*sms.API, error) {
		if api != nil {
			return api, nil
		}
		cfg, err := infobip.ConfigFromEnv(sys.Getenv)
		if err != nil {
			return nil, err
		}
		client, err := infobip.New(cfg)
		if err != nil {
			return nil, err
		}
		api = sms.New(client)
		return api, nil
	}
}

// author is who a person recorded as the author of a decision is: -by, else $USER@host.
func author(c *cli.Context, sys IO) string {
	if by := c.String("by"); by != "" {
		return by
	}
	by := sys.Getenv("USER")
	if by == "" {
		by = "unknown user"
	}
	if host, err := os.Hostname(); err == nil {
		by += "@" + host
	}
	return by
}
