package runner

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/state"
)

// Report groupings.
const (
	ByDay     = "day"
	ByCountry = "country"
	ByType    = "type"
)

// Figures are the counts of one campaign round or of one group in it.
type Figures struct {
	Messages       int     `json:"messages"`
	Sent           int     `json:"sent"`
	Delivered      int     `json:"delivered"`
	Undelivered    int     `json:"undelivered"`
	Expired        int     `json:"expired"`
	Failed         int     `json:"failed"`
	Unknown        int     `json:"unknown"`
	Converted      int     `json:"converted"`
	SentTracked    int     `json:"sent_with_tracking"`
	ConversionRate float64 `json:"conversion_rate"` // converted / sent with tracking
	SmsParts       int     `json:"sms_parts"`
}

// figuresOf turns a state row into figures.
func figuresOf(r state.ReportRow) Figures {
	return Figures{Messages: r.Messages, Sent: r.Sent, Delivered: r.Delivered, Undelivered: r.Undelivered + r.Rejected,
		Expired: r.Expired, Failed: r.Failed, Unknown: r.Unknown, Converted: r.Converted, SentTracked: r.SentTracked,
		SmsParts: r.SmsParts}.plus(Figures{})
}

// plus adds two sets of figures and works the conversion rate out again.
func (f Figures) plus(o Figures) Figures {
	f.Messages += o.Messages
	f.Sent += o.Sent
	f.Delivered += o.Delivered
	f.Undelivered += o.Undelivered
	f.Expired += o.Expired
	f.Failed += o.Failed
	f.Unknown += o.Unknown
	f.Converted += o.Converted
	f.SentTracked += o.SentTracked
	f.SmsParts += o.SmsParts
	f.ConversionRate = 0
	if f.SentTracked > 0 {
		f.ConversionRate = float64(f.Converted) / float64(f.SentTracked)
	}
	return f
}

// ReportCampaign is one campaign round with its figures, and its groups when grouped.
type ReportCampaign struct {
	ID    string `json:"id"`
	Round int    `json:"round"`
	Figures
	Groups []ReportGroup `json:"groups,omitempty"`
}

// ReportGroup is one day, country or tracking type of a campaign round.
type ReportGroup struct {
	Group string `json:"group"`
	Figures
}

// Report is the figures of every campaign round in the state.
type Report struct {
	By        string           `json:"by,omitempty"`
	Campaigns []ReportCampaign `json:"campaigns"`
	Total     Figures          `json:"total"`
	// Variants is the report by variant (report_variant.go), which its views show instead;
	// Campaigns then holds the experiment campaigns' totals.
	Variants *VariantReport `json:"-"`
}

// BuildReport reads the report from the state, grouped by "", ByDay, ByCountry or ByType.
func BuildReport(ctx context.Context, store state.Reader, campaignID, by string) (*Report, error) {
	group := map[string]string{"": state.ByNone, ByDay: state.ByDay, ByType: state.ByType, ByCountry: state.ByPrefix}
	sg, ok := group[by]
	if by == ByVariant {
		vr, plain, err := buildVariantReport(ctx, store, campaignID)
		if err != nil {
			return nil, err
		}
		rep := &Report{By: by, Campaigns: plain, Variants: vr}
		for _, c := range plain {
			rep.Total = rep.Total.plus(c.Figures)
		}
		return rep, nil
	}
	if !ok {
		return nil, fmt.Errorf("-by %q: use day, country, type or variant", by)
	}
	rows, err := store.Report(ctx, campaignID, sg)
	if err != nil {
		return nil, err
	}
	rep := &Report{By: by, Campaigns: []ReportCampaign{}}
	for _, r := range rows {
		n := len(rep.Campaigns)
		if n == 0 || rep.Campaigns[n-1].ID != r.Campaign || rep.Campaigns[n-1].Round != r.Round {
			rep.Campaigns = append(rep.Campaigns, ReportCampaign{ID: r.Campaign, Round: r.Round})
			n++
		}
		c := &rep.Campaigns[n-1]
		f := figuresOf(r)
		c.Figures = c.Figures.plus(f)
		rep.Total = rep.Total.plus(f)
		if by == "" {
			continue
		}
		name := r.Group
		switch {
		case by == ByCountry:
			name = countryOf(r.Group)
		case by == ByType && name == "":
			name = "(no tracking)"
		}
		i := slices.IndexFunc(c.Groups, func(g ReportGroup) bool { return g.Group == name })
		if i < 0 {
			c.Groups = append(c.Groups, ReportGroup{Group: name})
			i = len(c.Groups) - 1
		}
		c.Groups[i].Figures = c.Groups[i].Figures.plus(f)
	}
	for i := range rep.Campaigns {
		slices.SortFunc(rep.Campaigns[i].Groups, func(a, b ReportGroup) int { return cmp.Compare(a.Group, b.Group) })
	}
	return rep, nil
}

// countryOf names the country of a number from its first digits: the main region of its
// country calling code (calling codes are prefix-free). The two codes shared by countries of
// very different sizes (+1 for North America, +7 for Russia and Kazakhstan) are told apart
// by the area code that follows, which the prefix holds: libphonenumber is asked about a
// number in that area. Should it know none, the label names the main country and the code.
func countryOf(prefix string) string {
	cc, _ := campaign.CallingCode(strings.TrimPrefix(prefix, "+"))
	region := phonenumbers.GetRegionCodeForCountryCode(cc)
	switch {
	case cc == 0:
		return "unknown"
	case cc == 1 || cc == 7:
		if r := regionOfArea(prefix); r != "" {
			return r
		}
		return fmt.Sprintf("%s (+%d)", region, cc)
	}
	return region
}

// regionOfArea asks libphonenumber for the region of a number starting with prefix, padded
// to a full national number. In the +1 and +7 plans the area code decides the region, so
// any subscriber digits do.
func regionOfArea(prefix string) string {
	for _, pad := range []string{"2000000", "5550199", "7000000"} {
		num, err := phonenumbers.Parse(prefix+pad, "")
		if err != nil {
			continue
		}
		if r := phonenumbers.GetRegionCodeForNumber(num); r != "" && r != "ZZ" {
			return r
		}
	}
	return ""
}
