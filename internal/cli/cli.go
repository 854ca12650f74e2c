// Package cli holds smsform's commands: each parses its flags into options and calls the
// package (campaign, runner, state, sandbox) that does the work.
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/safefile"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/runner"
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

func printError(w io.Writer, err error, mask campaign.Mask) {
	var ve *campaign.ValidationError
	if errors.As(err, &ve) {
		subject := ve.Subject
		if subject == "" {
			subject = "the campaign files"
		}
		fmt.Fprintf(w, "Error: %d %s in %s:\n%s\n", ve.Count(), pluralWord(ve.Count(), "problem", "problems"), safetext.Escape(subject), mask.Text(ve.Error()))
		return
	}
	// Errors may quote Infobip's texts or a file's values: each line is escaped.
	fmt.Fprintf(w, "Error: %s\n", safetext.Lines(mask.Text(strings.TrimSpace(err.Error()))))
}

// EnvMaskNumbers, set to 1 (or true), masks phone numbers in the human output of every
// command, as -mask-numbers does.
const EnvMaskNumbers = "SMSFORM_MASK_NUMBERS"

// maskFlag is -mask-numbers, accepted before the command name and after it.
func maskFlag() cli.Flag {
	return &cli.BoolFlag{Name: "mask-numbers", Usage: "write phone numbers in human output as the country code and the last two digits (+41 •• ••• •• 31); -json stays exact (also " + EnvMaskNumbers + "=1)"}
}

// numberMask says whether this run masks phone numbers in its human output: -mask-numbers
// (before or after the command name) when given, else SMSFORM_MASK_NUMBERS. A masking run
// prints its error masked too.
func numberMask(c *cli.Context, sys IO) (campaign.Mask, error) {
	on, set := false, false
	for _, ctx := range c.Lineage() {
		if ctx.IsSet("mask-numbers") {
			on, set = on || ctx.Bool("mask-numbers"), true
		}
	}
	if v := strings.TrimSpace(sys.Getenv(EnvMaskNumbers)); !set && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("%s=%s: set it to 1 to mask phone numbers in human output, or 0 (or unset it) not to", EnvMaskNumbers, safetext.Quote(v))
		}
		on = b
	}
	if on && sys.maskErrors != nil {
		*sys.maskErrors = true
	}
	return campaign.Mask(on), nil
}

// printJSON writes v as an indented JSON document and a newline, as json.Encoder with an
// indent does, with the characters encoding/json leaves raw that would reorder or hide the
// text where it is shown (U+202E, C1 controls) escaped: the values come from files, the
// state and Infobip.
func printJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(safetext.JSON(data), '\n'))
	return err
}

// docFormatVersion is the format_version of the JSON documents of apply, refresh, convert,
// report, validate and test-send (schema/*.schema.json): 1.x only adds fields.
const docFormatVersion = "1"

// printDoc prints v, a JSON object, as printJSON does, with "format_version" as its first
// member.
func printDoc(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(data) < 2 || data[0] != '{' {
		return fmt.Errorf("printDoc: %T is not a JSON object", v)
	}
	doc := []byte(`{"format_version":"` + docFormatVersion + `"`)
	if string(data) != "{}" {
		doc = append(append(doc, ','), data[1:]...)
	} else {
		doc = append(doc, '}')
	}
	var out bytes.Buffer
	if err := json.Indent(&out, doc, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(safetext.JSON(out.Bytes()))
	return err
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

const defaultState = "smsform.db"

// stateFlag is accepted globally and after each command name, as the spec says. Only the
// global one has the default and the environment variable, which help prints after it.
func stateFlag(global bool) cli.Flag {
	f := &cli.StringFlag{Name: "state", Usage: "the state: a SQLite file (default ./smsform.db) or a postgres:// URL (env SMSFORM_STATE)", TakesFile: true}
	if global {
		f.Usage = "where what was sent is recorded: a SQLite `FILE` or a postgres:// URL"
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
			maskFlag(),
			&cli.StringFlag{Name: "cpuprofile", Hidden: true, Usage: "write a CPU profile to `FILE` (for `go tool pprof`)"},
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

// version is set at link time by release builds (-ldflags "-X
// github.com/smsform/smsform/internal/cli.version=v1.2.0"); otherwise Version reads the
// build's own record.
var version string

// Version says which smsform this is: the release version, else the module version that
// `go install` records, else the git commit it was built from, else "dev".
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += "-dirty"
	}
	return "dev-" + rev
}

func init() {
	// Without the -v alias: -v reads like -verbose, which plan takes.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintf(c.App.Writer, "smsform %s\n", c.App.Version) }
	// A flag's default is printed once (some usages say it in words), and "false" not at
	// all: every boolean is off unless given.
	stringer := cli.FlagStringer
	cli.FlagStringer = func(f cli.Flag) string {
		s := strings.TrimSuffix(stringer(f), " (default: false)")
		if first, last := strings.Index(s, "(default"), strings.LastIndex(s, " (default: "); first >= 0 && last > first {
			if end := strings.Index(s[last:], ")"); end > 0 {
				s = s[:last] + s[last+end+1:]
			}
		}
		return s
	}
}

func versionCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version (also --version)",
		Action: func(c *cli.Context) error {
			fmt.Fprintf(sys.Stdout, "smsform %s\n", Version())
			return nil
		},
	}
}

// helpCommand is `smsform help [COMMAND]`: urfave/cli's own answers an unknown topic with
// "No help topic", also for a mistyped command.
func helpCommand() *cli.Command {
	return &cli.Command{
		Name:      "help",
		Usage:     "show the commands, or one command's flags",
		ArgsUsage: "[COMMAND [SUBCOMMAND]]",
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) == 0 {
				return cli.ShowAppHelp(c)
			}
			cmds := c.App.Commands
			var cmd *cli.Command
			for i, name := range args {
				if cmd = find(cmds, name); cmd == nil {
					return unknown(strings.Join(append(slices.Clone(args[:i]), name), " "), name, cmds)
				}
				cmds = cmd.Subcommands
			}
			if cmd.HelpName == "" {
				cmd.HelpName = "smsform " + strings.Join(args, " ")
			}
			if len(cmd.Subcommands) > 0 {
				cli.HelpPrinter(c.App.Writer, cli.SubcommandHelpTemplate, cmd)
				return nil
			}
			cli.HelpPrinter(c.App.Writer, cli.CommandHelpTemplate, cmd)
			return nil
		},
	}
}

// unknownCommand runs for `smsform` alone (the help) and for a first word that is no
// command.
func unknownCommand(c *cli.Context) error {
	if !c.Args().Present() {
		return cli.ShowAppHelp(c)
	}
	name := c.Args().First()
	return unknown(name, name, c.App.Commands)
}

func unknown(what, name string, cmds []*cli.Command) error {
	msg := fmt.Sprintf("unknown command %s", what)
	if s := suggest(name, cmds); s != "" {
		msg += fmt.Sprintf("; did you mean %s?", s)
	}
	return errors.New(msg + " Run `smsform help` for the list.")
}

func find(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// suggest names the command closest to a mistyped one: a prefix either way, or at most two
// edits away.
func suggest(name string, cmds []*cli.Command) string {
	best, bestDist := "", 3
	for _, c := range cmds {
		if c.Hidden {
			continue
		}
		d := campaign.Distance(strings.ToLower(name), c.Name)
		if strings.HasPrefix(c.Name, strings.ToLower(name)) || strings.HasPrefix(strings.ToLower(name), c.Name) {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = c.Name, d
		}
	}
	return best
}

// flagsFirst moves a command's flags before its arguments, so that `plan examples -verbose`
// works as people type it (the flag package stops at the first argument). A flag's value
// moves with it; `--` still ends the flags: what follows it stays an argument.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	// Global flags, then the command name.
	for len(rest) > 0 && isFlag(rest[0]) {
		n := 1
		if takesValue(app.Flags, rest[0]) && len(rest) > 1 {
			n = 2
		}
		out, rest = append(out, rest[:n]...), rest[n:]
	}
	cmds := app.Commands
	for len(rest) > 0 {
		cmd := find(cmds, rest[0])
		if cmd == nil || cmd.Name == "help" {
			return append(out, rest...)
		}
		out, rest = append(out, rest[0]), rest[1:]
		if len(cmd.Subcommands) > 0 {
			cmds = cmd.Subcommands
			continue
		}
		return append(out, permute(cmd.Flags, rest)...)
	}
	return out
}

func permute(flags []cli.Flag, args []string) []string {
	var fl, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if len(pos) == 0 {
				return append(fl, args[i:]...)
			}
			return append(append(append(fl, "--"), pos...), args[i+1:]...)
		case isFlag(a):
			fl = append(fl, a)
			if takesValue(flags, a) && i+1 < len(args) {
				fl = append(fl, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) > 0 && len(fl) > 0 {
		fl = append(fl, "--") // what were arguments stay arguments, even one that looks like a flag
	}
	return append(fl, pos...)
}

// apiHost is the host (and port) of the Infobip base URL a run sends to, for the
// confirmation prompt: never the scheme's credentials or a path, however malformed the URL.
func apiHost(sys IO) string {
	u, err := url.Parse(safetext.RedactURL(strings.TrimSpace(sys.Getenv(infobip.EnvBaseURL))))
	if err != nil || u.Host == "" {
		return "(" + infobip.EnvBaseURL + " unreadable)"
	}
	return u.Host
}

// shownProblems is how many failed or unknown messages apply lists; the rest are counted.
const shownProblems = 5

// printProblems lists the first few messages apply could not send, with a readable reason,
// and counts the others, pointing at where they all are.
func printProblems(w io.Writer, res runner.Result, mask campaign.Mask) {
	for i, pr := range res.Problems {
		if i == shownProblems {
			break
		}
		fmt.Fprintf(w, "  %s %s %s: %s\n", safetext.Escape(pr.Campaign), safetext.Escape(mask.Number(pr.To)), pr.State, safetext.Escape(mask.Text(tidyReason(pr.Reason))))
	}
	shown := min(len(res.Problems), shownProblems)
	if more := res.Failed + res.Unknown - shown; more > 0 && shown > 0 {
		fmt.Fprintf(w, "  ... and %s more (`smsform state list -only failed,unknown` lists them all)\n", runner.Thousands(more))
	}
}

// goURLError matches Go's rendering of a failed HTTP request inside an error chain:
// `infobip: no answer after the request was sent: Post "http://host/path?query": EOF`.
var goURLError = regexp.MustCompile(`^(?:infobip: )?(.*?): (Get|Post|Put|Delete|Head) "[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@"/]*@)?([^"?#]*)[^"]*": (.*)$`)

// tidyReason turns a transport error into words and the request it concerns,
// "no answer after the request was sent (POST 127.0.0.1:9433/sms/2/text/advanced: EOF)";
// other reasons (Infobip's texts) are kept as they are.
func tidyReason(s string) string {
	m := goURLError.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	return fmt.Sprintf("%s (%s %s: %s)", m[1], strings.ToUpper(m[2]), m[3], m[4])
}

// withUsage replaces the usage text of the flag called name.
func withUsage(flags []cli.Flag, name, usage string) []cli.Flag {
	for _, f := range flags {
		if b, ok := f.(*cli.BoolFlag); ok && b.Name == name {
			b.Usage = usage
		}
	}
	return flags
}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

// takesValue says whether a flag written as a (-name or --name, without =value) takes the
// next argument as its value: every flag but a boolean does.
func takesValue(flags []cli.Flag, a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*cli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}
