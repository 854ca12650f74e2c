package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/internal/words"
	"github.com/smsform/smsform/state"
)

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
		Flags: stateFlags(true,
			&cli.StringFlag{Name: "as", Required: true, Usage: "`sent` or `unsent`"},
			&cli.StringFlag{Name: "campaign", Usage: "only messages of this campaign `ID`"},
			&cli.StringFlag{Name: "by", Usage: "who decides (default $USER@host)"},
		),
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
			by := author(c, sys)
			return withLockedStore(c, sys, "state resolve", func(store state.Store) error {
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
				fmt.Fprintf(sys.Stdout, "Decided %d %s as %s (by %s): %s.\n", len(keys), words.Plural(len(keys), "message", "messages"), as, by, what)
				return nil
			})
		},
	}
}
