package cli

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

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
