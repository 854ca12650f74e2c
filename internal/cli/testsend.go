package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

func testSendCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:      "test-send",
		Usage:     "send one campaign's text to a test phone, to proof it; never counted as sent",
		ArgsUsage: "CAMPAIGN_FILE_OR_DIR",
		Description: "Renders the campaign for one recipient (the first, -recipient N, or -vars name=value,...)\n" +
			"and sends it at once to -to, with a messageId of its own (sf-test-...), without conversion\n" +
			"tracking, delivery webhook or schedule. It is recorded apart from the campaign's messages\n" +
			"(plan, report and convert never count it) and refused for a number that opted out.",
		Flags: stateFlags(true,
			&cli.StringFlag{Name: "to", Required: true, Usage: "the test phone's `NUMBER` (E.164, or national with the campaign's default_region)"},
			&cli.IntFlag{Name: "recipient", Usage: "render the text of recipient `N` (1-based, in file order; default 1)"},
			&cli.StringFlag{Name: "vars", Usage: "render with these vars instead: `k=v,...`"},
			&cli.StringFlag{Name: "campaign", Usage: "the campaign `ID`, when the files hold several"},
			&cli.StringFlag{Name: "by", Usage: "who sends it, for the record (default $USER@host)"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
		),
		Action: func(c *cli.Context) error {
			mask, err := numberMask(c, sys)
			if err != nil {
				return err
			}
			if c.NArg() == 0 {
				return fmt.Errorf("test-send needs the campaign file or directory, such as campaigns/promo.yaml")
			}
			if c.IsSet("recipient") && c.IsSet("vars") {
				return fmt.Errorf("test-send: give -recipient or -vars, not both")
			}
			set, err := campaign.Load(c.Args().Slice()...)
			if err != nil {
				return err
			}
			cp, err := pickCampaign(set, c.String("campaign"))
			if err != nil {
				return err
			}
			to, err := phoneNumber("test-send: -to", c.String("to"), cp.DefaultRegion, "set default_region")
			if err != nil {
				return err
			}
			opts := runner.TestSendOptions{To: to, Recipient: c.Int("recipient"), By: author(c, sys), Now: time.Now()}
			if c.IsSet("recipient") && opts.Recipient < 1 {
				return fmt.Errorf("test-send: -recipient counts from 1, got %d", opts.Recipient)
			}
			if v := c.String("vars"); c.IsSet("vars") {
				if opts.Vars, err = parseVars(v); err != nil {
					return err
				}
			}
			// The credentials are checked before the state is locked: a missing key fails fast.
			cl, err := lazyClient(sys)()
			if err != nil {
				return err
			}
			return withLockedStore(c, sys, "test-send", func(store state.Store) error {
				ts, err := runner.TestSend(c.Context, store, cl, cp, opts)
				if ts == nil && err != nil {
					return err
				}
				if c.Bool("json") {
					if jerr := printDoc(sys.Stdout, ts); jerr != nil {
						return jerr
					}
				} else {
					text := ts.Text
					if mask {
						shown, terr := runner.TestSendText(cp, opts, mask)
						if terr != nil {
							return errors.Join(err, terr)
						}
						text = shown
					}
					fmt.Fprintf(sys.Stdout, "Test send of campaign %s to %s: %s (messageId %s; not counted as sent).\n  %q\n",
						safetext.Escape(ts.Campaign), mask.Number(ts.To), safetext.Escape(mask.Text(ts.Outcome)), ts.MessageID, text)
				}
				return err
			})
		},
	}
}

func pickCampaign(set *campaign.Set, id string) (*campaign.Campaign, error) {
	if id != "" {
		if cp := set.Find(id); cp != nil {
			return cp, nil
		}
		return nil, fmt.Errorf("test-send: no campaign %q in the files given", safetext.Escape(id))
	}
	if len(set.Campaigns) != 1 {
		ids := make([]string, len(set.Campaigns))
		for i, cp := range set.Campaigns {
			ids[i] = cp.ID
		}
		return nil, fmt.Errorf("test-send: the files hold %d campaigns (%s): choose one with -campaign ID", len(ids), safetext.Escape(strings.Join(ids, ", ")))
	}
	return set.Campaigns[0], nil
}

func parseVars(s string) (map[string]string, error) {
	vars := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("test-send: -vars %q: write name=value pairs separated by commas, such as name=Ann,code=1234", safetext.Escape(kv))
		}
		if strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("test-send: -vars: the value of %s holds a NUL byte", safetext.Escape(k))
		}
		vars[k] = v
	}
	return vars, nil
}
