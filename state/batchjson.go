package state

import (
	"bytes"
	"encoding/json"
)

// A batch in flight is kept as JSON. The messages of one request share their campaign,
// round and bulkId, which the compact form writes once instead of once per message, a third
// of the bytes an fsynced commit writes for a batch. The form of earlier versions, an array
// of Outgoing, is still read: a batch left in flight by one of them is reconciled as any.
type compactBatch struct {
	Campaign string         `json:"c"`
	Round    int            `json:"r"`
	BulkID   string         `json:"b"`
	Messages []compactEntry `json:"m"`
}

// compactEntry is an Outgoing without what its batch shares; TestBatchJSONRoundTrip checks
// that it carries every other field.
type compactEntry struct {
	To            string `json:"t"`
	Attempt       int    `json:"a,omitempty"`
	MessageID     string `json:"id"`
	Hash          uint64 `json:"h"`
	Parts         int    `json:"p"`
	TrackingType  string `json:"tt,omitempty"`
	Tracked       bool   `json:"tr,omitempty"`
	Purpose       string `json:"pu,omitempty"`
	SendAt        string `json:"sa,omitempty"`
	ConsentAt     string `json:"ca,omitempty"`
	ConsentSource string `json:"cs,omitempty"`
	Variant       string `json:"v,omitempty"`
	Held          bool   `json:"hd,omitempty"`
}

// EncodeBatch is a batch's messages as the inflight table keeps them: the compact form when
// they share campaign, round and bulkId (one request's always do), else an array of Outgoing.
func EncodeBatch(msgs []Outgoing) ([]byte, error) {
	if len(msgs) == 0 || !sharesBatch(msgs) {
		return json.Marshal(msgs)
	}
	c := compactBatch{Campaign: msgs[0].Campaign, Round: msgs[0].Round, BulkID: msgs[0].BulkID, Messages: make([]compactEntry, len(msgs))}
	for i, m := range msgs {
		c.Messages[i] = compactEntry{To: m.To, Attempt: m.Attempt, MessageID: m.MessageID, Hash: m.Hash, Parts: m.Parts,
			TrackingType: m.TrackingType, Tracked: m.Tracked, Purpose: m.Purpose, SendAt: m.SendAt, ConsentAt: m.ConsentAt,
			ConsentSource: m.ConsentSource, Variant: m.Variant, Held: m.Held}
	}
	return json.Marshal(c)
}

func sharesBatch(msgs []Outgoing) bool {
	for _, m := range msgs[1:] {
		if m.Campaign != msgs[0].Campaign || m.Round != msgs[0].Round || m.BulkID != msgs[0].BulkID {
			return false
		}
	}
	return true
}

// DecodeBatch reads what EncodeBatch wrote, or the array of Outgoing earlier versions wrote.
func DecodeBatch(data []byte) ([]Outgoing, error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		var msgs []Outgoing
		err := json.Unmarshal(data, &msgs)
		return msgs, err
	}
	var c compactBatch
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	msgs := make([]Outgoing, len(c.Messages))
	for i, e := range c.Messages {
		msgs[i] = Outgoing{Key: Key{Campaign: c.Campaign, Round: c.Round, To: e.To}, Attempt: e.Attempt, MessageID: e.MessageID,
			BulkID: c.BulkID, Hash: e.Hash, Parts: e.Parts, TrackingType: e.TrackingType, Tracked: e.Tracked, Purpose: e.Purpose,
			SendAt: e.SendAt, ConsentAt: e.ConsentAt, ConsentSource: e.ConsentSource, Variant: e.Variant, Held: e.Held}
	}
	return msgs, nil
}
