package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/internal/words"
	"github.com/smsform/smsform/runner"
)

func validateCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check every campaign file under PATHs (default .); no network, no state",
		ArgsUsage: "[PATH...]",
		Flags: stateFlags(false,
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON, every problem and warning listed"},
			&cli.BoolFlag{Name: "all", Usage: fmt.Sprintf("list every problem (without it, the first %d)", campaign.MaxProblems)},
			&cli.BoolFlag{Name: "strict", Usage: "treat warnings (characters forcing UCS-2, a send_at in the past) as errors"},
		),
		Action: func(c *cli.Context) error {
			mask, err := numberMask(c, sys)
			if err != nil {
				return err
			}
			// send_at is checked against the clock here too: too far ahead fails as in plan;
			// in the past is a warning, since a campaign sent on schedule stays in git.
			opts := campaign.Options{AllProblems: c.Bool("all") || c.Bool("json"), Now: time.Now()}
			set, err := campaign.LoadWith(opts, c.Args().Slice()...)
			var warnings []campaign.Problem
			if err == nil {
				warnings = campaign.LintSet(set)
			}
			strict := c.Bool("strict") && len(warnings) > 0
			if c.Bool("json") {
				return validateJSON(sys.Stdout, set, err, warnings, strict)
			}
			if err != nil {
				return err
			}
			if strict {
				return &campaign.ValidationError{Problems: warnings, Subject: "the campaign files (warnings, with -strict)"}
			}
			if len(warnings) > 0 {
				fmt.Fprintf(sys.Stdout, "Warning: %d %s (-strict makes them errors):\n", len(warnings), words.Plural(len(warnings), "warning", "warnings"))
				for _, w := range warnings {
					fmt.Fprintln(sys.Stdout, mask.Text(w.String()))
				}
				fmt.Fprintln(sys.Stdout)
			}
			for _, l := range runner.SettingsLines(set.Settings) {
				fmt.Fprintln(sys.Stdout, l)
			}
			n := 0
			for _, cp := range set.Campaigns {
				n += cp.Recipients.Len()
			}
			fmt.Fprintf(sys.Stdout, "Success! %d %s with %s %s in %d %s %s valid.\n",
				len(set.Campaigns), words.Plural(len(set.Campaigns), "campaign", "campaigns"),
				runner.Thousands(n), words.Plural(n, "recipient", "recipients"), len(set.Files), words.Plural(len(set.Files), "file", "files"),
				words.Plural(len(set.Campaigns), "is", "are"))
			return nil
		},
	}
}

// validateJSON prints the result of validate; with strict, warnings make it invalid.
func validateJSON(w io.Writer, set *campaign.Set, err error, warnings []campaign.Problem, strict bool) error {
	type problem struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Field   string `json:"field,omitempty"`
		Message string `json:"message"`
	}
	toJSON := func(p campaign.Problem) problem {
		return problem{safetext.Escape(p.File), p.Line, safetext.Escape(p.Field), safetext.Escape(p.Msg)}
	}
	out := struct {
		Valid      bool      `json:"valid"`
		Campaigns  int       `json:"campaigns"`
		Recipients int       `json:"recipients"`
		Problems   []problem `json:"problems"`
		Dropped    int       `json:"problems_not_listed,omitempty"`
		Warnings   []problem `json:"warnings"`
		// Settings are the settings files that apply (omitted when none).
		Settings []runner.SettingsLine `json:"settings,omitempty"`
	}{Valid: err == nil && !strict, Problems: []problem{}, Warnings: []problem{}}
	var ve *campaign.ValidationError
	switch {
	case err == nil:
		out.Campaigns = len(set.Campaigns)
		for _, c := range set.Campaigns {
			out.Recipients += c.Recipients.Len()
		}
		for _, p := range warnings {
			out.Warnings = append(out.Warnings, toJSON(p))
		}
		out.Settings = runner.SettingsLines(set.Settings)
	case errors.As(err, &ve):
		for _, p := range ve.Problems {
			out.Problems = append(out.Problems, toJSON(p))
		}
		out.Dropped = ve.Dropped
	default:
		return err
	}
	if err := printDoc(w, out); err != nil {
		return err
	}
	if !out.Valid {
		return exitCode(ExitError)
	}
	return nil
}
