package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/internal/words"
	"github.com/smsform/smsform/state"
)

// Infobip's limits on GET /sms/3/logs.
const (
	logsMaxIDChars = 2048
	logsMaxResults = 1000
	// LogsRate is Infobip's throttle on the logs endpoint: 120 requests a minute.
	LogsRate = rate.Limit(2)
)

// Reconciliation is what reconciling unknown outcomes found.
type Reconciliation struct {
	Checked int `json:"checked"`
	Found   int `json:"found"`   // in Infobip's logs: now recorded with their status
	Resend  int `json:"resend"`  // not found, cleared for a resend with the same messageId (see Decide)
	Waiting int `json:"waiting"` // not found, left unknown for a later run to look again
	// NeedsPerson counts those left unknown for good: only `smsform state resolve` decides.
	NeedsPerson int `json:"needs_person"`
	// Stopped, when set, says why the lookup stopped before it had read every page of the
	// logs (see lookupLogs); what it did not find is left unknown, never resent.
	Stopped string `json:"stopped,omitempty"`
	// Reasons holds, per verdict, the reason of its first message, for the user.
	Reasons map[Verdict]string `json:"-"`
	// ResendKeys are the messages to send again, for PlanOptions.Resend.
	ResendKeys map[state.Key]bool `json:"-"`
	resend     []state.Pending
}

// Abandon settles the messages cleared for a resend that the plan cannot send, because
// their campaign round, or the number, is no longer in the files, or the number is now
// suppressed (opted out, or on a suppression list): they are recorded as abandoned (their
// outcome stays unknown; nothing resends them, not even -retry-failed, since the first send
// may have gone through) instead of keeping every run at exit 3. It returns how many.
func (r Reconciliation) Abandon(ctx context.Context, store state.Store, p *Plan) (int, error) {
	plans := map[state.Round]*CampaignPlan{}
	for _, cp := range p.Campaigns {
		plans[state.Round{Campaign: cp.Campaign.ID, Round: cp.Campaign.Round}] = cp
	}
	// The message index of each number to resend, found in one pass over each round with
	// resends: a map of the resends, not of every number in the files.
	planned := map[state.Round]map[string]int{}
	for _, m := range r.resend {
		round := state.Round{Campaign: m.Campaign, Round: m.Round}
		if planned[round] == nil {
			planned[round] = map[string]int{}
		}
		planned[round][m.To] = -1
	}
	for round, at := range planned {
		if cp := plans[round]; cp != nil {
			for i, r := range cp.All() {
				if _, ok := at[r.To]; ok {
					at[r.To] = i
				}
			}
		}
	}
	var outs []state.Outcome
	for _, m := range r.resend {
		round := state.Round{Campaign: m.Campaign, Round: m.Round}
		why := fmt.Sprintf("round %d of campaign %s is no longer in the files", m.Round, m.Campaign)
		if cp := plans[round]; cp != nil {
			i := planned[round][m.To]
			ok := i >= 0
			switch {
			case ok && cp.Messages[i].Action == Send:
				continue
			case ok && cp.Messages[i].Action == Suppressed:
				why = fmt.Sprintf("%s is now suppressed (on %s)", m.To, cp.Suppressions[cp.Messages[i].Recipient].Source)
			default:
				why = fmt.Sprintf("%s is no longer in campaign %s", m.To, m.Campaign)
			}
		}
		outs = append(outs, state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Abandoned, Error: fmt.Sprintf(
			"outcome unknown: not in Infobip's logs, and %s, so it is not sent again", why)})
	}
	if len(outs) == 0 {
		return 0, nil
	}
	return len(outs), store.RecordOutcomes(context.WithoutCancel(ctx), outs)
}

// ReconcileOptions tune Reconcile.
type ReconcileOptions struct {
	// Grace is how long after its send attempt a message missing from the logs waits before
	// it may be sent again: the logs lag behind sends.
	Grace time.Duration
	// Window is the idempotency grace period Infobip enabled for the account
	// (INFOBIP_IDEMPOTENCY_WINDOW); 0 means none, Infobip's default, and then nothing is
	// ever resent automatically.
	Window time.Duration
	// Limiter paces the logs requests; nil means Infobip's 120 a minute.
	Limiter *rate.Limiter
	Now     time.Time
	// Progress, if set, is called as messages are found in the logs, and once at the end,
	// with the messages looked up and the total.
	Progress func(done, total int)
}

// Reconcile looks every unknown outcome up in Infobip's logs. Found messages are recorded as
// sent (or failed, with the status the logs show). What becomes of the others is Decide's
// verdict: on a default account they stay unknown until the logs show them or a person
// decides; with a declared idempotency window they are planned for a resend with the same
// messageId while the first attempt is well inside it.
func Reconcile(ctx context.Context, store state.Store, logs LogReader, opts ReconcileOptions) (Reconciliation, error) {
	rec := Reconciliation{ResendKeys: map[state.Key]bool{}, Reasons: map[Verdict]string{}}
	undecided, err := store.Undecided(ctx)
	if err != nil || len(undecided) == 0 {
		return rec, err
	}
	pending := make([]state.Pending, len(undecided))
	for i, u := range undecided {
		pending[i] = u.Pending
	}
	found := map[string]LogEntry{}
	rec.Stopped, err = lookupLogs(ctx, logs, opts.Limiter, pending, false, func(e LogEntry) error {
		found[e.MessageID] = e
		if opts.Progress != nil {
			opts.Progress(min(len(found), len(pending)), len(pending))
		}
		return nil
	})
	if opts.Progress != nil && err == nil {
		opts.Progress(len(pending), len(pending))
	}
	if err != nil {
		return rec, fmt.Errorf("look up unknown outcomes in Infobip's logs: %w", err)
	}
	var outcomes []state.Outcome
	for _, u := range undecided {
		rec.Checked++
		if e, ok := found[u.MessageID]; ok {
			rec.Found++
			o := state.Outcome{Key: u.Key, MessageID: u.MessageID, State: state.Sent, StatusGroup: e.Status.Group,
				StatusID: e.Status.ID, StatusName: safetext.Clip(e.Status.Name, maxStatusName), SmsCount: e.SmsCount}
			if e.Status.Rejected() && !e.Status.DuplicateMessageID() {
				o.State, o.Error = state.Failed, rejection(e.Status)
			}
			outcomes = append(outcomes, o)
			continue
		}
		v, why := Decide(u, opts.Now, opts.Grace, opts.Window)
		if v == Resend && !u.Unsent && rec.Stopped != "" {
			// Not found in logs that were not read to their end is not "not found": only a
			// person's decision resends then.
			v, why = Wait, "the logs were not read to their end; a later refresh looks again"
		}
		if _, ok := rec.Reasons[v]; !ok {
			rec.Reasons[v] = why
		}
		switch v {
		case Resend:
			rec.Resend++
			rec.ResendKeys[u.Key] = true
			rec.resend = append(rec.resend, u.Pending)
		case NeedsPerson:
			rec.NeedsPerson++
		default:
			rec.Waiting++
		}
	}
	if len(outcomes) > 0 {
		if err := store.RecordOutcomes(context.WithoutCancel(ctx), outcomes); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

// NoteResends records, durably and before any of them is sent, the first attempt of the
// messages the plan sends again with the same messageId, so that an idempotency window is
// measured from it however often they are resent.
func (r Reconciliation) NoteResends(ctx context.Context, store state.Store, p *Plan) error {
	if len(r.ResendKeys) == 0 {
		return nil
	}
	var keys []state.Key
	for _, cp := range p.Campaigns {
		for _, m := range cp.Messages {
			if m.Action != Send {
				continue
			}
			if k := (state.Key{Campaign: cp.Campaign.ID, Round: cp.Campaign.Round, To: cp.Recipient(m).To}); r.ResendKeys[k] {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return store.NoteFirstAttempts(context.WithoutCancel(ctx), keys)
}

// maxLogPages bounds the pages one logs query follows: a request's messages (at most
// 10,000, -batch-size's bound) and their copies fit in a dozen pages of 1,000.
const maxLogPages = 20

// errLogsStopped ends a lookup whose logs misbehave (see lookupLogs).
var errLogsStopped = errors.New("logs lookup stopped")

// lookupLogs finds messages in Infobip's logs, paced by lim (nil: Infobip's 120 requests a
// minute): a request's messages by its bulkId where many are wanted, several bulkIds a query
// (bulkQueries), the rest by messageId lists within the 2048-character limit, every page of
// each (cursor paging). Members a
// bulk's answer does not hold are asked for by id with askMissing (a message proven sent by
// status 23 is in the logs under an earlier request's bulkId). found sees every entry.
//
// Logs that would have it read for ever (a cursor that comes back, a page that lists only
// messages the query listed already, more pages than a query of smsform's can have) stop
// the whole lookup: stopped says why, and what was read before is kept.
func lookupLogs(ctx context.Context, logs LogReader, lim *rate.Limiter, pending []state.Pending, askMissing bool, found func(LogEntry) error) (stopped string, err error) {
	if lim == nil {
		lim = rate.NewLimiter(LogsRate, 1)
	}
	seen := map[string]bool{}
	// query reads every page of a query, following the cursor; each page is one paced request.
	query := func(q LogQuery, maxPages int) error {
		cursors := map[string]bool{}
		listed := map[string]bool{} // the messages this query's pages listed
		for pages := 1; ; pages++ {
			if err := lim.Wait(ctx); err != nil {
				return err
			}
			page, err := logs.Logs(ctx, q)
			if err != nil {
				return err
			}
			fresh := false
			for _, e := range page.Entries {
				seen[e.MessageID] = true
				if !listed[e.MessageID] {
					listed[e.MessageID], fresh = true, true
				}
				if err := found(e); err != nil {
					return err
				}
			}
			if page.Next == "" || len(page.Entries) == 0 {
				return nil
			}
			switch {
			case cursors[page.Next]:
				stopped = fmt.Sprintf("Infobip's logs answered the cursor \"%s\" twice", safetext.Clip(page.Next, 80))
			case !fresh:
				stopped = "Infobip's logs answered the same page again (it listed no message the pages before had not)"
			case pages == maxPages:
				stopped = fmt.Sprintf("Infobip's logs had more than %d pages of %d for one query", maxPages, logsMaxResults)
			}
			if stopped != "" {
				stopped += fmt.Sprintf("; smsform stopped reading them after %d %s", pages, words.Plural(pages, "page", "pages"))
				return errLogsStopped
			}
			cursors[page.Next] = true
			q.Cursor = page.Next
		}
	}
	defer func() {
		if errors.Is(err, errLogsStopped) {
			err = nil
		}
	}()
	bulks, rest := splitByBulk(pending)
	for _, ids := range bulkQueries(bulks) {
		// Each request's messages fit in maxLogPages pages, however many share the query.
		if err := query(LogQuery{BulkIDs: ids, Limit: logsMaxResults}, maxLogPages*len(ids)); err != nil {
			return stopped, err
		}
		if askMissing {
			for _, b := range ids {
				for _, m := range bulks[b] {
					if !seen[m.MessageID] {
						rest = append(rest, m)
					}
				}
			}
		}
	}
	for _, q := range idQueries(rest) {
		if err := query(q, maxLogPages); err != nil {
			return stopped, err
		}
	}
	return "", nil
}

// minBulkLookup is how many unknown messages of one request make a lookup by its bulkId
// cheaper than by their messageIds (about 57 ids fit in one query).
const minBulkLookup = 20

// splitByBulk picks the requests worth looking up by bulkId; the rest go by messageId.
func splitByBulk(pending []state.Pending) (bulks map[string][]state.Pending, rest []state.Pending) {
	by := map[string][]state.Pending{}
	for _, p := range pending {
		by[p.BulkID] = append(by[p.BulkID], p)
	}
	bulks = map[string][]state.Pending{}
	for b, members := range by {
		if b != "" && len(members) >= minBulkLookup {
			bulks[b] = members
		} else {
			rest = append(rest, members...)
		}
	}
	return bulks, rest
}

// bulkQueries packs the bulkIds of the requests looked up by bulkId into queries, in the
// order of the ids: as many a query as keep the messages looked for within one page of
// logsMaxResults and the ids within Infobip's 2048-character limit. The logs' rate limit
// counts pages, and a page holds logsMaxResults entries whatever the bulks: requests of
// apply's 500 messages are read two to a page instead of each to a half-empty one, which
// halves the time a refresh of a million messages waits on the limit.
func bulkQueries(bulks map[string][]state.Pending) [][]string {
	var qs [][]string
	var ids []string
	wanted, chars := 0, 0
	for _, b := range slices.Sorted(maps.Keys(bulks)) {
		n := len(bulks[b])
		if len(ids) > 0 && (wanted+n > logsMaxResults || chars+len(b)+1 > logsMaxIDChars) {
			qs = append(qs, ids)
			ids, wanted, chars = nil, 0, 0
		}
		ids = append(ids, b)
		wanted += n
		chars += len(b) + 1
	}
	if len(ids) > 0 {
		qs = append(qs, ids)
	}
	return qs
}

// idQueries packs messageIds into queries within Infobip's 2048-character limit.
func idQueries(pending []state.Pending) []LogQuery {
	var qs []LogQuery
	var ids []string
	chars := 0
	for _, p := range pending {
		if chars+len(p.MessageID)+1 > logsMaxIDChars && len(ids) > 0 {
			qs = append(qs, LogQuery{MessageIDs: ids, Limit: logsMaxResults})
			ids, chars = nil, 0
		}
		ids = append(ids, p.MessageID)
		chars += len(p.MessageID) + 1
	}
	if len(ids) > 0 {
		qs = append(qs, LogQuery{MessageIDs: ids, Limit: logsMaxResults})
	}
	return qs
}
