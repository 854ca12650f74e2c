package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/smsform/smsform/state"
)

const prefixLen = 5 // as in package state: '+' and up to four digits

// Report aggregates the state per campaign round (and group), as the SQLite state does:
// messages and conversions counted in two scans and joined here.
func (s *Store) Report(ctx context.Context, campaign, by string) ([]state.ReportRow, error) {
	var group, convGroup, convFrom string
	switch by {
	case state.ByNone:
		group, convGroup, convFrom = "''", "''", "conversions c"
	case state.ByDay:
		group = "substr(m.sending_at, 1, 10)"
	case state.ByType:
		group = "COALESCE(m.tracking_type, '')"
	case state.ByPrefix:
		group = fmt.Sprintf("substr(m.destination, 1, %d)", prefixLen)
		convGroup, convFrom = fmt.Sprintf("substr(c.destination, 1, %d)", prefixLen), "conversions c"
	default:
		return nil, fmt.Errorf("unknown grouping %q", by)
	}
	if convFrom == "" {
		convGroup = group
		convFrom = `conversions c JOIN messages m
			ON m.campaign = c.campaign AND m.round = c.round AND m.destination = c.destination AND m.message_id = c.message_id`
	}
	groupBy := func(t, g string) string {
		if g == "''" {
			return t + ".campaign, " + t + ".round"
		}
		return t + ".campaign, " + t + ".round, " + g
	}
	rows, err := s.pool.Query(ctx, `SELECT m.campaign, m.round, `+group+` AS g, COUNT(*),
		COUNT(*) FILTER (WHERE m.state = 'sent'),
		COUNT(*) FILTER (WHERE m.state = 'sent' AND m.tracking_type IS NOT NULL),
		COUNT(*) FILTER (WHERE m.state = 'sent' AND COALESCE(m.status_group, 0) = 3),
		COUNT(*) FILTER (WHERE m.state = 'sent' AND COALESCE(m.status_group, 0) = 2),
		COUNT(*) FILTER (WHERE m.state = 'sent' AND COALESCE(m.status_group, 0) = 4),
		COUNT(*) FILTER (WHERE m.state = 'sent' AND COALESCE(m.status_group, 0) = 5 AND COALESCE(m.status_id, 0) <> 23),
		COUNT(*) FILTER (WHERE m.state = 'failed'),
		COUNT(*) FILTER (WHERE m.state IN ('sending', 'unknown', 'abandoned')),
		COALESCE(SUM(CASE WHEN m.state = 'sent' THEN m.sms_count ELSE 0 END), 0)
		FROM messages m
		WHERE $1 = '' OR m.campaign = $1
		GROUP BY `+groupBy("m", group)+`
		ORDER BY m.campaign COLLATE "C", m.round, (`+group+`) COLLATE "C"`, campaign)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []state.ReportRow
	at := map[[3]string]int{}
	for rows.Next() {
		var r state.ReportRow
		if err := rows.Scan(&r.Campaign, &r.Round, &r.Group, &r.Messages, &r.Sent, &r.SentTracked, &r.Delivered,
			&r.Undelivered, &r.Expired, &r.Rejected, &r.Failed, &r.Unknown, &r.SmsParts); err != nil {
			return nil, err
		}
		at[[3]string{r.Campaign, strconv.Itoa(r.Round), r.Group}] = len(out)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	crows, err := s.pool.Query(ctx, `SELECT c.campaign, c.round, `+convGroup+` AS g, COUNT(*) FROM `+convFrom+`
		WHERE c.state = 'converted' AND ($1 = '' OR c.campaign = $1) GROUP BY `+groupBy("c", convGroup), campaign)
	if err != nil {
		return nil, err
	}
	defer crows.Close()
	for crows.Next() {
		var k [3]string
		var round, n int
		if err := crows.Scan(&k[0], &round, &k[2], &n); err != nil {
			return nil, err
		}
		k[1] = strconv.Itoa(round)
		if i, ok := at[k]; ok {
			out[i].Converted += n
		}
	}
	return out, crows.Err()
}

// AwaitingDelivery lists sent messages still pending delivery, sent since the given time,
// optionally of one campaign.
func (s *Store) AwaitingDelivery(ctx context.Context, campaign string, since time.Time) ([]state.Pending, error) {
	rows, err := s.pool.Query(ctx, `SELECT campaign, round, destination, message_id, bulk_id FROM messages
		WHERE state = 'sent' AND (status_group IS NULL OR status_group = 1 OR (status_group = 5 AND status_id = 23))
		AND sending_at COLLATE "C" >= $1 AND ($2 = '' OR campaign = $2) ORDER BY bulk_id COLLATE "C"`, state.FormatTime(since), campaign)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []state.Pending
	for rows.Next() {
		var a state.Pending
		if err := rows.Scan(&a.Campaign, &a.Round, &a.To, &a.MessageID, &a.BulkID); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
