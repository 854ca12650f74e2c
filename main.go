// Command smsform is a declarative SMS campaign runner: campaign files in git say what
// should have been sent; smsform plans what is missing, sends it once through Infobip and
// records it in a state file.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/smsform/smsform/internal/cli"
	"github.com/smsform/smsform/internal/memlimit"
)

// softMemoryLimit is the heap size past which the collector runs whatever GOGC says, while
// what is live stays limitHeadroom under it; a run that holds more (convert's index of ten
// million messages) has the limit raised to what is live plus limitHeadroom.
const (
	softMemoryLimit = 384 << 20
	limitHeadroom   = 64 << 20
)

func main() {
	// A plan keeps a few bytes per recipient in memory (ten million: a few hundred MB);
	// collecting at 50% growth instead of 100% keeps the peak near what is live, and a soft
	// limit makes the collector work harder rather than let garbage take the peak of a
	// large run past what a CI runner can spare. GOGC and GOMEMLIMIT still win.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		memlimit.Floor(softMemoryLimit, limitHeadroom)
	}
	os.Exit(cli.Main(context.Background(), os.Args, cli.OSIO()))
}
