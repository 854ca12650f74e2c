package cli

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

func stopWordsFlag() cli.Flag {
	return &cli.StringFlag{Name: "stop-words", EnvVars: []string{"SMSFORM_STOP_WORDS"}, Value: strings.Join(runner.DefaultStopWords, ","),
		Usage: "replies that opt a number out, comma-separated, any case (`W1,W2`)"}
}

func stopWords(c *cli.Context) (runner.StopWords, error) {
	sw, err := runner.NewStopWords(strings.Split(c.String("stop-words"), ","))
	if err != nil {
		return nil, fmt.Errorf("-stop-words (or SMSFORM_STOP_WORDS): %w", err)
	}
	return sw, nil
}

// refreshOptOuts pulls the inbound replies and records them, and the opt-outs among them.
func refreshOptOuts(c *cli.Context, store state.Store, in runner.InboundReader, sw runner.StopWords) (runner.OptOutResult, error) {
	return runner.RefreshOptOuts(c.Context, store, in, runner.RefreshOptOutsOptions{StopWords: sw, Now: time.Now()})
}

func printOptOutResult(sys IO, res runner.OptOutResult) {
	fmt.Fprintf(sys.Stdout, "Inbound replies: %s new %s recorded, %s new %s.\n", runner.Thousands(res.Replies), pluralWord(res.Replies, "reply", "replies"),
		runner.Thousands(res.OptOuts), pluralWord(res.OptOuts, "opt-out", "opt-outs"))
}

// warnOptOuts says, on stderr, what refresh could not record of the inbound replies as
// Infobip gave them.
func warnOptOuts(sys IO, res runner.OptOutResult, mask campaign.Mask) {
	for _, w := range res.Warnings() {
		fmt.Fprintf(sys.Stderr, "Warning: %s.\n", mask.Text(w))
	}
}

// whoAmI is who a person recorded as the author of a decision is by default: $USER@host.
func whoAmI(sys IO) string {
	by := sys.Getenv("USER")
	if by == "" {
		by = "unknown user"
	}
	if host, err := os.Hostname(); err == nil {
		by += "@" + host
	}
	return by
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func optOutNumber(c *cli.Context, verb string) (string, error) {
	if c.NArg() != 1 {
		return "", fmt.Errorf("state opt-outs %s needs one number in E.164 form, such as +41793026731", verb)
	}
	n := strings.TrimSpace(c.Args().First())
	if !e164.MatchString(n) {
		return "", fmt.Errorf("state opt-outs %s: %q is not an E.164 number: write it as + country code and number, such as +41793026731", verb, safetext.Escape(n))
	}
	return n, nil
}

func optOutsCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:  "opt-outs",
		Usage: "list the numbers that opted out (STOP replies, added by hand); add or remove one",
		Description: "Marketing campaigns never send to a number listed here (plan shows it as suppressed);\n" +
			"transactional campaigns do. `smsform refresh` records STOP replies; removed opt-outs are kept,\n" +
			"with who removed them and when, and listed with -all.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Usage: "list removed opt-outs too"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			maskFlag(),
			stateFlag(false),
		},
		Action: func(c *cli.Context) error {
			mask, err := numberMask(c, sys)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return fmt.Errorf("state opt-outs: unknown subcommand %q; use add or remove, or no argument to list", safetext.Escape(c.Args().First()))
			}
			store, err := openExisting(c, sys)
			if err != nil {
				return err
			}
			defer store.Close()
			list, err := store.OptOuts(c.Context, c.Bool("all"))
			if err != nil {
				return err
			}
			if c.Bool("json") {
				if list == nil {
					list = []state.OptOut{}
				}
				return printJSON(sys.Stdout, list)
			}
			if len(list) == 0 {
				fmt.Fprintln(sys.Stdout, "No opt-outs.")
				return nil
			}
			tw := tabwriter.NewWriter(sys.Stdout, 0, 0, 2, ' ', 0)
			head := "NUMBER\tSINCE\tSOURCE"
			if c.Bool("all") {
				head += "\tREMOVED"
			}
			fmt.Fprintln(tw, head)
			for _, o := range list {
				src := o.Source
				if o.AddedBy != "" {
					src += " by " + o.AddedBy
				}
				if o.Reason != "" {
					src += ": " + o.Reason
				}
				line := fmt.Sprintf("%s\t%s\t%s", safetext.Escape(mask.Number(o.Number)), o.ReceivedAt.UTC().Format("2006-01-02T15:04Z"), safetext.Escape(mask.Text(src)))
				if c.Bool("all") && o.Removed() {
					rem := fmt.Sprintf("%s by %s", o.RemovedAt.UTC().Format("2006-01-02T15:04Z"), o.RemovedBy)
					if o.RemovedReason != "" {
						rem += ": " + o.RemovedReason
					}
					line += "\t" + safetext.Escape(mask.Text(rem))
				}
				fmt.Fprintln(tw, line)
			}
			return tw.Flush()
		},
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "record an opt-out by hand (one that arrived another way, or a STOP reply that was lost)",
				ArgsUsage: "+NUMBER",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "reason", Usage: "why, for the record (`R`)"},
					&cli.StringFlag{Name: "by", Usage: "who adds it (default $USER@host)"},
					lockTimeoutFlag(),
					maskFlag(),
					stateFlag(false),
				},
				Action: func(c *cli.Context) error {
					mask, err := numberMask(c, sys)
					if err != nil {
						return err
					}
					n, err := optOutNumber(c, "add")
					if err != nil {
						return err
					}
					by := c.String("by")
					if by == "" {
						by = whoAmI(sys)
					}
					store, closeAll, err := openLocked(c, sys, "state opt-outs add")
					if err != nil {
						return err
					}
					defer closeAll()
					added, err := store.AddOptOut(c.Context, state.OptOut{Number: n, Source: "added by hand", AddedBy: by, Reason: c.String("reason"), ReceivedAt: time.Now()})
					if err != nil {
						return err
					}
					if !added {
						fmt.Fprintf(sys.Stdout, "%s has opted out already; nothing recorded.\n", mask.Number(n))
						return nil
					}
					fmt.Fprintf(sys.Stdout, "Recorded the opt-out of %s (by %s): marketing campaigns no longer send to it.\n", mask.Number(n), safetext.Escape(by))
					return nil
				},
			},
			{
				Name:      "remove",
				Usage:     "lift a number's opt-out (it asked to receive marketing texts again); records who and when",
				ArgsUsage: "+NUMBER",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "by", Required: true, Usage: "who removes it (`WHO`): recorded with the opt-out"},
					&cli.StringFlag{Name: "reason", Usage: "why, for the record (`R`)"},
					lockTimeoutFlag(),
					maskFlag(),
					stateFlag(false),
				},
				Action: func(c *cli.Context) error {
					mask, err := numberMask(c, sys)
					if err != nil {
						return err
					}
					n, err := optOutNumber(c, "remove")
					if err != nil {
						return err
					}
					by := strings.TrimSpace(c.String("by"))
					if by == "" {
						return fmt.Errorf("state opt-outs remove: -by must name who removes the opt-out")
					}
					store, closeAll, err := openLocked(c, sys, "state opt-outs remove")
					if err != nil {
						return err
					}
					defer closeAll()
					removed, err := store.RemoveOptOut(c.Context, n, by, c.String("reason"), time.Now())
					if err != nil {
						return err
					}
					if !removed {
						return fmt.Errorf("%s has no opt-out to remove; see `smsform state opt-outs -all`", mask.Number(n))
					}
					fmt.Fprintf(sys.Stdout, "Removed the opt-out of %s (by %s); it stays in the history (`smsform state opt-outs -all`).\n", mask.Number(n), safetext.Escape(by))
					return nil
				},
			},
		},
	}
}
