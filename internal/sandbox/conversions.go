package sandbox

import (
	"net/http"

	"github.com/smsform/smsform/internal/infobip"
)

func (s *Server) serveLogEnd(w http.ResponseWriter, messageID string) {
	s.mu.Lock()
	i, ok := s.byID[messageID]
	if ok {
		rec := &s.records[i]
		if t := rec.info.opts.tracking; t != nil && t.Track == "SMS" {
			rec.converted++
			s.stats.Conversions++
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, &infobip.ConversionResponse{ProcessKey: ProcessKey})
			return
		}
	}
	s.mu.Unlock()
	text := "No message with this messageId"
	if ok {
		text = "Message was not sent with conversion tracking (tracking.track SMS)"
	}
	writeError(w, http.StatusNotFound, "NOT_FOUND", text, nil, false)
}

// serveSandbox answers the sandbox's own helper endpoints, which need no credentials.
