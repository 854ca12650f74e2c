package campaign

import (
	"errors"
	"fmt"
	"sync"
	"time"
	// The zone database is built in, so quiet hours come out the same on a machine without
	// /usr/share/zoneinfo (a slim container, Windows) as on a developer's laptop.
	_ "time/tzdata"

	"github.com/nyaruka/phonenumbers"
)

// Clock is a time of day on a wall clock, in minutes after midnight (0 to 1439).
type Clock int

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Quiet is quiet hours: from From (included) to To (excluded) on each recipient's wall
// clock. From > To wraps midnight (21:00 to 08:00); From never equals To.
type Quiet struct{ From, To Clock }

func (q Quiet) String() string { return q.From.String() + "-" + q.To.String() }

// Contains reports whether the wall-clock time of day c is inside the quiet hours.
func (q Quiet) Contains(c Clock) bool {
	if q.From < q.To {
		return q.From <= c && c < q.To
	}
	return c >= q.From || c < q.To
}

// quietAt reports whether t, read on loc's wall clock, is inside the quiet hours.
func (q Quiet) quietAt(loc *time.Location, t time.Time) bool {
	l := t.In(loc)
	return q.Contains(Clock(l.Hour()*60 + l.Minute()))
}

// Zones returns the time zones of an E.164 number, as the phone-number library knows them
// from its country and area code: one for most numbers, several where a country or an area
// code spans zones (+1 701: America/Denver and America/North_Dakota/Center). A number whose
// zone is unknown is an error; a caller that must still send decides what is safe.
func Zones(e164 string) ([]*time.Location, error) {
	// A recipient's number is already E.164, which is all the zone lookup reads: parsing it
	// again would cost twenty times the lookup, for every recipient of every plan.
	lookup := e164
	if !plainE164(e164) {
		n, problem := Number(e164, "", "write it in E.164")
		if problem != "" {
			return nil, errors.New(problem)
		}
		lookup = n
	}
	names, err := phonenumbers.GetTimezonesForPrefix(lookup)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e164, err)
	}
	var zones []*time.Location
	for _, n := range names {
		if n == "Etc/Unknown" {
			continue
		}
		loc, err := loadZone(n)
		if err != nil {
			return nil, fmt.Errorf("%s: time zone %s: %w", e164, n, err)
		}
		zones = append(zones, loc)
	}
	if len(zones) == 0 {
		return nil, fmt.Errorf("%s: no time zone is known for this number", e164)
	}
	return zones, nil
}

// plainE164 reports whether s is '+' and 2 to 15 digits, the first not 0.
func plainE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// zoneCache caches loaded time zones by name: loading one parses its rules from the built-in
// database, and a plan of a million recipients asks for the same few zones again and again.
var zoneCache sync.Map // string -> *time.Location

// loadZone is time.LoadLocation, cached.
func loadZone(name string) (*time.Location, error) {
	if z, ok := zoneCache.Load(name); ok {
		return z.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zoneCache.Store(name, loc)
	return loc, nil
}

// NextAllowed returns t when t is outside the quiet hours in every zone, else the earliest
// instant after t that is outside them in all zones: a number spanning several zones gets
// the strictest reading. It is correct across DST changes: a quiet end that falls in the
// hour skipped in spring ends when the clock jumps past it, and one that falls in the hour
// repeated in autumn ends at its first occurrence. With no zones it returns t.
func NextAllowed(zones []*time.Location, quiet Quiet, t time.Time) time.Time {
	// Moving past one zone's quiet hours may land in another's (zones far apart), so go
	// round until no zone moves t. Each move is to a quiet end, and with zones at most 26 h
	// apart a few rounds settle it; the bound only guards against a zone database gone odd.
	for range 4 * (len(zones) + 1) {
		moved := false
		for _, z := range zones {
			if quiet.quietAt(z, t) {
				t = quietEnd(z, quiet, t)
				moved = true
			}
		}
		if !moved {
			return t
		}
	}
	return t
}

// quietEnd is the first instant after t, quiet in zone z, at which z's quiet hours are over.
func quietEnd(z *time.Location, quiet Quiet, t time.Time) time.Time {
	l := t.In(z)
	var best time.Time
	consider := func(c time.Time) {
		if c.After(t) && !quiet.quietAt(z, c) && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	h, m := int(quiet.To)/60, int(quiet.To)%60
	for d := range 3 {
		c := time.Date(l.Year(), l.Month(), l.Day()+d, h, m, 0, 0, z)
		consider(c)
		// In the hour repeated in autumn, time.Date may pick the second reading of the wall
		// clock; the first one, an offset change earlier, ends the quiet hours sooner.
		if start, _ := c.ZoneBounds(); !start.IsZero() && c.Sub(start) < 3*time.Hour {
			for _, back := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
				if e := c.Add(-back).In(z); e.Hour() == h && e.Minute() == m {
					consider(c.Add(-back))
				}
			}
		}
		// In the hour skipped in spring, the wall clock never shows To: the quiet hours end
		// when the clock jumps past it, at the change of offset (which time.Date may have
		// put on either side of c).
		start, end := c.ZoneBounds()
		if !end.IsZero() && end.Sub(c) < 3*time.Hour {
			consider(end)
		}
		if !start.IsZero() && c.Sub(start) < 3*time.Hour {
			consider(start)
		}
		if !best.IsZero() {
			return best
		}
	}
	// Unreachable with a real zone: the wall clock shows To at least every other day.
	return t.Add(time.Minute)
}

// NextAllowedFor returns when a message of this campaign to the E.164 number may arrive, at
// t or later: t itself for a campaign without quiet hours, else NextAllowed over the
// number's zones. A number of no known zone is an error: the caller decides what is safe
// (holding the message back, or the strictest reading of its country).
func (c *Campaign) NextAllowedFor(number string, t time.Time) (time.Time, error) {
	if c.Quiet == nil {
		return t, nil
	}
	zones, err := Zones(number)
	if err != nil {
		return time.Time{}, err
	}
	return NextAllowed(zones, *c.Quiet, t), nil
}

// ZoneProblem returns, for a campaign with quiet hours, the problem of a recipient whose
// number has no known time zone: whether it is night there cannot be told, and guessing a
// zone (the default region's) or holding the message back unseen would both surprise, so
// the campaign is refused until the person corrects the number or drops it.
func (c *Campaign) ZoneProblem(r Recipient) (Problem, bool) {
	if c.Quiet == nil {
		return Problem{}, false
	}
	if _, err := Zones(r.To); err == nil {
		return Problem{}, false
	}
	return Problem{File: c.fileOf(r), Line: int(r.Line), Field: "to",
		Msg: fmt.Sprintf("no time zone is known for %s, so its quiet hours cannot be kept; correct the number, remove the recipient, or remove quiet_hours", r.To)}, true
}

// checkZones adds a problem for every recipient ZoneProblem refuses, so validate says so
// as well as plan and apply.
func (c *Campaign) checkZones(ps *problems) {
	if c.Quiet == nil {
		return
	}
	for _, r := range c.Recipients.All() {
		if p, bad := c.ZoneProblem(r); bad {
			ps.add(p.File, p.Line, p.Field, "%s", p.Msg)
		}
	}
}
