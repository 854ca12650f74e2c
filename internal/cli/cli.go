// Package cli holds smsform's commands: each parses its flags into options and calls the
// package (campaign, runner, state, sandbox) that does the work.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/smsform/smsform/campaign"
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
	app := newApp(sys)
	err := app.RunContext(ctx, args)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			printError(sys.Stderr, ee.err)
		}
		return ee.code
	}
	printError(sys.Stderr, err)
	return ExitError
}

func printError(w io.Writer, err error) {
	var ve *campaign.ValidationError
	if errors.As(err, &ve) {
		subject := ve.Subject
		if subject == "" {
			subject = "the campaign files"
		}
		fmt.Fprintf(w, "Error: %d %s in %s:\n%s\n", ve.Count(), pluralWord(ve.Count(), "problem", "problems"), subject, ve.Error())
		return
	}
	fmt.Fprintf(w, "Error: %s\n", strings.TrimSpace(err.Error()))
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

const defaultState = "smsform.db"

// stateFlag is accepted globally and after each command name, as the spec says.
func stateFlag(global bool) cli.Flag {
	f := &cli.StringFlag{Name: "state", Usage: "the state: a SQLite file (default ./smsform.db) or a postgres:// URL (env SMSFORM_STATE)", TakesFile: true}
	if global {
		f.EnvVars = []string{"SMSFORM_STATE"}
		f.Value = defaultState
	}
	return f
}

// statePath prefers --state after the command, then the global one, then SMSFORM_STATE.
func statePath(c *cli.Context) string {
	lineage := c.Lineage()
	for _, ctx := range lineage[:len(lineage)-1] {
		if v := ctx.String("state"); v != "" {
			return v
		}
	}
	return lineage[len(lineage)-1].String("state")
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
			&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile to `FILE` (for `go tool pprof`)"},
		},
		Before: func(c *cli.Context) error {
			if path := c.String("cpuprofile"); path != "" {
				f, err := os.Create(path)
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
			return nil
		},
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
			convertCommand(sys),
			reportCommand(sys),
			stateCommand(sys),
			sandboxCommand(sys),
		},
	}
	return app
}
