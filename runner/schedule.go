package runner

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/words"
)

// SendGroup is the messages to send of one campaign with quiet hours whose recipients share
// a set of time zones, and so the time the message may arrive.
type SendGroup struct {
	Zones []string  `json:"zones"`   // zone names, sorted
	At    time.Time `json:"send_at"` // when the group goes out (UTC)
	// Moved says At is the end of the group's quiet hours, later than the campaign's time
	// (send_at, or the plan's clock).
	Moved bool `json:"scheduled"`
	Count int  `json:"count"`
}

// schedule gives each message to send of a campaign with quiet hours its send time: the
// campaign's send_at, or from, moved to the end of the recipient's quiet period when it
// would fall inside it. Recipients are grouped by zone set. A number of no known zone is a
// problem naming its line (campaign.ZoneProblem).
func (cp *CampaignPlan) schedule(from, now time.Time) []campaign.Problem {
	c := cp.Campaign
	if c.Quiet == nil || cp.Counts.Send == 0 {
		return nil
	}
	base := c.SendTime()
	if base.IsZero() {
		base = from
	}
	var bad []campaign.Problem
	byZones := map[string]int32{}
	cp.groupOf = make([]int32, len(cp.Messages))
	for i, rec := range cp.All() {
		cp.groupOf[i] = -1
		if cp.Messages[i].Action != Send {
			continue
		}
		zones, err := campaign.Zones(rec.To)
		if err != nil {
			// Load refuses these already (ZoneProblem); this guards a set made otherwise.
			if pr, ok := c.ZoneProblem(rec); ok {
				bad = append(bad, pr)
			}
			continue
		}
		names := make([]string, len(zones))
		for j, z := range zones {
			names[j] = z.String()
		}
		slices.Sort(names)
		key := strings.Join(names, " ")
		g, ok := byZones[key]
		if !ok {
			at := campaign.NextAllowed(zones, *c.Quiet, base)
			g = int32(len(cp.Schedule))
			cp.Schedule = append(cp.Schedule, SendGroup{Zones: names, At: at.UTC(), Moved: at.After(base)})
			byZones[key] = g
		}
		cp.Schedule[g].Count++
		cp.groupOf[i] = g
	}
	// Groups in the order they go out, then by zone: the view reads as a timetable.
	order := make([]int32, len(cp.Schedule))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		ga, gb := cp.Schedule[a], cp.Schedule[b]
		return cmp.Or(ga.At.Compare(gb.At), slices.Compare(ga.Zones, gb.Zones))
	})
	newIndex := make([]int32, len(order))
	sorted := make([]SendGroup, len(order))
	for i, old := range order {
		newIndex[old] = int32(i)
		sorted[i] = cp.Schedule[old]
	}
	cp.Schedule = sorted
	for i, g := range cp.groupOf {
		if g >= 0 {
			cp.groupOf[i] = newIndex[g]
		}
	}
	// Infobip takes sendAt at most 180 days ahead; send_at within that limit may still be
	// moved past it by the quiet hours.
	limit := now.Add(campaign.MaxSendAhead)
	for _, g := range cp.Schedule {
		if g.At.After(limit) {
			bad = append(bad, campaign.Problem{File: c.File, Line: c.Line("send_at"), Field: "send_at",
				Msg: fmt.Sprintf("recipients in %s go out at %s, after the end of their quiet hours, more than 180 days ahead (latest %s); move send_at earlier",
					strings.Join(g.Zones, ", "), g.At.Format(time.RFC3339), limit.UTC().Format(time.RFC3339))})
			break
		}
	}
	return bad
}

// SendAt returns when a planned message goes out, for a campaign with quiet hours; ok is
// false for a campaign without them, or a message not sent.
func (cp *CampaignPlan) SendAt(i int) (at time.Time, ok bool) {
	if cp.groupOf == nil || cp.groupOf[i] < 0 {
		return time.Time{}, false
	}
	return cp.Schedule[cp.groupOf[i]].At, true
}

// CheckQuiet refuses to send now what would arrive inside quiet hours: a group whose time
// has come (the plan's clock, or a saved plan's) must be outside its quiet hours at now
// too. A saved plan applied hours later, or an approval that waited past 21:00, ends here
// instead of texting people at night.
func (p *Plan) CheckQuiet(now time.Time) error {
	for _, cp := range p.Campaigns {
		q := cp.Campaign.Quiet
		for _, g := range cp.Schedule {
			if g.At.After(now) {
				continue // scheduled: Infobip holds it until then
			}
			zones := make([]*time.Location, 0, len(g.Zones))
			for _, n := range g.Zones {
				z, err := time.LoadLocation(n)
				if err != nil {
					return err
				}
				zones = append(zones, z)
			}
			if next := campaign.NextAllowed(zones, *q, now); !next.Equal(now) {
				return fmt.Errorf("%w: %s %s in %s would receive campaign %q now (%s), inside their quiet hours %s; the plan was made at %s: run `smsform plan` again, which schedules them for %s",
					ErrStalePlan, Thousands(g.Count), words.Plural(g.Count, "recipient", "recipients"), strings.Join(g.Zones, ", "), cp.Campaign.ID,
					now.UTC().Format(time.RFC3339), q, p.ScheduledFrom.UTC().Format(time.RFC3339), next.UTC().Format(time.RFC3339))
			}
		}
	}
	return nil
}

// sendWindows yields the messages to send of a campaign by send time, earliest first (one
// zero time without quiet hours), in windows of at most sortWindow messages, each sorted
// by number: messages of different times never share a request, and the state's B-tree
// grows at a few places at a time, in pages already in memory, rather than at a random
// place for every message. Each window is a new slice, which its batches may keep.
// Sending order carries no meaning for a campaign.
func sendWindows(cp *CampaignPlan) iter.Seq[sendWindow] {
	return func(yield func(sendWindow) bool) {
		times := []time.Time{{}}
		if cp.groupOf != nil {
			times = times[:0]
			for _, g := range cp.Schedule {
				times = append(times, g.At)
			}
			slices.SortFunc(times, time.Time.Compare)
			times = slices.CompactFunc(times, time.Time.Equal)
		}
		type keyed struct {
			m Message
			r campaign.Recipient
		}
		var window []keyed
		flush := func(at time.Time) bool {
			slices.SortFunc(window, func(a, b keyed) int { return strings.Compare(a.r.To, b.r.To) })
			w := sendWindow{at: at, msgs: make([]Message, len(window)), recs: make([]campaign.Recipient, len(window))}
			for i, k := range window {
				w.msgs[i], w.recs[i] = k.m, k.r
			}
			window = window[:0]
			return yield(w)
		}
		var groupTime []int // a group's index in times
		for _, g := range cp.Schedule {
			t, _ := slices.BinarySearchFunc(times, g.At, time.Time.Compare)
			groupTime = append(groupTime, t)
		}
		// timeOf is the index in times of when message i is sent, -1 for one not sent.
		timeOf := func(i int) int {
			switch {
			case cp.Messages[i].Action != Send:
				return -1
			case cp.groupOf == nil:
				return 0
			case cp.groupOf[i] < 0:
				return -1
			}
			return groupTime[cp.groupOf[i]]
		}
		// Each time reads only the span from its first message to its last: with quiet
		// hours, not the whole list once for every time. The spans take one pass.
		type span struct{ lo, hi int }
		spans := make([]span, len(times))
		for t := range spans {
			spans[t] = span{len(cp.Messages), -1}
		}
		for i := range cp.Messages {
			if t := timeOf(i); t >= 0 {
				spans[t].lo, spans[t].hi = min(spans[t].lo, i), i
			}
		}
		for t, at := range times {
			for i, r := range cp.Campaign.Recipients.From(spans[t].lo) {
				if i > spans[t].hi {
					break
				}
				if timeOf(i) != t {
					continue
				}
				m := cp.Messages[i]
				if window = append(window, keyed{m, cp.planned(m, r)}); len(window) == sortWindow && !flush(at) {
					return
				}
			}
			if len(window) > 0 && !flush(at) {
				return
			}
		}
	}
}

// sendWindow is a window of messages to send at one time, with their recipients as
// CampaignPlan.Recipient gives them: read once, here, for the requests and the state rows.
type sendWindow struct {
	at   time.Time
	msgs []Message
	recs []campaign.Recipient
}

// sortWindow is how many messages sendWindows sorts together.
const sortWindow = 1 << 16

// scheduleText says when a group goes out, for the human view.
func scheduleText(g SendGroup, quiet campaign.Quiet, sendAt bool) string {
	who := fmt.Sprintf("%s %s in %s", Thousands(g.Count), words.Plural(g.Count, "recipient", "recipients"), strings.Join(g.Zones, ", "))
	if !g.Moved {
		when := "sent now"
		if sendAt {
			when = "sent at send_at"
		}
		return fmt.Sprintf("%s: outside quiet hours %s, %s", who, quiet, when)
	}
	var local []string
	for _, n := range g.Zones {
		z, err := time.LoadLocation(n)
		if err != nil {
			continue
		}
		local = append(local, g.At.In(z).Format("2006-01-02 15:04"))
	}
	local = slices.Compact(local)
	return fmt.Sprintf("%s: inside quiet hours %s, scheduled for %s local (%s)", who, quiet, strings.Join(local, " / "), g.At.UTC().Format("2006-01-02 15:04Z"))
}

// scheduled reports whether some campaign of the plan has a quiet-hours schedule.
func (p *Plan) scheduled() bool {
	for _, cp := range p.Campaigns {
		if cp.Schedule != nil {
			return true
		}
	}
	return false
}
