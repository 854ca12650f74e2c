package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"
)

func refreshCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:  "refresh",
		Usage: "resolve unknown outcomes from Infobip's logs",
		Description: "Messages whose send was interrupted (a kill, a timeout, a 5xx) have an unknown outcome.\n" +
			"refresh looks them up by messageId in Infobip's logs: found means sent. Those not found\n" +
			"are sent again, with the same messageId, by the next apply once -unknown-grace has passed.",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "unknown-grace", Value: 10 * time.Minute, Usage: "how long a message missing from the logs waits before apply may send it again"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
			lockTimeoutFlag(),
			stateFlag(false),
		},
		Action: func(c *cli.Context) error {
			store, closeAll, err := openLocked(c, sys, "refresh")
			if err != nil {
				return err
			}
			defer closeAll()
			w := sys.Stdout
			if c.Bool("json") {
				w = io.Discard
			}
			rec, err := reconcile(c, sys, store, lazyClient(sys), w)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(sys.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rec); err != nil {
					return err
				}
			} else if rec.Checked == 0 {
				fmt.Fprintln(sys.Stdout, "No messages with an unknown outcome.")
			}
			if rec.Resend+rec.Waiting > 0 {
				return exitCode(ExitPartial)
			}
			return nil
		},
	}
}
