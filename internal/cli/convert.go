package cli

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/internal/words"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

func convertCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "convert",
		Usage:     "submit conversions from event CSVs exported from the product, once per message",
		ArgsUsage: "CSV...",
		Description: "Each row names a sent message by a messageId (or message_id) column, or by a to (or phone)\n" +
			"column plus a campaign column or -campaign ID (the campaign's latest round). Every file is\n" +
			"checked first: a malformed one stops the run before anything is submitted.",
		Flags: stateFlags(true,
			&cli.StringFlag{Name: "campaign", Usage: "campaign `ID` for rows that match by number and have no campaign column"},
			&cli.StringFlag{Name: "region", Usage: "country (such as CH) for numbers written without a country code"},
			&cli.BoolFlag{Name: "dry-run", Usage: "match and count only; submit nothing"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
			&cli.IntFlag{Name: "parallelism", Value: 16, Usage: "conversions in flight"},
		),
		Action: func(c *cli.Context) error {
			mask, err := numberMask(c, sys)
			if err != nil {
				return err
			}
			files := c.Args().Slice()
			if len(files) == 0 {
				return errors.New("convert needs at least one events CSV, such as `smsform convert events/2026-11-27.csv`")
			}
			if err := checkDurations(c); err != nil {
				return err
			}
			if p := c.Int("parallelism"); p < 1 || p > 256 {
				return fmt.Errorf("-parallelism must be between 1 and 256, got %d", p)
			}
			if err := runner.CheckEvents(files, c.String("campaign")); err != nil {
				return err
			}
			opts := runner.ConvertOptions{Campaign: c.String("campaign"), Region: c.String("region"), DryRun: c.Bool("dry-run"), Parallelism: c.Int("parallelism"),
				Recovered: func(n int) {
					fmt.Fprintf(sys.Stderr, "%s %s left 'submitting' by a run that stopped: recorded as unknown, not submitted again.\n", runner.Thousands(n), words.Plural(n, "conversion was", "conversions were"))
				}}
			var res runner.ConvertResult
			err = withLockedStore(c, sys, "convert", func(store state.Store) error {
				var api runner.Converter
				if !opts.DryRun {
					cl, err := lazyClient(sys)()
					if err != nil {
						return err
					}
					api = cl
				}
				stop, release := interrupts(sys)
				defer release()
				opts.Stop = stop
				if sys.ErrTerminal && !c.Bool("json") {
					opts.Progress = progress(sys, "Converting")
				}
				var err error
				res, err = runner.Convert(c.Context, files, store, api, opts)
				if perr := printConvert(sys, c.Bool("json"), opts.DryRun, res, mask); perr != nil && err == nil {
					err = perr
				}
				return err
			})
			switch {
			case err != nil:
				return err
			case res.Stopped:
				return &exitError{code: ExitError, err: fmt.Errorf("stopped by a signal: %s not submitted; run convert again", runner.Thousands(res.NotSent)+" "+words.Plural(res.NotSent, "conversion", "conversions"))}
			case res.Failed > 0 || res.Unknown > 0:
				return exitCode(ExitPartial)
			}
			return nil
		},
	}
}

func printConvert(sys IO, asJSON, dryRun bool, res runner.ConvertResult, mask campaign.Mask) error {
	if asJSON {
		return printDoc(sys.Stdout, res)
	}
	w := sys.Stdout
	verb := "Submitted"
	n := res.Submitted
	if dryRun {
		verb, n = "Would submit", res.ToSubmit
	}
	count := func(n int, one, many string) string { return runner.Thousands(n) + " " + words.Plural(n, one, many) }
	fmt.Fprintf(w, "%s %s from %s; %s already converted, %s unmatched, %s sent without tracking, %s",
		verb, count(n, "conversion", "conversions"), count(res.Rows, "row", "rows"),
		runner.Thousands(res.AlreadyConverted), runner.Thousands(res.Unmatched), runner.Thousands(res.Untracked),
		count(res.DuplicateRows, "repeated row", "repeated rows"))
	if res.NotSentMessages > 0 {
		fmt.Fprintf(w, ", %s of messages never sent (rejected or unknown outcome)", count(res.NotSentMessages, "row", "rows"))
	}
	if res.Failed > 0 || res.Unknown > 0 {
		fmt.Fprintf(w, "; %s failed, %s unknown", runner.Thousands(res.Failed), runner.Thousands(res.Unknown))
	}
	if res.PreviouslyFailed > 0 || res.PreviouslyUnknown > 0 {
		fmt.Fprintf(w, "; %s failed and %s unknown in an earlier run (not submitted again)", runner.Thousands(res.PreviouslyFailed), runner.Thousands(res.PreviouslyUnknown))
	}
	fmt.Fprintln(w, ".")
	for _, e := range res.Examples {
		fmt.Fprintf(w, "  %s\n", safetext.Escape(mask.Text(e)))
	}
	return nil
}
