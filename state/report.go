package state

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// ReportRow is the figures of one campaign round, or of one group within it.
type ReportRow struct {
	Campaign    string
	Round       int
	Group       string // the day, number prefix or tracking type for grouped reports
	Messages    int
	Sent        int // accepted by Infobip
	SentTracked int // of those, sent with tracking: the base of the conversion rate
	Delivered   int
	Undelivered int
	Expired     int
	Rejected    int // accepted, then rejected by the network
	Failed      int
	Unknown     int
	Converted   int
	SmsParts    int
}

// Groupings the report understands.
const (
	ByNone    = ""
	ByDay     = "day"
	ByType    = "type"
	ByPrefix  = "prefix" // the first digits of the number; the caller maps them to countries
	prefixLen = 5        // '+' and up to four digits: enough for every country calling code
)

// Report aggregates the state per campaign round (and group), one query over all messages.
func (s *Store) Report(ctx context.Context, campaign, by string) ([]ReportRow, error) {
	// Messages and conversions are counted in two scans and joined here: a join row by row
	// costs a B-tree probe per message, which on a million messages was most of the time.
	// Conversions are grouped by their own columns where the grouping allows (the number),
	// and through their message only for day and type.
	var group, convGroup, convFrom string
	switch by {
	case ByNone:
		group, convGroup, convFrom = "''", "''", "conversions c"
	case ByDay:
		group = "substr(m.sending_at, 1, 10)"
	case ByType:
		group = "COALESCE(m.tracking_type, '')"
	case ByPrefix:
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
	rows, err := s.db.QueryContext(ctx, `SELECT m.campaign, m.round, `+group+` AS g, COUNT(*),
		SUM(m.state = 'sent'),
		SUM(m.state = 'sent' AND m.tracking_type IS NOT NULL),
		SUM(m.state = 'sent' AND IFNULL(m.status_group, 0) = 3),
		SUM(m.state = 'sent' AND IFNULL(m.status_group, 0) = 2),
		SUM(m.state = 'sent' AND IFNULL(m.status_group, 0) = 4),
		SUM(m.state = 'sent' AND IFNULL(m.status_group, 0) = 5 AND IFNULL(m.status_id, 0) != 23),
		SUM(m.state = 'failed'),
		SUM(m.state IN ('sending', 'unknown', 'abandoned')),
		SUM(CASE WHEN m.state = 'sent' THEN m.sms_count ELSE 0 END)
		FROM messages m
		WHERE ? = '' OR m.campaign = ?
		GROUP BY `+groupBy("m", group)+`
		ORDER BY m.campaign, m.round, g`, campaign, campaign)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReportRow
	at := map[[3]string]int{}
	for rows.Next() {
		var r ReportRow
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
	// A conversion is of a sent message, which is never sent again under its key (an
	// unknown outcome is resent with the same messageId): counting by key is exact.
	crows, err := s.db.QueryContext(ctx, `SELECT c.campaign, c.round, `+convGroup+` AS g, COUNT(*) FROM `+convFrom+`
		WHERE c.state = 'converted' AND (? = '' OR c.campaign = ?) GROUP BY `+groupBy("c", convGroup), campaign, campaign)
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

// groupBy groups by campaign round, and by g unless it is constant: a GROUP BY in the
// primary key's order is counted as the rows stream by, anything else is sorted first.
func groupBy(table, g string) string {
	if g == "''" {
		return table + ".campaign, " + table + ".round"
	}
	return table + ".campaign, " + table + ".round, g"
}

// AwaitingDelivery lists sent messages still pending delivery, sent since the given time
// (Infobip's logs keep 48 hours), optionally of one campaign. A message proven sent by a
// duplicate-messageId refusal has no delivery status of its own yet, so it is included.
func (s *Store) AwaitingDelivery(ctx context.Context, campaign string, since time.Time) ([]Pending, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT campaign, round, destination, message_id, bulk_id FROM messages
		WHERE state = 'sent' AND (status_group IS NULL OR status_group = 1 OR (status_group = 5 AND status_id = 23))
		AND sending_at >= ?
		AND (? = '' OR campaign = ?) ORDER BY bulk_id`, since.UTC().Format(timeLayout), campaign, campaign)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Pending
	for rows.Next() {
		var a Pending
		if err := rows.Scan(&a.Campaign, &a.Round, &a.To, &a.MessageID, &a.BulkID); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Delivery is a status read from Infobip's logs.
type Delivery struct {
	Key
	MessageID   string
	StatusGroup int
	StatusID    int
	StatusName  string
	DoneAt      string
}

// RecordDeliveries stores delivery statuses of sent messages; the messages stay sent.
func (s *Store) RecordDeliveries(ctx context.Context, ds []Delivery) error {
	ts := now()
	return s.withLazyTx(ctx, func(tx *sql.Tx) error { // statuses can be read again
		stmt, err := tx.PrepareContext(ctx, `UPDATE messages SET status_group = ?, status_id = ?, status_name = ?,
			done_at = ?, updated_at = ? WHERE campaign = ? AND round = ? AND destination = ? AND message_id = ? AND state = 'sent'`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range ds {
			if _, err := stmt.ExecContext(ctx, d.StatusGroup, d.StatusID, nullStr(d.StatusName), nullStr(d.DoneAt), ts, d.Campaign, d.Round, d.To, d.MessageID); err != nil {
				return err
			}
		}
		return nil
	})
}
