package runner

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/internal/words"
)

// Rate formats a conversion rate for people: "50.0%", or "-" without tracked sends.
func (f Figures) Rate() string {
	if f.SentTracked == 0 {
		return "-"
	}
	return strconv.FormatFloat(f.ConversionRate*100, 'f', 1, 64) + "%"
}

// WriteText writes the report as an aligned table, and says how to get the delivery status
// of messages still pending. Campaign ids and groups come from the state, which tools other
// than smsform can write: they are escaped.
func (r *Report) WriteText(w io.Writer) error {
	if r.Variants != nil {
		return r.Variants.writeText(w)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "CAMPAIGN\tROUND\t"
	if r.By != "" {
		head += strings.ToUpper(r.By) + "\t"
	}
	fmt.Fprintln(tw, head+"MESSAGES\tSENT\tDELIVERED\tPENDING\tUNDELIVERED\tEXPIRED\tFAILED\tUNKNOWN\tCONVERTED\tRATE\tPARTS\t")
	line := func(id, round, group string, f Figures) {
		fmt.Fprintf(tw, "%s\t%s\t", safetext.Escape(id), round)
		if r.By != "" {
			fmt.Fprintf(tw, "%s\t", safetext.Escape(group))
		}
		for _, n := range []int{f.Messages, f.Sent, f.Delivered, f.Pending(), f.Undelivered, f.Expired, f.Failed, f.Unknown, f.Converted} {
			fmt.Fprintf(tw, "%s\t", Thousands(n))
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", f.Rate(), Thousands(f.SmsParts))
	}
	for _, c := range r.Campaigns {
		if r.By == "" {
			line(c.ID, strconv.Itoa(c.Round), "", c.Figures)
			continue
		}
		for _, g := range c.Groups {
			line(c.ID, strconv.Itoa(c.Round), g.Group, g.Figures)
		}
	}
	if len(r.Campaigns) > 1 || r.By != "" {
		line("total", "", "", r.Total)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n := r.Total.Pending(); n > 0 {
		_, err := fmt.Fprintf(w, "\n%s sent %s no delivery status yet (PENDING): run `smsform refresh` to read it from Infobip's logs.\n",
			Thousands(n), words.Plural(n, "message has", "messages have"))
		return err
	}
	return nil
}

// WriteCSV writes one row per campaign round (and group). Text from the state is escaped as
// in the other views, and cells that a spreadsheet would run as a formula are escaped too.
func (r *Report) WriteCSV(w io.Writer) error {
	if r.Variants != nil {
		return r.Variants.writeCSV(w)
	}
	cw := csv.NewWriter(w)
	head := []string{"campaign", "round"}
	if r.By != "" {
		head = append(head, r.By)
	}
	cw.Write(append(head, "messages", "sent", "delivered", "undelivered", "expired", "failed", "unknown", "converted", "sent_with_tracking", "conversion_rate", "sms_parts"))
	row := func(id string, round int, group string, f Figures) {
		rec := []string{SafeCell(safetext.Escape(id)), strconv.Itoa(round)}
		if r.By != "" {
			rec = append(rec, SafeCell(safetext.Escape(group)))
		}
		for _, n := range []int{f.Messages, f.Sent, f.Delivered, f.Undelivered, f.Expired, f.Failed, f.Unknown, f.Converted, f.SentTracked} {
			rec = append(rec, strconv.Itoa(n))
		}
		cw.Write(append(rec, strconv.FormatFloat(f.ConversionRate, 'f', 4, 64), strconv.Itoa(f.SmsParts)))
	}
	for _, c := range r.Campaigns {
		if r.By == "" {
			row(c.ID, c.Round, "", c.Figures)
		}
		for _, g := range c.Groups {
			row(c.ID, c.Round, g.Group, g.Figures)
		}
	}
	cw.Flush()
	return cw.Error()
}

// SafeCell keeps a spreadsheet from running a cell as a formula: a cell starting with =, +,
// -, @, tab or carriage return gets a leading apostrophe (OWASP's advice for CSV injection).
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Pending is the number of sent messages without a final delivery status yet: Infobip has
// not reported one, or `smsform refresh` has not read it.
func (f Figures) Pending() int {
	return max(f.Sent-f.Delivered-f.Undelivered-f.Expired, 0)
}

// Thousands formats a count for people: 1234567 as "1,234,567". Machine output (JSON, CSV)
// keeps plain digits.
func Thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

//go:embed report.html.tmpl
var reportHTML string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"n":    Thousands,
	"rate": htmlRate,
}).Parse(reportHTML))

// htmlRate formats a rate on the page: "0%" for none, one decimal otherwise, and two
// significant digits below 0.1%, so that a small rate never reads as zero.
func htmlRate(f float64) string {
	switch p := f * 100; {
	case p == 0:
		return "0%"
	case p < 0.1:
		return strconv.FormatFloat(p, 'g', 2, 64) + "%"
	default:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
}

// htmlBar is one line of a chart: a bar on the chart's scale, or a note saying why there is
// none, so that no campaign is left out without a word.
type htmlBar struct {
	Label, Title string
	Figures
	Width string // percent of the track
	Note  string
}

type htmlChart struct {
	ID, Title, Empty string
	Bars             []htmlBar
	Ticks            []htmlTick
}

// htmlRow is one row of the figures table: a campaign round, one of its groups, or the total.
type htmlRow struct {
	Class, ID, Label, Round string
	Figures
}

// htmlTick is a gridline of a chart's scale, with its label.
type htmlTick struct {
	Left, Label, Class string
}

// viewNames say on the page which view of the report it is.
var viewNames = map[string]string{"": "per campaign", ByDay: "by day sent", ByCountry: "by country", ByType: "by tracking type", ByVariant: "by variant"}

// WriteHTML writes one self-contained page (inline CSS, no scripts, nothing loaded from
// elsewhere) in the report's view: totals, a chart of the conversion rate of every campaign
// round, a chart per group of the view (per day sent when the report is not grouped: daily
// is then the same report grouped by day, and may be nil), and the table of figures. Ids and
// groups are escaped as in the text view (html/template then escapes them for HTML): a page
// that is shown in a terminal or a CI log must not carry raw control characters either.
func (r *Report) WriteHTML(w io.Writer, daily *Report, generated time.Time) error {
	var campaigns []htmlBar
	for _, c := range r.Campaigns {
		id := safetext.Escape(c.ID)
		label, title := id, fmt.Sprintf("%s (round %d)", id, c.Round)
		if c.Round != 1 {
			label = title
		}
		campaigns = append(campaigns, htmlBar{Label: label, Title: title, Figures: c.Figures})
	}
	groups := r
	if r.By == "" {
		groups = daily
	}
	second := htmlChart{ID: "chart-groups", Title: "Conversion rate " + viewNames[ByDay], Empty: "Nothing sent yet."}
	if r.By != "" {
		second.Title = "Conversion rate " + viewNames[r.By]
	}
	var experiments []htmlExperiment
	if r.Variants != nil {
		// Variants are compared within their experiment, never summed across campaigns.
		groups, experiments = nil, r.Variants.htmlCharts()
	}
	if groups != nil {
		sums := map[string]*Figures{}
		var order []string
		for _, c := range groups.Campaigns {
			for _, g := range c.Groups {
				f := sums[g.Group]
				if f == nil {
					f = &Figures{}
					sums[g.Group] = f
					order = append(order, g.Group)
				}
				*f = f.plus(g.Figures)
			}
		}
		slices.Sort(order)
		for _, g := range order {
			second.Bars = append(second.Bars, htmlBar{Label: safetext.Escape(g), Title: safetext.Escape(g), Figures: *sums[g]})
		}
	}
	// Each chart has its own scale, written on it: the rates of one view are compared with
	// each other, and a high rate in one chart must not flatten the other.
	place := func(bars []htmlBar) []htmlTick {
		top := 0.0
		for _, b := range bars {
			if b.SentTracked > 0 {
				top = max(top, b.ConversionRate)
			}
		}
		scale, ticks := niceScale(top)
		for i := range bars {
			b := &bars[i]
			switch {
			case b.Sent == 0:
				b.Note = "nothing sent yet"
			case b.SentTracked == 0:
				b.Note = "no conversion tracking"
			default:
				b.Width = strconv.FormatFloat(min(b.ConversionRate/scale, 1)*100, 'f', 1, 64)
			}
		}
		return ticks
	}
	campaignTicks := place(campaigns)
	second.Ticks = place(second.Bars)

	var rows []htmlRow
	for _, c := range r.Campaigns {
		id := safetext.Escape(c.ID)
		rows = append(rows, htmlRow{Class: "campaign", ID: id, Label: id, Round: strconv.Itoa(c.Round), Figures: c.Figures})
		for _, g := range c.Groups {
			rows = append(rows, htmlRow{Class: "group", ID: id, Label: safetext.Escape(g.Group), Figures: g.Figures})
		}
	}
	first := "Campaign"
	if r.By != "" {
		first = "Campaign / " + strings.TrimPrefix(viewNames[r.By], "by ")
	}
	return reportTmpl.Execute(w, map[string]any{
		"Report": r, "View": viewNames[r.By], "By": r.By, "First": first,
		"Campaigns": htmlChart{ID: "chart-campaigns", Title: "Conversion rate per campaign", Empty: "No campaign recorded yet.", Bars: campaigns, Ticks: campaignTicks},
		"Groups":    second, "Rows": rows, "Experiments": experiments,
		"Generated": generated.UTC().Format("2006-01-02 15:04 UTC"),
	})
}

// niceScale picks the top of the charts' scale: the smallest round value (1, 2, 4, 6 or 8
// times a power of ten) at or above the best rate, so that bars use the width and rates of
// 7.5% and 8.8% look different; never 100% unless a rate is near it. It returns the
// gridlines with their labels: four steps (three for 6), and on a phone only the ends and
// the middle are labelled, so that labels never collide.
func niceScale(top float64) (float64, []htmlTick) {
	if top <= 0 {
		top = 0.1
	}
	best := 1.0
	for e := 1e-6; e < 1; e *= 10 {
		for _, m := range []float64{1, 2, 4, 6, 8} {
			if v := m * e; v >= top*(1-1e-9) && v < best {
				best = v
			}
		}
	}
	best = min(best, 1)
	steps := 4
	if lead := best / math.Pow(10, math.Floor(math.Log10(best)+1e-9)); math.Abs(lead-6) < 1e-6 {
		steps = 3
	}
	var ticks []htmlTick
	for i := 0; i <= steps; i++ {
		v := best * float64(i) / float64(steps)
		class := ""
		if steps == 4 && i%2 == 1 {
			class = "minor"
		}
		label := strconv.FormatFloat(math.Round(v*1e8)/1e6, 'f', -1, 64) + "%"
		ticks = append(ticks, htmlTick{Left: strconv.FormatFloat(float64(i)*100/float64(steps), 'f', 2, 64), Label: label, Class: class})
	}
	ticks[0].Class = "first"
	ticks[steps].Class = "last"
	return best, ticks
}
