package postgres_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/internal/pgtest"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/postgres"
	"github.com/smsform/smsform/state/statetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.M{M: m}.Run()) }

// newState creates a database, initialises it and opens it.
func newState(t testing.TB) (*postgres.Store, string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	if _, err := postgres.Init(ctx, url); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

func TestConformance(t *testing.T) {
	statetest.Run(t, func(t testing.TB) state.Store {
		s, _ := newState(t)
		return s
	})
}

// TestOpenRefusesUninitialised: a database without the schema is an error that says to
// run init, and opening it creates nothing.
func TestOpenRefusesUninitialised(t *testing.T) {
	url := pgtest.NewDatabase(t)
	_, err := postgres.Open(context.Background(), url)
	if !errors.Is(err, postgres.ErrNotInitialized) || !strings.Contains(err.Error(), "smsform init") {
		t.Fatalf("Open of an empty database: %v; want ErrNotInitialized saying to run smsform init", err)
	}
}

// TestConcurrentInit: several inits at once create the schema once; the state works after.
func TestConcurrentInit(t *testing.T) {
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	created := make(chan bool, 4)
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := postgres.Init(context.Background(), url)
			created <- c
			errs <- err
		}()
	}
	wg.Wait()
	close(created)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for c := range created {
		if c {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d inits said they created the schema, want 1", n)
	}
	s, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Version(context.Background()); err != nil || len(v.Lineage) != 32 {
		t.Errorf("Version = %+v, %v", v, err)
	}
}

// TestReadOnlyRole: a role that may only SELECT can open the state, snapshot, list and
// report, the reads plan and report make; a write is refused by the server.
func TestReadOnlyRole(t *testing.T) {
	s, url := newState(t)
	ctx := context.Background()
	b, err := s.MarkSending(ctx, []state.Outgoing{{Key: state.Key{Campaign: "c", Round: 1, To: "+41790000001"}, MessageID: "m1", BulkID: "b", Parts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SettleMany(ctx, []state.Settlement{{Batch: b, Outcomes: []state.Outcome{{Key: b.Messages[0].Key, MessageID: "m1", State: state.Sent}}}}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"DROP ROLE IF EXISTS smsform_reader_t",
		"CREATE ROLE smsform_reader_t LOGIN",
		"GRANT USAGE ON SCHEMA public TO smsform_reader_t",
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO smsform_reader_t",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, url)
		if err == nil {
			c.Exec(ctx, "DROP OWNED BY smsform_reader_t")
			c.Close(ctx)
		}
	})
	ro := strings.Replace(url, "://smsform@", "://smsform_reader_t@", 1)
	r, err := postgres.Open(ctx, ro)
	if err != nil {
		t.Fatalf("open as a read-only role: %v", err)
	}
	defer r.Close()
	snap, err := r.Snapshot(ctx, []state.Round{{Campaign: "c", Round: 1}})
	if err != nil {
		t.Fatalf("snapshot as a read-only role: %v", err)
	}
	if recs := snap.Records(state.Round{Campaign: "c", Round: 1}); len(recs) != 1 {
		t.Errorf("snapshot = %+v", recs)
	}
	if _, err := r.Report(ctx, "", state.ByNone); err != nil {
		t.Errorf("report as a read-only role: %v", err)
	}
	if _, err := r.List(ctx, state.Filter{InFlight: true}); err != nil {
		t.Errorf("list as a read-only role: %v", err)
	}
	if _, err := r.MarkSending(ctx, []state.Outgoing{{Key: state.Key{Campaign: "c", Round: 1, To: "+41790000002"}, MessageID: "m2", BulkID: "b", Parts: 1}}); err == nil {
		t.Error("a read-only role could write")
	}
	if _, err := r.Lock(ctx, "apply", 0); err == nil {
		t.Error("a read-only role took the writer's lock")
	}
}

// TestLock: one holder at a time; the next one names it, waits with a timeout, and takes
// the lock once the holder's session ends, however it ends.
func TestLock(t *testing.T) {
	s, url := newState(t)
	ctx := context.Background()
	l, err := s.Lock(ctx, "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Lock(ctx, "refresh", 0)
	var le *state.LockedError
	if !errors.As(err, &le) || !errors.Is(err, state.ErrLocked) || le.Holder.Command != "apply" || le.Holder.PID != os.Getpid() || le.Holder.Since.IsZero() {
		t.Fatalf("second lock: %v; want LockedError naming the apply", err)
	}
	if strings.Contains(err.Error(), "password") {
		t.Errorf("error shows a password: %v", err)
	}
	if _, err := postgres.Unlock(ctx, url); !errors.Is(err, postgres.ErrLiveLock) {
		t.Errorf("Unlock of a live lock: %v; want ErrLiveLock", err)
	}
	// A waiter gets the lock once the holder lets go.
	got := make(chan error, 1)
	go func() {
		l2, err := s.Lock(ctx, "convert", 30*time.Second)
		if err == nil {
			err = l2.Release()
		}
		got <- err
	}()
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiting for the lock: %v", err)
	}
	if h, err := postgres.Unlock(ctx, url); err != nil || h.PID != 0 {
		t.Errorf("Unlock of a free lock = %+v, %v", h, err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db?sslmode=require":   "postgres://u@h:5432/db?sslmode=require",
		"postgresql://u@h/db":                             "postgresql://u@h/db",
		"postgres://h/db?password=secret&sslmode=disable": "postgres://h/db?sslmode=disable",
	} {
		if got := postgres.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLockLost: once the session holding the lock is gone (here ended by the server), the
// store that took it records no batch and no conversion as in flight, so nothing more is
// sent beside the next holder.
func TestLockLost(t *testing.T) {
	s, url := newState(t)
	ctx := context.Background()
	l, err := s.Lock(ctx, "apply", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	msg := func(to string) []state.Outgoing {
		return []state.Outgoing{{Key: state.Key{Campaign: "c", Round: 1, To: to}, MessageID: "m" + to, BulkID: "b", Parts: 1}}
	}
	if _, err := s.MarkSending(ctx, msg("+41790000001")); err != nil {
		t.Fatalf("MarkSending while holding the lock: %v", err)
	}
	if err := s.MarkSubmitting(ctx, []state.Conversion{{Key: state.Key{Campaign: "c", Round: 1, To: "+41790000001"}, MessageID: "m+41790000001", Source: "e.csv:2"}}); err != nil {
		t.Fatalf("MarkSubmitting while holding the lock: %v", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"); err != nil {
		t.Fatal(err)
	}
	// The server ends the session asynchronously: wait until its lock is gone.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock's session did not end")
		}
	}
	before, err := s.Contents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.MarkSending(ctx, msg("+41790000002")); !errors.Is(err, postgres.ErrLockLost) {
		t.Errorf("MarkSending after the lock was lost: %v; want ErrLockLost", err)
	}
	if err := s.MarkSubmitting(ctx, []state.Conversion{{Key: state.Key{Campaign: "c", Round: 1, To: "+41790000003"}, MessageID: "x", Source: "e.csv:3"}}); !errors.Is(err, postgres.ErrLockLost) {
		t.Errorf("MarkSubmitting after the lock was lost: %v; want ErrLockLost", err)
	}
	if after, _ := s.Contents(ctx); after != before {
		t.Errorf("writes after the lock was lost: %+v, before %+v", after, before)
	}
}
