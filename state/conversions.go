package state

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
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

// MessageIndex holds every recorded message compactly (40 bytes each), to match event rows
// against in memory instead of one query per row.
type MessageIndex struct {
	msgs      []indexed
	campaigns []string                    // interned campaign ids
	byID      []int32                     // message indexes sorted by messageId
	byTo      map[string]map[uint64]int32 // campaign -> number -> its latest round's message
	// others holds the messageIds not in smsform's own form (none, unless written by hand).
	others   map[string]int32
	otherIDs map[int32]string
}

type indexed struct {
	id       [16]byte // an smsform messageId is "sf-" and these 16 bytes in hex
	to       uint64   // E.164 digits
	round    int32
	campaign uint16
	state    uint8
	conv     uint8
	tracked  bool
}

var convCodes = []ConversionState{"", Submitting, Converted, ConvFailed, ConvUnknown}

func convCode(c ConversionState) uint8 { return codeOf(convCodes, c) }

// Len is the number of messages indexed.
func (x *MessageIndex) Len() int { return len(x.msgs) }

// Get returns message i.
func (x *MessageIndex) Get(i int32) Trackable {
	m := &x.msgs[i]
	id, other := x.otherIDs[i]
	if !other {
		id = "sf-" + hex.EncodeToString(m.id[:])
	}
	return Trackable{
		Campaign: x.campaigns[m.campaign], Round: int(m.round), To: "+" + strconv.FormatUint(m.to, 10),
		MessageID: id, State: stateCodes[m.state], Tracked: m.tracked, Conversion: convCodes[m.conv],
	}
}

// ByMessageID finds a message by its messageId.
func (x *MessageIndex) ByMessageID(id string) (int32, bool) {
	k, ok := idKey(id)
	if !ok {
		i, ok := x.others[id]
		return i, ok
	}
	j, found := slices.BinarySearchFunc(x.byID, k, func(i int32, k [16]byte) int { return bytes.Compare(x.msgs[i].id[:], k[:]) })
	if !found {
		return 0, false
	}
	return x.byID[j], true
}

// ByNumber finds the message a campaign's latest round sent to an E.164 number.
func (x *MessageIndex) ByNumber(campaign, to string) (int32, bool) {
	k, ok := numberKey(to)
	if !ok {
		return 0, false
	}
	i, ok := x.byTo[campaign][k]
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
	// Sized up front: growing a million-entry slice and map by doubling would briefly hold
	// both the old and the new copy.
	sizes := map[string]int{}
	total := 0
	crows, err := s.db.QueryContext(ctx, "SELECT campaign, COUNT(*) FROM messages GROUP BY campaign")
	if err != nil {
		return nil, err
	}
	for crows.Next() {
		var c string
		var n int
		if err := crows.Scan(&c, &n); err != nil {
			crows.Close()
			return nil, err
		}
		sizes[c], total = n, total+n
	}
	if err := crows.Close(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT m.campaign, m.round, m.destination, m.message_id, m.state,
		m.tracking_type IS NOT NULL, COALESCE(c.state, '')
		FROM messages m LEFT JOIN conversions c
			ON c.campaign = m.campaign AND c.round = m.round AND c.destination = m.destination AND c.message_id = m.message_id
		ORDER BY m.campaign, m.round`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	b := NewIndexBuilder(total, sizes)
	// RawBytes: a million rows are read without a million strings.
	var camp, to, id, st, conv sql.RawBytes
	var round int32
	var tracked bool
	for rows.Next() {
		if err := rows.Scan(&camp, &round, &to, &id, &st, &tracked, &conv); err != nil {
			return nil, err
		}
		b.Add(camp, round, to, id, st, tracked, conv)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return b.Index(), nil
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

// markSubmittingSQL builds the statement recording n conversions as submitting; the time is
// bound once. A conversion that counted is never redone.
func markSubmittingSQL(n int) string {
	return `INSERT INTO conversions (campaign, round, destination, message_id, state, source, submitted_at, updated_at)
		SELECT v.column1, v.column2, v.column3, v.column4, 'submitting', v.column5, k.ts, k.ts
		FROM (SELECT ? AS ts) AS k, (VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?,?,?,?),", n), ",") + `) AS v
		WHERE true
		ON CONFLICT (campaign, round, destination) DO UPDATE SET message_id = excluded.message_id, state = 'submitting',
			error = NULL, source = excluded.source, submitted_at = excluded.submitted_at, updated_at = excluded.updated_at
		WHERE conversions.state != 'converted'`
}

// settleConvertedSQL builds the statement settling n conversions; the time is bound once.
func settleConvertedSQL(n int) string {
	return `UPDATE conversions SET state = v.column5, process_key = v.column6, error = v.column7, updated_at = k.ts
		FROM (SELECT ? AS ts) AS k, (VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?),", n), ",") + `) AS v
		WHERE conversions.campaign = v.column1 AND conversions.round = v.column2
			AND conversions.destination = v.column3 AND conversions.message_id = v.column4`
}

// MarkSubmitting durably records conversions as "submitting" before their requests leave.
func (s *Store) MarkSubmitting(ctx context.Context, cs []Conversion) error {
	if err := s.markSubmitting.prepare(ctx, s.db); err != nil {
		return err
	}
	ts := now()
	cs = sortedByKey(cs, func(c Conversion) Key { return c.Key })
	return s.withTx(ctx, func(tx *sql.Tx) error {
		return s.markSubmitting.exec(ctx, tx, len(cs), nil,
			func(args []any, start, end int) []any {
				args = append(args, ts)
				for _, c := range cs[start:end] {
					args = append(args, c.Campaign, c.Round, c.To, c.MessageID, c.Source)
				}
				return args
			}, func(start, end int) string { return conversionsWhat(cs, start, end) })
	})
}

// RecordConversions settles conversions after their answers.
func (s *Store) RecordConversions(ctx context.Context, cs []Conversion) error {
	if len(cs) == 0 {
		return nil
	}
	if err := s.settleConverted.prepare(ctx, s.db); err != nil {
		return err
	}
	ts := now()
	cs = sortedByKey(cs, func(c Conversion) Key { return c.Key })
	return s.withTx(ctx, func(tx *sql.Tx) error {
		return s.settleConverted.exec(ctx, tx, len(cs), nil,
			func(args []any, start, end int) []any {
				args = append(args, ts)
				for _, c := range cs[start:end] {
					args = append(args, c.Campaign, c.Round, c.To, c.MessageID, string(c.State), nullStr(c.ProcessKey), nullStr(c.Error))
				}
				return args
			}, func(start, end int) string { return conversionsWhat(cs, start, end) })
	})
}

func conversionsWhat(cs []Conversion, start, end int) string {
	return fmt.Sprintf("record conversions of %s to %s", cs[start].MessageID, cs[end-1].MessageID)
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
