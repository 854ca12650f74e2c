package cli

import (
	"fmt"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/memlimit"
	"github.com/smsform/smsform/internal/sandbox"
)

func sandboxCommand(sys IO) *cli.Command {
	return &cli.Command{
		Name:  "sandbox",
		Usage: "run a local Infobip-compatible API, to try everything without an account",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: sandbox.DefaultAddr, Usage: "loopback `ADDR` to listen on (port 0 picks one)"},
			&cli.StringFlag{Name: "api-key", Usage: "accept only this API key (default: any credentials)"},
			&cli.DurationFlag{Name: "delivery-delay", Value: 2e9, Usage: "time until an accepted message shows as DELIVERED"},
			&cli.DurationFlag{Name: "latency", Usage: "added to every answer"},
			&cli.Float64Flag{Name: "error-rate", Usage: "fraction of sends answered 500 without accepting"},
			&cli.Float64Flag{Name: "429-rate", Usage: "fraction of requests answered 429 with Retry-After"},
			&cli.DurationFlag{Name: "retry-after", Value: 1e9, Usage: "the Retry-After of 429 answers"},
			&cli.Float64Flag{Name: "drop-rate", Usage: "fraction of sends accepted, then the connection dropped without an answer"},
			&cli.DurationFlag{Name: "logs-lag", Usage: "how long accepted messages take to appear in the logs"},
			&cli.StringFlag{Name: "idempotency-window", Usage: "act as an account with idempotent sending: a messageId repeated within `D` (24h, or seconds) is refused, not delivered again (default: delivered again, like Infobip's default)"},
			&cli.StringSliceFlag{Name: "reject-to", Usage: "reject these `DIGITS` numbers per message (status 52), as an operator would"},
		},
		Action: func(c *cli.Context) error {
			for _, name := range []string{"error-rate", "429-rate", "drop-rate"} {
				if v := c.Float64(name); v < 0 || v > 1 {
					return fmt.Errorf("-%s must be between 0 and 1, got %g", name, v)
				}
			}
			window, err := infobip.ParseWindow(c.String("idempotency-window"))
			if err != nil {
				return fmt.Errorf("-idempotency-window: %w", err)
			}
			opts := sandbox.Options{
				IdempotencyWindow: window,
				APIKey:            c.String("api-key"), DeliveryDelay: c.Duration("delivery-delay"), Latency: c.Duration("latency"),
				ErrorRate: c.Float64("error-rate"), TooManyRate: c.Float64("429-rate"), RetryAfter: c.Duration("retry-after"),
				DropRate: c.Float64("drop-rate"), LogsLag: c.Duration("logs-lag"), RejectTo: c.StringSlice("reject-to"),
			}
			// The sandbox keeps every message it accepted: what it holds only grows, and
			// collecting less often spares the CPU it shares with the smsform runs it
			// answers. main's soft limit is for runs that stream; a server that holds a
			// million messages passes it, and the collector then ran nearly nonstop (a 1M
			// apply: 8.0 s of the sandbox's CPU and 14.5 s of apply's wall time, against
			// 5.8 s and 12.1 s without the limit at GOGC 200). Its heap peaks at about
			// three times what it holds (about 700 MB at a million messages).
			if sys.Getenv("GOGC") == "" {
				debug.SetGCPercent(200)
			}
			if sys.Getenv("GOMEMLIMIT") == "" {
				memlimit.Off()
			}
			ctx, stop := signal.NotifyContext(c.Context, syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return sandbox.ListenAndServe(ctx, c.String("listen"), opts, func(url string) {
				key := opts.APIKey
				if key == "" {
					key = "sandbox"
				}
				fmt.Fprintf(sys.Stdout, "Sandbox Infobip API listening on %s (Ctrl-C stops it).\nPoint smsform at it with:\n    export INFOBIP_BASE_URL=%s INFOBIP_API_KEY=%s\n", url, url, key)
				if window > 0 {
					fmt.Fprintf(sys.Stdout, "    export %s=%s   # this sandbox refuses a repeated messageId within %s\n", infobip.EnvIdempotencyWindow, window, window)
				} else {
					fmt.Fprintln(sys.Stdout, "Like a default Infobip account, it delivers a repeated messageId again (a double send, counted at /sandbox/stats).")
				}
				fmt.Fprintf(sys.Stdout, "What it received: %s/sandbox/messages\n", url)
				fmt.Fprintf(sys.Stdout, "Events for smsform convert, each message converting with a chance per variant: %s/sandbox/events?seed=1&variant=NAME=0.05\n", url)
			})
		},
	}
}
