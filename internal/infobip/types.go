// Package infobip is a small typed client for the parts of the Infobip API smsform uses:
// sending SMS (POST /sms/3/messages), reading logs and delivery reports (GET /sms/3/logs
// with cursor paging, GET /sms/3/reports) and logging conversions
// (POST /ct/1/log/end/{messageId}). The older v1/v2 shapes are kept for the sandbox, which
// also serves those endpoints.
//
// The wire types live here and are shared with the sandbox server, so the client and the
// fake API can never disagree about a field name.
package infobip

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state"
)

// SendAtLayout is the time format Infobip expects for sendAt.
const SendAtLayout = "2006-01-02T15:04:05.000-0700"

// Status groups as Infobip reports them (package state says what they mean for the record).
const (
	GroupPending       = state.GroupPending
	GroupUndeliverable = state.GroupUndeliverable
	GroupDelivered     = state.GroupDelivered
	GroupExpired       = state.GroupExpired
	GroupRejected      = state.GroupRejected
)

// Status ids smsform treats specially.
const (
	StatusPendingAccepted        = 26
	StatusDeliveredToHandset     = 5
	StatusRejectedDuplicateMsgID = state.StatusDuplicateMessageID
	StatusRejectedTooLong        = 25
)

// SendRequest is the body of POST /sms/2/text/advanced (superseded by MessagesRequest).
type SendRequest struct {
	BulkID                    string      `json:"bulkId,omitempty"`
	Messages                  []Message   `json:"messages"`
	Tracking                  *Tracking   `json:"tracking,omitempty"`
	SendingSpeedLimit         *SpeedLimit `json:"sendingSpeedLimit,omitempty"`
	IncludeSmsCountInResponse bool        `json:"includeSmsCountInResponse,omitempty"`
}

// Message is one message object: one text to one or more destinations.
type Message struct {
	From               string        `json:"from,omitempty"`
	Destinations       []Destination `json:"destinations"`
	Text               string        `json:"text"`
	ValidityPeriod     int           `json:"validityPeriod,omitempty"`
	SendAt             string        `json:"sendAt,omitempty"`
	DeliveryTimeWindow *TimeWindow   `json:"deliveryTimeWindow,omitempty"`
	NotifyURL          string        `json:"notifyUrl,omitempty"`
	CallbackData       string        `json:"callbackData,omitempty"`
}

// Destination is one recipient: international digits without '+' and a client-chosen id.
type Destination struct {
	To        string `json:"to"`
	MessageID string `json:"messageId,omitempty"`
}

// Tracking turns on SMS conversion tracking for the request.
type Tracking struct {
	Track      string `json:"track,omitempty"`
	Type       string `json:"type,omitempty"`
	ProcessKey string `json:"processKey,omitempty"`
}

// SpeedLimit caps how fast Infobip hands the request's messages to operators.
type SpeedLimit struct {
	Amount   int    `json:"amount"`
	TimeUnit string `json:"timeUnit,omitempty"`
}

// TimeWindow restricts delivery to some days and hours (UTC).
type TimeWindow struct {
	Days []string   `json:"days"`
	From *TimeOfDay `json:"from,omitempty"`
	To   *TimeOfDay `json:"to,omitempty"`
}

// TimeOfDay is an hour and minute.
type TimeOfDay struct {
	Hour   int `json:"hour"`
	Minute int `json:"minute"`
}

// SendResponse is the answer to a send: one entry per destination.
type SendResponse struct {
	BulkID   string       `json:"bulkId,omitempty"`
	Messages []SentStatus `json:"messages"`
}

// SentStatus is Infobip's acceptance (or rejection) of one destination.
type SentStatus struct {
	To        string `json:"to"`
	MessageID string `json:"messageId"`
	SmsCount  int    `json:"smsCount,omitempty"`
	Status    Status `json:"status"`
}

// Status is Infobip's status object.
type Status struct {
	GroupID     int    `json:"groupId"`
	GroupName   string `json:"groupName,omitempty"`
	ID          int    `json:"id"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	Action      string `json:"action,omitempty"` // v3 only, and in a status, not an error
	// Permanent says, of an error object, whether the error will not go away.
	Permanent bool `json:"permanent,omitempty"`
}

// Rejected reports whether the status is in the REJECTED group.
func (s Status) Rejected() bool { return s.GroupID == GroupRejected }

// DuplicateMessageID reports whether Infobip refused the message because its messageId was
// already used, which proves an earlier send with that id went through.
func (s Status) DuplicateMessageID() bool { return state.DuplicateMessageID(s.GroupID, s.ID) }

// LogsResponseV1 is the answer of the older GET /sms/1/logs and GET /sms/1/reports.
type LogsResponseV1 struct {
	Results []LogEntryV1 `json:"results"`
}

// LogEntryV1 is one message as the older logs and reports know it.
type LogEntryV1 struct {
	BulkID    string  `json:"bulkId,omitempty"`
	MessageID string  `json:"messageId"`
	To        string  `json:"to"`
	From      string  `json:"from,omitempty"`
	Text      string  `json:"text,omitempty"`
	SentAt    string  `json:"sentAt,omitempty"`
	DoneAt    string  `json:"doneAt,omitempty"`
	SmsCount  int     `json:"smsCount,omitempty"`
	Price     *Price  `json:"price,omitempty"`
	Status    Status  `json:"status"`
	Error     *Status `json:"error,omitempty"`
}

// Price is what Infobip charged for a message.
type Price struct {
	PricePerMessage float64 `json:"pricePerMessage"`
	Currency        string  `json:"currency"`
}

// ConversionResponse is the answer of POST /ct/1/log/end/{messageId}.
type ConversionResponse struct {
	ProcessKey string `json:"processKey"`
}

// ErrorBody is the error shape of the v1/v2 endpoints and /ct.
type ErrorBody struct {
	RequestError struct {
		ServiceException ServiceException `json:"serviceException"`
	} `json:"requestError"`
}

// ServiceException is the inner part of ErrorBody.
type ServiceException struct {
	MessageID        string              `json:"messageId"`
	Text             string              `json:"text"`
	ValidationErrors map[string][]string `json:"validationErrors,omitempty"`
}

// NewErrorBody builds the v1/v2 error body.
func NewErrorBody(messageID, text string) ErrorBody {
	var b ErrorBody
	b.RequestError.ServiceException = ServiceException{MessageID: messageID, Text: text}
	return b
}

// APIError is a non-2xx answer from Infobip, decoded from either of its error shapes. Its
// texts are escaped and bounded when decoded (see decodeAPIError): they end up in the state,
// once per message of the request, and in CI logs.
type APIError struct {
	StatusCode int
	Code       string // serviceException.messageId or errorCode, e.g. BAD_REQUEST, E429
	Text       string // serviceException.text or description
	Details    []string
	RetryAfter string // the Retry-After header, when present
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "infobip: HTTP %d", e.StatusCode)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Text != "" {
		fmt.Fprintf(&b, ": %s", e.Text)
	}
	if len(e.Details) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(e.Details, "; "))
	}
	return b.String()
}

// Bounds on what an error answer may bring into an APIError: nothing but Infobip bounds its
// texts, and a request's error is stored with each of its messages.
const (
	maxErrorCode    = 64
	maxErrorText    = 400
	maxErrorDetail  = 200
	maxErrorDetails = 10
)

// decodeAPIError reads either error shape; a body in neither shape keeps its first bytes as
// the text, so a proxy's HTML error page still tells the user something. Every text is
// escaped (no line break or control character from the answer survives) and bounded, and
// so is the number of details.
func decodeAPIError(status int, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	defer func() {
		e.Code, e.Text = safetext.Clip(e.Code, maxErrorCode), safetext.Clip(e.Text, maxErrorText)
		if n := len(e.Details); n > maxErrorDetails {
			e.Details = append(e.Details[:maxErrorDetails:maxErrorDetails], fmt.Sprintf("... and %d more", n-maxErrorDetails))
		}
		for i, d := range e.Details {
			e.Details[i] = safetext.Clip(d, maxErrorDetail)
		}
	}()
	var v12 ErrorBody
	if json.Unmarshal(body, &v12) == nil && (v12.RequestError.ServiceException.MessageID != "" || v12.RequestError.ServiceException.Text != "") {
		se := v12.RequestError.ServiceException
		e.Code, e.Text = se.MessageID, se.Text
		for field, msgs := range se.ValidationErrors {
			for _, m := range msgs {
				e.Details = append(e.Details, field+": "+m)
			}
		}
		sort.Strings(e.Details)
		return e
	}
	var v3 struct {
		ErrorCode   string `json:"errorCode"`
		Description string `json:"description"`
		Action      string `json:"action"`
		Violations  []struct {
			Property  string `json:"property"`
			Violation string `json:"violation"`
		} `json:"violations"`
	}
	if json.Unmarshal(body, &v3) == nil && (v3.ErrorCode != "" || v3.Description != "") {
		e.Code, e.Text = v3.ErrorCode, v3.Description
		if v3.Action != "" {
			e.Details = append(e.Details, v3.Action)
		}
		for _, v := range v3.Violations {
			e.Details = append(e.Details, v.Property+": "+v.Violation)
		}
		return e
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = strings.ToValidUTF8(text[:200], "") + "..."
	}
	e.Text = text
	return e
}

// TimeLayouts are the layouts a time from Infobip is read in: Infobip's own
// (yyyy-MM-dd'T'HH:mm:ss.SSSZ), a date, the same time without a zone (read as UTC), and
// one in UTC written with Z, the layouts Infobip's official clients read.
var TimeLayouts = []string{SendAtLayout, "2006-01-02", "2006-01-02T15:04:05.000", "2006-01-02T15:04:05Z"}

// ParseTime reads a time Infobip wrote, in any of TimeLayouts.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range TimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is in none of Infobip's layouts", safetext.Clip(s, 80))
}
