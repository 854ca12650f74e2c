package sandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smsform/smsform/internal/infobip"
)

// LogsRetention is how long Infobip's logs keep a message: older ones are not found.
const LogsRetention = 48 * time.Hour

// The query parameters each generation of logs and reports documents. Anything else is
// answered 400, so a client relying on a filter the API does not have finds out here
// instead of getting unfiltered results.
var (
	logsV1Params    = params("from", "to", "bulkId", "messageId", "generalStatus", "sentSince", "sentUntil", "limit", "mcc", "mnc", "applicationId", "entityId")
	logsV3Params    = params("sender", "destination", "bulkId", "messageId", "generalStatus", "sentSince", "sentUntil", "limit", "mcc", "mnc", "applicationId", "entityId", "campaignReferenceId", "useCursor", "cursor")
	reportsV1Params = params("bulkId", "messageId", "limit")
	reportsV3Params = params("bulkId", "messageId", "limit", "entityId", "applicationId", "campaignReferenceId")
)

func params(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// query is a parsed logs or reports query.
type query struct {
	messageIDs    []string
	bulkIDs       []string
	to, from      string
	generalStatus string
	campaignRef   string
	since, until  time.Time
	limit         int
	// none is set by a filter no sandbox message can match (mcc, an application id).
	none   bool
	cursor bool
	after  int // with a cursor: only records after this index
}

// Time formats a sentSince/sentUntil may take: Infobip's, and RFC 3339.
var queryTimeLayouts = []string{infobip.SendAtLayout, "2006-01-02T15:04:05.000Z07:00", time.RFC3339Nano}

func parseQuery(raw string, allowed map[string]bool) (query, string) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return query{}, "Invalid query: " + err.Error()
	}
	q := query{limit: DefaultLimit, after: -1}
	var unknown []string
	for name := range vals {
		if !allowed[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return q, fmt.Sprintf("Unknown query parameter(s): %s", strings.Join(unknown, ", "))
	}
	for _, name := range []string{"messageId", "bulkId"} {
		// Repeated parameters and comma-separated values are both documented.
		joined := strings.Join(vals[name], ",")
		if len(joined) > MaxQueryIDsChars {
			return q, fmt.Sprintf("%s must be at most %d characters, got %d", name, MaxQueryIDsChars, len(joined))
		}
		var ids []string
		for _, id := range strings.Split(joined, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
		if name == "messageId" {
			q.messageIDs = ids
		} else {
			q.bulkIDs = ids
		}
	}
	q.to = strings.TrimPrefix(strings.TrimSpace(vals.Get("to")+vals.Get("destination")), "+")
	q.from = strings.TrimSpace(vals.Get("from") + vals.Get("sender"))
	q.generalStatus = strings.ToUpper(strings.TrimSpace(vals.Get("generalStatus")))
	q.campaignRef = vals.Get("campaignReferenceId")
	q.none = vals.Get("mcc") != "" || vals.Get("mnc") != "" || vals.Get("applicationId") != "" || vals.Get("entityId") != ""
	for name, dst := range map[string]*time.Time{"sentSince": &q.since, "sentUntil": &q.until} {
		v := vals.Get(name)
		if v == "" {
			continue
		}
		ok := false
		for _, layout := range queryTimeLayouts {
			if t, err := time.Parse(layout, v); err == nil {
				*dst, ok = t, true
				break
			}
		}
		if !ok {
			return q, fmt.Sprintf("%s must have the format yyyy-MM-dd'T'HH:mm:ss.SSSZ, got %q", name, v)
		}
	}
	if l := vals.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			return q, fmt.Sprintf("limit must be a number from 1 to %d, got %q", MaxLimit, l)
		}
		q.limit = n
	}
	switch vals.Get("useCursor") {
	case "", "false":
		if vals.Has("cursor") {
			return q, "cursor needs useCursor=true"
		}
	case "true":
		q.cursor = true
		if c := vals.Get("cursor"); c != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(c, "c"))
			if err != nil || !strings.HasPrefix(c, "c") || n < 0 {
				return q, fmt.Sprintf("cursor %q is not one this API handed out", c)
			}
			q.after = n
		}
	default:
		return q, "useCursor must be true or false"
	}
	return q, ""
}

// serveLogs answers the logs (re-readable) and reports (each handed out once) of either
// generation.
func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request, reports, v3 bool) {
	allowed := logsV1Params
	switch {
	case reports && v3:
		allowed = reportsV3Params
	case reports:
		allowed = reportsV1Params
	case v3:
		allowed = logsV3Params
	}
	q, problem := parseQuery(r.URL.RawQuery, allowed)
	if problem != "" {
		s.badRequest(w, problem, nil, v3)
		return
	}
	var picked []int
	last := -1
	more := false
	s.mu.Lock()
	now := s.now()
	start := 0
	if reports {
		for s.firstUnreported < len(s.records) && s.records[s.firstUnreported].reported {
			s.firstUnreported++
		}
		start = s.firstUnreported
	}
	start = max(start, q.after+1)
	s.eachLocked(&q, start, func(i int, rec *record) bool {
		if len(picked) == q.limit {
			more = true
			return false
		}
		accepted := rec.accepted()
		if q.none || now.Sub(accepted) > LogsRetention {
			return true
		}
		delivered := s.deliveredLocked(rec, now)
		if reports {
			if !delivered || rec.reported {
				return true
			}
		} else if s.opts.LogsLag > 0 && now.Sub(accepted) < s.opts.LogsLag {
			return true
		}
		if q.to != "" && rec.to != q.to || q.from != "" && rec.info.from != q.from ||
			q.campaignRef != "" && rec.info.opts.campaignRef != q.campaignRef ||
			!q.since.IsZero() && accepted.Before(q.since) || !q.until.IsZero() && accepted.After(q.until) {
			return true
		}
		if q.generalStatus != "" && s.statusLocked(rec, delivered).GroupName != q.generalStatus {
			return true
		}
		if reports {
			rec.reported = true
			s.stats.Reports++
		}
		picked = append(picked, i)
		last = i
		return true
	})
	if v3 && reports {
		// A delivery report is not a log entry: the number is "to", and callbackData
		// comes back instead of the content.
		out := infobip.DeliveryReportsResponse{Results: make([]infobip.DeliveryReport, 0, len(picked))}
		for _, i := range picked {
			out.Results = append(out.Results, s.reportLocked(&s.records[i], now))
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, &out)
		return
	}
	if v3 {
		out := infobip.LogsResponse{Results: make([]infobip.LogEntry, 0, len(picked))}
		for _, i := range picked {
			out.Results = append(out.Results, s.entryLocked(&s.records[i], now))
		}
		if q.cursor {
			out.Cursor = &infobip.Cursor{Limit: q.limit}
			if more {
				out.Cursor.NextCursor = "c" + strconv.Itoa(last)
			}
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, &out)
		return
	}
	out := infobip.LogsResponseV1{Results: make([]infobip.LogEntryV1, 0, len(picked))}
	for _, i := range picked {
		out.Results = append(out.Results, s.entryV1Locked(&s.records[i], now))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, &out)
}

// eachLocked calls fn with the records the query's messageId and bulkId filters select, in
// acceptance order, from index start on, until fn returns false.
func (s *Server) eachLocked(q *query, start int, fn func(int, *record) bool) {
	if len(q.messageIDs) == 0 && len(q.bulkIDs) == 0 {
		for i := start; i < len(s.records); i++ {
			if !fn(i, &s.records[i]) {
				return
			}
		}
		return
	}
	var idx []int
	if len(q.messageIDs) > 0 {
		var bulks map[string]bool
		if len(q.bulkIDs) > 0 {
			bulks = make(map[string]bool, len(q.bulkIDs))
			for _, b := range q.bulkIDs {
				bulks[b] = true
			}
		}
		for _, id := range q.messageIDs {
			first, ok := s.byID[id]
			if !ok {
				continue
			}
			for _, i := range append([]int{first}, s.copies[id]...) {
				if i >= start && (bulks == nil || bulks[s.records[i].info.opts.bulkID]) {
					idx = append(idx, i)
				}
			}
		}
	} else {
		for _, b := range q.bulkIDs {
			for _, sp := range s.byBulk[b] {
				for i := max(sp.start, start); i < sp.end; i++ {
					idx = append(idx, i)
				}
			}
		}
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		if !fn(i, &s.records[i]) {
			return
		}
	}
}

// deliveredLocked says whether a message has reached the phone by now: DeliveryDelay after
// it was accepted, or after its sendAt for a scheduled one (until then it is PENDING).
func (s *Server) deliveredLocked(rec *record, now time.Time) bool {
	return now.UnixNano()-rec.dueAt() >= int64(max(s.opts.DeliveryDelay, 0))
}

func (s *Server) statusLocked(rec *record, delivered bool) infobip.Status {
	if delivered {
		return statusDelivered
	}
	return statusEnroute
}

func (s *Server) doneAtLocked(rec *record, delivered bool) string {
	if !delivered {
		return ""
	}
	return time.Unix(0, rec.dueAt()).UTC().Add(max(s.opts.DeliveryDelay, 0)).Format(infobip.SendAtLayout)
}

func (s *Server) entryLocked(rec *record, now time.Time) infobip.LogEntry {
	delivered := s.deliveredLocked(rec, now)
	return infobip.LogEntry{
		BulkID:              rec.info.opts.bulkID,
		MessageID:           rec.messageID,
		Sender:              rec.info.from,
		Destination:         rec.to,
		SentAt:              rec.accepted().Format(infobip.SendAtLayout),
		DoneAt:              s.doneAtLocked(rec, delivered),
		MessageCount:        rec.info.smsCount,
		Price:               price,
		Status:              s.statusLocked(rec, delivered),
		Error:               &noError,
		Content:             &infobip.TextContent{Text: rec.info.text},
		CampaignReferenceID: rec.info.opts.campaignRef,
	}
}

// reportLocked is a delivered message as GET /sms/3/reports hands it out.
func (s *Server) reportLocked(rec *record, now time.Time) infobip.DeliveryReport {
	delivered := s.deliveredLocked(rec, now)
	return infobip.DeliveryReport{
		BulkID:              rec.info.opts.bulkID,
		Price:               price,
		Status:              s.statusLocked(rec, delivered),
		Error:               &noError,
		MessageID:           rec.messageID,
		To:                  rec.to,
		Sender:              rec.info.from,
		SentAt:              rec.accepted().Format(infobip.SendAtLayout),
		DoneAt:              s.doneAtLocked(rec, delivered),
		MessageCount:        rec.info.smsCount,
		CallbackData:        rec.info.opts.callbackData,
		CampaignReferenceID: rec.info.opts.campaignRef,
	}
}

func (s *Server) entryV1Locked(rec *record, now time.Time) infobip.LogEntryV1 {
	delivered := s.deliveredLocked(rec, now)
	return infobip.LogEntryV1{
		BulkID:    rec.info.opts.bulkID,
		MessageID: rec.messageID,
		To:        rec.to,
		From:      rec.info.from,
		Text:      rec.info.text,
		SentAt:    rec.accepted().Format(infobip.SendAtLayout),
		DoneAt:    s.doneAtLocked(rec, delivered),
		SmsCount:  rec.info.smsCount,
		Price:     price,
		Status:    s.statusLocked(rec, delivered),
		Error:     &noError,
	}
}
