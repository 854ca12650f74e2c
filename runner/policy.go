package runner

import (
	"fmt"
	"time"

	"github.com/smsform/smsform/state"
)

// Verdict is what becomes of a message of unknown outcome that Infobip's logs do not show.
type Verdict uint8

const (
	// Wait leaves it unknown: the logs lag behind sends, so a later run looks again.
	Wait Verdict = iota
	// Resend sends it again with the same messageId: the account is declared idempotent
	// and its first attempt is well inside the window (Infobip drops the copy if the first
	// went through), or a person decided it was not sent.
	Resend
	// NeedsPerson leaves it unknown for good: no lookup can ever find it (the logs keep 48
	// hours) and no resend is safe; only `smsform state resolve` decides.
	NeedsPerson
)

var verdictNames = [...]string{"wait", "resend", "needs a person"}

func (v Verdict) String() string { return verdictNames[v] }

// IdempotencyMargin is how much of a declared idempotency window W smsform leaves unused:
// a resend decided now may reach Infobip minutes later (the run sends other batches first;
// 429s and refused connections are retried with backoff for up to several minutes), and the
// two clocks differ. A tenth of W, at least 10 minutes, at most half of W.
func IdempotencyMargin(window time.Duration) time.Duration {
	return min(max(window/10, 10*time.Minute), window/2)
}

// Decide is the idempotency policy for a message of unknown outcome not found in the logs,
// at time now. grace is -unknown-grace; window the declared idempotency window (0: not
// declared, Infobip's default). It returns the verdict and why, in words for the user.
func Decide(u state.Undecided, now time.Time, grace, window time.Duration) (Verdict, string) {
	if u.Unsent {
		return Resend, fmt.Sprintf("decided unsent by %s: sent again with the same messageId", u.ResolvedBy)
	}
	firstAge := now.Sub(u.FirstAttemptAt)
	if firstAge >= logsWindow {
		return NeedsPerson, "first sent over 48 hours ago: Infobip's logs no longer show it, and a resend could reach the phone twice; only `smsform state resolve` can decide"
	}
	if window <= 0 {
		return Wait, "not in Infobip's logs yet; the account is not declared idempotent (" + envIdempotency + "), so it is never resent automatically"
	}
	if limit := window - IdempotencyMargin(window); firstAge >= limit {
		return Wait, fmt.Sprintf("not in Infobip's logs yet, and first sent %s ago: past the idempotency window %s less its margin, so it is not resent", firstAge.Round(time.Second), window)
	}
	if now.Sub(u.SendingAt) < grace {
		return Wait, "not in Infobip's logs yet; younger than -unknown-grace, left for a later run"
	}
	return Resend, "not in Infobip's logs after -unknown-grace; inside the idempotency window, so sent again with the same messageId"
}

// envIdempotency names the declaration in messages; the cli reads the variable.
const envIdempotency = "INFOBIP_IDEMPOTENCY_WINDOW"
