package cli

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/smsform/smsform/internal/infobip"
)

// checkDurations refuses negative durations: a negative -unknown-grace would resend
// unknown outcomes at once, and a negative -lock-timeout means nothing.
func checkDurations(c *cli.Context) error {
	for _, name := range []string{"unknown-grace", "lock-timeout"} {
		if !c.IsSet(name) {
			continue
		}
		if d := c.Duration(name); d < 0 {
			return fmt.Errorf("-%s %s is negative; give a duration of zero or more, such as 10m", name, d)
		}
	}
	return nil
}

// checkBaseURL refuses an INFOBIP_BASE_URL that holds a user or password before its host:
// the error that would report a malformed URL quotes it, and credentials belong in
// INFOBIP_API_KEY or INFOBIP_USERNAME and INFOBIP_PASSWORD, which are never printed.
func checkBaseURL(getenv func(string) string) error {
	raw := getenv(infobip.EnvBaseURL)
	authority := raw
	if _, rest, ok := strings.Cut(raw, "://"); ok {
		authority = rest
	}
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if strings.Contains(authority, "@") {
		return fmt.Errorf("%s holds a user or password (before '@'), which smsform does not print or use; set it to the bare base URL, such as https://xxxxx.api.infobip.com, and put credentials in %s, or %s and %s",
			infobip.EnvBaseURL, infobip.EnvAPIKey, infobip.EnvUsername, infobip.EnvPassword)
	}
	return nil
}
