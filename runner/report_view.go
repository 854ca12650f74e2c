package runner

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Rate formats a conversion rate for people: "50.0%", or "-" without tracked sends.
func (f Figures) Rate() string {
	if f.SentTracked == 0 {
		return "-"
	}
	return strconv.FormatFloat(f.ConversionRate*100, 'f', 1, 64) + "%"
}

// WriteText writes the report as an aligned table.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "CAMPAIGN\tROUND\t"
	if r.By != "" {
		head += strings.ToUpper(r.By) + "\t"
	}
	fmt.Fprintln(tw, head+"MESSAGES\tSENT\tDELIVERED\tUNDELIVERED\tEXPIRED\tFAILED\tUNKNOWN\tCONVERTED\tRATE\tPARTS\t")
	line := func(id, round, group string, f Figures) {
		fmt.Fprintf(tw, "%s\t%s\t", id, round)
		if r.By != "" {
			fmt.Fprintf(tw, "%s\t", group)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t\n", f.Messages, f.Sent, f.Delivered, f.Undelivered,
			f.Expired, f.Failed, f.Unknown, f.Converted, f.Rate(), f.SmsParts)
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
	return tw.Flush()
}

// WriteCSV writes one row per campaign round (and group). Cells that a spreadsheet would
// run as a formula are escaped.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"campaign", "round"}
	if r.By != "" {
		head = append(head, r.By)
	}
	cw.Write(append(head, "messages", "sent", "delivered", "undelivered", "expired", "failed", "unknown", "converted", "sent_with_tracking", "conversion_rate", "sms_parts"))
	row := func(id string, round int, group string, f Figures) {
		rec := []string{SafeCell(id), strconv.Itoa(round)}
		if r.By != "" {
			rec = append(rec, SafeCell(group))
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

//go:embed report.html.tmpl
var reportHTML string

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":   func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) },
	"whole": func(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) },
	"width": func(f, top float64) string {
		if top <= 0 {
			return "0"
		}
		return strconv.FormatFloat(f/top*100, 'f', 1, 64)
	},
}).Parse(reportHTML))

// bar is one bar of a chart in the HTML report.
type bar struct {
	Label string
	Figures
}

// WriteHTML writes one self-contained page: the figures per campaign round and bar charts of
// the conversion rate per campaign and per day. daily is the same report grouped by day.
func (r *Report) WriteHTML(w io.Writer, daily *Report, generated time.Time) error {
	var perCampaign, perDay []bar
	top := 0.0
	for _, c := range r.Campaigns {
		if c.SentTracked > 0 {
			perCampaign = append(perCampaign, bar{Label: fmt.Sprintf("%s (round %d)", c.ID, c.Round), Figures: c.Figures})
			top = max(top, c.ConversionRate)
		}
	}
	days := map[string]*Figures{}
	var order []string
	for _, c := range daily.Campaigns {
		for _, g := range c.Groups {
			f := days[g.Group]
			if f == nil {
				f = &Figures{}
				days[g.Group] = f
				order = append(order, g.Group)
			}
			*f = f.plus(g.Figures)
		}
	}
	slices.Sort(order)
	for _, d := range order {
		if f := days[d]; f.SentTracked > 0 {
			perDay = append(perDay, bar{Label: d, Figures: *f})
			top = max(top, f.ConversionRate)
		}
	}
	// Bars share one scale, a round ceiling above the highest rate, written on the chart, so
	// that 60% never looks like a full bar.
	scale := 1.0
	for _, s := range []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1} {
		if top <= s {
			scale = s
			break
		}
	}
	return reportTmpl.Execute(w, map[string]any{
		"Report": r, "PerCampaign": perCampaign, "PerDay": perDay, "Top": scale,
		"Generated": generated.UTC().Format("2006-01-02 15:04 UTC"),
	})
}
