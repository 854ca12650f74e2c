package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state"
)

func optOutsCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:  "opt-outs",
		Usage: "list the numbers that opted out (STOP replies, added by hand); add or remove one",
		Description: "Marketing campaigns never send to a number listed here (plan shows it as suppressed);\n" +
			"transactional campaigns do. `smsform refresh` records STOP replies; removed opt-outs are kept,\n" +
			"with who removed them and when, and listed with -all.",
		Flags: stateFlags(false,
			&cli.BoolFlag{Name: "all", Usage: "list removed opt-outs too"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		),
		Action: func(c *cli.Context) error {
			mask, err := numberMask(c, sys)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return fmt.Errorf("state opt-outs: unknown subcommand %q; use add or remove, or no argument to list", safetext.Escape(c.Args().First()))
			}
			var list []state.OptOut
			err = withStore(c, sys, func(store state.Store) (err error) {
				list, err = store.OptOuts(c.Context, c.Bool("all"))
				return err
			})
			if err != nil {
				return err
			}
			if c.Bool("json") {
				if list == nil {
					list = []state.OptOut{}
				}
				return printJSON(sys.Stdout, list)
			}
			return printOptOuts(sys, list, c.Bool("all"), mask)
		},
		Subcommands: []*cli.Command{optOutAddCommand(sys), optOutRemoveCommand(sys)},
	}
}

// printOptOuts lists the opt-outs as a table; with all, removed ones say who removed them.
func printOptOuts(sys IO, list []state.OptOut, all bool, mask campaign.Mask) error {
	if len(list) == 0 {
		fmt.Fprintln(sys.Stdout, "No opt-outs.")
		return nil
	}
	tw := tabwriter.NewWriter(sys.Stdout, 0, 0, 2, ' ', 0)
	head := "NUMBER\tSINCE\tSOURCE"
	if all {
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
		if all && o.Removed() {
			rem := fmt.Sprintf("%s by %s", o.RemovedAt.UTC().Format("2006-01-02T15:04Z"), o.RemovedBy)
			if o.RemovedReason != "" {
				rem += ": " + o.RemovedReason
			}
			line += "\t" + safetext.Escape(mask.Text(rem))
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// regionFlag is -region, for numbers written without their country code.
func regionFlag() cli.Flag {
	return &cli.StringFlag{Name: "region", Usage: "country (such as CH) for a number written without a country code"}
}

// optOutNumber is the one number state opt-outs add and remove take, read as every
// command reads a number (phoneNumber), with -region for a national one.
func optOutNumber(c *cli.Context, verb string) (string, error) {
	if c.NArg() != 1 {
		return "", fmt.Errorf("state opt-outs %s needs one number, such as +41793026731", verb)
	}
	return phoneNumber("state opt-outs "+verb+":", c.Args().First(), c.String("region"), "give -region")
}

func optOutAddCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "add",
		Usage:     "record an opt-out by hand (one that arrived another way, or a STOP reply that was lost)",
		ArgsUsage: "+NUMBER",
		Flags: stateFlags(true,
			&cli.StringFlag{Name: "reason", Usage: "why, for the record (`R`)"},
			&cli.StringFlag{Name: "by", Usage: "who adds it (default $USER@host)"},
			regionFlag(),
		),
		Action: func(c *cli.Context) error {
			mask, err := numberMask(c, sys)
			if err != nil {
				return err
			}
			n, err := optOutNumber(c, "add")
			if err != nil {
				return err
			}
			by := author(c, sys)
			return withLockedStore(c, sys, "state opt-outs add", func(store state.Store) error {
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
			})
		},
	}
}

func optOutRemoveCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "remove",
		Usage:     "lift a number's opt-out (it asked to receive marketing texts again); records who and when",
		ArgsUsage: "+NUMBER",
		Flags: stateFlags(true,
			&cli.StringFlag{Name: "by", Required: true, Usage: "who removes it (`WHO`): recorded with the opt-out"},
			&cli.StringFlag{Name: "reason", Usage: "why, for the record (`R`)"},
			regionFlag(),
		),
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
			return withLockedStore(c, sys, "state opt-outs remove", func(store state.Store) error {
				removed, err := store.RemoveOptOut(c.Context, n, by, c.String("reason"), time.Now())
				if err != nil {
					return err
				}
				if !removed {
					return fmt.Errorf("%s has no opt-out to remove; see `smsform state opt-outs -all`", mask.Number(n))
				}
				fmt.Fprintf(sys.Stdout, "Removed the opt-out of %s (by %s); it stays in the history (`smsform state opt-outs -all`).\n", mask.Number(n), safetext.Escape(by))
				return nil
			})
		},
	}
}
