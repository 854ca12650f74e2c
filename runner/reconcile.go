package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/state"
)

// LogReader reads Infobip's message logs. *infobip.Client is one.
type LogReader interface {
	Logs(ctx context.Context, q infobip.LogsQuery) (*infobip.LogsResponse, error)
}

// Infobip's limits on GET /sms/1/logs.
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
	Resend  int `json:"resend"`  // not found, older than the grace: may be sent again, same messageId
	Waiting int `json:"waiting"` // not found, younger than the grace: left for a later run
	// ResendKeys are the messages to send again, for PlanOptions.Resend.
	ResendKeys map[state.Key]bool `json:"-"`
	resend     []state.Pending
}

// Abandon settles the messages cleared for a resend that the plan cannot send, because
// their campaign round, or the number, is no longer in the files: they are recorded as
// abandoned (their outcome stays unknown; nothing resends them, not even -retry-failed,
// since the first send may have gone through) instead of keeping every run at exit 3. It
// returns how many.
func (r Reconciliation) Abandon(ctx context.Context, store Store, p *Plan) (int, error) {
	plans := map[state.Round]*CampaignPlan{}
	for _, cp := range p.Campaigns {
		plans[state.Round{Campaign: cp.Campaign.ID, Round: cp.Campaign.Round}] = cp
	}
	sending := map[state.Round]map[string]bool{} // built only for rounds with resends
	var outs []state.Outcome
	for _, m := range r.resend {
		round := state.Round{Campaign: m.Campaign, Round: m.Round}
		why := fmt.Sprintf("round %d of campaign %s is no longer in the files", m.Round, m.Campaign)
		if cp := plans[round]; cp != nil {
			if sending[round] == nil {
				sending[round] = map[string]bool{}
				for _, pm := range cp.Messages {
					if pm.Action == Send {
						sending[round][cp.Recipient(pm).To] = true
					}
				}
			}
			if sending[round][m.To] {
				continue
			}
			why = fmt.Sprintf("%s is no longer in campaign %s", m.To, m.Campaign)
		}
		outs = append(outs, state.Outcome{Key: m.Key, MessageID: m.MessageID, State: state.Abandoned, Error: fmt.Sprintf(
			"outcome unknown: not in Infobip's logs after the grace, and %s, so it is not sent again", why)})
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
	// Limiter paces the logs requests; nil means Infobip's 120 a minute.
	Limiter *rate.Limiter
	Now     time.Time
}

// Reconcile looks every unknown outcome up in Infobip's logs. Found messages are recorded as
// sent (or failed, with the status the logs show). Messages not found are planned for a resend
// with the same messageId once Grace has passed since their send attempt: if the first one
// did go through after all, Infobip refuses the resend as a duplicate (status 23) and that is
// recorded as proof it was sent.
func Reconcile(ctx context.Context, store Store, logs LogReader, opts ReconcileOptions) (Reconciliation, error) {
	rec := Reconciliation{ResendKeys: map[state.Key]bool{}}
	pending, err := store.Unresolved(ctx)
	if err != nil || len(pending) == 0 {
		return rec, err
	}
	found := map[string]infobip.LogEntry{}
	err = lookupLogs(ctx, logs, opts.Limiter, pending, false, func(e infobip.LogEntry) error {
		found[e.MessageID] = e
		return nil
	})
	if err != nil {
		return rec, fmt.Errorf("look up unknown outcomes in Infobip's logs: %w", err)
	}
	var outcomes []state.Outcome
	for _, p := range pending {
		rec.Checked++
		e, ok := found[p.MessageID]
		switch {
		case ok:
			rec.Found++
			o := state.Outcome{Key: p.Key, MessageID: p.MessageID, State: state.Sent, StatusGroup: e.Status.GroupID,
				StatusID: e.Status.ID, StatusName: e.Status.Name, SmsCount: e.SmsCount}
			if e.Status.Rejected() && !e.Status.DuplicateMessageID() {
				o.State, o.Error = state.Failed, strings.TrimSuffix(e.Status.Name+": "+e.Status.Description, ": ")
			}
			outcomes = append(outcomes, o)
		case opts.Now.Sub(p.SendingAt) >= opts.Grace:
			rec.Resend++
			rec.ResendKeys[p.Key] = true
			rec.resend = append(rec.resend, p)
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

// lookupLogs finds messages in Infobip's logs, paced by lim (nil: Infobip's 120 requests a
// minute): a request's messages by its bulkId where many are wanted, the rest by messageId
// lists within the 2048-character limit. Members a bulk's answer does not hold are asked for
// by id if the answer was cut at the limit, or always with askMissing (a message proven sent
// by status 23 is in the logs under an earlier request's bulkId). found sees every entry.
func lookupLogs(ctx context.Context, logs LogReader, lim *rate.Limiter, pending []state.Pending, askMissing bool, found func(infobip.LogEntry) error) error {
	if lim == nil {
		lim = rate.NewLimiter(LogsRate, 1)
	}
	seen := map[string]bool{}
	query := func(q infobip.LogsQuery) (int, error) {
		if err := lim.Wait(ctx); err != nil {
			return 0, err
		}
		resp, err := logs.Logs(ctx, q)
		if err != nil {
			return 0, err
		}
		for _, e := range resp.Results {
			seen[e.MessageID] = true
			if err := found(e); err != nil {
				return 0, err
			}
		}
		return len(resp.Results), nil
	}
	bulks, rest := splitByBulk(pending)
	for bulk, members := range bulks {
		n, err := query(infobip.LogsQuery{BulkIDs: []string{bulk}, Limit: logsMaxResults})
		if err != nil {
			return err
		}
		if askMissing || n >= logsMaxResults {
			for _, m := range members {
				if !seen[m.MessageID] {
					rest = append(rest, m)
				}
			}
		}
	}
	for _, q := range idQueries(rest) {
		if _, err := query(q); err != nil {
			return err
		}
	}
	return nil
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

// idQueries packs messageIds into queries within Infobip's 2048-character limit.
func idQueries(pending []state.Pending) []infobip.LogsQuery {
	var qs []infobip.LogsQuery
	var ids []string
	chars := 0
	for _, p := range pending {
		if chars+len(p.MessageID)+1 > logsMaxIDChars && len(ids) > 0 {
			qs = append(qs, infobip.LogsQuery{MessageIDs: ids, Limit: logsMaxResults})
			ids, chars = nil, 0
		}
		ids = append(ids, p.MessageID)
		chars += len(p.MessageID) + 1
	}
	if len(ids) > 0 {
		qs = append(qs, infobip.LogsQuery{MessageIDs: ids, Limit: logsMaxResults})
	}
	return qs
}
