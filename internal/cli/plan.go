package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

func validateCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check every campaign file under PATHs (default .); no network, no state",
		ArgsUsage: "[PATH...]",
		Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"}, stateFlag(false)},
		Action: func(c *cli.Context) error {
			set, err := campaign.Load(c.Args().Slice()...)
			if c.Bool("json") {
				return validateJSON(sys.Stdout, set, err)
			}
			if err != nil {
				return err
			}
			n := 0
			for _, cp := range set.Campaigns {
				n += len(cp.Recipients)
			}
			fmt.Fprintf(sys.Stdout, "Success! %d %s with %d %s in %d %s are valid.\n",
				len(set.Campaigns), pluralWord(len(set.Campaigns), "campaign", "campaigns"),
				n, pluralWord(n, "recipient", "recipients"), len(set.Files), pluralWord(len(set.Files), "file", "files"))
			return nil
		},
	}
}

func validateJSON(w io.Writer, set *campaign.Set, err error) error {
	type problem struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Field   string `json:"field,omitempty"`
		Message string `json:"message"`
	}
	out := struct {
		Valid      bool      `json:"valid"`
		Campaigns  int       `json:"campaigns"`
		Recipients int       `json:"recipients"`
		Problems   []problem `json:"problems"`
		Dropped    int       `json:"problems_not_listed,omitempty"`
	}{Valid: err == nil, Problems: []problem{}}
	var ve *campaign.ValidationError
	switch {
	case err == nil:
		out.Campaigns = len(set.Campaigns)
		for _, c := range set.Campaigns {
			out.Recipients += len(c.Recipients)
		}
	case errors.As(err, &ve):
		for _, p := range ve.Problems {
			out.Problems = append(out.Problems, problem{p.File, p.Line, p.Field, p.Msg})
		}
		out.Dropped = ve.Dropped
	default:
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if err != nil {
		return exitCode(ExitError)
	}
	return nil
}

// planInputs is what plan and apply both start from.
type planInputs struct {
	paths []string
	set   *campaign.Set
	store *state.Store
	plan  *runner.Plan
	saved *runner.SavedPlan
}

// makePlan loads the files (or a saved plan's files), reads the state and plans.
func makePlan(ctx context.Context, statePath string, args []string, opts runner.PlanOptions, allowSaved bool) (*planInputs, error) {
	in := &planInputs{paths: args}
	if allowSaved && len(args) == 1 {
		if info, err := os.Stat(args[0]); err == nil && !info.IsDir() {
			sp, ok, err := runner.ReadSavedPlan(args[0])
			if err != nil {
				return nil, err
			}
			if ok {
				in.saved = sp
				in.paths = sp.Paths
				opts.RetryFailed = sp.RetryFailed
				if sp.StatePath != "" && statePath != sp.StatePath {
					return nil, fmt.Errorf("%w: the plan was made with state %s, this run uses %s", runner.ErrStalePlan, sp.StatePath, statePath)
				}
			}
		}
	}
	set, err := campaign.Load(in.paths...)
	if err != nil {
		return nil, err
	}
	in.set = set
	store, err := state.Open(ctx, statePath)
	if err != nil {
		return nil, err
	}
	in.store = store
	snap, err := store.Snapshot(ctx, runner.Rounds(set))
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("read state %s: %w", statePath, err)
	}
	in.plan, err = runner.MakePlan(set, snap, time.Now(), opts)
	if err != nil {
		store.Close()
		return nil, err
	}
	if in.saved != nil {
		if err := in.saved.Check(in.plan); err != nil {
			store.Close()
			return nil, err
		}
	}
	return in, nil
}

func planFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "json", Usage: "print the plan as one JSON document"},
		&cli.BoolFlag{Name: "verbose", Usage: "list every message, not the first few per campaign"},
		&cli.BoolFlag{Name: "retry-failed", Usage: "plan failed messages for sending again, with a fresh messageId"},
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
		),
		Action: func(c *cli.Context) error {
			opts := runner.PlanOptions{RetryFailed: c.Bool("retry-failed")}
			in, err := makePlan(c.Context, statePath(c), c.Args().Slice(), opts, false)
			if err != nil {
				return err
			}
			defer in.store.Close()
			if err := showPlan(sys.Stdout, in.plan, c.Bool("json"), c.Bool("verbose")); err != nil {
				return err
			}
			if out := c.String("out"); out != "" {
				if err := in.plan.Save(out, in.paths, statePath(c), opts, time.Now()); err != nil {
					return err
				}
				if !c.Bool("json") {
					fmt.Fprintf(sys.Stdout, "\nSaved the plan to %s. To send exactly this, run:\n    smsform apply %s\n", out, out)
				}
			}
			if c.Bool("detailed-exitcode") && in.plan.Summary.Send > 0 {
				return exitCode(ExitChanges)
			}
			return nil
		},
	}
}

func showPlan(w io.Writer, p *runner.Plan, asJSON, verbose bool) error {
	if asJSON {
		return p.WriteJSON(w)
	}
	shown := runner.DefaultShown
	if verbose {
		shown = -1
	}
	return p.WriteText(w, shown)
}

func applyCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "send what the plan says is missing, and record every message",
		ArgsUsage: "[PATH... | PLANFILE]",
		Flags: append(planFlags(),
			&cli.BoolFlag{Name: "auto-approve", Usage: "send without asking for 'yes'"},
			&cli.IntFlag{Name: "parallelism", Value: 4, Usage: "requests in flight"},
			&cli.IntFlag{Name: "batch-size", Value: 500, Usage: "messages per request"},
			&cli.DurationFlag{Name: "unknown-grace", Value: 10 * time.Minute, Usage: "how long a message of unknown outcome waits before it may be sent again"},
		),
		Action: func(c *cli.Context) error { return runApply(c, sys) },
	}
}

func runApply(c *cli.Context, sys IO) error {
	if c.Int("parallelism") < 1 || c.Int("parallelism") > 64 {
		return fmt.Errorf("-parallelism must be between 1 and 64, got %d", c.Int("parallelism"))
	}
	if c.Int("batch-size") < 1 || c.Int("batch-size") > 10000 {
		return fmt.Errorf("-batch-size must be between 1 and 10000, got %d", c.Int("batch-size"))
	}
	asJSON := c.Bool("json")
	opts := runner.PlanOptions{RetryFailed: c.Bool("retry-failed")}
	in, err := makePlan(c.Context, statePath(c), c.Args().Slice(), opts, true)
	if err != nil {
		return err
	}
	defer in.store.Close()
	p := in.plan
	// Human output goes to stdout, except with -json, where stdout holds only the result.
	human := sys.Stdout
	if asJSON {
		human = io.Discard
	}
	if err := showPlan(human, p, false, c.Bool("verbose")); err != nil {
		return err
	}
	if p.Summary.Send == 0 {
		return finishApply(sys, asJSON, runner.Result{}, p)
	}
	cfg, err := infobip.ConfigFromEnv(sys.Getenv)
	if err != nil {
		return err
	}
	client, err := infobip.New(cfg)
	if err != nil {
		return err
	}
	if in.saved == nil && !c.Bool("auto-approve") {
		if !sys.InTerminal {
			return errors.New("apply asks for confirmation, but stdin is not a terminal: pass -auto-approve, or apply a saved plan (`smsform plan -out FILE`, then `smsform apply FILE`)")
		}
		fmt.Fprintf(sys.Stdout, "\nSend %d %s (%d SMS parts) through %s?\n  Only 'yes' will be accepted: ",
			p.Summary.Send, pluralWord(p.Summary.Send, "message", "messages"), p.Summary.SmsParts, cfg.BaseURL)
		answer, _ := bufio.NewReader(sys.Stdin).ReadString('\n')
		if strings.TrimSpace(answer) != "yes" {
			fmt.Fprintln(sys.Stdout, "\nApply cancelled; nothing was sent.")
			return exitCode(ExitError)
		}
	}

	// The first SIGINT/SIGTERM stops new requests and lets the ones in flight be recorded;
	// the second exits at once (every batch is recorded as sending before it leaves).
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; !ok {
			return
		}
		fmt.Fprintln(sys.Stderr, "\nStopping: no new requests; waiting for the answers in flight (interrupt again to exit now).")
		close(stop)
		if _, ok := <-sigs; ok {
			fmt.Fprintln(sys.Stderr, "Exiting now; the next apply reconciles what was in flight.")
			os.Exit(ExitError)
		}
	}()

	aopts := runner.ApplyOptions{Parallelism: c.Int("parallelism"), BatchSize: c.Int("batch-size"), Stop: stop}
	if sys.ErrTerminal && !asJSON {
		start := time.Now()
		aopts.Progress = func(done, total int) {
			rate := float64(done) / max(time.Since(start).Seconds(), 0.001)
			fmt.Fprintf(sys.Stderr, "\rSending: %d/%d messages (%.0f/s)   ", done, total, rate)
			if done == total {
				fmt.Fprintln(sys.Stderr)
			}
		}
	}
	res, err := runner.Apply(c.Context, p, client, in.store, aopts)
	if ferr := finishApply(sys, asJSON, res, p); err == nil {
		return ferr
	}
	return err
}

// finishApply prints the result and picks the exit code.
func finishApply(sys IO, asJSON bool, res runner.Result, p *runner.Plan) error {
	if asJSON {
		enc := json.NewEncoder(sys.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		w := sys.Stdout
		if p.Summary.Send > 0 {
			fmt.Fprintf(w, "\nApply complete: %d sent (%d SMS parts), %d failed, %d unknown", res.Sent, res.SmsParts, res.Failed, res.Unknown)
			if res.NotSent > 0 {
				fmt.Fprintf(w, ", %d not sent", res.NotSent)
			}
			fmt.Fprintln(w, ".")
		}
		for _, pr := range res.Problems {
			fmt.Fprintf(w, "  %s %s %s: %s\n", pr.Campaign, pr.To, pr.State, pr.Reason)
		}
		if res.Unknown > 0 {
			fmt.Fprintln(w, "Messages with an unknown outcome are not resent blindly; the next apply checks them first.")
		}
		if res.Failed > 0 {
			fmt.Fprintln(w, "Failed messages are listed by `smsform state list -only failed`; `apply -retry-failed` sends them again.")
		}
	}
	switch {
	case res.Stopped:
		return &exitError{code: ExitError, err: fmt.Errorf("stopped by a signal: %d messages not sent; run apply again to send them", res.NotSent)}
	case res.Failed > 0 || res.Unknown > 0:
		return exitCode(ExitPartial)
	case p.Summary.Unknown > 0:
		return exitCode(ExitPartial)
	}
	return nil
}
