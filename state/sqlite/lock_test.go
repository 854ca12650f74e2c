package sqlite_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

func TestLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "smsform.db")
	l, err := sqlite.AcquireLock(ctx, path, "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(sqlite.LockPath(path))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v, %v; want mode 0600", info, err)
	}

	// flock is per open file, so a second acquire in this process is a second holder.
	_, err = sqlite.AcquireLock(ctx, path, "convert", 0)
	var le *state.LockedError
	if !errors.As(err, &le) || !errors.Is(err, state.ErrLocked) {
		t.Fatalf("second AcquireLock = %v, want a LockedError", err)
	}
	host, _ := os.Hostname()
	if h := le.Holder; h.PID != os.Getpid() || h.Command != "apply" || h.Host != host || h.Since.IsZero() {
		t.Errorf("holder %+v", h)
	}
	for _, want := range []string{path, "apply", "-lock-timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	// A waiting acquire gets the lock once it is released.
	go func() {
		time.Sleep(50 * time.Millisecond)
		l.Release()
	}()
	l2, err := sqlite.AcquireLock(ctx, path, "refresh", 10*time.Second)
	if err != nil {
		t.Fatalf("AcquireLock waiting for a release: %v", err)
	}
	if err := l2.Release(); err != nil {
		t.Error(err)
	}
	if err := l2.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	var nilLock *sqlite.Lock
	if err := nilLock.Release(); err != nil {
		t.Errorf("Release of nil: %v", err)
	}
}

func TestLockWaitCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "smsform.db")
	l, err := sqlite.AcquireLock(context.Background(), path, "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sqlite.AcquireLock(ctx, path, "apply", time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("AcquireLock with a canceled context = %v", err)
	}
}

func TestUnlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "smsform.db")
	if h, err := sqlite.Unlock(path, false); err != nil || h != (state.Holder{}) {
		t.Errorf("Unlock without a lock file = %+v, %v", h, err)
	}
	l, err := sqlite.AcquireLock(context.Background(), path, "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	h, err := sqlite.Unlock(path, false)
	if !errors.Is(err, state.ErrLocked) || h.Command != "apply" {
		t.Errorf("Unlock of a held lock = %+v, %v; want ErrLocked naming the holder", h, err)
	}
	// A holder alive on this host is never broken, not even by force.
	h, err = sqlite.Unlock(path, true)
	if !errors.Is(err, state.ErrLocked) || h.PID != os.Getpid() || !strings.Contains(err.Error(), "alive") {
		t.Errorf("forced Unlock of a live holder = %+v, %v; want a refusal naming it", h, err)
	}
	if _, err := sqlite.AcquireLock(context.Background(), path, "apply", 0); !errors.Is(err, state.ErrLocked) {
		t.Fatalf("after a refused forced unlock, AcquireLock = %v; want the lock still held", err)
	}
	// A holder on another machine sharing the file (where this host cannot check it) is
	// broken by force: the user says it is gone.
	other, _ := json.Marshal(state.Holder{Host: "elsewhere.invalid", PID: os.Getpid(), Command: "apply", Since: time.Now()})
	if err := os.WriteFile(sqlite.LockPath(path), other, 0o600); err != nil {
		t.Fatal(err)
	}
	h, err = sqlite.Unlock(path, true)
	if err != nil || h.Host != "elsewhere.invalid" {
		t.Errorf("forced Unlock of another host's holder = %+v, %v", h, err)
	}
	if _, err := os.Stat(sqlite.LockPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("forced Unlock left the lock file: %v", err)
	}
	l2, err := sqlite.AcquireLock(context.Background(), path, "apply", 0)
	if err != nil {
		t.Fatalf("AcquireLock after a forced unlock: %v", err)
	}
	l2.Release()

	// A released lock leaves a file nobody holds: Unlock clears it quietly.
	if h, err := sqlite.Unlock(path, false); err != nil || h != (state.Holder{}) {
		t.Errorf("Unlock of a free lock = %+v, %v", h, err)
	}
}

// TestMarkInterruptedAndUnresolved: batches left in flight become unknown rows, with the
// batch's time as their send attempt; settled messages are left alone.
func TestMarkInterruptedAndUnresolved(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	if n, err := s.MarkInterrupted(ctx); n != 0 || err != nil {
		t.Errorf("MarkInterrupted of an empty state = %d, %v", n, err)
	}
	round := state.Round{Campaign: "c", Round: 1}
	a, b, c, d := out("c", 1, "+41790000001", 0, 1), out("c", 1, "+41790000002", 0, 1), out("c", 1, "+41790000003", 0, 1), out("c", 1, "+41790000004", 0, 1)
	a.Tracked, a.TrackingType = true, "OTP"
	aBefore := time.Now().UTC().Truncate(time.Millisecond)
	mark(t, s, a)
	aAfter := time.Now().UTC()
	settle(t, s, mark(t, s, b), state.Sent)
	time.Sleep(2 * time.Millisecond) // sending_at has millisecond resolution
	mark(t, s, c)
	settleEach(t, s, mark(t, s, d), state.Outcome{MessageID: d.MessageID, State: state.Unknown, Error: "500"})

	if n, err := s.CountUnresolved(ctx); n != 3 || err != nil {
		t.Errorf("CountUnresolved = %d, %v; want 3 (2 in flight, 1 unknown)", n, err)
	}
	inFlight := snapshot(t, s, round).Records(round)
	before := version(t, s)
	n, err := s.MarkInterrupted(ctx)
	if n != 2 || err != nil {
		t.Fatalf("MarkInterrupted = %d, %v; want 2", n, err)
	}
	if v := version(t, s); v.Serial <= before.Serial {
		t.Error("MarkInterrupted did not bump the serial")
	}
	rows := list(t, s, state.Filter{States: []state.State{state.Unknown}})
	if len(rows) != 3 || rows[0].Error == "" || rows[0].To != a.To || rows[0].MessageID != a.MessageID || rows[0].BulkID != a.BulkID ||
		rows[0].TrackingType != "OTP" || rows[0].SmsCount != 1 {
		t.Errorf("unknown rows %+v", rows)
	}
	if rows := list(t, s, state.Filter{States: []state.State{state.Sent}}); len(rows) != 1 || rows[0].To != b.To {
		t.Errorf("sent rows %+v; MarkInterrupted must leave the settled message alone", rows)
	}
	if n, err := s.CountUnresolved(ctx); n != 3 || err != nil {
		t.Errorf("after MarkInterrupted CountUnresolved = %d, %v; want 3 unknown", n, err)
	}
	recs := snapshot(t, s, round).Records(round)
	for _, m := range []state.Outgoing{a, c} {
		r := recs[m.To]
		if r.State != state.Unknown || r.Hash != m.Hash || r.Attempt != m.Attempt || r.Error == "" {
			t.Errorf("interrupted %s recorded %+v", m.To, r)
		}
		if !r.SendingAt.Equal(inFlight[m.To].SendingAt) {
			t.Errorf("interrupted %s: SendingAt %v, want the batch's time %v", m.To, r.SendingAt, inFlight[m.To].SendingAt)
		}
	}
	if at := recs[a.To].SendingAt; at.Before(aBefore) || at.After(aAfter) {
		t.Errorf("SendingAt %v of the interrupted batch, want the time of its MarkSending %v..%v", at, aBefore, aAfter)
	}
	// Nothing in flight left: no write at all.
	v := version(t, s)
	if n, err := s.MarkInterrupted(ctx); n != 0 || err != nil || version(t, s) != v {
		t.Errorf("second MarkInterrupted = %d, %v, version %+v -> %+v", n, err, v, version(t, s))
	}

	pending, err := s.Unresolved(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range pending {
		ids = append(ids, p.MessageID)
		if p.BulkID == "" || p.SendingAt.IsZero() {
			t.Errorf("pending %+v", p)
		}
	}
	if want := []string{a.MessageID, c.MessageID, d.MessageID}; strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("Unresolved = %v, want %v (oldest attempt first)", ids, want)
	}
}
