package campaign

import (
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// SettingsFile is the name of the settings file (spec §12): not a campaign, but settings
// for the campaigns under its directory, committed and reviewed with them.
//
//	contact_policy:
//	  marketing: {max: 2, per: 7d}    # at most 2 marketing messages per number in any 7 days
//	consent:
//	  marketing: required             # | optional (the default)
//	  column: consent_at              # the var holding when the person agreed
//	  source_column: consent_source   # optional: where they agreed
//	limits:
//	  max_messages: 100000            # one apply sends at most this many
//	  max_cost: {CHF: "500"}          # and costs at most this much, per currency (-prices)
//
// Which file governs a campaign: the nearest smsform.yaml in the campaign file's directory
// or above it, up to the campaign root (the git work tree holding the file; outside git,
// the directory given on the command line, or a file's own directory). A campaign takes
// exactly one settings file, whole: a nested smsform.yaml replaces the one above it for the
// campaigns below it, and the settings that apply do not depend on which path the command
// was given inside a git work tree. .smsformignore does not hide a settings file.
const SettingsFile = "smsform.yaml"

// Settings is one settings file, as written and as checked.
type Settings struct {
	ContactPolicy *ContactPolicy `yaml:"contact_policy"`
	Consent       *Consent       `yaml:"consent"`
	Limits        *Limits        `yaml:"limits"`

	// File is the settings file, as found (relative when the command's paths were).
	File  string         `yaml:"-"`
	lines map[string]int // field path -> line, as Campaign's
	data  []byte         // as read, for the set's digest
}

// ContactPolicy limits how often a number receives messages of a purpose.
type ContactPolicy struct {
	Marketing *Cap `yaml:"marketing"`
}

// Cap is a frequency cap: at most Max messages to a number in any window of Per.
type Cap struct {
	Max *int   `yaml:"max" validate:"required,gte=1,lte=1000"`
	Per string `yaml:"per" validate:"required" scalars:"int"`

	window time.Duration
}

// Window is per, parsed.
func (c *Cap) Window() time.Duration { return c.window }

// Count is max, or 0 when not written (which is a problem).
func (c *Cap) Count() int {
	if c.Max == nil {
		return 0
	}
	return *c.Max
}

// Consent says whether marketing recipients must carry consent evidence, and where.
// A field not written (or null) is nil; "" is a problem.
type Consent struct {
	Marketing    *string `yaml:"marketing" validate:"omitempty,oneof=required optional"`
	Column       *string `yaml:"column" validate:"omitempty,column_name" scalars:"int"`
	SourceColumn *string `yaml:"source_column" validate:"omitempty,column_name" scalars:"int"`
}

// text is *p, or "".
func text(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Limits bound what one apply may send.
type Limits struct {
	MaxMessages *int              `yaml:"max_messages" validate:"omitempty,gte=0,lte=100000000"`
	MaxCost     map[string]string `yaml:"max_cost" scalars:"text"`

	maxCost map[string]MicroUnits
}

// Bounds of the settings.
const (
	// MaxCapCount bounds contact_policy.marketing.max: more than a thousand marketing
	// texts to one person in a window is no cap at all, and the bound keeps what plan
	// counts per number small.
	MaxCapCount = 1000
	// MinCapWindow and MaxCapWindow bound per: a minute is the smallest a span is written
	// in; a year with its leap day is as far back as the history a cap reads should go.
	MinCapWindow = time.Minute
	MaxCapWindow = 366 * 24 * time.Hour
	// MaxLimitMessages bounds limits.max_messages, a hundred million: more than a 1 GB
	// destinations file holds.
	MaxLimitMessages = 100_000_000
	// maxColumnName bounds consent's column names (CSV headers or var names).
	maxColumnName = 64
)

var (
	columnPattern = regexp.MustCompile(`^[^\x00-\x1f\x7f]{1,64}$`)
	// amountPattern is a decimal amount of money, exact to a millionth, below a billion.
	amountPattern = regexp.MustCompile(`^[0-9]{1,9}(\.[0-9]{1,6})?$`)
)

// Pos is FILE:LINE of a field of the settings ("consent.marketing"), or of the nearest
// field above it that is written.
func (s *Settings) Pos(path string) string { return fmt.Sprintf("%s:%d", s.File, s.line(path)) }

func (s *Settings) line(path string) int { return lineOf(s.lines, path) }

// Line is the line of a field of the settings, as Pos names it.
func (s *Settings) Line(path string) int { return s.line(path) }

// MarketingCap is the marketing frequency cap, or nil.
func (s *Settings) MarketingCap() *Cap {
	if s == nil || s.ContactPolicy == nil {
		return nil
	}
	return s.ContactPolicy.Marketing
}

// ConsentRequired reports consent.marketing: required.
func (s *Settings) ConsentRequired() bool {
	return s != nil && s.Consent != nil && text(s.Consent.Marketing) == "required"
}

// ConsentColumns are the vars holding consent evidence: the time, and its source ("" when
// not named).
func (s *Settings) ConsentColumns() (at, source string) {
	if s == nil || s.Consent == nil {
		return "", ""
	}
	return text(s.Consent.Column), text(s.Consent.SourceColumn)
}

// MaxMessages is limits.max_messages; ok is false when not set.
func (s *Settings) MaxMessages() (n int, ok bool) {
	if s == nil || s.Limits == nil || s.Limits.MaxMessages == nil {
		return 0, false
	}
	return *s.Limits.MaxMessages, true
}

// MaxCost is limits.max_cost parsed: the most one apply may cost, per currency; nil when
// not set.
func (s *Settings) MaxCost() map[string]MicroUnits {
	if s == nil || s.Limits == nil {
		return nil
	}
	return s.Limits.maxCost
}

// Describe says in a line what the settings ask for, for validate and plan to print.
func (s *Settings) Describe() string {
	var parts []string
	if c := s.MarketingCap(); c != nil {
		parts = append(parts, fmt.Sprintf("marketing at most %d per %s per number", c.Count(), FormatSpan(c.Window())))
	}
	if col, src := s.ConsentColumns(); col != "" {
		what := "consent optional"
		if s.ConsentRequired() {
			what = "consent required"
		}
		what += " (" + col
		if src != "" {
			what += ", source " + src
		}
		parts = append(parts, what+")")
	} else if s.ConsentRequired() {
		parts = append(parts, "consent required")
	}
	if n, ok := s.MaxMessages(); ok {
		parts = append(parts, fmt.Sprintf("at most %d messages per apply", n))
	}
	if costs := s.MaxCost(); len(costs) > 0 {
		currencies := make([]string, 0, len(costs))
		for cur := range costs {
			currencies = append(currencies, cur)
		}
		sort.Strings(currencies)
		for _, cur := range currencies {
			parts = append(parts, fmt.Sprintf("at most %s %s per apply", costs[cur], cur))
		}
	}
	if len(parts) == 0 {
		return "nothing set"
	}
	return strings.Join(parts, "; ")
}

// settingsFinder finds and loads the settings file governing each campaign file, each
// file read once.
type settingsFinder struct {
	ps     *problems
	walked map[string]bool      // the settings files the walk of the paths met
	byDir  map[string]*Settings // directory -> its governing settings, or nil
	byFile map[string]*Settings // settings file -> loaded
	files  []*Settings
}

func newSettingsFinder(ps *problems, walked []string) *settingsFinder {
	f := &settingsFinder{ps: ps, walked: map[string]bool{}, byDir: map[string]*Settings{}, byFile: map[string]*Settings{}}
	for _, w := range walked {
		f.walked[w] = true
	}
	return f
}

// load reads a settings file once; root is the campaign root it must resolve inside.
func (f *settingsFinder) load(file, root string) *Settings {
	if s, ok := f.byFile[file]; ok {
		return s
	}
	s := loadSettings(file, root, f.ps)
	f.byFile[file] = s
	f.files = append(f.files, s)
	return s
}

// of returns the settings governing a campaign file, nil if none: the nearest settings
// file in its directory or above, up to root. top is the directory walked to find the
// file ("" for a file given itself): below it the walk has seen every settings file, so
// the directories between are looked up in memory, not on disk; a tree 2,000 deep would
// otherwise cost millions of path lookups. Above top, up to root, each directory is looked
// at.
func (f *settingsFinder) of(file, top, root string) *Settings {
	var visited []string
	done := func(s *Settings) *Settings {
		for _, d := range visited {
			f.byDir[d] = s
		}
		return s
	}
	dir := filepath.Dir(file)
	for top != "" && dir != top {
		if s, ok := f.byDir[dir]; ok {
			return done(s)
		}
		visited = append(visited, dir)
		if candidate := filepath.Join(dir, SettingsFile); f.walked[candidate] {
			return done(f.load(candidate, root))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return done(nil) // not under top after all: no settings rather than a guess
		}
		dir = parent
	}
	for {
		if s, ok := f.byDir[dir]; ok {
			return done(s)
		}
		visited = append(visited, dir)
		real := realPath(dir)
		if !inside(root, real) {
			return done(nil)
		}
		candidate := filepath.Join(dir, SettingsFile)
		if f.walked[candidate] {
			return done(f.load(candidate, root))
		}
		if info, err := os.Lstat(candidate); err == nil && !info.IsDir() {
			return done(f.load(candidate, root))
		}
		parent := filepath.Clean(filepath.Join(dir, ".."))
		if real == root || parent == dir {
			return done(nil)
		}
		dir = parent
	}
}

// all returns every settings file loaded, sorted by file, and writes them to digest.
func (f *settingsFinder) all(digest hash.Hash) []*Settings {
	slices.SortFunc(f.files, func(a, b *Settings) int { return strings.Compare(a.File, b.File) })
	for _, s := range f.files {
		fmt.Fprintf(digest, "%s\x00%d\x00", s.File, len(s.data))
		digest.Write(s.data)
	}
	return f.files
}

// loadSettings reads and checks one settings file; its problems go to ps. It returns the
// settings even with problems (the load fails anyway), so that the campaigns under it are
// checked against what could be read.
func loadSettings(file, root string, ps *problems) *Settings {
	s := &Settings{File: file, lines: map[string]int{"": 1}}
	data, err := readConfined(file, root, MaxYAMLBytes)
	if err != nil {
		ps.add(file, 0, "", "%s", fileProblem(err, root, "a settings file is a few lines"))
		return s
	}
	s.data = data
	var root0 *yaml.Node
	yamlDocs(file, data, ps, func(root *yaml.Node) bool {
		if root0 != nil {
			// The first is still checked, so its problems come at once.
			ps.add(file, root.Line, "", "a settings file holds one document; merge this one into the first (line %d)", root0.Line)
			return false
		}
		root0 = root
		return true
	})
	if root0 == nil {
		return s // empty, or only comments: no settings
	}
	if root0.Kind != yaml.MappingNode {
		ps.add(file, root0.Line, "", "settings must be a mapping of contact_policy, consent and limits")
		return s
	}
	if valueNode(root0, "id") != nil {
		ps.add(file, root0.Line, "", "%s is the settings file of the campaigns under its directory (contact_policy, consent, limits), not a campaign: put this campaign in a file of another name", SettingsFile)
		return s
	}
	s.lines[""] = root0.Line
	recordLines(root0, "", s.lines)
	bad := map[string]bool{}
	checkShape(file, root0, reflect.TypeOf(Settings{}), "", "", ps, bad)
	if err := root0.Decode(s); err != nil {
		ps.add(file, root0.Line, "", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
		return s
	}
	s.validate(ps, bad)
	return s
}

func (s *Settings) problem(ps *problems, path, format string, args ...any) {
	ps.add(s.File, s.line(path), path, format, args...)
}

func (s *Settings) validate(ps *problems, bad map[string]bool) {
	fieldProblems(s, bad, func(path, msg string) { s.problem(ps, path, "%s", msg) })
	if c := s.MarketingCap(); c != nil && c.Per != "" && !bad["contact_policy.marketing.per"] {
		d, ok := parseSpan(c.Per)
		switch {
		case !ok:
			s.problem(ps, "contact_policy.marketing.per", "%q must be %s", clipped(c.Per, maxQuoted), spanWords)
		case d < MinCapWindow || d > MaxCapWindow:
			s.problem(ps, "contact_policy.marketing.per", "%s must be from %s to %s", c.Per, FormatSpan(MinCapWindow), FormatSpan(MaxCapWindow))
		default:
			c.window = d
		}
	}
	if c := s.Consent; c != nil {
		col, src := s.ConsentColumns()
		if s.ConsentRequired() && c.Column == nil && !bad["consent.column"] {
			s.problem(ps, "consent", "marketing: required needs column: the var (a CSV column or an inline var) holding when each person agreed, such as consent_at")
		}
		for _, f := range []struct{ path, name string }{{"consent.column", col}, {"consent.source_column", src}} {
			if f.name == "to" {
				s.problem(ps, f.path, "`to` is the number, not consent evidence; name the column holding the consent")
			}
		}
		if col != "" && col == src {
			s.problem(ps, "consent.source_column", "is the same column as column; the source says where the person agreed (a web form, a shop), the column when")
		}
	}
	if l := s.Limits; l != nil && len(l.MaxCost) > 0 {
		l.maxCost = map[string]MicroUnits{}
		for cur, amount := range l.MaxCost {
			path := "limits.max_cost." + cur
			if bad[path] {
				continue
			}
			ok := true
			if !currencyPattern.MatchString(cur) {
				s.problem(ps, path, "%q must be an ISO 4217 currency code, such as CHF, EUR, USD", clipped(cur, maxQuoted))
				ok = false
			}
			m, good := parseAmount(amount)
			if !good {
				s.problem(ps, path, "%q must be a decimal amount, at most 999999999 with at most 6 decimals, in quotes, such as \"12.50\"", clipped(amount, maxQuoted))
				ok = false
			}
			if ok {
				l.maxCost[cur] = m
			}
		}
	}
}

// parseAmount reads a decimal amount of money exactly.
func parseAmount(s string) (MicroUnits, bool) {
	if !amountPattern.MatchString(s) {
		return 0, false
	}
	return decimalMicro(s), true
}
