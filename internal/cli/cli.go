// Package cli holds smsform's commands: each parses its flags into options and calls the
// package (campaign, runner, state, sandbox) that does the work. cli.go is the command
// table; each command has its file; flags.go, output.go, store.go, args.go and help.go hold
// what they share.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safefile"
	"github.com/smsform/smsform/internal/safetext"
)

// Exit codes, as the spec lists them.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitChanges = 2 // plan -detailed-exitcode: something to send
	ExitPartial = 3 // apply finished, but some messages failed or have an unknown outcome
)

// exitError carries an exit code through urfave/cli. A nil err exits quietly.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func exitCode(code int) error { return &exitError{code: code} }

// IO is the process's world: streams, environment, whether stdin/stderr are terminals.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// InTerminal and ErrTerminal say whether stdin and stderr are interactive terminals.
	InTerminal, ErrTerminal bool

	// maskErrors is set by a command that masks phone numbers, so that its error is
	// printed masked too (see numberMask).
	maskErrors *bool
}

// OSIO is the real process's IO.
func OSIO() IO {
	return IO{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		InTerminal:  term.IsTerminal(int(os.Stdin.Fd())),
		ErrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

// Main runs smsform with args (args[0] is the program name) and returns the exit code.
func Main(ctx context.Context, args []string, sys IO) int {
	// Whatever is printed, no line may start with "::", which GitHub Actions would run as a
	// workflow command; values from files and Infobip are also escaped where printed.
	sys.Stdout, sys.Stderr = safetext.NewWriter(sys.Stdout), safetext.NewWriter(sys.Stderr)
	// Errors are masked as soon as the environment asks, whichever command fails, and
	// also when -mask-numbers is given (numberMask).
	v, _ := strconv.ParseBool(strings.TrimSpace(sys.Getenv(EnvMaskNumbers)))
	sys.maskErrors = &v
	app := newApp(sys)
	err := app.RunContext(ctx, flagsFirst(app, args))
	if err == nil {
		return ExitOK
	}
	mask := campaign.Mask(*sys.maskErrors)
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			printError(sys.Stderr, ee.err, mask)
		}
		return ee.code
	}
	printError(sys.Stderr, err, mask)
	return ExitError
}

func newApp(sys IO) *cli.App {
	app := &cli.App{
		Name:  "smsform",
		Usage: "declarative SMS campaigns: plan what is missing, send it once through Infobip, record it",
		Description: "Campaign files (YAML) say what should have been sent. `smsform plan` compares them with the\n" +
			"state file and shows what is still missing; `smsform apply` sends exactly that and records\n" +
			"every message, so running it again never sends a message twice.",
		Flags: []cli.Flag{
			stateFlag(true),
			maskFlag(),
			&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile to `FILE` (for `go tool pprof`)"},
			&cli.StringFlag{Name: "memprofile", Hidden: true, Usage: "write a heap profile to `FILE` when the command ends (for `go tool pprof`)"},
		},
		Before: func(c *cli.Context) error {
			if path := c.String("cpuprofile"); path != "" {
				f, err := safefile.Create(path, 0o666)
				if err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
			}
			return nil
		},
		After: func(c *cli.Context) error {
			if c.String("cpuprofile") != "" {
				pprof.StopCPUProfile()
			}
			if path := c.String("memprofile"); path != "" {
				f, err := safefile.Create(path, 0o666)
				if err != nil {
					return err
				}
				defer f.Close()
				return pprof.Lookup("heap").WriteTo(f, 0)
			}
			return nil
		},
		Version:                Version(),
		Action:                 unknownCommand,
		Reader:                 sys.Stdin,
		Writer:                 sys.Stdout,
		ErrWriter:              sys.Stderr,
		UseShortOptionHandling: false,
		HideHelpCommand:        true,
		ExitErrHandler:         func(*cli.Context, error) {},
		Commands: []*cli.Command{
			initCommand(sys),
			validateCommand(sys),
			planCommand(sys),
			applyCommand(sys),
			refreshCommand(sys),
			testSendCommand(sys),
			convertCommand(sys),
			reportCommand(sys),
			stateCommand(sys),
			sandboxCommand(sys),
			helpCommand(),
			versionCommand(sys),
		},
	}
	return app
}
