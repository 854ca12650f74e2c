package runner

import (
	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state"
)

// MessagesFormatVersion is the format_version of `state list -json` and `state show
// -json`. Version 1 was a bare list with Go's field names ("MessageID"); 2 is a document
// with snake_case keys, as every other JSON output has; 2.1 adds each message's variant
// and held.
const MessagesFormatVersion = "2.1"

// MessageList is `state list -json` and `state show -json`: the recorded messages.
type MessageList struct {
	FormatVersion string            `json:"format_version"`
	Messages      []RecordedMessage `json:"messages"`
}

// RecordedMessage is one recorded message in the JSON views of the state.
type RecordedMessage struct {
	Campaign  string      `json:"campaign"`
	Round     int         `json:"round"`
	To        string      `json:"to"`
	Attempt   int         `json:"attempt"`
	MessageID string      `json:"message_id"`
	BulkID    string      `json:"bulk_id"`
	State     state.State `json:"state"`
	// StatusGroup, StatusID and StatusName are Infobip's last status (0 and "" before any).
	StatusGroup  int    `json:"status_group"`
	StatusID     int    `json:"status_id"`
	StatusName   string `json:"status_name"`
	SmsParts     int    `json:"sms_parts"`
	TrackingType string `json:"tracking_type"` // "" without tracking
	Error        string `json:"error"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
	// Variant is the experiment's variant the message was sent with ("" without
	// variants); Held marks a recipient held out of the test and sent the winner.
	Variant string `json:"variant"`
	Held    bool   `json:"held"`
}

// Messages makes the JSON view of recorded messages.
func Messages(msgs []state.Message) MessageList {
	out := MessageList{FormatVersion: MessagesFormatVersion, Messages: make([]RecordedMessage, len(msgs))}
	for i, m := range msgs {
		out.Messages[i] = RecordedMessage{
			Campaign: m.Campaign, Round: m.Round, To: m.To, Attempt: m.Attempt, MessageID: m.MessageID, BulkID: m.BulkID,
			State: m.State, StatusGroup: m.StatusGroup, StatusID: m.StatusID, StatusName: m.StatusName, SmsParts: m.SmsCount,
			TrackingType: m.TrackingType, Error: m.Error, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
			Variant: m.Variant, Held: m.Held,
		}
	}
	return out
}

// VariantLabel is a recorded message's variant for a table: its name, "NAME (held)" for a
// held recipient sent the winner, "-" without variant.
func VariantLabel(m state.Message) string {
	switch {
	case m.Variant == "":
		return "-"
	case m.Held:
		return safetext.Escape(m.Variant) + " (held)"
	}
	return safetext.Escape(m.Variant)
}
