package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/state/backend"
)

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
