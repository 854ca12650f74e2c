package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/runner"
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
		Flags: []cli.Flag{
			unknownGraceFlag(),
			idempotencyWindowFlag(),
			&cli.StringFlag{Name: "campaign", Usage: "only read the delivery status of this campaign `ID`"},
			&cli.BoolFlag{Name: "json", Usage: "print the result as JSON"},
			stopWordsFlag(),
			lockTimeoutFlag(),
			maskFlag(),
			stateFlag(false),
		},
		Action: func(c *cli.Context) error {
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
			store, closeAll, err := openLocked(c, sys, "refresh")
			if err != nil {
				return err
			}
			defer closeAll()
			w := sys.Stdout
			if c.Bool("json") {
				w = io.Discard
			}
			cl, err := lazyClient(sys)()
			if err != nil {
				return err
			}
			ropts.Now = time.Now()
			rec, err := runner.Reconcile(c.Context, store, cl, ropts)
			if err != nil {
				return err
			}
			if rec.Checked > 0 {
				printReconciliation(w, rec)
			}
			warnLogsStopped(sys, rec)
			del, err := runner.RefreshDelivery(c.Context, store, cl, runner.DeliveryOptions{Campaign: c.String("campaign"), Now: time.Now(),
				Progress: progressFor(c, sys, "Reading delivery status")})
			if err != nil {
				return err
			}
			if del.Stopped != "" {
				fmt.Fprintf(sys.Stderr, "Warning: %s. The sent messages it did not reach keep their last known status (`smsform report` counts them as pending); a later refresh reads them again.\n", del.Stopped)
			}
			in, err := refreshOptOuts(c, store, cl, sw)
			if err != nil {
				return err
			}
			warnOptOuts(sys, in, mask)
			if c.Bool("json") {
				if err := printDoc(sys.Stdout, map[string]any{"unknown_outcomes": rec, "delivery": del, "inbound": in}); err != nil {
					return err
				}
			} else {
				if rec.Checked == 0 {
					fmt.Fprintln(w, "No messages with an unknown outcome.")
				}
				fmt.Fprintf(w, "Delivery status: %s sent %s still pending in the last 48 hours, %s now final (delivered, undelivered or expired).\n",
					runner.Thousands(del.Checked), pluralWord(del.Checked, "message was", "messages were"), runner.Thousands(del.Updated))
				printOptOutResult(sys, in)
			}
			if n := rec.Resend + rec.Waiting + rec.NeedsPerson; n > 0 {
				unresolvedHelp(w, n, ropts.Window)
				return exitCode(ExitPartial)
			}
			return nil
		},
	}
}
