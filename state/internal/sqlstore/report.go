package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/smsform/smsform/state"
)

// Report aggregates the state per campaign round (and group), one query over all messages.
func (q *Queries) Report(ctx context.Context, campaign, by string) ([]state.ReportRow, error) {
	// Messages and conversions are counted in two scans and joined here: a join row by row
	// costs a B-tree probe per message, which on a million messages was most of the time.
	// Conversions are grouped by their own columns where the grouping allows (the number),
	// and through their message only for day and type.
	var group, convGroup, convFrom string
	switch by {
	case state.ByNone:
		group, convGroup, convFrom = "''", "''", "conversions c"
	case state.ByDay:
		group = "substr(m.sending_at, 1, 10)"
	case state.ByType:
		group = "COALESCE(m.tracking_type, '')"
	case state.ByVariant:
		group = "COALESCE(m.variant, '') || CASE WHEN m.held = 1 THEN '" + state.HeldSuffix + "' ELSE '' END"
	case state.ByPrefix:
		group = fmt.Sprintf("substr(m.destination, 1, %d)", state.PrefixLen)
		convGroup, convFrom = fmt.Sprintf("substr(c.destination, 1, %d)", state.PrefixLen), "conversions c"
	default:
		return nil, fmt.Errorf("unknown grouping %q", by)
	}
	if convFrom == "" {
		convGroup = group
		convFrom = `conversions c JOIN messages m
			ON m.campaign = c.campaign AND m.round = c.round AND m.destination = c.destination AND m.message_id = c.message_id`
	}
	sent := func(class state.DeliveryClass) string {
		return "COUNT(CASE WHEN m.state = 'sent' AND " + classSQL(class, "m.status_group", "m.status_id") + " THEN 1 END)"
	}
	rows, err := q.query(ctx, nil, `SELECT m.campaign, m.round, `+group+`, COUNT(*),
		COUNT(CASE WHEN m.state = 'sent' THEN 1 END),
		COUNT(CASE WHEN m.state = 'sent' AND m.tracking_type IS NOT NULL THEN 1 END),
		`+sent(state.Delivered)+`, `+sent(state.Undelivered)+`, `+sent(state.Expired)+`, `+sent(state.Rejected)+`,
		COUNT(CASE WHEN m.state = 'failed' THEN 1 END),
		COUNT(CASE WHEN m.state IN ('sending', 'unknown', 'abandoned') THEN 1 END),
		COALESCE(SUM(CASE WHEN m.state = 'sent' THEN m.sms_count ELSE 0 END), 0)
		FROM messages m
		WHERE m.state <> 'capped' AND (? = '' OR m.campaign = ?)
		GROUP BY `+groupBy("m", group)+`
		ORDER BY m.campaign COLLATE "C", m.round`+orderBy(group), campaign, campaign)
	out, err := scanAll(rows, err, func(r *state.ReportRow) []any {
		return []any{&r.Campaign, &r.Round, &r.Group, &r.Messages, &r.Sent, &r.SentTracked, &r.Delivered,
			&r.Undelivered, &r.Expired, &r.Rejected, &r.Failed, &r.Unknown, &r.SmsParts}
	}, nil)
	if err != nil {
		return nil, err
	}
	at := map[[3]string]int{}
	for i, r := range out {
		at[[3]string{r.Campaign, strconv.Itoa(r.Round), r.Group}] = i
	}
	// A conversion is of a sent message, which is never sent again under its key (an
	// unknown outcome is resent with the same messageId): counting by key is exact.
	type count struct {
		k [3]string
		n int
	}
	var round int
	rows, err = q.query(ctx, nil, `SELECT c.campaign, c.round, `+convGroup+`, COUNT(*) FROM `+convFrom+`
		WHERE c.state = 'converted' AND (? = '' OR c.campaign = ?) GROUP BY `+groupBy("c", convGroup), campaign, campaign)
	convs, err := scanAll(rows, err, func(c *count) []any { return []any{&c.k[0], &round, &c.k[2], &c.n} },
		func(c *count) error { c.k[1] = strconv.Itoa(round); return nil })
	if err != nil {
		return nil, err
	}
	for _, c := range convs {
		if i, ok := at[c.k]; ok {
			out[i].Converted += c.n
		}
	}
	return out, nil
}

// groupBy groups by campaign round, and by g unless it is constant: a GROUP BY in the
// primary key's order is counted as the rows stream by, anything else is sorted first.
func groupBy(table, g string) string {
	if g == "''" {
		return table + ".campaign, " + table + ".round"
	}
	return table + ".campaign, " + table + ".round, " + g
}

// orderBy is what orders groups within a round, after campaign and round.
func orderBy(g string) string {
	if g == "''" {
		return ""
	}
	return ", (" + g + `) COLLATE "C"`
}

// AwaitingDelivery lists sent messages whose delivery status is still to be read (see
// state.Awaiting), sent since the given time (Infobip's logs keep 48 hours), optionally of
// one campaign.
func (q *Queries) AwaitingDelivery(ctx context.Context, campaign string, since time.Time) ([]state.Pending, error) {
	return q.awaiting(ctx, campaign, since, nil, 0)
}

// AwaitingDeliveryPage lists a page of what AwaitingDelivery lists (state.Reader).
func (q *Queries) AwaitingDeliveryPage(ctx context.Context, campaign string, since time.Time, after *state.Pending, limit int) ([]state.Pending, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("AwaitingDeliveryPage: a page needs a limit above 0, not %d", limit)
	}
	return q.awaiting(ctx, campaign, since, after, limit)
}

// CountAwaitingDelivery counts what AwaitingDelivery lists.
func (q *Queries) CountAwaitingDelivery(ctx context.Context, campaign string, since time.Time) (int, error) {
	where, args := awaitingWhere(campaign, since)
	var n int
	rows, err := q.query(ctx, nil, `SELECT COUNT(*) FROM messages WHERE `+where, args...)
	err = scanOne(rows, err, &n)
	return n, err
}

// awaiting lists the messages awaiting delivery after the message after (nil: from the
// first), at most limit of them (0: all).
func (q *Queries) awaiting(ctx context.Context, campaign string, since time.Time, after *state.Pending, limit int) ([]state.Pending, error) {
	where, args := awaitingWhere(campaign, since)
	if after != nil {
		where += ` AND (bulk_id COLLATE "C" > ? OR (bulk_id = ? AND message_id COLLATE "C" > ?))`
		args = append(args, after.BulkID, after.BulkID, after.MessageID)
	}
	page := ""
	if limit > 0 {
		page = " LIMIT " + strconv.Itoa(limit)
	}
	rows, err := q.query(ctx, nil, `SELECT campaign, round, destination, message_id, bulk_id FROM messages
		WHERE `+where+` ORDER BY bulk_id COLLATE "C", message_id COLLATE "C"`+page, args...)
	return scanAll(rows, err, func(p *state.Pending) []any {
		return []any{&p.Campaign, &p.Round, &p.To, &p.MessageID, &p.BulkID}
	}, nil)
}

// awaitingWhere is the condition, with its arguments, of the sent messages whose delivery
// is still to be read, sent since since, of campaign unless "".
func awaitingWhere(campaign string, since time.Time) (string, []any) {
	return `state = 'sent' AND ` + classSQL(state.Awaiting, "status_group", "status_id") +
			` AND sending_at COLLATE "C" >= ? AND (? = '' OR campaign = ?)`,
		[]any{state.FormatTime(since), campaign, campaign}
}

// classSQL is the condition that a recorded status (its group and id columns, NULL when
// none was recorded) is of class, generated from state.DeliveryRules: a status takes the
// class of the first rule it matches, as state.Classify says.
func classSQL(class state.DeliveryClass, group, id string) string {
	group, id = "COALESCE("+group+", 0)", "COALESCE("+id+", 0)"
	var groups, terms []string // whole groups; groups with conditions on the id
	for i, r := range state.DeliveryRules {
		if r.Class != class {
			continue
		}
		var cond []string
		if r.ID != 0 {
			cond = append(cond, fmt.Sprintf("%s = %d", id, r.ID))
		}
		shadowed := false
		// An earlier rule of another class that matches some of these statuses takes them.
		for _, e := range state.DeliveryRules[:i] {
			switch {
			case e.Class == class || e.Group != r.Group || (e.ID != 0 && r.ID != 0 && e.ID != r.ID):
			case e.ID == 0 || e.ID == r.ID:
				shadowed = true
			default:
				cond = append(cond, fmt.Sprintf("%s <> %d", id, e.ID))
			}
		}
		switch {
		case shadowed:
		case len(cond) == 0:
			groups = append(groups, strconv.Itoa(r.Group))
		default:
			terms = append(terms, fmt.Sprintf("(%s = %d AND %s)", group, r.Group, strings.Join(cond, " AND ")))
		}
	}
	if len(groups) > 0 {
		terms = append([]string{group + " IN (" + strings.Join(groups, ", ") + ")"}, terms...)
	}
	if len(terms) == 0 {
		return "FALSE"
	}
	return "(" + strings.Join(terms, " OR ") + ")"
}
