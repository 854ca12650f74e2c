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

// softMemoryLimit is the heap size past which the collector runs whatever GOGC says.
const softMemoryLimit = 384 << 20

func main() {
	// A plan keeps a few bytes per recipient in memory (ten million: a few hundred MB);
	// collecting at 50% growth instead of 100% keeps the peak near what is live, and a soft
	// limit makes the collector work harder rather than let garbage take the peak of a
	// large run past what a CI runner can spare. GOGC and GOMEMLIMIT still win.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	os.Exit(cli.Main(context.Background(), os.Args, cli.OSIO()))
}
