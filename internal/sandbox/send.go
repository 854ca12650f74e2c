package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/infobip"
)

// Statuses the sandbox answers with.
var (
	statusAccepted = infobip.Status{GroupID: infobip.GroupPending, GroupName: "PENDING", ID: infobip.StatusPendingAccepted,
		Name: "PENDING_ACCEPTED", Description: "Message sent to next instance"}
	statusEnroute = infobip.Status{GroupID: infobip.GroupPending, GroupName: "PENDING", ID: 7,
		Name: "PENDING_ENROUTE", Description: "Message sent to next instance"}
	statusDelivered = infobip.Status{GroupID: infobip.GroupDelivered, GroupName: "DELIVERED", ID: infobip.StatusDeliveredToHandset,
		Name: "DELIVERED_TO_HANDSET", Description: "Message delivered to handset"}
	statusDuplicate = infobip.Status{GroupID: infobip.GroupRejected, GroupName: "REJECTED", ID: infobip.StatusRejectedDuplicateMsgID,
		Name: "REJECTED_DUPLICATE_MESSAGE_ID", Description: "Message ID is not unique"}
	statusTooLong = infobip.Status{GroupID: infobip.GroupRejected, GroupName: "REJECTED", ID: infobip.StatusRejectedTooLong,
		Name: "REJECTED_MESSAGE_TOO_LONG", Description: "Message is too long"}
	statusBadDestination = infobip.Status{GroupID: infobip.GroupRejected, GroupName: "REJECTED", ID: 52,
		Name: "REJECTED_DESTINATION", Description: "Invalid destination address"}
	noError = infobip.Status{GroupID: 0, GroupName: "OK", ID: 0, Name: "NO_ERROR", Description: "No Error"}
	price   = &infobip.Price{PricePerMessage: 0.01, Currency: "EUR"}
)

// sendMsg is one message object of a send request of either generation.
type sendMsg struct {
	from, text string
	dests      []infobip.Destination
	opts       *msgOpts
}

// sendReq is a send request of either generation in the sandbox's terms.
type sendReq struct {
	bulkID       string
	includeCount bool
	msgs         []sendMsg
}

// fromV2 reads a POST /sms/2/text/advanced body.
func fromV2(req *infobip.SendRequest) sendReq {
	out := sendReq{bulkID: clip(req.BulkID, maxBulkIDLen), includeCount: req.IncludeSmsCountInResponse, msgs: make([]sendMsg, len(req.Messages))}
	tracking, speed := cloneTracking(req.Tracking), cloneSpeed(req.SendingSpeedLimit)
	for i := range req.Messages {
		m := &req.Messages[i]
		o := &msgOpts{bulkID: out.bulkID, tracking: tracking, speed: speed, validity: m.ValidityPeriod, sendAt: m.SendAt,
			window: cloneWindow(m.DeliveryTimeWindow), notifyURL: m.NotifyURL, callbackData: m.CallbackData}
		out.msgs[i] = sendMsg{from: m.From, text: m.Text, dests: m.Destinations, opts: o}
	}
	return out
}

// fromV3 reads a POST /sms/3/messages body. v3's conversionTracking is v2's tracking
// {track: SMS, type}; its validityPeriod {amount, timeUnit} is kept in minutes, rounded up.
func fromV3(req *infobip.MessagesRequest) sendReq {
	out := sendReq{msgs: make([]sendMsg, len(req.Messages))}
	var tracking *infobip.Tracking
	var speed *infobip.SpeedLimit
	sendAt := ""
	if o := req.Options; o != nil {
		out.includeCount = o.IncludeSmsCountInResponse
		if sc := o.Schedule; sc != nil {
			out.bulkID, sendAt, speed = clip(sc.BulkID, maxBulkIDLen), sc.SendAt, cloneSpeed(sc.SendingSpeedLimit)
		}
		if ct := o.ConversionTracking; ct != nil && ct.UseConversionTracking {
			tracking = &infobip.Tracking{Track: "SMS", Type: ct.ConversionTrackingName}
		}
	}
	for i := range req.Messages {
		m := &req.Messages[i]
		o := &msgOpts{bulkID: out.bulkID, tracking: tracking, speed: speed, sendAt: sendAt}
		if mo := m.Options; mo != nil {
			o.campaignRef = mo.CampaignReferenceID
			o.window = cloneWindow(mo.DeliveryTimeWindow)
			if vp := mo.ValidityPeriod; vp != nil {
				o.validity = (vp.Amount*unitSeconds(vp.TimeUnit) + 59) / 60
			}
		}
		if wh := m.Webhooks; wh != nil {
			o.callbackData = wh.CallbackData
			if wh.Delivery != nil {
				o.notifyURL = wh.Delivery.URL
			}
		}
		out.msgs[i] = sendMsg{from: m.Sender, text: m.Content.Text, dests: m.Destinations, opts: o}
	}
	return out
}

// requestOptions read a send request as a JSON API on Jackson's defaults does: names match
// exactly (a "Messages" member is unknown, so ignored), a repeated name is allowed.
// Invalid UTF-8 is let through, as encoding/json let it through before.
var requestOptions = jsonv2.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// decodeRequest decodes a send request's body, through encoding/json/v2's decoder: a send
// request of 500 messages decodes in half the time encoding/json took, which is time the
// sandbox takes from the tool it stands in for when both run on one machine.
func decodeRequest(body []byte, out any) error { return jsonv2.Unmarshal(body, out, requestOptions) }

// readSend decodes a send request of either generation and checks it, naming the fields it
// refuses as that generation does.
func readSend(body []byte, v3 bool) (sendReq, map[string][]string, error) {
	if v3 {
		var r infobip.MessagesRequest
		if err := decodeRequest(body, &r); err != nil {
			return sendReq{}, nil, err
		}
		req := fromV3(&r)
		return req, validateSend(req, "content.text", "options.schedule.sendAt"), nil
	}
	var r infobip.SendRequest
	if err := decodeRequest(body, &r); err != nil {
		return sendReq{}, nil, err
	}
	req := fromV2(&r)
	return req, validateSend(req, "text", "sendAt"), nil
}

// unitSeconds is the length of a validityPeriod time unit; MINUTES is the default.
func unitSeconds(unit string) int {
	switch unit {
	case infobip.UnitSeconds:
		return 1
	case infobip.UnitHours:
		return 3600
	default:
		return 60
	}
}

// sameOpts reports whether two message objects' options are equal, so their destinations
// can share one msgOpts.
func sameOpts(a, b *msgOpts) bool {
	return a.validity == b.validity && a.sendAt == b.sendAt && a.notifyURL == b.notifyURL &&
		a.callbackData == b.callbackData && a.campaignRef == b.campaignRef && sameWindow(a.window, b.window)
}

// answer is the sandbox's verdict on one destination.
type answer struct {
	to, messageID string
	status        infobip.Status
	smsCount      int
}

func (s *Server) serveSend(w http.ResponseWriter, body []byte, v3 bool) {
	if s.roll(s.options().ErrorRate, FaultError) {
		writeError(w, http.StatusInternalServerError, "GENERAL_ERROR", "Something went wrong. Please contact support.", nil, v3)
		return
	}
	req, verr, err := readSend(body, v3)
	if err != nil {
		s.badRequest(w, "Invalid request body: "+err.Error(), nil, v3)
		return
	}
	if len(verr) > 0 {
		s.badRequest(w, "Bad request", verr, v3)
		return
	}

	// Work out everything that needs no lock: parts, the shared options, the schedule.
	parts := make([]int, len(req.msgs))
	ndest := 0
	for i := range req.msgs {
		m := &req.msgs[i]
		parts[i], _ = campaign.Parts(m.text)
		if i > 0 && sameOpts(req.msgs[i-1].opts, m.opts) {
			m.opts = req.msgs[i-1].opts
		} else if m.opts.sendAt != "" {
			t, _ := time.Parse(infobip.SendAtLayout, m.opts.sendAt) // checked by validateSend
			m.opts.due = t.UnixNano()
		}
		ndest += len(m.dests)
	}
	answers := make([]answer, 0, ndest)

	s.mu.Lock()
	bulkID := req.bulkID
	if bulkID == "" {
		bulkID = s.newIDLocked()
		for i := range req.msgs {
			req.msgs[i].opts.bulkID = bulkID
		}
	}
	now := s.now().UnixNano()
	start := len(s.records)
	for i := range req.msgs {
		m := &req.msgs[i]
		tooLong := parts[i] > campaign.MaxParts || len(m.text) > MaxTextBytes
		var info *msgInfo // allocated when the first destination is accepted
		for _, d := range m.dests {
			id := clip(d.MessageID, maxMessageIDLen)
			if id == "" {
				id = s.newIDLocked()
			}
			a := answer{to: d.To, messageID: id}
			first, seen := s.byID[id]
			switch {
			case seen && s.opts.IdempotencyWindow > 0 && now-s.records[first].acceptedAt < int64(s.opts.IdempotencyWindow):
				// An idempotent account refuses the repeat within its grace period.
				a.status = statusDuplicate
				s.duplicates = append(s.duplicates, id)
				s.stats.Duplicates++
			case strings.HasPrefix(d.To, "999") || slices.Contains(s.opts.RejectTo, d.To):
				a.status = statusBadDestination
				s.stats.Rejected++
			case tooLong:
				a.status = statusTooLong
				s.stats.Rejected++
			default:
				a.status = statusAccepted
				if req.includeCount {
					a.smsCount = parts[i]
				}
				if info == nil {
					info = &msgInfo{opts: m.opts, from: m.from, text: m.text, smsCount: parts[i]}
				}
				rec := record{info: info, messageID: id, to: d.To, acceptedAt: now}
				if seen {
					// A default account: the repeat is a new message, and the phone gets it
					// again.
					rec.copy = int32(len(s.copies[id]) + 1)
					s.copies[id] = append(s.copies[id], len(s.records))
					s.stats.DoubleSends++
					if s.stats.DeliveriesPerPhone[d.To] == 0 {
						s.stats.DeliveriesPerPhone[d.To] = s.deliveriesLocked(d.To)
					}
					s.stats.DeliveriesPerPhone[d.To]++
				} else {
					s.byID[id] = len(s.records)
					if _, tracked := s.stats.DeliveriesPerPhone[d.To]; tracked {
						s.stats.DeliveriesPerPhone[d.To]++
					}
				}
				s.records = append(s.records, rec)
				s.stats.Accepted++
			}
			answers = append(answers, a)
		}
	}
	if end := len(s.records); end > start {
		s.byBulk[bulkID] = append(s.byBulk[bulkID], span{start, end})
	}
	drop := s.rollLocked(s.opts.DropRate, FaultDrop)
	s.mu.Unlock()

	if drop {
		dropConnection(w)
		return
	}
	if v3 {
		resp := infobip.MessagesResponse{BulkID: bulkID, Messages: make([]infobip.MessageStatus3, len(answers))}
		for i, a := range answers {
			resp.Messages[i] = infobip.MessageStatus3{MessageID: a.messageID, Destination: a.to, Status: a.status}
			if a.smsCount > 0 {
				resp.Messages[i].Details = &infobip.MessageDetails{MessageCount: a.smsCount}
			}
		}
		writeJSON(w, http.StatusOK, &resp)
		return
	}
	resp := infobip.SendResponse{BulkID: bulkID, Messages: make([]infobip.SentStatus, len(answers))}
	for i, a := range answers {
		resp.Messages[i] = infobip.SentStatus{To: a.to, MessageID: a.messageID, Status: a.status, SmsCount: a.smsCount}
	}
	writeJSON(w, http.StatusOK, &resp)
}

// deliveriesLocked counts the messages delivered to a phone so far. Only called when a
// phone first gets a double, so the per-phone counts cost nothing on a clean run.
func (s *Server) deliveriesLocked(to string) int {
	n := 0
	for i := range s.records {
		if s.records[i].to == to {
			n++
		}
	}
	return n
}

// newIDLocked generates an id no accepted message has; s.mu must be held.
func (s *Server) newIDLocked() string {
	for {
		id := fmt.Sprintf("%016x%016x", s.rng.Uint64(), s.rng.Uint64())
		if _, taken := s.byID[id]; !taken {
			return id
		}
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// validateSend returns Infobip-style validation errors: field path -> problems. The field
// names of text and sendAt differ between the generations.
func validateSend(req sendReq, textField, sendAtField string) map[string][]string {
	verr := map[string][]string{}
	add := func(field, problem string) { verr[field] = append(verr[field], problem) }
	if len(req.msgs) == 0 {
		add("messages", "must not be empty")
	}
	for i, m := range req.msgs {
		mp := fmt.Sprintf("messages[%d]", i)
		if len(m.dests) == 0 {
			add(mp+".destinations", "must not be empty")
		}
		for j, d := range m.dests {
			dp := fmt.Sprintf("%s.destinations[%d].to", mp, j)
			switch {
			case d.To == "":
				add(dp, "must not be blank")
			case !digits(d.To, 3, 64):
				add(dp, "must be 3 to 64 digits, international format without '+'")
			}
		}
		if strings.TrimSpace(m.text) == "" {
			add(mp+"."+textField, "must not be blank")
		}
		if m.opts.sendAt != "" {
			if _, err := time.Parse(infobip.SendAtLayout, m.opts.sendAt); err != nil {
				f := mp + "." + sendAtField
				if strings.HasPrefix(sendAtField, "options.") {
					f = sendAtField // v3: one schedule for the whole request
				}
				add(f, "must have the format yyyy-MM-dd'T'HH:mm:ss.SSSZ")
			}
		}
		if m.opts.validity < 0 {
			add(mp+".validityPeriod", "must not be negative")
		}
		if len(m.opts.callbackData) > maxCallbackData {
			add(mp+".callbackData", "must be at most 4000 characters")
		}
	}
	return verr
}

func digits(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// query is a parsed /sms/1/logs or /sms/1/reports query.
