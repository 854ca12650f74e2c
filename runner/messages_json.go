package runner

import (
	"fmt"
	"strings"
	"time"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state"
)

// MessagesFormatVersion is the format_version of `state list -json` and `state show
// -json`. Version 1 was a bare list with Go's field names ("MessageID"); 2 is a document
// with snake_case keys, as every other JSON output has; 2.1 adds each message's variant
// and held; 2.2 the state capped and, per message, purpose, send_at and the consent
// evidence.
const MessagesFormatVersion = "2.2"

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
	// Purpose (marketing, transactional), when the message went out if scheduled, and the
	// consent evidence it was sent on: omitted when not recorded (messages recorded before
	// they were, or none given).
	Purpose       string `json:"purpose,omitempty"`
	SendAt        string `json:"send_at,omitempty"`
	ConsentAt     string `json:"consent_at,omitempty"`
	ConsentSource string `json:"consent_source,omitempty"`
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
			Purpose: m.Purpose, SendAt: m.SendAt, ConsentAt: m.ConsentAt, ConsentSource: m.ConsentSource,
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

// Evidence says, for `state show`, what a message was sent as and on what consent:
// "weekly-deals (round 1): marketing; consent: 2026-03-01 (web form)". The source is
// text from a CSV, escaped.
func Evidence(m state.Message) string {
	var parts []string
	if m.Purpose != "" {
		parts = append(parts, m.Purpose)
	}
	if m.SendAt != "" {
		parts = append(parts, "scheduled for "+m.SendAt)
	}
	switch {
	case m.ConsentAt != "":
		c := "consent: " + consentDate(m.ConsentAt)
		if m.ConsentSource != "" {
			c += " (" + safetext.Escape(m.ConsentSource) + ")"
		}
		parts = append(parts, c)
	case m.Purpose == state.Marketing:
		parts = append(parts, "consent: none recorded")
	}
	if len(parts) == 0 {
		parts = append(parts, "no purpose or consent recorded (recorded before they were)")
	}
	return fmt.Sprintf("%s (round %d): %s", safetext.Escape(m.Campaign), m.Round, strings.Join(parts, "; "))
}

// consentDate is a recorded consent time as written: a date alone when it is one (midnight
// UTC), else RFC 3339.
func consentDate(s string) string {
	t := state.ParseTime(s)
	if t.IsZero() {
		return safetext.Escape(s)
	}
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}
