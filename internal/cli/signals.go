package cli

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state/backend"
)

// interrupts turns the first SIGINT/SIGTERM into a closed stop channel: no new requests,
// the ones in flight are answered and recorded. The second exits at once, which is safe
// because every request is recorded before it leaves.
func interrupts(sys IO) (stop <-chan struct{}, release func()) {
	ch := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		fmt.Fprintln(sys.Stderr, "\nStopping: no new requests; waiting for the answers in flight (interrupt again to exit now).")
		close(ch)
		select {
		case <-sigs:
			fmt.Fprintln(sys.Stderr, "Exiting now; the next run reconciles what was in flight.")
			os.Exit(ExitError)
		case <-done:
		}
	}()
	return ch, func() { signal.Stop(sigs); close(done) }
}

// progress reports long work on a terminal, on one rewritten line.
func progress(sys IO, what string) func(done, total int) {
	start := time.Now()
	return func(done, total int) {
		rate := float64(done) / max(time.Since(start).Seconds(), 0.001)
		fmt.Fprintf(sys.Stderr, "\r%s: %d/%d (%.0f/s)   ", what, done, total, rate)
		if done == total {
			fmt.Fprintln(sys.Stderr)
		}
	}
}

// openExisting opens the state, refusing to create an empty one (`smsform init` does).
func openExisting(c *cli.Context, sys IO) (runner.Store, error) {
	return backend.Open(c.Context, statePath(c), func(msg string) { fmt.Fprintln(sys.Stderr, msg) })
}
