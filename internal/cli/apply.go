package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/words"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

func applyCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "send what the plan says is missing, and record every message",
		ArgsUsage: "[PATH... | PLANFILE]",
		Flags: append(withUsage(planFlags(), "json", "print the result (sent, failed, unknown, problems) as one JSON document; the plan is not printed"),
			&cli.BoolFlag{Name: "auto-approve", Usage: "send without asking for 'yes'"},
			&cli.IntFlag{Name: "parallelism", Value: 4, Usage: "requests in flight"},
			&cli.IntFlag{Name: "batch-size", Value: 500, Usage: "messages per request"},
			unknownGraceFlag(),
			idempotencyWindowFlag(),
			lockTimeoutFlag(),
			&cli.IntFlag{Name: "allow-over-limit", Usage: "approve an apply over a settings file's limits (smsform.yaml) sending at most `N` messages"},
		),
		Action: func(c *cli.Context) error { return runApply(c, sys) },
	}
}

func runApply(c *cli.Context, sys IO) error {
	mask, err := numberMask(c, sys)
	if err != nil {
		return err
	}
	if err := checkDurations(c); err != nil {
		return err
	}
	if c.Int("parallelism") < 1 || c.Int("parallelism") > 64 {
		return fmt.Errorf("-parallelism must be between 1 and 64, got %d", c.Int("parallelism"))
	}
	if c.Int("batch-size") < 1 || c.Int("batch-size") > 10000 {
		return fmt.Errorf("-batch-size must be between 1 and 10000, got %d", c.Int("batch-size"))
	}
	ropts, err := reconcileOptions(c, sys)
	if err != nil {
		return err
	}
	asJSON := c.Bool("json")
	// Human output goes to stdout, except with -json, where stdout holds only the result.
	human := sys.Stdout
	if asJSON {
		human = io.Discard
	}
	if c.Int("allow-over-limit") < 0 {
		return fmt.Errorf("-allow-over-limit %d is negative; give the number of messages plan says this apply sends, such as -allow-over-limit 120000", c.Int("allow-over-limit"))
	}
	// Once the campaign files are parsed without a problem, the state is locked, if no
	// other run holds it, and what the plan needs of it read while the recipients load
	// (runner.ApplyRun.Early). Otherwise it is locked after the load, waiting -lock-timeout:
	// a file's problems are reported first, and a run holding the lock never delays them.
	var store state.Store
	unlock := func() {}
	ctx, cancel := context.WithCancel(c.Context)
	var early *runner.StateRead
	defer func() {
		cancel()
		early.Wait()
		unlock()
	}()
	in, err := runner.LoadInputs(c.Args().Slice(), statePath(c), stateNames, true, func(cs []*campaign.Campaign) {
		s, u, err := lockStore(c, sys, "apply", 0)
		if err != nil {
			return // said when the state is locked after the load
		}
		store, unlock = s, u
		early = runner.PrefetchState(ctx, func() (state.Reader, error) { return s, nil }, cs, time.Now())
	})
	if err != nil {
		return err
	}
	if in.Saved != nil && c.IsSet("retry-failed") {
		return errors.New("-retry-failed cannot be combined with a saved plan: it was decided when the plan was made (`smsform plan -retry-failed -out FILE`)")
	}
	if store == nil {
		timeout, err := lockTimeout(c)
		if err != nil {
			return err
		}
		s, u, err := lockStore(c, sys, "apply", timeout)
		if err != nil {
			return err
		}
		store, unlock = s, u
	}
	early.Wait() // the store serves one thing at a time from here on
	client := lazyClient(sys)
	release := func() {}
	defer func() { release() }()
	run := runner.ApplyRun{
		Store: store, Early: early, Set: in.Set, Saved: in.Saved, Plan: runner.PlanOptions{RetryFailed: c.Bool("retry-failed")}, Reconcile: ropts,
		AllowOverLimit: c.Int("allow-over-limit"),
		Apply:          runner.ApplyOptions{Parallelism: c.Int("parallelism"), BatchSize: c.Int("batch-size")},
		BeforeSend: func(o *runner.ApplyOptions) {
			// Signals are taken over only now: until sending starts, Ctrl-C simply ends the run.
			o.Stop, release = interrupts(sys)
			if sys.ErrTerminal && !asJSON {
				o.Progress = progress(sys, "Sending")
			}
			// While sending, the heap holds the plan and short-lived batches: collecting
			// less often saves rescanning the plan for every few batches (see main's GOGC).
			// The soft limit still bounds the heap of a large plan (main's memlimit.Floor).
			if sys.Getenv("GOGC") == "" {
				old := debug.SetGCPercent(sendingGOGC)
				prev := release
				release = func() { prev(); debug.SetGCPercent(old) }
			}
		},
		Connect: func() (runner.API, error) { return client() },
		Reconciled: func(rec runner.Reconciliation) {
			printReconciliation(human, rec)
			warnLogsStopped(sys, rec)
		},
		Planned: func(p *runner.Plan, abandoned int) error {
			if abandoned > 0 {
				fmt.Fprintf(human, "%d %s of unknown outcome, cleared for sending again, %s no longer in the files: recorded as abandoned, never sent again (see `smsform state list -only abandoned`).\n\n", abandoned, words.Plural(abandoned, "message", "messages"), words.Plural(abandoned, "is", "are"))
			}
			return showPlan(human, p, false, c.Bool("verbose"), mask)
		},
	}
	if in.Saved == nil && !c.Bool("auto-approve") {
		run.Confirm = func(p *runner.Plan) error { return confirm(sys, p, asJSON) }
	}
	out, err := runner.RunApply(c.Context, run)
	if err != nil && !out.Applied {
		return err // stopped before sending anything: nothing to summarise
	}
	return finishApply(c, sys, out, ropts.Window, mask, err)
}

// sendingGOGC is GOGC while apply sends: 200 took a tenth off the CPU of an apply of a
// million messages against 100, for 30 MB more at its peak.
const sendingGOGC = 200

// confirm asks for 'yes' on the terminal before apply sends the plan.
func confirm(sys IO, p *runner.Plan, asJSON bool) error {
	if !sys.InTerminal {
		return errors.New("apply asks for confirmation, but stdin is not a terminal: pass -auto-approve, or apply a saved plan (`smsform plan -out FILE`, then `smsform apply FILE`)")
	}
	prompt := sys.Stdout
	if asJSON { // stdout holds only the JSON result
		prompt = sys.Stderr
	}
	fmt.Fprintf(prompt, "\nSend %s %s (%s SMS %s) through Infobip at %s?\n  Only 'yes' will be accepted: ",
		runner.Thousands(p.Summary.Send), words.Plural(p.Summary.Send, "message", "messages"),
		runner.Thousands(p.Summary.SmsParts), words.Plural(p.Summary.SmsParts, "part", "parts"), apiHost(sys))
	answer, _ := bufio.NewReader(sys.Stdin).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		fmt.Fprintln(prompt, "\nApply cancelled; nothing was sent.")
		return exitCode(ExitError)
	}
	return nil
}

// finishApply prints the result, also of a run that stopped on runErr, and picks the exit
// code.
func finishApply(c *cli.Context, sys IO, out runner.ApplyOutcome, window time.Duration, mask campaign.Mask, runErr error) error {
	res, p := out.Result, out.Plan
	if c.Bool("json") {
		if err := printDoc(sys.Stdout, res); err != nil {
			return err
		}
	} else {
		w := sys.Stdout
		if p.Summary.Send > 0 {
			verb := "complete"
			if res.Stopped || runErr != nil {
				verb = "stopped"
			}
			fmt.Fprintf(w, "\nApply %s: %s sent (%s SMS parts), %s failed, %s unknown", verb, runner.Thousands(res.Sent),
				runner.Thousands(res.SmsParts), runner.Thousands(res.Failed), runner.Thousands(res.Unknown))
			if res.NotSent > 0 {
				fmt.Fprintf(w, ", %s not sent", runner.Thousands(res.NotSent))
			}
			fmt.Fprintln(w, ".")
		}
		if n := res.Capped; n > 0 {
			fmt.Fprintf(w, "Recorded %s capped %s (over a frequency cap): never sent for this round.\n", runner.Thousands(n), words.Plural(n, "message", "messages"))
		}
		printProblems(w, res, mask)
		if res.Unresolved > 0 {
			unresolvedHelp(w, res.Unresolved, window)
		}
		if res.Failed > 0 {
			fmt.Fprintln(w, "Failed messages are listed by `smsform state list -only failed`; `apply -retry-failed` sends them again.")
		}
	}
	switch {
	case runErr != nil:
		return runErr
	case res.Stopped:
		return &exitError{code: ExitError, err: fmt.Errorf("stopped by a signal: %d messages not sent; run apply again to send them", res.NotSent)}
	case res.Failed > 0 || res.Unresolved > 0:
		return exitCode(ExitPartial)
	}
	return nil
}
