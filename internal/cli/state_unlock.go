package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state/backend"
)

func unlockCommand(sys IO) *cli.Command {
	return &cli.Command{
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
	}
}
