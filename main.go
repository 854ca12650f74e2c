// Command smsform is a declarative SMS campaign runner: campaign files in git say what
// should have been sent; smsform plans what is missing, sends it once through Infobip and
// records it in a state file.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/smsform/smsform/internal/cli"
)

func main() {
	// A plan of a million recipients keeps them in memory; collecting at 50% growth instead
	// of 100% keeps the peak near what is live, for a little more CPU. GOGC still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	os.Exit(cli.Main(context.Background(), os.Args, cli.OSIO()))
}
