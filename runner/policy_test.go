package runner_test

import (
	"testing"
	"time"

	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
)

func TestIdempotencyMargin(t *testing.T) {
	for _, tt := range []struct{ window, want time.Duration }{
		{24 * time.Hour, 144 * time.Minute}, // a tenth
		{time.Hour, 10 * time.Minute},       // at least 10 minutes
		{10 * time.Minute, 5 * time.Minute}, // at most half
		{2 * time.Second, time.Second},
	} {
		if got := runner.IdempotencyMargin(tt.window); got != tt.want {
			t.Errorf("IdempotencyMargin(%v) = %v, want %v", tt.window, got, tt.want)
		}
	}
}

// TestDecide is the idempotency policy, case by case.
func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	grace, day := 10*time.Minute, 24*time.Hour
	u := func(firstAgo, lastAgo time.Duration, unsent bool) state.Undecided {
		return state.Undecided{Pending: state.Pending{SendingAt: now.Add(-lastAgo)}, FirstAttemptAt: now.Add(-firstAgo), Unsent: unsent, ResolvedBy: "ann"}
	}
	for _, tt := range []struct {
		name   string
		u      state.Undecided
		window time.Duration
		want   runner.Verdict
	}{
		{"default account, fresh", u(time.Minute, time.Minute, false), 0, runner.Wait},
		{"default account, past the grace: never resent", u(time.Hour, time.Hour, false), 0, runner.Wait},
		{"default account, 47h", u(47*time.Hour, 47*time.Hour, false), 0, runner.Wait},
		{"default account, past the logs' 48h", u(49*time.Hour, 49*time.Hour, false), 0, runner.NeedsPerson},
		{"idempotent, inside the grace", u(5*time.Minute, 5*time.Minute, false), day, runner.Wait},
		{"idempotent, past the grace", u(11*time.Minute, 11*time.Minute, false), day, runner.Resend},
		{"idempotent, resent recently, first long ago but inside", u(20*time.Hour, time.Minute, false), day, runner.Wait},
		{"idempotent, resent, past the grace again", u(20*time.Hour, time.Hour, false), day, runner.Resend},
		{"idempotent, first attempt inside the margin", u(22*time.Hour, time.Hour, false), day, runner.Wait},
		{"idempotent, past the window", u(25*time.Hour, 25*time.Hour, false), day, runner.Wait},
		{"idempotent with a long window, past the logs' 48h", u(50*time.Hour, 50*time.Hour, false), 7 * day, runner.NeedsPerson},
		{"decided unsent by a person, default account", u(3*time.Hour, 3*time.Hour, true), 0, runner.Resend},
		{"decided unsent by a person, past 48h", u(72*time.Hour, 72*time.Hour, true), 0, runner.Resend},
	} {
		got, why := runner.Decide(tt.u, now, grace, tt.window)
		if got != tt.want || why == "" {
			t.Errorf("%s: %v (%s), want %v", tt.name, got, why, tt.want)
		}
	}
}
