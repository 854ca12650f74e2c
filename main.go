// Command smsform is a declarative SMS campaign runner: campaign files in git say what
// should have been sent; smsform plans what is missing, sends it once through Infobip and
// records it in a state file.
package main

import (
	"context"
	"os"

	"github.com/smsform/smsform/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args, cli.OSIO()))
}
