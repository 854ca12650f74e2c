package cli

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/runner"
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

// progress reports long work on a terminal, on one rewritten line: what it does, how far
// (count and percentage), how fast and, once it can tell, the time left. It redraws at most
// ten times a second, whichever goroutine reports.
func progress(sys IO, what string) func(done, total int) {
	start := time.Now()
	var mu sync.Mutex
	var last time.Time
	finished := false
	return func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if finished || (done < total && now.Sub(last) < 100*time.Millisecond) {
			return
		}
		last = now
		fmt.Fprint(sys.Stderr, "\r"+progressLine(what, done, total, now.Sub(start))+"\033[K")
		if done >= total {
			finished = true
			fmt.Fprintln(sys.Stderr)
		}
	}
}

// progressLine is the text of a progress line after elapsed time.
func progressLine(what string, done, total int, elapsed time.Duration) string {
	pct := 100
	if total > 0 {
		pct = done * 100 / total
	}
	line := fmt.Sprintf("%s: %s/%s (%d%%)", what, runner.Thousands(done), runner.Thousands(total), pct)
	secs := elapsed.Seconds()
	if secs < 1 || done == 0 {
		return line
	}
	rate := float64(done) / secs
	line += fmt.Sprintf(", %s/s", runner.Thousands(int(rate+0.5)))
	if done >= total {
		return line + ", took " + elapsed.Round(time.Second).String()
	}
	left := time.Duration(float64(total-done) / rate * float64(time.Second))
	return line + ", about " + left.Round(time.Second).String() + " left"
}

// progressFor is the progress of a command's long step, on a terminal and without -json;
// nil (silent) otherwise, as in CI logs.
func progressFor(c *cli.Context, sys IO, what string) func(done, total int) {
	if !sys.ErrTerminal || c.Bool("json") {
		return nil
	}
	return progress(sys, what)
}
