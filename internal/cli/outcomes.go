package cli

import (
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/internal/words"
	"github.com/smsform/smsform/runner"
)

// What apply and refresh say about the messages they could not settle.

// warnLogsStopped says, on stderr, that the lookup of unknown outcomes stopped before the
// end of the logs, and what becomes of the messages it did not find.
func warnLogsStopped(sys IO, rec runner.Reconciliation) {
	if rec.Stopped != "" {
		fmt.Fprintf(sys.Stderr, "Warning: %s. The messages of unknown outcome it did not find stay unknown, and none is sent again; a later refresh or apply looks again.\n", rec.Stopped)
	}
}

// printReconciliation says what looking unknown outcomes up found, and why the others wait.
func printReconciliation(w io.Writer, rec runner.Reconciliation) {
	fmt.Fprintf(w, "Checked %s %s of unknown outcome in Infobip's logs: %s found (recorded)", runner.Thousands(rec.Checked), words.Plural(rec.Checked, "message", "messages"), runner.Thousands(rec.Found))
	if rec.Resend > 0 {
		fmt.Fprintf(w, ", %s to send again with the same messageId (%s)", runner.Thousands(rec.Resend), rec.Reasons[runner.Resend])
	}
	if rec.Waiting > 0 {
		fmt.Fprintf(w, ", %s left unknown (%s)", runner.Thousands(rec.Waiting), rec.Reasons[runner.Wait])
	}
	if rec.NeedsPerson > 0 {
		fmt.Fprintf(w, ", %s for a person to decide (%s)", runner.Thousands(rec.NeedsPerson), rec.Reasons[runner.NeedsPerson])
	}
	fmt.Fprint(w, ".\n\n")
}

// unresolvedHelp says how many messages wait with an unknown outcome, why, and what to do.
func unresolvedHelp(w io.Writer, n int, window time.Duration) {
	fmt.Fprintf(w, "%s %s in the state %s an unknown outcome (`smsform state list -only unknown`): Infobip may or may not have sent %s, and its logs do not show %s yet.\n",
		runner.Thousands(n), words.Plural(n, "message", "messages"), words.Plural(n, "has", "have"), words.Plural(n, "it", "them"), words.Plural(n, "it", "them"))
	if window > 0 {
		fmt.Fprintf(w, "The account is declared idempotent (window %s): the next apply sends %s again with the same messageId once -unknown-grace has passed, while the first attempt is well inside the window; past it, only a person can decide.\n",
			window, words.Plural(n, "it", "them"))
	} else {
		fmt.Fprintf(w, "Nothing resends %s automatically: on an Infobip account without idempotent sending (the default; see %s) a resend reaches the phone a second time.\n",
			words.Plural(n, "it", "them"), infobip.EnvIdempotencyWindow)
	}
	fmt.Fprintln(w, "What to do: run `smsform refresh` (or apply) again later to look them up in the logs once more; or, once you know (Infobip's portal shows what was sent), decide with `smsform state resolve -as sent|unsent [-campaign ID] [ID|+NUMBER...]`.")
}

// apiHost is the host (and port) of the Infobip base URL a run sends to, for the
// confirmation prompt: never the scheme's credentials or a path, however malformed the URL.
func apiHost(sys IO) string {
	u, err := url.Parse(safetext.RedactURL(strings.TrimSpace(sys.Getenv(infobip.EnvBaseURL))))
	if err != nil || u.Host == "" {
		return "(" + infobip.EnvBaseURL + " unreadable)"
	}
	return u.Host
}

// shownProblems is how many failed or unknown messages apply lists; the rest are counted.
const shownProblems = 5

// printProblems lists the first few messages apply could not send, with a readable reason,
// and counts the others, pointing at where they all are.
func printProblems(w io.Writer, res runner.Result, mask campaign.Mask) {
	for i, pr := range res.Problems {
		if i == shownProblems {
			break
		}
		fmt.Fprintf(w, "  %s %s %s: %s\n", safetext.Escape(pr.Campaign), safetext.Escape(mask.Number(pr.To)), pr.State, safetext.Escape(mask.Text(tidyReason(pr.Reason))))
	}
	shown := min(len(res.Problems), shownProblems)
	if more := res.Failed + res.Unknown - shown; more > 0 && shown > 0 {
		fmt.Fprintf(w, "  ... and %s more (`smsform state list -only failed,unknown` lists them all)\n", runner.Thousands(more))
	}
}

// goURLError matches Go's rendering of a failed HTTP request inside an error chain:
// `infobip: no answer after the request was sent: Post "http://host/path?query": EOF`.
var goURLError = regexp.MustCompile(`^(?:infobip: )?(.*?): (Get|Post|Put|Delete|Head) "[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@"/]*@)?([^"?#]*)[^"]*": (.*)$`)

// tidyReason turns a transport error into words and the request it concerns,
// "no answer after the request was sent (POST 127.0.0.1:9433/sms/2/text/advanced: EOF)";
// other reasons (Infobip's texts) are kept as they are.
func tidyReason(s string) string {
	m := goURLError.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	return fmt.Sprintf("%s (%s %s: %s)", m[1], strings.ToUpper(m[2]), m[3], m[4])
}
