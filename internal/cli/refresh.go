package cli

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/words"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

func refreshCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:  "refresh",
		Usage: "pull delivery status and resolve unknown outcomes from Infobip's logs",
		Description: "Messages whose send was interrupted (a kill, a timeout, a 5xx) have an unknown outcome.\n" +
			"refresh looks them up by messageId in Infobip's logs: found means sent. Those not found\n" +
			"stay unknown (exit 3) unless the account is declared idempotent (-idempotency-window or\n" +
			"INFOBIP_IDEMPOTENCY_WINDOW): then the next apply sends them again, with the same messageId,\n" +
			"once -unknown-grace has passed. `smsform state resolve` records a person's decision.\n" +
			"It also reads the delivery status (delivered, undelivered, expired) of sent messages still\n" +
			"pending, for `smsform report`; Infobip's logs reach back 48 hours.\n" +
			"Last, it pulls the inbound replies and records an opt-out for each STOP reply (-stop-words).",
		Flags: stateFlags(true,
			unknownGraceFlag(),
			idempotencyWindowFlag(),
			&cli.StringFlag{Name: "campaign", Usage: "only read the delivery status of this campaign `ID`"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
			stopWordsFlag(),
		),
		Action: func(c *cli.Context) error { return runRefresh(c, sys) },
	}
}

// runRefresh is `smsform refresh`.
func runRefresh(c *cli.Context, sys IO) error {
	mask, err := numberMask(c, sys)
	if err != nil {
		return err
	}
	if err := checkDurations(c); err != nil {
		return err
	}
	sw, err := stopWords(c)
	if err != nil {
		return err
	}
	ropts, err := reconcileOptions(c, sys)
	if err != nil {
		return err
	}
	w := sys.Stdout
	if c.Bool("json") {
		w = io.Discard
	}
	return withLockedStore(c, sys, "refresh", func(store state.Store) error {
		cl, err := lazyClient(sys)()
		if err != nil {
			return err
		}
		out, err := runner.RunRefresh(c.Context, runner.RefreshRun{
			Store: store, API: cl, Reconcile: ropts, StopWords: sw,
			Delivery:         runner.DeliveryOptions{Campaign: c.String("campaign")},
			DeliveryProgress: func() func(done, total int) { return progressFor(c, sys, "Reading delivery status") },
			Reconciled: func(rec runner.Reconciliation) {
				if rec.Checked > 0 {
					printReconciliation(w, rec)
				}
				warnLogsStopped(sys, rec)
			},
			DeliveryRead: func(del runner.DeliveryResult) {
				if del.Stopped != "" {
					fmt.Fprintf(sys.Stderr, "Warning: %s. The sent messages it did not reach keep their last known status (`smsform report` counts them as pending); a later refresh reads them again.\n", del.Stopped)
				}
			},
		})
		if err != nil {
			return err
		}
		if err := printRefresh(c, sys, w, out, mask); err != nil {
			return err
		}
		if n := out.Unresolved(); n > 0 {
			unresolvedHelp(w, n, ropts.Window)
			return exitCode(ExitPartial)
		}
		return nil
	})
}

// printRefresh says what refresh found: warnings about the replies on stderr, then the
// result, as JSON or in words.
func printRefresh(c *cli.Context, sys IO, w io.Writer, out runner.RefreshOutcome, mask campaign.Mask) error {
	for _, warning := range out.Inbound.Warnings() {
		fmt.Fprintf(sys.Stderr, "Warning: %s.\n", mask.Text(warning))
	}
	if c.Bool("json") {
		return printDoc(sys.Stdout, map[string]any{"unknown_outcomes": out.Reconciliation, "delivery": out.Delivery, "inbound": out.Inbound})
	}
	rec, del, in := out.Reconciliation, out.Delivery, out.Inbound
	if rec.Checked == 0 {
		fmt.Fprintln(w, "No messages with an unknown outcome.")
	}
	fmt.Fprintf(w, "Delivery status: %s sent %s still pending in the last 48 hours, %s now final (delivered, undelivered or expired).\n",
		runner.Thousands(del.Checked), words.Plural(del.Checked, "message was", "messages were"), runner.Thousands(del.Updated))
	fmt.Fprintf(sys.Stdout, "Inbound replies: %s new %s recorded, %s new %s.\n", runner.Thousands(in.Replies), words.Plural(in.Replies, "reply", "replies"),
		runner.Thousands(in.OptOuts), words.Plural(in.OptOuts, "opt-out", "opt-outs"))
	return nil
}
