package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/campaign"
)

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
