package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

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
