package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/internal/words"
	"github.com/smsform/smsform/state/backend"
)

func migrateCommand(sys IO) *cli.Command {
	return &cli.Command{
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
			timeout, err := lockTimeout(c)
			if err != nil {
				return err
			}
			got, err := backend.Migrate(c.Context, c.String("from"), c.String("to"), timeout, func(msg string) { fmt.Fprintln(sys.Stderr, msg) })
			if err != nil {
				return err
			}
			fmt.Fprintf(sys.Stdout, "Copied %d messages, %d conversions and %d batches in flight from %s to %s (counts checked).\n",
				got.Messages, got.Conversions, got.InFlight, backend.Name(c.String("from")), backend.Name(c.String("to")))
			fmt.Fprintf(sys.Stdout, "Also copied %d %s (removed ones included), %d inbound %s and %d test %s.\n", got.OptOuts, words.Plural(got.OptOuts, "opt-out", "opt-outs"),
				got.Replies, words.Plural(got.Replies, "reply", "replies"), got.TestSends, words.Plural(got.TestSends, "send", "sends"))
			return nil
		},
	}
}
