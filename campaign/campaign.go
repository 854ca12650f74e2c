// Package campaign is the campaign file: the YAML model, loading from files and CSVs with
// every problem reported as FILE:LINE: field: problem, number normalisation, template
// rendering and SMS part counting.
//
// Marketing-ops safety lives here as data, for plan and apply to act on:
//   - Campaign.Purpose (IsMarketing): only marketing campaigns respect opt-outs.
//   - Campaign.Quiet, quiet_hours parsed; Zones gives a number's time zones and
//     NextAllowed (or Campaign.NextAllowedFor) the first instant a message may arrive.
//   - Set.SuppressionLists, each list read once; Campaign.Suppressed tells whether and
//     why (FILE:LINE, date, reason) a number is held back.
//   - Campaign.Lint and LintSet: warnings, such as characters that force UCS-2.
//   - LoadPrices and Prices.Find: the price of an SMS part to a number, in MicroUnits.
package campaign

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/template"
	"time"
)

// Campaign is one campaign document, as written and as checked.
type Campaign struct {
	ID               string            `yaml:"id" validate:"required,campaign_id" scalars:"int"`
	From             string            `yaml:"from" validate:"required,sender" scalars:"int"`
	Text             string            `yaml:"text"` // required unless Variants (checked by validate)
	Tracking         *Tracking         `yaml:"tracking"`
	DefaultRegion    string            `yaml:"default_region" validate:"omitempty,region"`
	Destinations     []Destination     `yaml:"destinations" validate:"dive"`
	DestinationsFile string            `yaml:"destinations_file"`
	Round            int               `yaml:"round" validate:"gte=1,lte=999999"`
	SendAt           string            `yaml:"send_at" validate:"omitempty,rfc3339"`
	ValidityPeriod   string            `yaml:"validity_period" validate:"omitempty,validity"`
	DeliveryWindow   *DeliveryWindow   `yaml:"delivery_window"`
	SpeedLimit       *SpeedLimit       `yaml:"speed_limit"`
	NotifyURL        string            `yaml:"notify_url" validate:"omitempty,https_url"`
	CallbackData     string            `yaml:"callback_data" validate:"max=4000"`
	Labels           map[string]string `yaml:"labels"`
	// Purpose is marketing (the default) or transactional: marketing campaigns respect
	// opt-outs and suppression lists, transactional ones (an OTP, a delivery notice) do not.
	Purpose Purpose `yaml:"purpose" validate:"oneof=marketing transactional"`
	// QuietHours, in each recipient's local time, are when no marketing text may arrive;
	// Quiet is the same, parsed.
	QuietHours *QuietHours `yaml:"quiet_hours"`
	// SuppressionLists are CSV files of numbers never to send to, relative to File.
	SuppressionLists []string `yaml:"suppression_lists" validate:"unique"`
	// Variants, instead of Text, are the texts an experiment compares (see experiment.go).
	Variants []Variant `yaml:"variants" validate:"dive"`
	// Experiment says how the variants are tested; nil: everyone is in the test, no winner.
	Experiment *Experiment `yaml:"experiment"`
	// Priority orders campaigns that compete for a number under a contact policy's cap:
	// higher first, 0 by default.
	Priority int `yaml:"priority" validate:"gte=-1000,lte=1000"`
	// Settings are those of the smsform.yaml that governs the campaign's file (see
	// settings.go); nil without one.
	Settings *Settings `yaml:"-" validate:"-"`

	// File is the YAML file the campaign came from; CSVFile the resolved destinations_file.
	File    string `yaml:"-"`
	CSVFile string `yaml:"-"`
	// Recipients are the normalised, de-duplicated, rendered destinations, in file order.
	Recipients *Recipients `yaml:"-"`
	// Quiet is quiet_hours parsed; nil when unset.
	Quiet *Quiet `yaml:"-"`
	// Suppressions are the lists suppression_lists names, in its order, shared with every
	// other campaign of the Set that names the same file (with the same default_region).
	Suppressions []*SuppressionList `yaml:"-"`

	lines map[string]int // field path ("tracking.type", "destinations[2].to") -> line
	// textSrc is where the text is written in the file, when a position in the text maps
	// exactly to one in the file; nil otherwise (see textSourceOf).
	textSrc *textSource
	tmpl    *template.Template
	root    string // the campaign root: paths in the file must resolve inside it

	// variantsWritten says variants is in the file with a value (not null).
	variantsWritten bool
	// exp is experiment parsed, with its defaults; assign assigns recipients by it.
	exp    ExperimentSettings
	assign *Assigner
	// sendBy is when a message of the campaign goes out at the earliest: send_at, or the
	// clock of the load (Options.Now); zero when neither is known. Consent must be older.
	sendBy time.Time
}

// Purpose says why a campaign is sent, which decides whether opt-outs apply.
type Purpose string

// The purposes.
const (
	Marketing     Purpose = "marketing"
	Transactional Purpose = "transactional"
)

// IsMarketing reports a marketing campaign: purpose marketing, or unset.
func (c *Campaign) IsMarketing() bool { return c.Purpose != Transactional }

// QuietHours is the quiet_hours block as written: HH:MM in the recipient's local time.
type QuietHours struct {
	From string `yaml:"from" validate:"required,localhhmm"`
	To   string `yaml:"to" validate:"required,localhhmm"`
}

// Tracking is the tracking block: it turns on Infobip's SMS conversion tracking.
type Tracking struct {
	Track string `yaml:"track" validate:"required,oneof=SMS"`
	Type  string `yaml:"type" validate:"omitempty,tracking_type"`
}

// Destination is one inline recipient.
type Destination struct {
	To   string            `yaml:"to" scalars:"int"` // checked, with a clearer message, by Normalize
	Vars map[string]string `yaml:"vars"`
}

// DeliveryWindow restricts delivery to some days and hours, in UTC.
type DeliveryWindow struct {
	Days []string `yaml:"days" validate:"required,min=1,unique,dive,oneof=MONDAY TUESDAY WEDNESDAY THURSDAY FRIDAY SATURDAY SUNDAY"`
	From string   `yaml:"from" validate:"required,hhmm"`
	To   string   `yaml:"to" validate:"required,hhmm"`
}

// SpeedLimit caps the sending speed.
type SpeedLimit struct {
	Amount   int    `yaml:"amount" validate:"gte=1"`
	TimeUnit string `yaml:"time_unit" validate:"required,oneof=MINUTE HOUR DAY"`
}

// Recipient is one destination after loading: its E.164 number, its vars, and what its
// rendered text weighs. The text itself is not kept: it is rendered again when sent. A
// campaign keeps its recipients encoded (Recipients) and decodes one when asked.
//
// In a campaign with variants, Variant is the recipient's variant (an index into
// Campaign.Variants), or HeldVariant for one outside the experiment's sample, who waits for the
// winner; Hash and Parts are those of the variant's text, and for a held recipient Hash is
// 0 (no text is theirs yet) and Parts the most any variant's text takes: the honest upper
// bound of what they will cost. In a campaign with text, Variant is 0.
type Recipient struct {
	To    string // E.164, with '+'
	Vars  Vars
	Hash  uint64 // of the rendered text and the campaign's send options
	Parts int32
	Line  int32 // line in the YAML file, or in CSVFile when FromCSV
	// FromCSV says the recipient came from destinations_file.
	FromCSV bool
	Variant int8
}

// HeldVariant is the Variant of a recipient outside an experiment's sample.
const HeldVariant = -1

// Held reports a recipient outside the experiment's sample, who waits for the winner.
func (r Recipient) Held() bool { return r.Variant == HeldVariant }

// Vars are a recipient's template variables: the names are shared by all rows of one CSV
// file, the values are one string (which Recipients keeps in its log, once a file).
type Vars struct {
	names  *[]string
	values string // joined by NUL, which no value holds (see NewVars)
}

// NewVars makes vars from names and values of the same length. Values must not hold NUL.
func NewVars(names *[]string, values ...string) Vars {
	return Vars{names: names, values: strings.Join(values, "\x00")}
}

// VarsOf makes vars from a map, its names sorted, as inline destinations and test sends
// give them. Values must not hold NUL.
func VarsOf(m map[string]string) Vars {
	names := slices.Sorted(maps.Keys(m))
	values := make([]string, len(names))
	for i, n := range names {
		values[i] = m[n]
	}
	return NewVars(&names, values...)
}

// Names are the vars' names, in order.
func (v Vars) Names() []string {
	if v.names == nil {
		return nil
	}
	return *v.names
}

// Values are the vars' values, in the order of Names.
func (v Vars) Values() []string {
	if len(v.Names()) == 0 {
		return nil
	}
	return strings.Split(v.values, "\x00")
}

// Lookup returns the value of the var with the name (the last, if named twice, as Map
// keeps it) and whether there is one.
func (v Vars) Lookup(name string) (string, bool) {
	names := v.Names()
	for j := len(names) - 1; j >= 0; j-- {
		if names[j] != name {
			continue
		}
		rest := v.values
		for range j {
			_, rest, _ = strings.Cut(rest, "\x00")
		}
		val, _, _ := strings.Cut(rest, "\x00")
		return val, true
	}
	return "", false
}

// Map fills m with the vars (clearing it first) and returns it.
func (v Vars) Map(m map[string]string) map[string]string {
	clear(m)
	rest := v.values
	for _, n := range v.Names() {
		val, after, _ := strings.Cut(rest, "\x00")
		m[n], rest = val, after
	}
	return m
}

// Pos says where a recipient was written.
func (c *Campaign) Pos(r Recipient) string { return fmt.Sprintf("%s:%d", c.fileOf(r), r.Line) }

// fileOf is the file a recipient was written in: the destinations_file, or the campaign's.
func (c *Campaign) fileOf(r Recipient) string {
	if r.FromCSV {
		return c.CSVFile
	}
	return c.File
}

// Line returns the line of a field path such as "text" or "tracking.type". For an absent
// field it is the line of the nearest enclosing one ("destinations[3]" for a missing
// "destinations[3].to"), or the campaign's first line.
func (c *Campaign) Line(path string) int { return lineOf(c.lines, path) }

// lineOf finds the line of a field path in lines (see recordLines), or of the nearest
// enclosing path written; lines[""] is the document's first line.
func lineOf(lines map[string]int, path string) int {
	for {
		if l, ok := lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return lines[""]
		}
		path = path[:i]
	}
}

// SendTime is send_at parsed; zero when unset.
func (c *Campaign) SendTime() time.Time {
	t, _ := time.Parse(time.RFC3339, c.SendAt)
	return t
}

// Validity is validity_period parsed; zero when unset.
func (c *Campaign) Validity() time.Duration {
	d, _ := time.ParseDuration(c.ValidityPeriod)
	return d
}

// TrackingLabel reads "SMS/One_Time_Pin", or "" without tracking.
func (c *Campaign) TrackingLabel() string {
	if c.Tracking == nil {
		return ""
	}
	if c.Tracking.Type == "" {
		return c.Tracking.Track
	}
	return c.Tracking.Track + "/" + c.Tracking.Type
}

// options is a canonical rendering of everything besides the text that a send carries.
// A change in it makes already sent messages "changed".
func (c *Campaign) options() string {
	var b strings.Builder
	fmt.Fprintf(&b, "from=%s\x00track=%s\x00send_at=%s\x00validity=%s\x00notify=%s\x00callback=%s\x00",
		c.From, c.TrackingLabel(), c.SendAt, c.Validity(), c.NotifyURL, c.CallbackData)
	if w := c.DeliveryWindow; w != nil {
		fmt.Fprintf(&b, "window=%s %s-%s\x00", strings.Join(w.Days, ","), w.From, w.To)
	}
	if s := c.SpeedLimit; s != nil {
		fmt.Fprintf(&b, "speed=%d/%s\x00", s.Amount, s.TimeUnit)
	}
	return b.String()
}

// Set is every campaign loaded from a set of paths.
type Set struct {
	Campaigns []*Campaign // sorted by id
	// Digest is a hash of every file read (YAML and CSV); a saved plan records it to notice
	// when its files changed.
	Digest string
	// Files lists the YAML files read, sorted.
	Files []string
	// SuppressionLists are every suppression list read, each once, sorted by file.
	SuppressionLists []*SuppressionList
	// Settings are every settings file (smsform.yaml) read, sorted by file: those under
	// the paths, and those above them that govern a campaign. Campaign.Settings says which
	// one governs each campaign.
	Settings []*Settings
	// Warnings are what loading found worth a look but not wrong (a send_at in the past,
	// with Options.Now set), sorted by file and line. Lint finds more.
	Warnings []Problem
}

// Find returns the campaign with the id, or nil.
func (s *Set) Find(id string) *Campaign {
	i := sort.Search(len(s.Campaigns), func(i int) bool { return s.Campaigns[i].ID >= id })
	if i < len(s.Campaigns) && s.Campaigns[i].ID == id {
		return s.Campaigns[i]
	}
	return nil
}
