package campaign

import (
	"fmt"
	"strings"
	"time"

	"github.com/smsform/smsform/internal/safetext"
)

// Consent evidence (spec §12): with consent.marketing: required in the governing settings
// file, every recipient of a marketing campaign carries, in the var consent.column names,
// when they agreed to marketing texts, at or before the campaign's send time; and, in
// consent.source_column if named, where. Both stay vars: a recipient gains no field, and
// Consent reads them for the state to record with each message.

// Consent returns when the recipient agreed to marketing texts and where, as their vars
// say under the campaign's settings; ok is false without a consent column, or without a
// valid time in it. A date alone (2026-03-01) is that day at 00:00 UTC.
func (c *Campaign) Consent(rec Recipient) (at time.Time, source string, ok bool) {
	col, srcCol := c.Settings.ConsentColumns()
	if col == "" {
		return time.Time{}, "", false
	}
	v, _ := rec.Vars.Lookup(col)
	at, ok = parseConsentTime(v)
	if srcCol != "" {
		source, _ = rec.Vars.Lookup(srcCol)
		source = strings.TrimSpace(source)
	}
	return at, source, ok
}

// parseConsentTime reads an RFC 3339 time or a date (YYYY-MM-DD, 00:00 UTC).
func parseConsentTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// checkConsent checks a recipient's consent evidence against the settings: required for a
// marketing campaign, at or before the send time (send_at, or the load's clock: a message
// never goes out earlier; quiet hours only defer it). A value in the column must be a time
// even where consent is optional: it is evidence, and wrong evidence is worse than none.
// Transactional campaigns are exempt. A CSV without the column is reported once, at its
// header (see destinationsFile.load).
func (c *Campaign) checkConsent(row *prepared) {
	col, _ := c.Settings.ConsentColumns()
	if col == "" || !c.IsMarketing() {
		return
	}
	rec := &row.rec
	required := c.Settings.ConsentRequired()
	v, found := rec.Vars.Lookup(col)
	if !found && rec.FromCSV {
		return
	}
	file, line, field := c.CSVFile, int(rec.Line), col
	if !rec.FromCSV {
		// Inline: the var's own line when written, else the destination's.
		field = strings.TrimSuffix(row.field, ".to") + ".vars." + col
		file, line = c.File, c.Line(field)
	}
	report := func(format string, args ...any) {
		row.fail(Problem{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			report("no consent for %s: marketing texts need the time this person agreed, as RFC 3339 (2026-03-01T10:00:00Z) or a date (2026-03-01), under consent.marketing: required (%s)", rec.To, c.Settings.Pos("consent.marketing"))
		}
		return
	}
	t, ok := parseConsentTime(v)
	if !ok {
		report("%s is not a consent time: write RFC 3339 (2026-03-01T10:00:00Z) or a date (2026-03-01)", safetext.Quote(clipped(v, maxQuoted)))
		return
	}
	if required && !c.sendBy.IsZero() && t.After(c.sendBy) {
		when := "the time of this check"
		if !c.SendTime().IsZero() {
			when = "send_at"
		}
		report("consent %s is after the send time %s (%s); a marketing text may only go to someone who agreed before it is sent", v, c.sendBy.UTC().Format(time.RFC3339), when)
	}
}
