package infobip

// The v3 wire types: POST /sms/3/messages, GET /sms/3/logs and GET /sms/3/reports. Field
// names follow Infobip's published SMS OpenAPI document and the official Go client's models
// (MessageRequestOptions, MessageOptions, RequestSchedulingSettings, Tracking, Webhooks,
// ValidityPeriod, LogsResponse, Log, CursorPageInfo, DeliveryReports, DeliveryReport,
// MessageError, Platform).

// MessagesRequest is the body of POST /sms/3/messages.
type MessagesRequest struct {
	Messages []MessageV3       `json:"messages"`
	Options  *RequestOptionsV3 `json:"options,omitempty"`
}

// MessageV3 is one message object: one content to one or more destinations.
type MessageV3 struct {
	Sender       string            `json:"sender,omitempty"`
	Destinations []Destination     `json:"destinations"`
	Content      TextContent       `json:"content"`
	Options      *MessageOptionsV3 `json:"options,omitempty"`
	Webhooks     *Webhooks         `json:"webhooks,omitempty"`
}

// TextContent is a text message's content.
type TextContent struct {
	Text string `json:"text"`
}

// MessageOptionsV3 are one message object's options.
type MessageOptionsV3 struct {
	ValidityPeriod     *ValidityPeriod `json:"validityPeriod,omitempty"`
	DeliveryTimeWindow *TimeWindow     `json:"deliveryTimeWindow,omitempty"`
	// CampaignReferenceID lets logs and reports be filtered by campaign.
	CampaignReferenceID string `json:"campaignReferenceId,omitempty"`
}

// Validity period time units.
const (
	UnitSeconds = "SECONDS"
	UnitMinutes = "MINUTES"
	UnitHours   = "HOURS"
)

// ValidityPeriod is how long Infobip keeps trying to deliver.
type ValidityPeriod struct {
	Amount   int    `json:"amount"`
	TimeUnit string `json:"timeUnit,omitempty"`
}

// Webhooks say where delivery reports are pushed, with data echoed back.
type Webhooks struct {
	Delivery     *DeliveryWebhook `json:"delivery,omitempty"`
	CallbackData string           `json:"callbackData,omitempty"`
}

// DeliveryWebhook is the URL delivery reports are pushed to.
type DeliveryWebhook struct {
	URL string `json:"url,omitempty"`
}

// RequestOptionsV3 apply to every message of the request.
type RequestOptionsV3 struct {
	Schedule                  *Schedule           `json:"schedule,omitempty"`
	ConversionTracking        *ConversionTracking `json:"conversionTracking,omitempty"`
	IncludeSmsCountInResponse bool                `json:"includeSmsCountInResponse,omitempty"`
}

// Schedule names the bulk and says when and how fast it goes out.
type Schedule struct {
	BulkID            string      `json:"bulkId,omitempty"`
	SendAt            string      `json:"sendAt,omitempty"`
	SendingSpeedLimit *SpeedLimit `json:"sendingSpeedLimit,omitempty"`
}

// ConversionTracking is v3's form of v2's tracking {track: SMS, type}.
type ConversionTracking struct {
	UseConversionTracking  bool   `json:"useConversionTracking,omitempty"`
	ConversionTrackingName string `json:"conversionTrackingName,omitempty"`
}

// MessagesResponse is the answer to POST /sms/3/messages: one entry per destination.
type MessagesResponse struct {
	BulkID   string           `json:"bulkId,omitempty"`
	Messages []MessageStatus3 `json:"messages"`
}

// MessageStatus3 is Infobip's acceptance (or rejection) of one destination.
type MessageStatus3 struct {
	MessageID   string          `json:"messageId"`
	Destination string          `json:"destination"`
	Status      Status          `json:"status"`
	Details     *MessageDetails `json:"details,omitempty"`
}

// MessageDetails carries the SMS count of one destination.
type MessageDetails struct {
	MessageCount int `json:"messageCount"`
}

// SmsCount is the parts Infobip counted, 0 when it did not say.
func (m MessageStatus3) SmsCount() int {
	if m.Details == nil {
		return 0
	}
	return m.Details.MessageCount
}

// LogsResponse is the answer of GET /sms/3/logs.
type LogsResponse struct {
	Results []LogEntry `json:"results"`
	// Cursor is set on cursor-paged log answers (useCursor=true).
	Cursor *Cursor `json:"cursor,omitempty"`
}

// Cursor says how to ask for the next page: an empty NextCursor means there is none.
type Cursor struct {
	Limit      int    `json:"limit,omitempty"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// LogEntry is one message as Infobip's v3 logs know it (the official client's Log). A
// delivery report has another shape: DeliveryReport.
type LogEntry struct {
	BulkID              string       `json:"bulkId,omitempty"`
	MessageID           string       `json:"messageId"`
	Sender              string       `json:"sender,omitempty"`
	Destination         string       `json:"destination"`
	SentAt              string       `json:"sentAt,omitempty"`
	DoneAt              string       `json:"doneAt,omitempty"`
	MessageCount        int          `json:"messageCount,omitempty"`
	Price               *Price       `json:"price,omitempty"`
	Status              Status       `json:"status"`
	Error               *Status      `json:"error,omitempty"`
	Platform            *Platform    `json:"platform,omitempty"`
	Content             *TextContent `json:"content,omitempty"`
	CampaignReferenceID string       `json:"campaignReferenceId,omitempty"`
	MccMnc              string       `json:"mccMnc,omitempty"`
}

// Platform names the application and entity a message was sent under (CPaaS X).
type Platform struct {
	EntityID      string `json:"entityId,omitempty"`
	ApplicationID string `json:"applicationId,omitempty"`
}

// DeliveryReportsResponse is the answer of GET /sms/3/reports, and the body Infobip posts
// to a message's webhooks.delivery.url.
type DeliveryReportsResponse struct {
	Results []DeliveryReport `json:"results"`
}

// DeliveryReport is one message's final status as a delivery report gives it (the official
// client's DeliveryReport): not the logs' shape. The number is To (the logs say
// destination), the message's callbackData comes back, and its content does not.
type DeliveryReport struct {
	BulkID              string    `json:"bulkId,omitempty"`
	Price               *Price    `json:"price,omitempty"`
	Status              Status    `json:"status"`
	Error               *Status   `json:"error,omitempty"`
	MessageID           string    `json:"messageId"`
	To                  string    `json:"to"`
	Sender              string    `json:"sender,omitempty"`
	SentAt              string    `json:"sentAt,omitempty"`
	DoneAt              string    `json:"doneAt,omitempty"`
	MessageCount        int       `json:"messageCount,omitempty"`
	MccMnc              string    `json:"mccMnc,omitempty"`
	CallbackData        string    `json:"callbackData,omitempty"`
	Platform            *Platform `json:"platform,omitempty"`
	CampaignReferenceID string    `json:"campaignReferenceId,omitempty"`
}

// V3Error is the error shape of the v3 endpoints.
type V3Error struct {
	ErrorCode   string        `json:"errorCode"`
	Description string        `json:"description"`
	Action      string        `json:"action,omitempty"`
	Violations  []Violation   `json:"violations,omitempty"`
	Resources   []ErrResource `json:"resources,omitempty"`
}

// Violation is one field a v3 request got wrong.
type Violation struct {
	Property  string `json:"property"`
	Violation string `json:"violation"`
}

// ErrResource points to documentation about an error.
type ErrResource struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}
