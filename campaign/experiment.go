package campaign

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/smsform/smsform/internal/words"
)

// An experiment sends variants of a text and compares their conversions (spec §11):
//
//	variants:                         # instead of text
//	  - {name: short, text: "Spring sale: 20% off today."}
//	  - {name: personal, text: "Hi {{.name}}, 20% off today.", weight: 2}
//	experiment:                       # optional
//	  sample: 20%                     # share in the test; the rest are held for the winner
//	  winner: auto                    # auto | a variant's name | absent: no winner yet
//	  confidence: 95%
//	  min_sent: 1000
//	  wait: 48h
//
// Load checks the fields, assigns each recipient (Assigner), and renders every variant's
// text for every recipient: a held recipient may receive any variant once a winner is
// decided, and a later edit of winner: must not find a text that does not render.

// Variant is one text of an experiment.
type Variant struct {
	Name string `yaml:"name" validate:"required,variant_name" scalars:"int"`
	Text string `yaml:"text" validate:"required"`
	// Weight is the variant's share of the sample against the others' weights; nil when
	// not written, which is 1 (see Weighting).
	Weight *int `yaml:"weight" validate:"omitempty,gte=1,lte=100"`

	tmpl *template.Template
	src  *textSource
}

// Weighting is the variant's weight: as written, or 1.
func (v *Variant) Weighting() int {
	if v.Weight == nil {
		return 1
	}
	return *v.Weight
}

// Bounds of an experiment.
const (
	MinVariants = 2
	MaxVariants = 10 // and Recipient.Variant, an int8, holds the index of any of them
	MaxWeight   = 100
	// MaxMinSent bounds min_sent: a million messages per variant is more than any SMS
	// test needs; a larger figure would only mean that auto never decides.
	MaxMinSent = 1_000_000
	// maxVariantsBytes bounds the variants' texts together: every recipient's text is
	// rendered from each, so a campaign of variants costs at most twice the rendering a
	// campaign with one text may (see maxTemplateBytes). Ten variants of 6,400 bytes, or
	// two as long as one text may be, are more than an SMS test needs.
	maxVariantsBytes = 2 * maxTemplateBytes
	// MaxWait bounds wait: three months after its last test message a promotion is over.
	MaxWait = 90 * 24 * time.Hour
	// MinPriority and MaxPriority bound priority: two thousand levels are more than any
	// team orders campaigns by, and a bound keeps the figures a reviewer reads short.
	MinPriority = -1000
	MaxPriority = 1000
)

// The defaults of an experiment's settings (spec §11).
const (
	DefaultSample     = Whole
	DefaultConfidence = Share(9500)
	DefaultMinSent    = 1000
	DefaultWait       = 24 * time.Hour
)

// Experiment is the experiment block as written; nil is a field not written (or null),
// and "" a problem. Percentages are text ("20%"), taken as any scalar so that 0.2 or 20
// get a problem that says how to write them.
type Experiment struct {
	Sample     *string `yaml:"sample" scalars:"any"`
	Winner     *string `yaml:"winner" scalars:"int"`
	Confidence *string `yaml:"confidence" scalars:"any"`
	MinSent    *int    `yaml:"min_sent" validate:"omitempty,gte=1,lte=1000000"`
	Wait       *string `yaml:"wait" scalars:"int"`
}

// ExperimentSettings are an experiment's settings parsed, defaults applied.
type ExperimentSettings struct {
	Sample     Share  // share of recipients in the test; Whole (100%) by default
	Winner     string // "" (no winner: the held wait), "auto", or a variant's name
	Confidence Share  // 95% by default
	MinSent    int    // per variant, before auto may decide
	Wait       time.Duration
}

// Auto reports winner: auto.
func (e ExperimentSettings) Auto() bool { return e.Winner == "auto" }

// ExperimentSettings are the campaign's experiment settings, defaults applied (also for a
// campaign with variants and no experiment block: everyone in the test, no winner).
func (c *Campaign) ExperimentSettings() ExperimentSettings { return c.exp }

// IsExperiment reports a campaign with variants: its recipients are assigned to them.
func (c *Campaign) IsExperiment() bool { return len(c.Variants) > 0 }

// VariantIndex returns the index of the variant with the name, or -1.
func (c *Campaign) VariantIndex(name string) int {
	for i := range c.Variants {
		if c.Variants[i].Name == name {
			return i
		}
	}
	return -1
}

// Assigner is the campaign's assigner (nil without variants).
func (c *Campaign) Assigner() *Assigner { return c.assign }

var (
	// variantPattern is the rule of issue 19 for a variant's name.
	variantPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	// percentPattern is a percentage with at most two decimals, as an experiment writes
	// its shares; the ranges are checked on the value.
	percentPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,2})(\.[0-9]{1,2})?%$`)
	// spanPattern is a length of time in days, hours and minutes, in that order, such as
	// 7d, 48h, 90m or 1d12h: how marketing people count, and Go durations lack days.
	spanPattern = regexp.MustCompile(`^(?:([0-9]{1,6})d)?(?:([0-9]{1,7})h)?(?:([0-9]{1,9})m)?$`)
)

// parsePercent reads "20%" or "99.9%" as a Share.
func parsePercent(s string) (Share, bool) {
	m := percentPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	whole, _ := strconv.Atoi(m[1])
	frac := 0
	if m[2] != "" {
		frac, _ = strconv.Atoi((m[2][1:] + "0")[:2])
	}
	return Share(whole*100 + frac), true
}

// parseSpan reads a length of time written as spanPattern says (d is 24 hours).
func parseSpan(s string) (time.Duration, bool) {
	m := spanPattern.FindStringSubmatch(s)
	if m == nil || s == "" {
		return 0, false
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if m[i+1] != "" {
			n, _ := strconv.ParseInt(m[i+1], 10, 64)
			d += time.Duration(n) * unit
		}
	}
	return d, true
}

// FormatSpan writes a length of time as a campaign or settings file would: 7d, 48h,
// 1d12h, 90m; "0m" for none.
func FormatSpan(d time.Duration) string {
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	return b.String()
}

// spanWords says how to write a length of time, for problems.
const spanWords = "a length of time in days, hours and minutes, such as 48h, 7d, 90m or 1d12h (d is 24 hours)"

// validateExperiment checks variants and experiment, parses the experiment's settings and
// makes the assigner.
func (c *Campaign) validateExperiment(ps *problems, bad map[string]bool) {
	c.exp = ExperimentSettings{Sample: DefaultSample, Confidence: DefaultConfidence, MinSent: DefaultMinSent, Wait: DefaultWait}
	if c.variantsWritten {
		c.validateVariants(ps, bad)
	}
	if e := c.Experiment; e != nil {
		if !c.variantsWritten && !bad["variants"] {
			c.problem(ps, "experiment", "needs variants (instead of text): an experiment compares the conversions of two or more variants of a text")
		}
		c.validateSettings(e, ps)
	}
	if len(c.Variants) >= MinVariants && len(c.Variants) <= MaxVariants {
		names := make([]string, len(c.Variants))
		weights := make([]int, len(c.Variants))
		for i := range c.Variants {
			names[i], weights[i] = c.Variants[i].Name, c.Variants[i].Weighting()
		}
		c.assign = NewAssigner(c.ID, c.Round, c.exp.Sample, names, weights)
	}
}

func (c *Campaign) validateVariants(ps *problems, bad map[string]bool) {
	if n := len(c.Variants); n < MinVariants || n > MaxVariants {
		c.problem(ps, "variants", "has %d %s; an experiment compares %d to %d", n, words.Plural(n, "variant", "variants"), MinVariants, MaxVariants)
	}
	if c.Tracking == nil && !bad["tracking"] {
		c.problem(ps, "variants", "need tracking (tracking: {track: SMS, type: ...}): variants are compared by their conversions, which only tracked messages record")
	}
	total := 0
	for i := range c.Variants {
		total += len(c.Variants[i].Text)
	}
	if total > maxVariantsBytes {
		// Not parsed, so not rendered: each recipient's text would be rendered from all.
		c.problem(ps, "variants", "the variants' texts are %d bytes together; the limit is %d (twice what one text may be), as every recipient's text is rendered from each of them; shorten them, or test fewer variants", total, maxVariantsBytes)
	}
	first := map[string]int{}
	for i := range c.Variants {
		v := &c.Variants[i]
		field := fmt.Sprintf("variants[%d]", i)
		if v.Name == "auto" {
			c.problem(ps, field+".name", `"auto" is reserved (experiment.winner: auto lets smsform pick the winner); give the variant another name`)
		} else if j, dup := first[v.Name]; dup && v.Name != "" {
			c.problem(ps, field+".name", "%q is also the name of variants[%d] (line %d); names must be unique", clipped(v.Name, maxQuoted), j, c.Line(fmt.Sprintf("variants[%d].name", j)))
		} else {
			first[v.Name] = i
		}
		if !bad[field+".text"] && total <= maxVariantsBytes {
			v.tmpl = c.parseText(ps, field+".text", v.Text, v.src)
		}
	}
}

// validateSettings checks the experiment block and parses it into c.exp.
func (c *Campaign) validateSettings(e *Experiment, ps *problems) {
	if e.Sample != nil {
		s, ok := parsePercent(*e.Sample)
		if !ok || s < 100 || s > Whole {
			c.problem(ps, "experiment.sample", "%q must be a percentage from 1%% to 100%% with at most 2 decimals, such as 20%% (the share of recipients in the test; 0.2 or 20 alone are not read as percentages)", clipped(*e.Sample, maxQuoted))
		} else {
			c.exp.Sample = s
		}
	}
	if e.Confidence != nil {
		s, ok := parsePercent(*e.Confidence)
		if !ok || s < 8000 || s > 9990 {
			c.problem(ps, "experiment.confidence", "%q must be a percentage from 80%% to 99.9%% with at most 2 decimals, such as 95%%", clipped(*e.Confidence, maxQuoted))
		} else {
			c.exp.Confidence = s
		}
	}
	if e.MinSent != nil {
		c.exp.MinSent = *e.MinSent // its range is the validator's
	}
	if e.Wait != nil {
		d, ok := parseSpan(*e.Wait)
		switch {
		case !ok:
			c.problem(ps, "experiment.wait", "%q must be %s", clipped(*e.Wait, maxQuoted), spanWords)
		case d > MaxWait:
			c.problem(ps, "experiment.wait", "%s is more than %s; auto decides after this long since the last test message", *e.Wait, FormatSpan(MaxWait))
		default:
			c.exp.Wait = d
		}
	}
	if e.Winner != nil {
		w := *e.Winner
		c.exp.Winner = w
		if w != "auto" && c.VariantIndex(w) < 0 && len(c.Variants) > 0 {
			var names []string
			for i := range c.Variants {
				if !slices.Contains(names, c.Variants[i].Name) {
					names = append(names, c.Variants[i].Name)
				}
			}
			c.problem(ps, "experiment.winner", "%q is not a variant; write auto (smsform decides), or the name of one of %s", clipped(w, maxQuoted), strings.Join(names, ", "))
		}
	}
}

// valueNode returns the value of a key of a mapping, or nil.
func valueNode(root *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == key {
			return root.Content[i+1]
		}
	}
	return nil
}

// locateVariants records, after decoding, whether variants is written with a value and
// where each variant's text is in the file (for problems and lint positions).
func (c *Campaign) locateVariants(root *yaml.Node, lines [][]byte) {
	v := valueNode(root, "variants")
	c.variantsWritten = v != nil && !(v.Kind == yaml.ScalarNode && v.Tag == "!!null")
	if v == nil || v.Kind != yaml.SequenceNode {
		return
	}
	for i, item := range v.Content {
		if i < len(c.Variants) && item.Kind == yaml.MappingNode {
			c.Variants[i].src = textSourceOf(item, lines, c.Variants[i].Text)
		}
	}
}

// sampleWarning warns when winner: auto can never decide: a variant has fewer recipients
// in the test than min_sent. Nil otherwise.
func (c *Campaign) sampleWarning() *Problem {
	if !c.exp.Auto() || c.assign == nil {
		return nil
	}
	counts := make([]int, len(c.Variants))
	for _, r := range c.Recipients.All() {
		if !r.Held() && int(r.Variant) < len(counts) {
			counts[r.Variant]++
		}
	}
	low := 0
	for i, n := range counts {
		if n < counts[low] {
			low = i
		}
	}
	if counts[low] >= c.exp.MinSent {
		return nil
	}
	field, which := "experiment.min_sent", ""
	if c.Experiment.MinSent == nil {
		field, which = "experiment.winner", " (the default)"
	}
	return &Problem{File: c.File, Line: c.Line(field), Field: field, Msg: fmt.Sprintf(
		"winner: auto can never decide: the test gives variant %s %d %s, fewer than min_sent %d%s; lower min_sent, raise sample, add recipients, or name the winner (winner: NAME)",
		c.Variants[low].Name, counts[low], words.Plural(counts[low], "recipient", "recipients"), c.exp.MinSent, which)}
}
