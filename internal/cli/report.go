package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

func reportCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "sent / delivered / failed / converted and conversion rate per campaign, from the state",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "campaign", Usage: "only this campaign `ID`"},
			&cli.StringFlag{Name: "by", Usage: "split each campaign round by day (sent), country, type (tracking type) or variant (an experiment's, with intervals and p-values)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			&cli.BoolFlag{Name: "csv", Usage: "print CSV (cells a spreadsheet would run as formulas are escaped)"},
			&cli.StringFlag{Name: "html", Usage: "write a self-contained HTML page with charts to `FILE`, in the view -by picks", TakesFile: true},
			stateFlag(false),
		},
		Action: func(c *cli.Context) error {
			formats := 0
			for _, f := range []bool{c.Bool("json"), c.Bool("csv"), c.String("html") != ""} {
				if f {
					formats++
				}
			}
			if formats > 1 {
				return errors.New("choose one of -json, -csv and -html")
			}
			return withStore(c, sys, func(store state.Store) error {
				if path := c.String("html"); path != "" {
					rep, err := runner.SaveHTMLReport(c.Context, store, c.String("campaign"), c.String("by"), path, time.Now())
					if err != nil {
						return err
					}
					view := "per campaign"
					if rep.By != "" {
						view = "by " + rep.By
					}
					fmt.Fprintf(sys.Stdout, "Wrote %s (%s).\n", path, view)
					return nil
				}
				rep, err := runner.BuildReport(c.Context, store, c.String("campaign"), c.String("by"))
				switch {
				case err != nil:
					return err
				case c.Bool("json"):
					return printDoc(sys.Stdout, rep)
				case c.Bool("csv"):
					return rep.WriteCSV(sys.Stdout)
				case len(rep.Campaigns) == 0 && rep.Variants == nil:
					fmt.Fprintln(sys.Stdout, "Nothing recorded yet: run `smsform apply` first.")
					return nil
				}
				return rep.WriteText(sys.Stdout)
			})
		},
	}
}
