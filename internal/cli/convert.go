package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/runner"
)

func convertCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "convert",
		Usage:     "submit conversions from event CSVs exported from the product, once per message",
		ArgsUsage: "CSV...",
		Description: "Each row names a sent message by a messageId (or message_id) column, or by a to (or phone)\n" +
			"column plus a campaign column or -campaign ID (the campaign's latest round). Every file is\n" +
			"checked first: a malformed one stops the run before anything is submitted.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "campaign", Usage: "campaign `ID` for rows that match by number and have no campaign column"},
			&cli.StringFlag{Name: "region", Usage: "country (such as CH) for numbers written without a country code"},
			&cli.BoolFlag{Name: "dry-run", Usage: "match and count only; submit nothing"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
			&cli.IntFlag{Name: "parallelism", Value: 16, Usage: "conversions in flight"},
			lockTimeoutFlag(),
			stateFlag(false),
		},
		Action: func(c *cli.Context) error {
			files := c.Args().Slice()
			if len(files) == 0 {
				return errors.New("convert needs at least one events CSV, such as `smsform convert events/2026-11-27.csv`")
			}
			if p := c.Int("parallelism"); p < 1 || p > 256 {
				return fmt.Errorf("-parallelism must be between 1 and 256, got %d", p)
			}
			if err := runner.CheckEvents(files, c.String("campaign")); err != nil {
				return err
			}
			store, closeAll, err := openLocked(c, sys, "convert")
			if err != nil {
				return err
			}
			defer closeAll()
			if n, err := store.MarkConversionsInterrupted(c.Context); err != nil {
				return err
			} else if n > 0 {
				fmt.Fprintf(sys.Stderr, "%d %s left 'submitting' by a run that stopped: recorded as unknown, not submitted again.\n", n, pluralWord(n, "conversion was", "conversions were"))
			}
			opts := runner.ConvertOptions{Campaign: c.String("campaign"), Region: c.String("region"), DryRun: c.Bool("dry-run"), Parallelism: c.Int("parallelism")}
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
			res, err := runner.Convert(c.Context, files, store, api, opts)
			if perr := printConvert(sys, c.Bool("json"), opts.DryRun, res); perr != nil && err == nil {
				err = perr
			}
			switch {
			case err != nil:
				return err
			case res.Stopped:
				return &exitError{code: ExitError, err: fmt.Errorf("stopped by a signal: %d conversions not submitted; run convert again", res.NotSent)}
			case res.Failed > 0 || res.Unknown > 0:
				return exitCode(ExitPartial)
			}
			return nil
		},
	}
}

func printConvert(sys IO, asJSON, dryRun bool, res runner.ConvertResult) error {
	if asJSON {
		enc := json.NewEncoder(sys.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	w := sys.Stdout
	verb := "Submitted"
	n := res.Submitted
	if dryRun {
		verb, n = "Would submit", res.ToSubmit
	}
	fmt.Fprintf(w, "%s %d %s from %d %s; %d already converted, %d unmatched, %d not sent with tracking, %d repeated rows",
		verb, n, pluralWord(n, "conversion", "conversions"), res.Rows, pluralWord(res.Rows, "row", "rows"),
		res.AlreadyConverted, res.Unmatched, res.Untracked, res.DuplicateRows)
	if res.Failed > 0 || res.Unknown > 0 {
		fmt.Fprintf(w, "; %d failed, %d unknown", res.Failed, res.Unknown)
	}
	if res.PreviouslyFailed > 0 || res.PreviouslyUnknown > 0 {
		fmt.Fprintf(w, "; %d failed and %d unknown in an earlier run (not submitted again)", res.PreviouslyFailed, res.PreviouslyUnknown)
	}
	fmt.Fprintln(w, ".")
	for _, e := range res.Examples {
		fmt.Fprintf(w, "  %s\n", e)
	}
	return nil
}

func reportCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "sent / delivered / failed / converted and conversion rate per campaign, from the state",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "campaign", Usage: "only this campaign `ID`"},
			&cli.StringFlag{Name: "by", Usage: "split each campaign round by day (sent), country or type (tracking type)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			&cli.BoolFlag{Name: "csv", Usage: "print CSV (cells a spreadsheet would run as formulas are escaped)"},
			&cli.StringFlag{Name: "html", Usage: "write a self-contained HTML page with charts to `FILE`", TakesFile: true},
			stateFlag(false),
		},
		Action: func(c *cli.Context) error {
			formats := 0
			for _, f := range []bool{c.Bool("json"), c.Bool("csv"), c.String("html") != ""} {
				if f {
					formats++
				}
			}
			if formats > 1 {
				return errors.New("choose one of -json, -csv and -html")
			}
			store, err := openExisting(c, sys)
			if err != nil {
				return err
			}
			defer store.Close()
			rep, err := runner.BuildReport(c.Context, store, c.String("campaign"), c.String("by"))
			if err != nil {
				return err
			}
			switch {
			case c.Bool("json"):
				enc := json.NewEncoder(sys.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			case c.Bool("csv"):
				return rep.WriteCSV(sys.Stdout)
			case c.String("html") != "":
				daily, err := runner.BuildReport(c.Context, store, c.String("campaign"), runner.ByDay)
				if err != nil {
					return err
				}
				f, err := os.Create(c.String("html"))
				if err != nil {
					return err
				}
				if err := rep.WriteHTML(f, daily, time.Now()); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				fmt.Fprintf(sys.Stdout, "Wrote %s.\n", c.String("html"))
				return nil
			}
			if len(rep.Campaigns) == 0 {
				fmt.Fprintln(sys.Stdout, "Nothing recorded yet: run `smsform apply` first.")
				return nil
			}
			return rep.WriteText(sys.Stdout)
		},
	}
}
