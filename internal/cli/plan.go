package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/infobip/sms"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/backend"
)

func validateCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check every campaign file under PATHs (default .); no network, no state",
		ArgsUsage: "[PATH...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON, every problem and warning listed"},
			&cli.BoolFlag{Name: "all", Usage: fmt.Sprintf("list every problem (without it, the first %d)", campaign.MaxProblems)},
			&cli.BoolFlag{Name: "strict", Usage: "treat warnings (characters forcing UCS-2, a send_at in the past) as errors"},
			maskFlag(),
			stateFlag(false),
		},
		Action: func(c *cli.Context) error {
			mask, err := numberMask(c, sys)
			if err != nil {
				return err
			}
			// send_at is checked against the clock here too: too far ahead fails as in plan;
			// in the past is a warning, since a campaign sent on schedule stays in git.
			opts := campaign.Options{AllProblems: c.Bool("all") || c.Bool("json"), Now: time.Now()}
			set, err := campaign.LoadWith(opts, c.Args().Slice()...)
			var warnings []campaign.Problem
			if err == nil {
				warnings = campaign.LintSet(set)
			}
			strict := c.Bool("strict") && len(warnings) > 0
			if c.Bool("json") {
				return validateJSON(sys.Stdout, set, err, warnings, strict)
			}
			if err != nil {
				return err
			}
			if strict {
				return &campaign.ValidationError{Problems: warnings, Subject: "the campaign files (warnings, with -strict)"}
			}
			if len(warnings) > 0 {
				fmt.Fprintf(sys.Stdout, "Warning: %d %s (-strict makes them errors):\n", len(warnings), pluralWord(len(warnings), "warning", "warnings"))
				for _, w := range warnings {
					fmt.Fprintln(sys.Stdout, mask.Text(w.String()))
				}
				fmt.Fprintln(sys.Stdout)
			}
			for _, l := range runner.SettingsLines(set.Settings) {
				fmt.Fprintln(sys.Stdout, l)
			}
			n := 0
			for _, cp := range set.Campaigns {
				n += len(cp.Recipients)
			}
			fmt.Fprintf(sys.Stdout, "Success! %d %s with %s %s in %d %s %s valid.\n",
				len(set.Campaigns), pluralWord(len(set.Campaigns), "campaign", "campaigns"),
				runner.Thousands(n), pluralWord(n, "recipient", "recipients"), len(set.Files), pluralWord(len(set.Files), "file", "files"),
				pluralWord(len(set.Campaigns), "is", "are"))
			return nil
		},
	}
}

// validateJSON prints the result of validate; with strict, warnings make it invalid.
func validateJSON(w io.Writer, set *campaign.Set, err error, warnings []campaign.Problem, strict bool) error {
	type problem struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Field   string `json:"field,omitempty"`
		Message string `json:"message"`
	}
	toJSON := func(p campaign.Problem) problem {
		return problem{safetext.Escape(p.File), p.Line, safetext.Escape(p.Field), safetext.Escape(p.Msg)}
	}
	out := struct {
		Valid      bool      `json:"valid"`
		Campaigns  int       `json:"campaigns"`
		Recipients int       `json:"recipients"`
		Problems   []problem `json:"problems"`
		Dropped    int       `json:"problems_not_listed,omitempty"`
		Warnings   []problem `json:"warnings"`
		// Settings are the settings files that apply (omitted when none).
		Settings []runner.SettingsLine `json:"settings,omitempty"`
	}{Valid: err == nil && !strict, Problems: []problem{}, Warnings: []problem{}}
	var ve *campaign.ValidationError
	switch {
	case err == nil:
		out.Campaigns = len(set.Campaigns)
		for _, c := range set.Campaigns {
			out.Recipients += len(c.Recipients)
		}
		for _, p := range warnings {
			out.Warnings = append(out.Warnings, toJSON(p))
		}
		out.Settings = runner.SettingsLines(set.Settings)
	case errors.As(err, &ve):
		for _, p := range ve.Problems {
			out.Problems = append(out.Problems, toJSON(p))
		}
		out.Dropped = ve.Dropped
	default:
		return err
	}
	if err := printDoc(w, out); err != nil {
		return err
	}
	if !out.Valid {
		return exitCode(ExitError)
	}
	return nil
}

// loadInputs resolves the arguments of plan and apply: campaign paths, or (for apply) one
// saved plan file, whose paths are used.
// parsed, when set, is campaign.Options.Parsed.
func loadInputs(args []string, statePath string, allowSaved bool, parsed func([]*campaign.Campaign)) ([]string, *runner.SavedPlan, *campaign.Set, error) {
	paths := args
	var saved *runner.SavedPlan
	if allowSaved && len(args) == 1 {
		if info, err := os.Stat(args[0]); err == nil && !info.IsDir() {
			sp, ok, err := runner.ReadSavedPlan(args[0])
			if err != nil {
				return nil, nil, nil, err
			}
			if ok {
				if !backend.Same(sp.StatePath, statePath) {
					return nil, nil, nil, fmt.Errorf("%w: the plan was made with state %s, this run uses %s", runner.ErrStalePlan, backend.Name(sp.StatePath), backend.Name(statePath))
				}
				saved, paths = sp, sp.Paths
			}
		}
	}
	// With the clock: consent is checked against the send time of a campaign without
	// send_at, which is now.
	set, err := campaign.LoadWith(campaign.Options{SendNow: time.Now(), Parsed: parsed}, paths...)
	return paths, saved, set, err
}

// planFrom reads the state (the caps' contacts from early, when given) and plans.
func planFrom(ctx context.Context, store state.Reader, set *campaign.Set, opts runner.PlanOptions, early *runner.ContactsRead) (*runner.Plan, error) {
	now := time.Now()
	snap, err := runner.ReadState(ctx, store, set, now, early)
	if err != nil {
		return nil, err
	}
	return runner.MakePlan(set, snap, now, opts)
}

func planFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "json", Usage: "print the plan as one JSON document"},
		&cli.BoolFlag{Name: "verbose", Usage: "list every message, not the first few per campaign"},
		&cli.BoolFlag{Name: "retry-failed", Usage: "plan failed messages for sending again, with a fresh messageId"},
		maskFlag(),
		stateFlag(false),
	}
}

func planCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show what apply would send: files compared with the state; no network",
		ArgsUsage: "[PATH...]",
		Flags: append(planFlags(),
			&cli.StringFlag{Name: "out", Usage: "save the plan to `FILE` for `smsform apply FILE`", TakesFile: true},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 0 when there is nothing to send, 2 when there is, 1 on error"},
			&cli.StringFlag{Name: "prices", Usage: "estimate the cost from `FILE`, a CSV of prefix,price,currency (CH,0.0725,CHF or +4179,0.065,CHF) per SMS part", TakesFile: true},
			&cli.BoolFlag{Name: "markdown", Usage: "print the plan as Markdown for a pull-request comment or job summary: tables, a sample text per campaign, numbers always masked, at most 60,000 bytes"},
		),
		Action: func(c *cli.Context) error {
			if c.Bool("markdown") && c.Bool("json") {
				return errors.New("choose one of -json and -markdown")
			}
			err := runPlan(c, sys)
			var ee *exitError
			if c.Bool("markdown") && err != nil && !(errors.As(err, &ee) && ee.err == nil) {
				// The comment says why there is no plan, instead of keeping an old one.
				if werr := runner.WriteMarkdownFailure(sys.Stdout, err, 0); werr != nil {
					return errors.Join(err, werr)
				}
			}
			return err
		},
	}
}

// runPlan is `smsform plan`.
func runPlan(c *cli.Context, sys IO) error {
	mask, err := numberMask(c, sys)
	if err != nil {
		return err
	}
	opts := runner.PlanOptions{RetryFailed: c.Bool("retry-failed")}
	if f := c.String("prices"); f != "" {
		prices, err := campaign.LoadPrices(f)
		if err != nil {
			return err
		}
		opts.Prices = prices
	}
	// Under a frequency cap, the state's marketing messages are read while the recipients
	// load: the state is opened then, once.
	var store state.Store
	var openErr error
	var once sync.Once
	open := func() (state.Reader, error) {
		once.Do(func() { store, openErr = openExisting(c, sys) })
		return store, openErr
	}
	ctx, cancel := context.WithCancel(c.Context)
	var early *runner.ContactsRead
	defer func() {
		cancel()
		early.Wait()
		if store != nil {
			store.Close()
		}
	}()
	paths, _, set, err := loadInputs(c.Args().Slice(), statePath(c), false, func(cs []*campaign.Campaign) {
		early = runner.PrefetchContacts(ctx, open, cs, time.Now())
	})
	if err != nil {
		return err
	}
	if _, err := open(); err != nil {
		return err
	}
	p, err := planFrom(c.Context, store, set, opts, early)
	if err != nil {
		return err
	}
	switch {
	case c.Bool("markdown"):
		err = p.WriteMarkdown(sys.Stdout, runner.MarkdownOptions{Warnings: campaign.LintSet(set)})
	default:
		err = showPlan(sys.Stdout, p, c.Bool("json"), c.Bool("verbose"), mask)
	}
	if err != nil {
		return err
	}
	if out := c.String("out"); out != "" {
		if err := p.Save(out, paths, backend.Name(statePath(c)), opts, time.Now()); err != nil {
			return err
		}
		if !c.Bool("json") && !c.Bool("markdown") {
			fmt.Fprintf(sys.Stdout, "\nSaved the plan to %s. To send exactly this, run:\n    smsform apply %s\n", out, out)
		}
	}
	if c.Bool("detailed-exitcode") && p.Summary.Send > 0 {
		return exitCode(ExitChanges)
	}
	return nil
}

func showPlan(w io.Writer, p *runner.Plan, asJSON, verbose bool, mask campaign.Mask) error {
	if asJSON {
		return p.WriteJSON(w)
	}
	opts := runner.ViewOptions{Shown: runner.DefaultShown, Mask: mask}
	if verbose {
		opts.Shown = -1
	}
	return p.WriteText(w, opts)
}

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

func lockTimeoutFlag() cli.Flag {
	return &cli.DurationFlag{Name: "lock-timeout", Usage: "wait this long for another run holding the state lock (default: fail at once)"}
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

// openLocked takes the state's write lock and opens it. Any message left "sending" belongs
// to a run that died: it becomes "unknown".
func openLocked(c *cli.Context, sys IO, command string) (state.Store, func(), error) {
	if d := c.Duration("lock-timeout"); d < 0 {
		return nil, nil, fmt.Errorf("-lock-timeout must not be negative, got %s", d)
	}
	// Opened before locking: a missing state says to run init, rather than leaving a lock
	// file beside nothing.
	store, err := openExisting(c, sys)
	if err != nil {
		return nil, nil, err
	}
	lock, err := store.Lock(c.Context, command, c.Duration("lock-timeout"))
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	closeAll := func() { store.Close(); lock.Release() }
	n, err := store.MarkInterrupted(c.Context)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	if n > 0 {
		fmt.Fprintf(sys.Stderr, "%d %s left 'sending' by a run that stopped: their outcome is unknown until checked.\n", n, pluralWord(n, "message was", "messages were"))
	}
	return store, closeAll, nil
}

func unknownGraceFlag() cli.Flag {
	return &cli.DurationFlag{Name: "unknown-grace", Value: 10 * time.Minute, Usage: "with an idempotency window: how long a message of unknown outcome, not found in Infobip's logs, waits before it is sent again (same messageId)"}
}

func idempotencyWindowFlag() cli.Flag {
	return &cli.StringFlag{Name: "idempotency-window", Usage: "declare that Infobip enabled idempotent sending for the account with this grace period `D` (24h, or seconds; default $" + infobip.EnvIdempotencyWindow + "); without it, a message of unknown outcome is never resent automatically"}
}

// reconcileOptions reads -unknown-grace and the declared idempotency window (the flag, else
// INFOBIP_IDEMPOTENCY_WINDOW).
func reconcileOptions(c *cli.Context, sys IO) (runner.ReconcileOptions, error) {
	v, from := c.String("idempotency-window"), "-idempotency-window"
	if !c.IsSet("idempotency-window") {
		v, from = sys.Getenv(infobip.EnvIdempotencyWindow), infobip.EnvIdempotencyWindow
	}
	window, err := infobip.ParseWindow(v)
	if err != nil {
		return runner.ReconcileOptions{}, fmt.Errorf("%s: %w", from, err)
	}
	return runner.ReconcileOptions{Grace: c.Duration("unknown-grace"), Window: window,
		Progress: progressFor(c, sys, "Looking up unknown outcomes in Infobip's logs")}, nil
}

// printReconciliation says what looking unknown outcomes up found, and why the others wait.
// warnLogsStopped says, on stderr, that the lookup of unknown outcomes stopped before the
// end of the logs, and what becomes of the messages it did not find.
func warnLogsStopped(sys IO, rec runner.Reconciliation) {
	if rec.Stopped != "" {
		fmt.Fprintf(sys.Stderr, "Warning: %s. The messages of unknown outcome it did not find stay unknown, and none is sent again; a later refresh or apply looks again.\n", rec.Stopped)
	}
}

func printReconciliation(w io.Writer, rec runner.Reconciliation) {
	fmt.Fprintf(w, "Checked %s %s of unknown outcome in Infobip's logs: %s found (recorded)", runner.Thousands(rec.Checked), pluralWord(rec.Checked, "message", "messages"), runner.Thousands(rec.Found))
	if rec.Resend > 0 {
		fmt.Fprintf(w, ", %s to send again with the same messageId (%s)", runner.Thousands(rec.Resend), rec.Reasons[runner.Resend])
	}
	if rec.Waiting > 0 {
		fmt.Fprintf(w, ", %s left unknown (%s)", runner.Thousands(rec.Waiting), rec.Reasons[runner.Wait])
	}
	if rec.NeedsPerson > 0 {
		fmt.Fprintf(w, ", %s for a person to decide (%s)", runner.Thousands(rec.NeedsPerson), rec.Reasons[runner.NeedsPerson])
	}
	fmt.Fprint(w, ".\n\n")
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
	_, saved, set, err := loadInputs(c.Args().Slice(), statePath(c), true, nil)
	if err != nil {
		return err
	}
	opts := runner.PlanOptions{RetryFailed: c.Bool("retry-failed")}
	if saved != nil {
		if c.IsSet("retry-failed") {
			return errors.New("-retry-failed cannot be combined with a saved plan: it was decided when the plan was made (`smsform plan -retry-failed -out FILE`)")
		}
		opts.RetryFailed = saved.RetryFailed
	}
	store, closeAll, err := openLocked(c, sys, "apply")
	if err != nil {
		return err
	}
	defer closeAll()
	client := lazyClient(sys)
	release := func() {}
	defer func() { release() }()
	if c.Int("allow-over-limit") < 0 {
		return fmt.Errorf("-allow-over-limit must be a number of messages, got %d", c.Int("allow-over-limit"))
	}
	run := runner.ApplyRun{
		Store: store, Set: set, Saved: saved, Plan: opts, Reconcile: ropts, AllowOverLimit: c.Int("allow-over-limit"),
		Apply: runner.ApplyOptions{Parallelism: c.Int("parallelism"), BatchSize: c.Int("batch-size")},
		BeforeSend: func(o *runner.ApplyOptions) {
			// Signals are taken over only now: until sending starts, Ctrl-C simply ends the run.
			o.Stop, release = interrupts(sys)
			if sys.ErrTerminal && !asJSON {
				o.Progress = progress(sys, "Sending")
			}
			// While sending, the heap holds the plan and short-lived batches: collecting
			// less often saves rescanning the plan for every few batches (see main's GOGC).
			if sys.Getenv("GOGC") == "" {
				old := debug.SetGCPercent(100)
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
				fmt.Fprintf(human, "%d %s of unknown outcome, cleared for sending again, %s no longer in the files: recorded as abandoned, never sent again (see `smsform state list -only abandoned`).\n\n", abandoned, pluralWord(abandoned, "message", "messages"), pluralWord(abandoned, "is", "are"))
			}
			return showPlan(human, p, false, c.Bool("verbose"), mask)
		},
	}
	if saved == nil && !c.Bool("auto-approve") {
		run.Confirm = func(p *runner.Plan) error {
			if !sys.InTerminal {
				return errors.New("apply asks for confirmation, but stdin is not a terminal: pass -auto-approve, or apply a saved plan (`smsform plan -out FILE`, then `smsform apply FILE`)")
			}
			prompt := sys.Stdout
			if asJSON { // stdout holds only the JSON result
				prompt = sys.Stderr
			}
			fmt.Fprintf(prompt, "\nSend %s %s (%s SMS %s) through Infobip at %s?\n  Only 'yes' will be accepted: ",
				runner.Thousands(p.Summary.Send), pluralWord(p.Summary.Send, "message", "messages"),
				runner.Thousands(p.Summary.SmsParts), pluralWord(p.Summary.SmsParts, "part", "parts"), apiHost(sys))
			answer, _ := bufio.NewReader(sys.Stdin).ReadString('\n')
			if strings.TrimSpace(answer) != "yes" {
				fmt.Fprintln(prompt, "\nApply cancelled; nothing was sent.")
				return exitCode(ExitError)
			}
			return nil
		}
	}
	out, err := runner.RunApply(c.Context, run)
	if err != nil && !out.Applied {
		return err // stopped before sending anything: nothing to summarise
	}
	return finishApply(c, sys, store, out, ropts.Window, mask, err)
}

// finishApply prints the result, also of a run that stopped on runErr, and picks the exit
// code.
func finishApply(c *cli.Context, sys IO, store state.Store, out runner.ApplyOutcome, window time.Duration, mask campaign.Mask, runErr error) error {
	res, p := out.Result, out.Plan
	n, err := store.CountUnresolved(context.WithoutCancel(c.Context))
	if err != nil {
		return errors.Join(runErr, err)
	}
	res.Unresolved = n
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
			fmt.Fprintf(w, "Recorded %s capped %s (over a frequency cap): never sent for this round.\n", runner.Thousands(n), pluralWord(n, "message", "messages"))
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

// unresolvedHelp says how many messages wait with an unknown outcome, why, and what to do.
func unresolvedHelp(w io.Writer, n int, window time.Duration) {
	fmt.Fprintf(w, "%s %s in the state %s an unknown outcome (`smsform state list -only unknown`): Infobip may or may not have sent %s, and its logs do not show %s yet.\n",
		runner.Thousands(n), pluralWord(n, "message", "messages"), pluralWord(n, "has", "have"), pluralWord(n, "it", "them"), pluralWord(n, "it", "them"))
	if window > 0 {
		fmt.Fprintf(w, "The account is declared idempotent (window %s): the next apply sends %s again with the same messageId once -unknown-grace has passed, while the first attempt is well inside the window; past it, only a person can decide.\n",
			window, pluralWord(n, "it", "them"))
	} else {
		fmt.Fprintf(w, "Nothing resends %s automatically: on an Infobip account without idempotent sending (the default; see %s) a resend reaches the phone a second time.\n",
			pluralWord(n, "it", "them"), infobip.EnvIdempotencyWindow)
	}
	fmt.Fprintln(w, "What to do: run `smsform refresh` (or apply) again later to look them up in the logs once more; or, once you know (Infobip's portal shows what was sent), decide with `smsform state resolve -as sent|unsent [-campaign ID] [ID|+NUMBER...]`.")
}
