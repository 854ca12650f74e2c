package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/runner"
)

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

// stateFlags are the flags every command that reads the state ends with, after its own:
// -lock-timeout for one that writes it (locked), -mask-numbers and -state.
func stateFlags(locked bool, own ...cli.Flag) []cli.Flag {
	if locked {
		own = append(own, lockTimeoutFlag())
	}
	return append(own, maskFlag(), stateFlag(false))
}

func lockTimeoutFlag() cli.Flag {
	return &cli.DurationFlag{Name: "lock-timeout", Usage: "wait this long for another run holding the state lock (default: fail at once)"}
}

// lockTimeout is -lock-timeout, refused when negative.
func lockTimeout(c *cli.Context) (time.Duration, error) {
	return nonNegative(c, "lock-timeout")
}

// checkDurations refuses negative durations: a negative -unknown-grace would resend
// unknown outcomes at once, and a negative -lock-timeout means nothing.
func checkDurations(c *cli.Context) error {
	for _, name := range []string{"unknown-grace", "lock-timeout"} {
		if _, err := nonNegative(c, name); err != nil {
			return err
		}
	}
	return nil
}

// nonNegative is the duration flag called name, or an error saying it is negative.
func nonNegative(c *cli.Context, name string) (time.Duration, error) {
	d := c.Duration(name)
	if d < 0 {
		return 0, fmt.Errorf("-%s %s is negative; give a duration of zero or more, such as 10m", name, d)
	}
	return d, nil
}

func unknownGraceFlag() cli.Flag {
	return &cli.DurationFlag{Name: "unknown-grace", Value: 10 * time.Minute, Usage: "with an idempotency window: how long a message of unknown outcome, not found in Infobip's logs, waits before it is sent again (same messageId)"}
}

func idempotencyWindowFlag() cli.Flag {
	return &cli.StringFlag{Name: "idempotency-window", Usage: "declare that Infobip enabled idempotent sending for the account with this grace period `D` (24h, or seconds; default $" + infobip.EnvIdempotencyWindow + "); without it, a message of unknown outcome is never resent automatically"}
}

// reconcileOptions reads -unknown-grace and the declared idempotency window (the flag, else
// INFOBIP_IDEMPOTENCY_WINDOW).
func reconcileOptions(c *cli.Context, sys IO) (runner.ReconcileOptions, error) {
	v, from := c.String("idempotency-window"), "-idempotency-window"
	if !c.IsSet("idempotency-window") {
		v, from = sys.Getenv(infobip.EnvIdempotencyWindow), infobip.EnvIdempotencyWindow
	}
	window, err := infobip.ParseWindow(v)
	if err != nil {
		return runner.ReconcileOptions{}, fmt.Errorf("%s: %w", from, err)
	}
	return runner.ReconcileOptions{Grace: c.Duration("unknown-grace"), Window: window,
		Progress: progressFor(c, sys, "Looking up unknown outcomes in Infobip's logs")}, nil
}

func stopWordsFlag() cli.Flag {
	return &cli.StringFlag{Name: "stop-words", EnvVars: []string{"SMSFORM_STOP_WORDS"}, Value: strings.Join(runner.DefaultStopWords, ","),
		Usage: "replies that opt a number out, comma-separated, any case (`W1,W2`)"}
}

func stopWords(c *cli.Context) (runner.StopWords, error) {
	sw, err := runner.NewStopWords(strings.Split(c.String("stop-words"), ","))
	if err != nil {
		return nil, fmt.Errorf("-stop-words (or SMSFORM_STOP_WORDS): %w", err)
	}
	return sw, nil
}

// phoneNumber reads a phone number given on the command line as every number is read
// (campaign.Number): E.164, written with spaces or dashes or not, or national with region.
// what starts the error ("test-send: -to"); regionHint says where a region comes from.
func phoneNumber(what, raw, region, regionHint string) (string, error) {
	n, problem := campaign.Number(raw, region, regionHint)
	if problem != "" {
		return "", fmt.Errorf("%s %s", what, safetext.Escape(problem))
	}
	return n, nil
}
