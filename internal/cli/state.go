package cli

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

// stateCommand is `smsform state`: its subcommands, each in a state_*.go file but list and
// show, which share listMessages.
func stateCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:  "state",
		Usage: "inspect the state; clear a stale lock; copy it to another backend",
		Subcommands: []*cli.Command{
			unlockCommand(sys),
			migrateCommand(sys),
			listCommand(sys),
			showCommand(sys),
			resolveCommand(sys),
			optOutsCommand(sys),
		},
	}
}

func listCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list recorded messages",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "campaign", Usage: "only this campaign `ID`"},
			&cli.StringSliceFlag{Name: "only", Usage: "only messages in these states: sending, sent, failed, unknown, abandoned, capped (comma-separated)"},
			stateFlag(false),
			&cli.IntFlag{Name: "limit", Value: 1000, Usage: "at most `N` messages (0: all)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			maskFlag(),
		},
		Action: func(c *cli.Context) error {
			f := state.Filter{Campaign: c.String("campaign"), Limit: c.Int("limit"), InFlight: true}
			for _, s := range c.StringSlice("only") {
				for _, one := range strings.Split(s, ",") {
					st := state.State(strings.TrimSpace(one))
					switch st {
					case state.Sending, state.Sent, state.Failed, state.Unknown, state.Abandoned, state.Capped:
					default:
						return fmt.Errorf("-only %q: use sending, sent, failed, unknown, abandoned or capped", one)
					}
					f.States = append(f.States, st)
				}
			}
			return listMessages(c, sys, f, c.Bool("json"))
		},
	}
}

func showCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show one message by messageId or E.164 number",
		ArgsUsage: "ID",
		Flags:     stateFlags(false, &cli.BoolFlag{Name: "json", Usage: "print JSON"}),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("state show needs one messageId or number, such as sf-3f2a... or +41793026731")
			}
			id := c.Args().First()
			f := state.Filter{MessageID: id, InFlight: true}
			if strings.HasPrefix(id, "+") {
				f = state.Filter{To: id, InFlight: true}
			}
			return listMessages(c, sys, f, c.Bool("json"))
		},
	}
}

func listMessages(c *cli.Context, sys IO, f state.Filter, asJSON bool) error {
	mask, err := numberMask(c, sys)
	if err != nil {
		return err
	}
	var msgs []state.Message
	err = withStore(c, sys, func(store state.Store) (err error) {
		msgs, err = store.List(c.Context, f)
		return err
	})
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(sys.Stdout, runner.Messages(msgs))
	}
	if len(msgs) == 0 {
		if f.MessageID != "" || f.To != "" {
			what := safetext.Escape(f.MessageID)
			if f.To != "" {
				what = safetext.Escape(mask.Number(f.To))
			}
			return fmt.Errorf("no recorded message matches %s", what)
		}
		fmt.Fprintln(sys.Stdout, "No recorded messages match.")
		return nil
	}
	tw := tabwriter.NewWriter(sys.Stdout, 0, 0, 2, ' ', 0)
	// A VARIANT column when some message was sent with an experiment's variant.
	variants := slices.ContainsFunc(msgs, func(m state.Message) bool { return m.Variant != "" })
	head := "CAMPAIGN\tROUND\tTO\tSTATE\tSTATUS\tPARTS\tMESSAGE ID\tUPDATED\tREASON"
	if variants {
		head = strings.Replace(head, "\tSTATE", "\tVARIANT\tSTATE", 1)
	}
	fmt.Fprintln(tw, head)
	for _, m := range msgs {
		// Infobip's texts (status, reason) and whatever the state holds are escaped: a
		// control character would break the table, or the terminal.
		to := safetext.Escape(mask.Number(m.To))
		if variants {
			to += "\t" + runner.VariantLabel(m)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", safetext.Escape(m.Campaign), m.Round, to, m.State,
			safetext.Escape(m.StatusName), m.SmsCount, safetext.Escape(m.MessageID), m.UpdatedAt, safetext.Escape(mask.Text(m.Error)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if f.MessageID != "" || f.To != "" { // state show: the evidence each was sent on
		for _, m := range msgs {
			fmt.Fprintln(sys.Stdout, runner.Evidence(m))
		}
	}
	return nil
}
