package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// checkDurations refuses negative durations: a negative -unknown-grace would resend
// unknown outcomes at once, and a negative -lock-timeout means nothing.
func checkDurations(c *cli.Context) error {
	for _, name := range []string{"unknown-grace", "lock-timeout"} {
		if !c.IsSet(name) {
			continue
		}
		if d := c.Duration(name); d < 0 {
			return fmt.Errorf("-%s %s is negative; give a duration of zero or more, such as 10m", name, d)
		}
	}
	return nil
}
