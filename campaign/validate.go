package campaign

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"github.com/nyaruka/phonenumbers"
)

// The field rules of spec §2.
var (
	idPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	alphaSender     = regexp.MustCompile(`^[A-Za-z0-9]{3,11}$`)
	numericSender   = regexp.MustCompile(`^[0-9]{3,15}$`)
	trackingPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,50}$`)
	hhmmPattern     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	// validityPattern is 1m..48h written in hours, minutes and seconds, in that order, as
	// Go prints a duration (90m, 2h, 1h30m, 90m30s): the JSON Schema checks the same
	// pattern, range included, which it could not do for any Go duration (3600000000us).
	validityPattern = regexp.MustCompile(`^(([1-9][0-9]{0,2}|1[0-9]{3}|2[0-7][0-9]{2}|28[0-7][0-9])m(([0-9]|[1-5][0-9])s)?|2880m|([1-9]|[1-3][0-9]|4[0-8])h|([1-9]|[1-3][0-9]|4[0-7])h([0-9]|[1-5][0-9])m(([0-9]|[1-5][0-9])s)?|48h0m(0s)?)$`)
)

// Limits of the send options.
const (
	MinValidity = time.Minute
	MaxValidity = 48 * time.Hour
	// MaxSendAhead is how far ahead send_at may be.
	MaxSendAhead = 180 * 24 * time.Hour
)

var (
	validateOnce sync.Once
	validate     *validator.Validate
)

func validatorInstance() *validator.Validate {
	validateOnce.Do(func() {
		v := validator.New(validator.WithRequiredStructEnabled())
		v.RegisterTagNameFunc(func(f reflect.StructField) string {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			return name
		})
		must := func(tag string, fn func(string) bool) {
			if err := v.RegisterValidation(tag, func(fl validator.FieldLevel) bool { return fn(fl.Field().String()) }); err != nil {
				panic(err)
			}
		}
		must("campaign_id", idPattern.MatchString)
		must("variant_name", variantPattern.MatchString)
		must("column_name", columnPattern.MatchString)
		must("sender", func(s string) bool { return alphaSender.MatchString(s) || numericSender.MatchString(s) })
		must("tracking_type", trackingPattern.MatchString)
		must("hhmm", hhmmPattern.MatchString)
		must("localhhmm", hhmmPattern.MatchString)
		must("region", func(s string) bool { return phonenumbers.GetCountryCodeForRegion(s) != 0 })
		must("rfc3339", func(s string) bool { _, err := time.Parse(time.RFC3339, s); return err == nil })
		must("validity", func(s string) bool {
			d, err := time.ParseDuration(s)
			return err == nil && d >= MinValidity && d <= MaxValidity && validityPattern.MatchString(s)
		})
		must("https_url", func(s string) bool {
			u, err := url.Parse(s)
			return err == nil && u.Scheme == "https" && u.Host != ""
		})
		validate = v
	})
	return validate
}

// problemText turns a validator failure into words a campaign author can act on.
func problemText(fe validator.FieldError) string {
	value := clipped(fmt.Sprint(fe.Value()), maxQuoted)
	switch fe.Tag() {
	case "required":
		return "is required"
	case "campaign_id":
		return fmt.Sprintf("%q must be lower-case letters, digits, '-' or '_', start with a letter or digit, at most 64 chars (^[a-z0-9][a-z0-9_-]{0,63}$)", value)
	case "variant_name":
		return fmt.Sprintf("%q must be lower-case letters, digits, '-' or '_', start with a letter or digit, at most 32 chars (^[a-z0-9][a-z0-9_-]{0,31}$)", value)
	case "column_name":
		return fmt.Sprintf("%q must be the name of a column or var: 1 to %d characters, no control characters", value, maxColumnName)
	case "sender":
		return fmt.Sprintf("%q must be 3-11 letters and digits, or 3-15 digits", value)
	case "tracking_type":
		return fmt.Sprintf("%q must be 1-50 letters, digits or '_'", value)
	case "hhmm":
		return fmt.Sprintf("%q must be a time of day HH:MM (UTC), such as 09:00", value)
	case "localhhmm":
		return fmt.Sprintf("%q must be a time of day HH:MM in the recipient's local time, such as 21:00", value)
	case "region":
		return fmt.Sprintf("%q is not an ISO 3166 country code with phone numbers, such as CH, GB, US", value)
	case "rfc3339":
		return fmt.Sprintf("%q must be an RFC 3339 time such as 2026-12-01T09:00:00Z", value)
	case "validity":
		return fmt.Sprintf("%q must be a duration between %s and %s in hours, minutes and seconds, such as 90m, 2h or 1h30m", value, "1m", "48h")
	case "https_url":
		return fmt.Sprintf("%q must be an https:// URL", value)
	case "oneof":
		return fmt.Sprintf("%q must be one of %s", value, strings.ReplaceAll(fe.Param(), " ", ", "))
	case "gte", "min":
		return fmt.Sprintf("must be at least %s", fe.Param())
	case "max":
		return fmt.Sprintf("must be at most %s characters", fe.Param())
	case "lte":
		return fmt.Sprintf("must be at most %s", fe.Param())
	case "unique":
		return "must not repeat a value"
	}
	return fmt.Sprintf("fails %s", fe.Tag())
}

// validate checks the document's own fields; recipients are checked when loaded.
// Fields in badType (and what is inside them) were already reported.
func (c *Campaign) validate(ps *problems, badType map[string]bool) {
	fieldProblems(c, badType, func(path, msg string) { c.problem(ps, path, "%s", msg) })
	if len(c.Destinations) == 0 && c.DestinationsFile == "" && !badType["destinations"] && !badType["destinations_file"] {
		c.problem(ps, "destinations", "the campaign has no recipients: set destinations, destinations_file or both")
	}
	if w := c.DeliveryWindow; w != nil && hhmmPattern.MatchString(w.From) && hhmmPattern.MatchString(w.To) {
		if from, to := w.Minutes(); to-from < 60 {
			c.problem(ps, "delivery_window.to", "the window %s-%s must be at least one hour wide, and to after from (UTC)", w.From, w.To)
		}
	}
	if q := c.QuietHours; q != nil && hhmmPattern.MatchString(q.From) && hhmmPattern.MatchString(q.To) {
		if q.From == q.To {
			c.problem(ps, "quiet_hours.to", "quiet hours %s-%s are empty; from and to must differ (21:00 to 08:00 wraps midnight)", q.From, q.To)
		} else {
			c.Quiet = &Quiet{From: Clock(minutes(q.From)), To: Clock(minutes(q.To))}
		}
	}
	for i, f := range c.SuppressionLists {
		if strings.TrimSpace(f) == "" {
			c.problem(ps, fmt.Sprintf("suppression_lists[%d]", i), "is empty; give the path of a CSV file, relative to this file")
		}
	}
	_, textWritten := c.lines["text"]
	switch {
	case c.variantsWritten && textWritten && !badType["text"]:
		c.problem(ps, "text", "a campaign has text or variants, not both; move this text into a variant, or remove variants")
	case !c.variantsWritten && c.Text == "" && !badType["text"] && !badType["variants"]:
		c.problem(ps, "text", "is required (or variants, to test several texts against each other)")
	case !c.variantsWritten:
		c.tmpl = c.parseText(ps, "text", c.Text, c.textSrc)
	}
	c.validateExperiment(ps, badType)
}

// parseText checks a text to be sent (the campaign's or a variant's, at field) and parses
// it; nil when it holds what no SMS can carry or does not parse, which is reported once,
// here, rather than for every recipient's text.
func (c *Campaign) parseText(ps *problems, field, text string, src *textSource) *template.Template {
	if i := strings.IndexFunc(text, unsendable); i >= 0 {
		r, _ := utf8.DecodeRuneInString(text[i:])
		if r == 0 {
			c.problem(ps, field, "holds a NUL character, which no SMS can carry")
		} else {
			c.problem(ps, field, "holds the control character U+%04X, which no phone shows; remove it", r)
		}
		return nil
	}
	if text == "" {
		return nil
	}
	t, problem, line := parseTextAt(text)
	if problem != "" {
		at := c.Line(field)
		if fl, ok := src.fileLine(line); ok {
			at = fl // a literal block: the line is exactly the file's
		}
		ps.add(c.File, at, field, "%s", problem)
		return nil
	}
	return t
}

// unsendable reports a character a text may not hold: NUL, which no SMS can carry, and
// the other control characters (C0, DEL, C1), which no phone shows, except tab, line
// breaks and form feed (a page break in GSM-7). schema/campaign.schema.json refuses the
// same with a pattern on text.
func unsendable(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' || r >= 0x7f && r <= 0x9f
}

// fieldProblems checks the validate tags of v (a *Campaign, a *Settings) and reports each
// failure at its field path (the YAML keys below v), but those under a path in bad, which
// were already reported.
func fieldProblems(v any, bad map[string]bool, report func(path, msg string)) {
	var verrs validator.ValidationErrors
	if err := validatorInstance().Struct(v); errors.As(err, &verrs) {
		for _, fe := range verrs {
			_, path, _ := strings.Cut(fe.Namespace(), ".") // drop "Campaign.", "Settings."
			if !underBad(path, bad) {
				report(path, problemText(fe))
			}
		}
	}
}

// underBad reports whether path, or a field it is inside of, was already reported.
func underBad(path string, bad map[string]bool) bool {
	for {
		if bad[path] {
			return true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return false
		}
		path = path[:i]
	}
}

func (c *Campaign) problem(ps *problems, path, format string, args ...any) {
	ps.add(c.File, c.Line(path), path, format, args...)
}

// Minutes returns the window's from and to as minutes after midnight (UTC).
func (w *DeliveryWindow) Minutes() (from, to int) { return minutes(w.From), minutes(w.To) }

func minutes(hhmm string) int {
	var h, m int
	fmt.Sscanf(hhmm, "%d:%d", &h, &m)
	return h*60 + m
}

// CheckSendAt applies the plan-time rule on send_at: not in the past, at most 180 days ahead.
func (c *Campaign) CheckSendAt(now time.Time) *Problem {
	t := c.SendTime()
	if t.IsZero() {
		return nil
	}
	p := &Problem{File: c.File, Line: c.Line("send_at"), Field: "send_at"}
	switch {
	case t.Before(now):
		p.Msg = fmt.Sprintf("%s is in the past (now %s); move it ahead or remove it", c.SendAt, now.UTC().Format(time.RFC3339))
	case t.After(now.Add(MaxSendAhead)):
		p.Msg = fmt.Sprintf("%s is more than 180 days ahead (latest %s)", c.SendAt, now.Add(MaxSendAhead).UTC().Format(time.RFC3339))
	default:
		return nil
	}
	return p
}
