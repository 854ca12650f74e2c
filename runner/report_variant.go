package runner

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/smsform/smsform/internal/safetext"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/stats"
)

// ByVariant is the report grouping of `report -by variant`: per experiment campaign and
// variant, the test's figures with their intervals and p-values (spec §11).
const ByVariant = "variant"

// VariantReport is `report -by variant`: the experiment campaigns' variants, compared.
type VariantReport struct {
	By        string            `json:"by"` // "variant"
	Campaigns []VariantCampaign `json:"campaigns"`
}

// VariantCampaign is one experiment round: its variants in the test, and its winner as
// the state records it (what was sent, not a later edit of the file).
type VariantCampaign struct {
	ID    string `json:"id"`
	Round int    `json:"round"`
	// Winner and DecidedBy are the recorded decision ("file" or "auto"), nil before one.
	Winner    *string `json:"winner"`
	DecidedBy *string `json:"decided_by"`
	DecidedAt *string `json:"decided_at"`
	// Variants are the test's figures, by name. The held recipients sent the winner are
	// apart (Held): they were not part of the comparison.
	Variants []VariantRow `json:"variants"`
	// Held is the figures of the held recipients sent the winner; nil before.
	Held *HeldRow `json:"held"`
}

// VariantRow is one variant's figures in the test.
type VariantRow struct {
	Name        string  `json:"name"`
	Sent        int     `json:"sent"`
	Delivered   int     `json:"delivered"`
	Converted   int     `json:"converted"`
	SentTracked int     `json:"sent_with_tracking"`
	Rate        float64 `json:"conversion_rate"`
	// CILow and CIHigh are the rate's 95 % Wilson score interval.
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// PValue is the two-sided pooled z-test against the variant with the highest rate: nil
	// for that variant, and when a side has nothing sent with tracking.
	PValue *float64 `json:"p_value"`
}

// HeldRow is the figures of the recipients held out of the test and sent the winner.
type HeldRow struct {
	Variant     string  `json:"variant"`
	Sent        int     `json:"sent"`
	Delivered   int     `json:"delivered"`
	Converted   int     `json:"converted"`
	SentTracked int     `json:"sent_with_tracking"`
	Rate        float64 `json:"conversion_rate"`
}

// buildVariantReport reads the variant report from the state; campaigns without variants
// are left out.
func buildVariantReport(ctx context.Context, store state.Reader, campaignID string) (*VariantReport, []ReportCampaign, error) {
	rows, err := store.Report(ctx, campaignID, state.ByVariant)
	if err != nil {
		return nil, nil, err
	}
	decisions, err := store.Decisions(ctx, campaignID)
	if err != nil {
		return nil, nil, err
	}
	decided := map[state.Round]state.Decision{}
	for _, d := range decisions {
		decided[d.Round] = d
	}
	vr := &VariantReport{By: ByVariant, Campaigns: []VariantCampaign{}}
	var plain []ReportCampaign
	for _, r := range rows {
		if r.Group == "" {
			continue // a campaign without variants (or its messages from before them)
		}
		n := len(vr.Campaigns)
		if n == 0 || vr.Campaigns[n-1].ID != r.Campaign || vr.Campaigns[n-1].Round != r.Round {
			vc := VariantCampaign{ID: r.Campaign, Round: r.Round, Variants: []VariantRow{}}
			if d, ok := decided[state.Round{Campaign: r.Campaign, Round: r.Round}]; ok {
				w, by, at := d.Winner, d.DecidedBy, d.DecidedAt.Format(time.RFC3339)
				vc.Winner, vc.DecidedBy, vc.DecidedAt = &w, &by, &at
			}
			vr.Campaigns = append(vr.Campaigns, vc)
			plain = append(plain, ReportCampaign{ID: r.Campaign, Round: r.Round})
			n++
		}
		c := &vr.Campaigns[n-1]
		f := figuresOf(r)
		plain[n-1].Figures = plain[n-1].Figures.plus(f)
		group := r.Group
		if name, ok := strings.CutSuffix(r.Group, state.HeldSuffix); ok {
			group = "held: " + name
		}
		plain[n-1].Groups = append(plain[n-1].Groups, ReportGroup{Group: group, Figures: f})
		if name, ok := strings.CutSuffix(r.Group, state.HeldSuffix); ok {
			c.Held = &HeldRow{Variant: name, Sent: f.Sent, Delivered: f.Delivered, Converted: f.Converted, SentTracked: f.SentTracked, Rate: f.ConversionRate}
			continue
		}
		c.Variants = append(c.Variants, VariantRow{Name: r.Group, Sent: f.Sent, Delivered: f.Delivered, Converted: f.Converted, SentTracked: f.SentTracked})
	}
	for i := range vr.Campaigns {
		compare(vr.Campaigns[i].Variants)
	}
	return vr, plain, nil
}

// compare fills in each variant's rate, interval and p-value against the best, as the
// plan's figures are (fillFigures).
func compare(rows []VariantRow) {
	vs := make([]VariantFigures, len(rows))
	for i, r := range rows {
		vs[i] = VariantFigures{Name: r.Name, SentTracked: r.SentTracked, Converted: r.Converted}
	}
	fillFigures(vs)
	for i := range rows {
		rows[i].Rate, rows[i].CILow, rows[i].CIHigh, rows[i].PValue = vs[i].Rate, vs[i].CILow, vs[i].CIHigh, vs[i].PValue
	}
}

// MarshalJSON writes a report grouped by variant in its own shape (spec §11), any other
// as it is.
func (r *Report) MarshalJSON() ([]byte, error) {
	if r.Variants != nil {
		return json.Marshal(r.Variants)
	}
	type plain Report
	return json.Marshal((*plain)(r))
}

// interval writes a rate's interval for people: "67.6–100.0 %".
func interval(low, high float64) string {
	return fmt.Sprintf("%.1f–%.1f %%", low*100, high*100)
}

// pText writes a p-value for a table: "-" for the best (or none), else as stats.PValue
// says it without "p ".
func pText(p *float64) string {
	if p == nil {
		return "-"
	}
	return strings.TrimPrefix(strings.TrimPrefix(stats.PValue(*p), "p = "), "p ")
}

// decisionText says how a campaign's winner was decided, or that there is none yet.
func (c VariantCampaign) decisionText() string {
	if c.Winner == nil {
		return "no winner recorded yet"
	}
	by := "named in the file"
	if *c.DecidedBy == state.DecidedByAuto {
		by = "decided by auto"
	}
	at := ""
	if c.DecidedAt != nil {
		at = " on " + strings.SplitN(*c.DecidedAt, "T", 2)[0]
	}
	return fmt.Sprintf("winner %s (%s%s)", safetext.Escape(*c.Winner), by, at)
}

// writeVariantText writes the variant report as a table, a line per campaign saying its
// winner, and what the figures mean.
func (vr *VariantReport) writeText(w io.Writer) error {
	if len(vr.Campaigns) == 0 {
		_, err := fmt.Fprintln(w, "No experiment recorded yet: no message was sent with a variant.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CAMPAIGN\tROUND\tVARIANT\tSENT\tDELIVERED\tCONVERTED\tRATE\t95% INTERVAL\tP VS BEST\t")
	for _, c := range vr.Campaigns {
		id := safetext.Escape(c.ID)
		for _, v := range c.Variants {
			rate, ci := "-", "-"
			if v.SentTracked > 0 {
				rate, ci = stats.Percent(v.Rate), interval(v.CILow, v.CIHigh)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", id, c.Round, safetext.Escape(v.Name), Thousands(v.Sent), Thousands(v.Delivered),
				Thousands(v.Converted), rate, ci, pText(v.PValue))
		}
		if h := c.Held; h != nil {
			rate := "-"
			if h.SentTracked > 0 {
				rate = stats.Percent(h.Rate)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\t\t\n", id, c.Round, "held: "+safetext.Escape(h.Variant), Thousands(h.Sent), Thousands(h.Delivered), Thousands(h.Converted), rate)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, c := range vr.Campaigns {
		fmt.Fprintf(w, "%s round %d: %s.\n", safetext.Escape(c.ID), c.Round, c.decisionText())
	}
	_, err := fmt.Fprintln(w, "\nRATE is converted / sent with tracking in the test; the 95% interval is Wilson's; P is the two-sided\n"+
		"z-test against the best variant (below 0.05: a difference that chance alone would rarely make).\n"+
		"The held recipients sent the winner are apart: they were not part of the comparison.")
	return err
}

// writeCSV writes one row per campaign and variant (and the held sent the winner).
func (vr *VariantReport) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"campaign", "round", "variant", "held", "sent", "delivered", "converted", "sent_with_tracking", "conversion_rate", "ci_low", "ci_high", "p_value", "winner", "decided_by"})
	f4 := func(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) }
	for _, c := range vr.Campaigns {
		winner, by := "", ""
		if c.Winner != nil {
			winner, by = SafeCell(safetext.Escape(*c.Winner)), *c.DecidedBy
		}
		id := SafeCell(safetext.Escape(c.ID))
		for _, v := range c.Variants {
			p := ""
			if v.PValue != nil {
				p = strconv.FormatFloat(*v.PValue, 'g', 4, 64)
			}
			cw.Write([]string{id, strconv.Itoa(c.Round), SafeCell(safetext.Escape(v.Name)), "false", strconv.Itoa(v.Sent), strconv.Itoa(v.Delivered),
				strconv.Itoa(v.Converted), strconv.Itoa(v.SentTracked), f4(v.Rate), f4(v.CILow), f4(v.CIHigh), p, winner, by})
		}
		if h := c.Held; h != nil {
			cw.Write([]string{id, strconv.Itoa(c.Round), SafeCell(safetext.Escape(h.Variant)), "true", strconv.Itoa(h.Sent), strconv.Itoa(h.Delivered),
				strconv.Itoa(h.Converted), strconv.Itoa(h.SentTracked), f4(h.Rate), "", "", "", winner, by})
		}
	}
	cw.Flush()
	return cw.Error()
}

// htmlExperiment is one experiment's chart on the page: each variant's rate as a bar with
// its 95 % interval as whiskers, on a scale that holds the widest interval.
type htmlExperiment struct {
	ID, Title, Decision string
	Variants            []htmlVariant
	Ticks               []htmlTick
}

// htmlVariant is one variant's line: the bar's width and the whiskers' ends, in percent of
// the track.
type htmlVariant struct {
	Name                   string
	Sent, Converted        int
	Rate, Interval, PValue string
	Width, Low, High       string
	Best                   bool
	Note                   string
}

// htmlCharts are the experiments' charts.
func (vr *VariantReport) htmlCharts() []htmlExperiment {
	pct := func(f, scale float64) string { return strconv.FormatFloat(min(f/scale, 1)*100, 'f', 1, 64) }
	var out []htmlExperiment
	for i, c := range vr.Campaigns {
		id := safetext.Escape(c.ID)
		e := htmlExperiment{ID: fmt.Sprintf("experiment-%d", i+1), Title: fmt.Sprintf("%s (round %d)", id, c.Round), Decision: c.decisionText()}
		top := 0.0
		for _, v := range c.Variants {
			if v.SentTracked > 0 {
				top = max(top, v.CIHigh)
			}
		}
		scale, ticks := niceScale(top)
		e.Ticks = ticks
		for _, v := range c.Variants {
			hv := htmlVariant{Name: safetext.Escape(v.Name), Sent: v.SentTracked, Converted: v.Converted}
			if v.SentTracked == 0 {
				hv.Note = "nothing sent with tracking yet"
			} else {
				hv.Rate, hv.Interval = htmlRate(v.Rate), interval(v.CILow, v.CIHigh)
				hv.Width, hv.Low, hv.High = pct(v.Rate, scale), pct(v.CILow, scale), pct(v.CIHigh, scale)
				hv.PValue, hv.Best = "best", v.PValue == nil
				if v.PValue != nil {
					hv.PValue = stats.PValue(*v.PValue) + " vs best"
				}
			}
			e.Variants = append(e.Variants, hv)
		}
		out = append(out, e)
	}
	return out
}
