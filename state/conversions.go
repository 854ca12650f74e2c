package state

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
)

// ConversionState is where a conversion stands. Like a send, it is recorded "submitting"
// before its request and settled after; one whose answer was lost is "unknown" and is not
// submitted again on its own, since Infobip may count a repeat twice.
type ConversionState string

// The conversion states.
const (
	Submitting  ConversionState = "submitting"
	Converted   ConversionState = "converted"
	ConvFailed  ConversionState = "failed"
	ConvUnknown ConversionState = "unknown"
)

// Trackable is what convert needs of a recorded message to match an event to it.
type Trackable struct {
	Campaign  string
	Round     int
	To        string
	MessageID string
	State     State
	Tracked   bool
	// Conversion is the state of its conversion, "" when none was submitted.
	Conversion ConversionState
}

// MessageIndex holds every recorded message compactly, to match event rows against in
// memory instead of one query per row.
type MessageIndex struct {
	msgs []Trackable
	byID map[[16]byte]int32 // smsform messageIds are "sf-" and 32 hex digits
	// byTo maps campaign -> number -> the message of the campaign's latest round.
	byTo map[string]map[string]int32
}

// Len is the number of messages indexed.
func (x *MessageIndex) Len() int { return len(x.msgs) }

// Get returns message i.
func (x *MessageIndex) Get(i int32) *Trackable { return &x.msgs[i] }

// ByMessageID finds a message by its messageId.
func (x *MessageIndex) ByMessageID(id string) (int32, bool) {
	k, ok := idKey(id)
	if !ok {
		return 0, false
	}
	i, ok := x.byID[k]
	return i, ok
}

// ByNumber finds the message a campaign's latest round sent to an E.164 number.
func (x *MessageIndex) ByNumber(campaign, to string) (int32, bool) {
	i, ok := x.byTo[campaign][to]
	return i, ok
}

// HasCampaign reports whether anything of the campaign is recorded.
func (x *MessageIndex) HasCampaign(campaign string) bool { return x.byTo[campaign] != nil }

func idKey(id string) ([16]byte, bool) {
	var k [16]byte
	hexPart, ok := strings.CutPrefix(id, "sf-")
	if !ok || len(hexPart) != 32 {
		return k, false
	}
	_, err := hex.Decode(k[:], []byte(hexPart))
	return k, err == nil
}

// Index reads every recorded message with its conversion state.
func (s *Store) Index(ctx context.Context) (*MessageIndex, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT m.campaign, m.round, m.destination, m.message_id, m.state,
		m.tracking_type IS NOT NULL, COALESCE(c.state, '')
		FROM messages m LEFT JOIN conversions c
			ON c.campaign = m.campaign AND c.round = m.round AND c.destination = m.destination AND c.message_id = m.message_id
		ORDER BY m.campaign, m.round`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	x := &MessageIndex{byID: map[[16]byte]int32{}, byTo: map[string]map[string]int32{}}
	for rows.Next() {
		var t Trackable
		if err := rows.Scan(&t.Campaign, &t.Round, &t.To, &t.MessageID, &t.State, &t.Tracked, &t.Conversion); err != nil {
			return nil, err
		}
		i := int32(len(x.msgs))
		x.msgs = append(x.msgs, t)
		if k, ok := idKey(t.MessageID); ok {
			x.byID[k] = i
		}
		m := x.byTo[t.Campaign]
		if m == nil {
			m = map[string]int32{}
			x.byTo[t.Campaign] = m
		}
		m[t.To] = i // rows come in round order: the latest round wins
	}
	return x, rows.Err()
}

// Conversion is one conversion to record: of the message with the key and messageId.
type Conversion struct {
	Key
	MessageID  string
	State      ConversionState
	ProcessKey string
	Error      string
	Source     string
}

// MarkSubmitting durably records conversions as "submitting" before their requests leave.
func (s *Store) MarkSubmitting(ctx context.Context, cs []Conversion) error {
	ts := now()
	cs = sortedByKey(cs, func(c Conversion) Key { return c.Key })
	return s.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO conversions (campaign, round, destination, message_id, state, source, submitted_at, updated_at)
			VALUES (?, ?, ?, ?, 'submitting', ?, ?, ?)
			ON CONFLICT (campaign, round, destination) DO UPDATE SET message_id = excluded.message_id, state = 'submitting',
				error = NULL, source = excluded.source, submitted_at = excluded.submitted_at, updated_at = excluded.updated_at
			WHERE conversions.state != 'converted'`) // a conversion that counted is never redone
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range cs {
			if _, err := stmt.ExecContext(ctx, c.Campaign, c.Round, c.To, c.MessageID, c.Source, ts, ts); err != nil {
				return fmt.Errorf("record conversion of %s: %w", c.MessageID, err)
			}
		}
		return nil
	})
}

// RecordConversions settles conversions after their answers.
func (s *Store) RecordConversions(ctx context.Context, cs []Conversion) error {
	if len(cs) == 0 {
		return nil
	}
	ts := now()
	cs = sortedByKey(cs, func(c Conversion) Key { return c.Key })
	return s.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE conversions SET state = ?, process_key = ?, error = ?, updated_at = ?
			WHERE campaign = ? AND round = ? AND destination = ? AND message_id = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range cs {
			if _, err := stmt.ExecContext(ctx, c.State, nullStr(c.ProcessKey), nullStr(c.Error), ts, c.Campaign, c.Round, c.To, c.MessageID); err != nil {
				return fmt.Errorf("record conversion of %s: %w", c.MessageID, err)
			}
		}
		return nil
	})
}

// ForgetConversions removes "submitting" records whose requests provably did nothing.
func (s *Store) ForgetConversions(ctx context.Context, cs []Conversion) error {
	if len(cs) == 0 {
		return nil
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, "DELETE FROM conversions WHERE campaign = ? AND round = ? AND destination = ? AND state = 'submitting'")
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range cs {
			if _, err := stmt.ExecContext(ctx, c.Campaign, c.Round, c.To); err != nil {
				return err
			}
		}
		return nil
	})
}

// MarkConversionsInterrupted turns conversions left "submitting" by a run that died into
// "unknown".
func (s *Store) MarkConversionsInterrupted(ctx context.Context) (int, error) {
	var found bool
	if err := s.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM conversions WHERE state = 'submitting')").Scan(&found); err != nil || !found {
		return 0, err
	}
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE conversions SET state = 'unknown', updated_at = ?,
			error = 'the run submitting it stopped before recording the answer' WHERE state = 'submitting'`, now())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
