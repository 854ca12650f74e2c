package campaign_test

import (
	"slices"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
)

func loc(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestNextAllowed(t *testing.T) {
	night := campaign.Quiet{From: 21 * 60, To: 8 * 60}        // wraps midnight
	lunch := campaign.Quiet{From: 12 * 60, To: 13*60 + 30}    // does not wrap
	deepNight := campaign.Quiet{From: 23 * 60, To: 2*60 + 30} // ends in the hour skipped in spring
	lateNight := campaign.Quiet{From: 23 * 60, To: 1*60 + 30} // ends in the hour repeated in autumn
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name  string
		zones []string
		quiet campaign.Quiet
		at    string
		want  string
	}{
		{"Zurich, daytime: now", []string{"Europe/Zurich"}, night, "2026-06-10T10:00:00Z", "2026-06-10T10:00:00Z"},
		{"Zurich, summer night: 08:00 CEST", []string{"Europe/Zurich"}, night, "2026-06-10T20:00:00Z", "2026-06-11T06:00:00Z"},
		{"Zurich, 21:00 sharp is quiet", []string{"Europe/Zurich"}, night, "2026-06-10T19:00:00Z", "2026-06-11T06:00:00Z"},
		{"Zurich, 08:00 sharp is allowed", []string{"Europe/Zurich"}, night, "2026-06-11T06:00:00Z", "2026-06-11T06:00:00Z"},
		{"Zurich, 07:59:59 waits one second", []string{"Europe/Zurich"}, night, "2026-06-11T05:59:59Z", "2026-06-11T06:00:00Z"},
		// The last Sunday of March 2026 is the 29th: 02:00 CET becomes 03:00 CEST.
		{"Zurich, night of the spring change", []string{"Europe/Zurich"}, night, "2026-03-28T22:00:00Z", "2026-03-29T06:00:00Z"},
		{"Zurich, quiet end skipped in spring", []string{"Europe/Zurich"}, deepNight, "2026-03-29T00:30:00Z", "2026-03-29T01:00:00Z"},
		{"Kolkata (+05:30), night", []string{"Asia/Kolkata"}, night, "2026-06-10T16:00:00Z", "2026-06-11T02:30:00Z"},
		{"Kolkata, evening before quiet", []string{"Asia/Kolkata"}, night, "2026-06-10T15:29:00Z", "2026-06-10T15:29:00Z"},
		{"Adelaide (+09:30), lunch", []string{"Australia/Adelaide"}, lunch, "2026-06-10T02:45:00Z", "2026-06-10T04:00:00Z"},
		// Adelaide's summer time ends on the first Sunday of April (2026-04-05, 03:00 ACDT -> 02:00 ACST).
		{"Adelaide, night of the autumn change", []string{"Australia/Adelaide"}, night, "2026-04-04T12:00:00Z", "2026-04-04T22:30:00Z"},
		// New York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
		{"New York, night of the spring change", []string{"America/New_York"}, night, "2026-03-08T03:00:00Z", "2026-03-08T12:00:00Z"},
		{"New York, night of the autumn change", []string{"America/New_York"}, night, "2026-11-01T03:00:00Z", "2026-11-01T13:00:00Z"},
		{"New York, quiet end repeated in autumn: the first one", []string{"America/New_York"}, lateNight, "2026-11-01T04:00:00Z", "2026-11-01T05:30:00Z"},
		{"New York, lunch: not wrapping", []string{"America/New_York"}, lunch, "2026-06-10T16:15:00Z", "2026-06-10T17:30:00Z"},
		// +1 701: Denver and North Dakota Center, an hour apart: the later end wins.
		{"+1 701, both zones quiet", []string{"America/Denver", "America/North_Dakota/Center"}, night, "2026-06-10T10:00:00Z", "2026-06-10T14:00:00Z"},
		{"+1 701, quiet in Denver only", []string{"America/Denver", "America/North_Dakota/Center"}, night, "2026-06-10T13:30:00Z", "2026-06-10T14:00:00Z"},
		{"+1 701, quiet starts in Center first", []string{"America/Denver", "America/North_Dakota/Center"}, night, "2026-06-11T02:30:00Z", "2026-06-11T14:00:00Z"},
		// Zones twelve hours apart: every instant is quiet in one of them.
		{"Zurich and Kolkata, lunch", []string{"Europe/Zurich", "Asia/Kolkata"}, lunch, "2026-06-10T06:45:00Z", "2026-06-10T08:00:00Z"},
		{"no zones: now", nil, night, "2026-06-10T22:00:00Z", "2026-06-10T22:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var zones []*time.Location
			for _, z := range tt.zones {
				zones = append(zones, loc(t, z))
			}
			got := campaign.NextAllowed(zones, tt.quiet, utc(tt.at))
			if want := utc(tt.want); !got.Equal(want) {
				t.Errorf("NextAllowed(%s, %s) = %s, want %s", tt.quiet, tt.at, got.UTC().Format(time.RFC3339), tt.want)
			}
			for _, z := range zones {
				l := got.In(z)
				if tt.quiet.Contains(campaign.Clock(l.Hour()*60 + l.Minute())) {
					t.Errorf("%s is %s in %s: inside the quiet hours", got.UTC().Format(time.RFC3339), l.Format("15:04"), z)
				}
			}
		})
	}
}

func TestZones(t *testing.T) {
	tests := []struct {
		number string
		want   []string
	}{
		{"+41793026731", []string{"Europe/Zurich"}},
		{"+919876543210", []string{"Asia/Calcutta"}},
		{"+17015551234", []string{"America/Denver", "America/North_Dakota/Center"}},
	}
	for _, tt := range tests {
		zones, err := campaign.Zones(tt.number)
		if err != nil {
			t.Fatalf("Zones(%s): %v", tt.number, err)
		}
		var names []string
		for _, z := range zones {
			names = append(names, z.String())
		}
		if !slices.Equal(names, tt.want) {
			t.Errorf("Zones(%s) = %v, want %v", tt.number, names, tt.want)
		}
	}
	if _, err := campaign.Zones("+999123"); err == nil {
		t.Error("Zones(+999123): no error for a number of no country")
	}
}
