package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/runner"
)

// quietNow is the evening of 31 October in New York (22:00 EDT), the night its clocks go
// back: 08:00 there is 13:00Z, not 12:00Z as the evening before.
var quietNow = time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)

const quietYAML = `id: night
from: InfoSMS
text: "Hello"
quiet_hours: {from: "21:00", to: "08:00"}
destinations:
  - {to: "+12015550123"}
  - {to: "+919876543210"}
  - {to: "+41793026731"}
  - {to: "+819012345678"}
  - {to: "+17015550123"}
  - {to: "+61881234567"}
  - {to: "+12015550124"}
`

// quietWant is when each recipient of quietYAML may get the text, at quietNow; zero: at once.
var quietWant = map[string]time.Time{
	// New York, 22:00 EDT: 08:00 EST, after the change back.
	"+12015550123": time.Date(2026, 11, 1, 13, 0, 0, 0, time.UTC),
	"+12015550124": time.Date(2026, 11, 1, 13, 0, 0, 0, time.UTC),
	// India, 07:30 IST (UTC+5:30): 08:00 IST.
	"+919876543210": time.Date(2026, 11, 1, 2, 30, 0, 0, time.UTC),
	// Zurich, 03:00 CET (its change was a week before): 08:00 CET.
	"+41793026731": time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC),
	// Tokyo, 11:00: now.
	"+819012345678": {},
	// +1 701 is in Denver (20:00 MDT, not yet quiet) and North Dakota (21:00 CDT, quiet):
	// 08:00 CST is 14:00Z, 07:00 MST in Denver, quiet there until 08:00 MST, 15:00Z.
	"+17015550123": time.Date(2026, 11, 1, 15, 0, 0, 0, time.UTC),
	// Adelaide (UTC+10:30, 12:30) and Perth (10:00): now.
	"+61881234567": {},
}

func quietPlan(t *testing.T, at time.Time) *runner.Plan {
	t.Helper()
	set := load(t, map[string]string{"night.yaml": quietYAML})
	p, err := runner.MakePlan(set, emptySnapshot(), at, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanSchedulesQuietHoursPerZone(t *testing.T) {
	p := quietPlan(t, quietNow)
	cp := p.Campaigns[0]
	for i, m := range cp.Messages {
		to := cp.Recipient(m).To
		at, ok := cp.SendAt(i)
		want := quietWant[to]
		if want.IsZero() {
			want = quietNow
		}
		if !ok || !at.Equal(want) {
			t.Errorf("%s: send at %v (%v), want %v", to, at, ok, want)
		}
	}
	type group struct {
		zones string
		at    time.Time
		moved bool
		n     int
	}
	want := []group{
		{"Asia/Tokyo", quietNow, false, 1},
		{"Australia/Adelaide Australia/Perth", quietNow, false, 1},
		{"Asia/Calcutta", quietWant["+919876543210"], true, 1},
		{"Europe/Zurich", quietWant["+41793026731"], true, 1},
		{"America/New_York", quietWant["+12015550123"], true, 2},
		{"America/Denver America/North_Dakota/Center", quietWant["+17015550123"], true, 1},
	}
	if len(cp.Schedule) != len(want) {
		t.Fatalf("schedule %+v", cp.Schedule)
	}
	for i, g := range cp.Schedule {
		got := group{strings.Join(g.Zones, " "), g.At, g.Moved, g.Count}
		if got != want[i] {
			t.Errorf("group %d: %+v, want %+v", i, got, want[i])
		}
	}

	var text bytes.Buffer
	if err := p.WriteText(&text, runner.ViewOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"  # 2 recipients in America/New_York: inside quiet hours 21:00-08:00, scheduled for 2026-11-01 08:00 local (2026-11-01 13:00Z)\n",
		"  # 1 recipient in Asia/Calcutta: inside quiet hours 21:00-08:00, scheduled for 2026-11-01 08:00 local (2026-11-01 02:30Z)\n",
		"  # 1 recipient in America/Denver, America/North_Dakota/Center: inside quiet hours 21:00-08:00, scheduled for 2026-11-01 08:00 / 2026-11-01 09:00 local (2026-11-01 15:00Z)\n",
		"  # 1 recipient in Asia/Tokyo: outside quiet hours 21:00-08:00, sent now\n",
	} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("text view lacks %q:\n%s", line, text.String())
		}
	}

	var js bytes.Buffer
	if err := p.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Campaigns []struct {
			Schedule []struct {
				Zones  []string `json:"zones"`
				SendAt string   `json:"send_at"`
				Count  int      `json:"count"`
			} `json:"schedule"`
			Messages []struct {
				To     string `json:"to"`
				SendAt string `json:"send_at"`
			} `json:"messages"`
		} `json:"campaigns"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Campaigns[0].Schedule; len(got) != 6 || got[4].SendAt != "2026-11-01T13:00:00Z" || got[4].Count != 2 {
		t.Errorf("json schedule %+v", got)
	}
	for _, m := range doc.Campaigns[0].Messages {
		want := ""
		if w := quietWant[m.To]; !w.IsZero() {
			want = w.Format(time.RFC3339)
		}
		if m.SendAt != want {
			t.Errorf("json %s send_at %q, want %q", m.To, m.SendAt, want)
		}
	}
}

// requestLog is a Sender that records every request and accepts every message.
type requestLog struct {
	mu   sync.Mutex
	reqs []*runner.Request
}

func (l *requestLog) Send(_ context.Context, req *runner.Request) ([]runner.Answer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, req)
	var out []runner.Answer
	for _, m := range req.Messages {
		out = append(out, runner.Answer{MessageID: m.ID, Status: runner.Status{Group: runner.GroupPending, ID: 26, Name: "PENDING_ACCEPTED"}})
	}
	return out, nil
}

func TestApplySplitsRequestsBySendTime(t *testing.T) {
	p := quietPlan(t, quietNow)
	s := openStore(t)
	var log requestLog
	// Apply a little after planning: the now group has come, the others are still ahead.
	applyNow := quietNow.Add(20 * time.Second)
	res, err := runner.Apply(context.Background(), p, &log, s, runner.ApplyOptions{
		BatchSize: 500, Parallelism: 2, Now: func() time.Time { return applyNow },
	})
	if err != nil || res.Sent != len(quietWant) {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	if len(log.reqs) != 5 {
		t.Errorf("%d requests, want 5 (one per send time)", len(log.reqs))
	}
	seen := 0
	for _, req := range log.reqs {
		for _, m := range req.Messages {
			seen++
			if want := quietWant[m.To]; !req.SendAt.Equal(want) {
				t.Errorf("%s: request sendAt %v, want %v", m.To, req.SendAt, want)
			}
		}
	}
	if seen != len(quietWant) {
		t.Errorf("%d messages in the requests, want %d", seen, len(quietWant))
	}
}

func TestQuietHoursStaleAtApply(t *testing.T) {
	p := quietPlan(t, quietNow)
	// An hour later Tokyo (12:00) and Adelaide (13:30) are still outside their quiet hours.
	if err := p.CheckQuiet(quietNow.Add(time.Hour)); err != nil {
		t.Errorf("an hour later: %v", err)
	}
	// Eleven hours later it is 22:00 in Tokyo: its group, due at once, must not go.
	err := p.CheckQuiet(quietNow.Add(11 * time.Hour))
	if !errors.Is(err, runner.ErrStalePlan) || !strings.Contains(err.Error(), "Asia/Tokyo") {
		t.Errorf("eleven hours later: %v", err)
	}
}

func TestQuietHoursBeyond180Days(t *testing.T) {
	// send_at 180 days ahead less an hour is 06:00 EST in New York: its quiet hours end
	// past Infobip's limit.
	set := load(t, map[string]string{"late.yaml": `id: late
from: InfoSMS
text: "Hello"
send_at: "2026-11-28T11:00:00Z"
quiet_hours: {from: "21:00", to: "08:00"}
destinations: [{to: "+12015550123"}]
`})
	_, err := runner.MakePlan(set, emptySnapshot(), now, runner.PlanOptions{})
	var verr *campaign.ValidationError
	if !errors.As(err, &verr) || !strings.Contains(err.Error(), "late.yaml:4: send_at") || !strings.Contains(err.Error(), "more than 180 days ahead") {
		t.Errorf("got %v", err)
	}
}

func TestSavedPlanKeepsItsSendTimes(t *testing.T) {
	set := load(t, map[string]string{"night.yaml": quietYAML})
	saved := quietPlan(t, quietNow)
	later := quietNow.Add(3 * time.Hour)
	// Planned again from the saved plan's clock, later: the same send times, the same digest.
	again, err := runner.MakePlan(set, emptySnapshot(), later, runner.PlanOptions{ScheduleFrom: quietNow})
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest() != saved.Digest() {
		t.Error("planning again from the saved plan's clock changed the digest")
	}
	// From the later clock, Zurich (06:00 CET) is still quiet but India (10:30) no longer:
	// another schedule, another digest, so a saved plan never silently sends other times.
	fresh, err := runner.MakePlan(set, emptySnapshot(), later, runner.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Digest() == saved.Digest() {
		t.Error("the digest does not cover the send times")
	}
}

func (l *requestLog) Logs(context.Context, runner.LogQuery) (runner.LogPage, error) {
	return runner.LogPage{}, nil
}

// TestSavedPlanAppliedLaterInsideQuietHours: a saved plan applied later sends the send times
// it showed, and refuses, sending nothing, when a group due at once is by then inside its
// quiet hours.
func TestSavedPlanAppliedLaterInsideQuietHours(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after time.Duration
		stale bool
	}{{"minutes later", 20 * time.Minute, false}, {"at night in Tokyo", 11 * time.Hour, true}} {
		t.Run(tc.name, func(t *testing.T) {
			set := load(t, map[string]string{"night.yaml": quietYAML})
			s := openStore(t)
			snap, err := s.Snapshot(context.Background(), runner.Rounds(set))
			if err != nil {
				t.Fatal(err)
			}
			p, err := runner.MakePlan(set, snap, quietNow, runner.PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			file := writeFiles(t, nil) + "/p.plan"
			if err := p.Save(file, []string{"."}, s.Name(), runner.PlanOptions{}, quietNow); err != nil {
				t.Fatal(err)
			}
			sp, ok, err := runner.ReadSavedPlan(file)
			if !ok || err != nil {
				t.Fatalf("read plan: %v %v", ok, err)
			}
			var log requestLog
			out, err := runner.RunApply(context.Background(), runner.ApplyRun{
				Store: s, Set: set, Saved: sp,
				Connect: func() (runner.API, error) { return &log, nil },
				Now:     func() time.Time { return quietNow.Add(tc.after) },
			})
			if tc.stale {
				if !errors.Is(err, runner.ErrStalePlan) || len(log.reqs) != 0 || out.Applied {
					t.Errorf("got %v, %d requests", err, len(log.reqs))
				}
				return
			}
			if err != nil || out.Result.Sent != len(quietWant) {
				t.Fatalf("apply: %+v, %v", out.Result, err)
			}
			for _, req := range log.reqs {
				for _, m := range req.Messages {
					if want := quietWant[m.To]; !req.SendAt.Equal(want) {
						t.Errorf("%s: request sendAt %v, want %v", m.To, req.SendAt, want)
					}
				}
			}
		})
	}
}

func TestQuietHoursNumberWithoutZone(t *testing.T) {
	// +800 (international freephone) has no time zone: whether it is night there is unknown.
	// Loading refuses it (so validate does), naming the line.
	_, err := campaign.Load(writeFiles(t, map[string]string{"free.yaml": `id: free
from: InfoSMS
text: "Hello"
quiet_hours: {from: "21:00", to: "08:00"}
destinations:
  - {to: "+41793026731"}
  - {to: "+80012345678"}
`}))
	var verr *campaign.ValidationError
	if !errors.As(err, &verr) || !strings.Contains(err.Error(), "free.yaml:7: to: no time zone is known for +80012345678") {
		t.Errorf("got %v", err)
	}
}

// BenchmarkPlanQuietHours measures what quiet hours add to a plan: a zone lookup per number
// (the zones themselves are cached).
func BenchmarkPlanQuietHours(b *testing.B) {
	const n = 100_000
	for _, quiet := range []string{"", "quiet_hours: {from: \"21:00\", to: \"08:00\"}\n"} {
		name := "without"
		if quiet != "" {
			name = "with"
		}
		b.Run(name, func(b *testing.B) {
			set := load(b, map[string]string{
				"big.yaml": "id: big\nfrom: InfoSMS\ntext: \"Hello {{.name}}\"\n" + quiet + "destinations_file: big.csv\n",
				"big.csv":  numbersCSV(n),
			})
			b.ResetTimer()
			for b.Loop() {
				if _, err := runner.MakePlan(set, emptySnapshot(), quietNow, runner.PlanOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/recipient")
		})
	}
}
