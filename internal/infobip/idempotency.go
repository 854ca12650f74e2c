package infobip

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EnvIdempotencyWindow declares that Infobip has enabled idempotent sending for the account,
// with this grace period. Unset means it has not: Infobip's default.
const EnvIdempotencyWindow = "INFOBIP_IDEMPOTENCY_WINDOW"

// ParseWindow reads an idempotency window: a positive Go duration ("24h") or a whole
// number of seconds ("86400"). Empty means none declared (0).
func ParseWindow(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 || secs > int64(365*24*time.Hour/time.Second) {
			return 0, fmt.Errorf("idempotency window %q: want a positive duration such as 24h (or seconds), at most a year", v)
		}
		return time.Duration(secs) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > 365*24*time.Hour {
		return 0, fmt.Errorf("idempotency window %q: want a positive duration such as 24h (or seconds), at most a year", v)
	}
	return d, nil
}
