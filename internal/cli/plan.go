package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/backend"
)

func planFlags() []cli.Flag {
	return stateFlags(false,
		&cli.BoolFlag{Name: "json", Usage: "print the plan as one JSON document"},
		&cli.BoolFlag{Name: "verbose", Usage: "list every message, not the first few per campaign"},
		&cli.BoolFlag{Name: "retry-failed", Usage: "plan failed messages for sending again, with a fresh messageId"},
	)
}

func planCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "show what apply would send: files compared with the state; no network",
		ArgsUsage: "[PATH...]",
		Flags: append(planFlags(),
			&cli.StringFlag{Name: "out", Usage: "save the plan to `FILE` for `smsform apply FILE`", TakesFile: true},
			&cli.BoolFlag{Name: "detailed-exitcode", Usage: "exit 0 when apply has nothing to do, 2 when it has (messages to send, or capped messages to record), 1 on error"},
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

// stateNames lets runner check that a saved plan is applied to the state it was made with.
var stateNames = runner.StateNames{Same: backend.Same, Name: backend.Name}

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
	// The state's records of the campaigns' rounds (and, under a frequency cap, the
	// marketing messages it counts) are read while the recipients load
	// (runner.PrefetchState): the state is opened then, once.
	var store state.Store
	var openErr error
	var once sync.Once
	open := func() (state.Reader, error) {
		once.Do(func() { store, openErr = openExisting(c, sys) })
		return store, openErr
	}
	ctx, cancel := context.WithCancel(c.Context)
	var early *runner.StateRead
	defer func() {
		cancel()
		early.Wait()
		if store != nil {
			store.Close()
		}
	}()
	in, err := runner.LoadInputs(c.Args().Slice(), statePath(c), stateNames, false, func(cs []*campaign.Campaign) {
		early = runner.PrefetchState(ctx, open, cs, time.Now())
	})
	if err != nil {
		return err
	}
	if _, err := open(); err != nil {
		return err
	}
	p, err := runner.PlanFrom(c.Context, store, in.Set, time.Now(), opts, early)
	if err != nil {
		return err
	}
	switch {
	case c.Bool("markdown"):
		err = p.WriteMarkdown(sys.Stdout, runner.MarkdownOptions{Warnings: campaign.LintSet(in.Set)})
	default:
		err = showPlan(sys.Stdout, p, c.Bool("json"), c.Bool("verbose"), mask)
	}
	if err != nil {
		return err
	}
	if out := c.String("out"); out != "" {
		if err := p.Save(out, in.Paths, backend.Name(statePath(c)), opts, time.Now()); err != nil {
			return err
		}
		if !c.Bool("json") && !c.Bool("markdown") {
			fmt.Fprintf(sys.Stdout, "\nSaved the plan to %s. To send exactly this, run:\n    smsform apply %s\n", out, out)
		}
	}
	// Capped messages still to record are work for apply too: left unrecorded, they would
	// be sent once the cap's window had passed.
	if c.Bool("detailed-exitcode") && (p.Summary.Send > 0 || p.NewlyCapped() > 0) {
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
