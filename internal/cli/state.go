package cli

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/backend"
)

func stateCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:  "state",
		Usage: "inspect the state; clear a stale lock; copy it to another backend",
		Subcommands: []*cli.Command{
			{
				Name:  "unlock",
				Usage: "clear a stale lock; never needed after a killed run (its lock dies with it)",
				Description: "A SQLite state's lock is an OS lock on FILE.lock, released by the kernel when its process\n" +
					"dies; -force removes the lock file of a holder known to be gone (say, on another machine\n" +
					"sharing the file), and refuses while the holder is alive on this host. A PostgreSQL state's\n" +
					"lock is an advisory lock of the holder's session: it dies with the connection, so there is\n" +
					"nothing to break, and unlock only clears stale holder details.",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "force", Usage: "remove the lock even though a process holds it (only when that process is known to be gone)"}, stateFlag(false)},
				Action: func(c *cli.Context) error {
					h, err := backend.Unlock(c.Context, statePath(c), c.Bool("force"))
					if err != nil {
						return err
					}
					if h.PID == 0 {
						fmt.Fprintln(sys.Stdout, "The state was not locked.")
					} else {
						// The holder's details were read from the lock, which any process can write.
						fmt.Fprintf(sys.Stdout, "Removed the lock held by %s.\n", safetext.Escape(h.String()))
					}
					return nil
				},
			},
			{
				Name:  "migrate",
				Usage: "copy a state to another backend: -from SQLITE_PATH -to postgres://..., or back",
				Description: "Copies every message, conversion, batch in flight, opt-out (with its history), inbound reply\n" +
					"and test send, holding both states' locks, into a\n" +
					"destination created by `smsform init` that holds nothing yet, and checks the counts after.\n" +
					"The source is left as it was: point --state (SMSFORM_STATE) at the destination afterwards.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "from", Required: true, Usage: "the state to copy: a file path or a postgres:// URL"},
					&cli.StringFlag{Name: "to", Required: true, Usage: "the state to copy into (`smsform init` it first)"},
					lockTimeoutFlag(),
				},
				Action: func(c *cli.Context) error {
					if d := c.Duration("lock-timeout"); d < 0 {
						return fmt.Errorf("-lock-timeout must not be negative, got %s", d)
					}
					got, err := backend.Migrate(c.Context, c.String("from"), c.String("to"), c.Duration("lock-timeout"), func(msg string) { fmt.Fprintln(sys.Stderr, msg) })
					if err != nil {
						return err
					}
					fmt.Fprintf(sys.Stdout, "Copied %d messages, %d conversions and %d batches in flight from %s to %s (counts checked).\n",
						got.Messages, got.Conversions, got.InFlight, backend.Name(c.String("from")), backend.Name(c.String("to")))
					fmt.Fprintf(sys.Stdout, "Also copied %d %s (removed ones included), %d inbound %s and %d test %s.\n", got.OptOuts, pluralWord(got.OptOuts, "opt-out", "opt-outs"),
						got.Replies, pluralWord(got.Replies, "reply", "replies"), got.TestSends, pluralWord(got.TestSends, "send", "sends"))
					return nil
				},
			},
			{
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
			},
			{
				Name:      "show",
				Usage:     "show one message by messageId or E.164 number",
				ArgsUsage: "ID",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}, maskFlag(), stateFlag(false)},
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
			},
			resolveCommand(sys),
			optOutsCommand(sys),
		},
	}
}

// resolveCommand records a person's decision about messages of unknown outcome: the only way
// to settle one that Infobip's logs can no longer show, and the way to settle one at once.
func resolveCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "resolve",
		Usage:     "decide messages of unknown outcome by hand: -as sent, or -as unsent (the next apply sends them, same messageId)",
		ArgsUsage: "[ID|+NUMBER...]",
		Description: "Check first what Infobip did (its portal shows what was sent), then record it:\n" +
			"  -as sent     the message reached Infobip: recorded as sent, never sent again\n" +
			"  -as unsent   it did not: the next apply sends it, with the same messageId\n" +
			"Without IDs or numbers, every unknown message (of -campaign ID) is decided. Who decided\n" +
			"(-by, default $USER@host) and when are recorded with each message.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "as", Required: true, Usage: "`sent` or `unsent`"},
			&cli.StringFlag{Name: "campaign", Usage: "only messages of this campaign `ID`"},
			&cli.StringFlag{Name: "by", Usage: "who decides (default $USER@host)"},
			lockTimeoutFlag(),
			maskFlag(),
			stateFlag(false),
		},
		Action: func(c *cli.Context) error {
			if _, err := numberMask(c, sys); err != nil { // resolve prints no number, but its errors may
				return err
			}
			as := c.String("as")
			if as != "sent" && as != "unsent" {
				return fmt.Errorf("-as must be sent or unsent, got %q", as)
			}
			if c.NArg() == 0 && c.String("campaign") == "" {
				return fmt.Errorf("state resolve decides every unknown message only with -campaign ID; name the messages (messageIds or +NUMBERs), or give -campaign")
			}
			by := c.String("by")
			if by == "" {
				by = sys.Getenv("USER")
				if by == "" {
					by = "unknown user"
				}
				if host, err := os.Hostname(); err == nil {
					by += "@" + host
				}
			}
			store, closeAll, err := openLocked(c, sys, "state resolve")
			if err != nil {
				return err
			}
			defer closeAll()
			keys, err := store.Resolve(c.Context, state.Resolution{Sent: as == "sent", Campaign: c.String("campaign"), Targets: c.Args().Slice(), By: by})
			if err != nil {
				return err
			}
			if len(keys) == 0 {
				if c.NArg() > 0 {
					return fmt.Errorf("no message of unknown outcome matches; see `smsform state list -only unknown,abandoned`")
				}
				fmt.Fprintf(sys.Stdout, "Nothing to decide: campaign %s has no message of unknown outcome.\n", c.String("campaign"))
				return nil
			}
			what := "recorded as sent; never sent again"
			if as == "unsent" {
				what = "the next apply sends them again, with the same messageId"
			}
			fmt.Fprintf(sys.Stdout, "Decided %d %s as %s (by %s): %s.\n", len(keys), pluralWord(len(keys), "message", "messages"), as, by, what)
			return nil
		},
	}
}

func listMessages(c *cli.Context, sys IO, f state.Filter, asJSON bool) error {
	mask, err := numberMask(c, sys)
	if err != nil {
		return err
	}
	store, err := openExisting(c, sys)
	if err != nil {
		return err
	}
	defer store.Close()
	msgs, err := store.List(c.Context, f)
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
	fmt.Fprintln(tw, "CAMPAIGN\tROUND\tTO\tSTATE\tSTATUS\tPARTS\tMESSAGE ID\tUPDATED\tREASON")
	for _, m := range msgs {
		// Infobip's texts (status, reason) and whatever the state holds are escaped: a
		// control character would break the table, or the terminal.
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", safetext.Escape(m.Campaign), m.Round, safetext.Escape(mask.Number(m.To)), m.State,
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

func initCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create the state (a SQLite file, or the schema in a PostgreSQL database); safe to run again",
		Description: "No other command creates a state: an apply against a new, empty state would send every\n" +
			"campaign again, so a mistyped --state or SMSFORM_STATE is an error instead. Run again, init\n" +
			"brings an existing state's schema up to date.",
		Flags: []cli.Flag{stateFlag(false)},
		Action: func(c *cli.Context) error {
			created, err := backend.Init(c.Context, statePath(c))
			if err != nil {
				return err
			}
			if created {
				fmt.Fprintf(sys.Stdout, "Created the state %s.\n", backend.Name(statePath(c)))
			} else {
				fmt.Fprintf(sys.Stdout, "The state %s exists; its schema is up to date.\n", backend.Name(statePath(c)))
			}
			return nil
		},
	}
}
