package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// open opens a fresh state file in a temporary directory and closes it when the test ends.
func open(t testing.TB) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "smsform.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// out is an outgoing message whose messageId is derived from its key and attempt.
func out(campaign string, round int, to string, attempt int, hash uint64) state.Outgoing {
	return state.Outgoing{
		Key:       state.Key{Campaign: campaign, Round: round, To: to},
		Attempt:   attempt,
		MessageID: fmt.Sprintf("%s-%d-%s-%d", campaign, round, strings.TrimPrefix(to, "+"), attempt),
		BulkID:    fmt.Sprintf("%s-r%d-bulk", campaign, round),
		Hash:      hash,
		Parts:     1,
	}
}

// keyOf recovers the key from a messageId made by out: CAMPAIGN-ROUND-DIGITS-ATTEMPT.
func keyOf(id string) state.Key {
	parts := strings.Split(id, "-")
	n := len(parts)
	if n < 4 {
		return state.Key{}
	}
	round, _ := strconv.Atoi(parts[n-3])
	return state.Key{Campaign: strings.Join(parts[:n-3], "-"), Round: round, To: "+" + parts[n-2]}
}

// keyed fills in the keys of outcomes given by messageId only.
func keyed(outs ...state.Outcome) []state.Outcome {
	for i := range outs {
		if outs[i].Campaign == "" {
			outs[i].Key = keyOf(outs[i].MessageID)
		}
	}
	return outs
}

func version(t testing.TB, s *sqlite.Store) state.Version {
	t.Helper()
	v, err := s.Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// mark records msgs as one batch in flight and returns it.
func mark(t testing.TB, s *sqlite.Store, msgs ...state.Outgoing) *state.Batch {
	t.Helper()
	b, err := s.MarkSending(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// settle records every message of b with the one state.
func settle(t testing.TB, s *sqlite.Store, b *state.Batch, st state.State) {
	t.Helper()
	outs := make([]state.Outcome, len(b.Messages))
	for i, m := range b.Messages {
		outs[i] = state.Outcome{Key: m.Key, MessageID: m.MessageID, State: st}
	}
	if err := s.Settle(context.Background(), b, outs); err != nil {
		t.Fatal(err)
	}
}

// settleEach records the messages of b with their outcomes, given in any order and matched
// to the batch's messages by key (filled in from the messageId when missing). Every message
// needs exactly one.
func settleEach(t testing.TB, s *sqlite.Store, b *state.Batch, outs ...state.Outcome) {
	t.Helper()
	byKey := map[state.Key]state.Outcome{}
	for _, o := range keyed(outs...) {
		if _, dup := byKey[o.Key]; dup {
			t.Fatalf("settleEach: two outcomes for %+v", o.Key)
		}
		byKey[o.Key] = o
	}
	ordered := make([]state.Outcome, len(b.Messages))
	for i, m := range b.Messages {
		o, ok := byKey[m.Key]
		if !ok {
			t.Fatalf("settleEach: no outcome for %s", m.MessageID)
		}
		delete(byKey, m.Key)
		ordered[i] = o
	}
	if len(byKey) > 0 {
		t.Fatalf("settleEach: outcomes for messages not in the batch: %+v", byKey)
	}
	if err := s.Settle(context.Background(), b, ordered); err != nil {
		t.Fatal(err)
	}
}

// record settles recorded messages of unknown outcome (reconciliation).
func record(t testing.TB, s *sqlite.Store, outs ...state.Outcome) {
	t.Helper()
	if err := s.RecordOutcomes(context.Background(), keyed(outs...)); err != nil {
		t.Fatal(err)
	}
}

func unresolved(t testing.TB, s *sqlite.Store) int {
	t.Helper()
	n, err := s.CountUnresolved(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func snapshot(t testing.TB, s *sqlite.Store, rounds ...state.Round) *state.Snapshot {
	t.Helper()
	snap, err := s.Snapshot(context.Background(), rounds)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func list(t testing.TB, s *sqlite.Store, f state.Filter) []state.Message {
	t.Helper()
	msgs, err := s.List(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestOpenCreatesPrivateFile checks that the state file and SQLite's -wal and -shm files are
// readable by their owner only, even with a umask that would let everyone read them.
func TestOpenCreatesPrivateFile(t *testing.T) {
	for _, umask := range []int{0, 0o022} {
		t.Run(fmt.Sprintf("umask%03o", umask), func(t *testing.T) {
			old := syscall.Umask(umask)
			defer syscall.Umask(old)
			s, path := open(t)
			// A write makes SQLite create the -wal and -shm files.
			mark(t, s, out("c", 1, "+41790000001", 0, 1))
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				info, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if got := info.Mode().Perm(); got != 0o600 {
					t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), got)
				}
			}
		})
	}
}

func TestOpenSetsWAL(t *testing.T) {
	_, path := open(t)
	// journal_mode=WAL is persistent: a plain connection sees it too.
	if mode := pragma(t, path, "journal_mode"); mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

// pragma is the value of a pragma of the database at path, as a plain connection sees it.
func pragma(t *testing.T, path, name string) string {
	t.Helper()
	var v string
	if err := rawDB(t, path).QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestReopenKeepsLineageAndData(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	v1 := version(t, s)
	if len(v1.Lineage) != 32 {
		t.Errorf("lineage %q: want 32 hex characters", v1.Lineage)
	}
	// One batch settled, one left in flight: both are durable.
	settle(t, s, mark(t, s, out("c", 1, "+41790000002", 0, 43)), state.Failed)
	mark(t, s, out("c", 1, "+41790000001", 0, 42))
	v2 := version(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := version(t, s2); got != v2 {
		t.Errorf("reopened version %+v, want %+v (reopening must not write)", got, v2)
	}
	if s2.Path() != path {
		t.Errorf("Path() = %q, want %q", s2.Path(), path)
	}
	recs := snapshot(t, s2, state.Round{Campaign: "c", Round: 1}).Records(state.Round{Campaign: "c", Round: 1})
	if rec, ok := recs["+41790000001"]; !ok || rec.State != state.Sending || rec.Hash != 42 {
		t.Errorf("reopened in-flight record = %+v, %v; want sending with hash 42", rec, ok)
	}
	if rec, ok := recs["+41790000002"]; !ok || rec.State != state.Failed || rec.Hash != 43 {
		t.Errorf("reopened settled record = %+v, %v; want failed with hash 43", rec, ok)
	}
	if n := unresolved(t, s2); n != 1 {
		t.Errorf("reopened CountUnresolved = %d, want 1 (the batch in flight)", n)
	}

	// Another file has another lineage.
	other, _ := open(t)
	if version(t, other).Lineage == v1.Lineage {
		t.Error("two state files share a lineage")
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	s, path := open(t)
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, err = sqlite.Open(context.Background(), path)
	if !errors.Is(err, state.ErrTooNew) {
		t.Fatalf("Open of a schema-99 file: %v, want an error wrapping ErrTooNew", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("error %q should name the file and say to upgrade", err)
	}
}

func TestOpenRefusesNonSQLiteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "campaign.yaml")
	if err := os.WriteFile(path, []byte("id: not-a-database\nfrom: InfoSMS\ntext: hello, this is not SQLite at all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a YAML file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestOpenInMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "smsform.db")
	_, err := sqlite.Open(context.Background(), path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open in a missing directory: %v, want fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), "SMSFORM_STATE") {
		t.Errorf("error %q should say how to choose another path", err)
	}
}

// TestOpenPathWithURICharacters checks that the state lives in exactly the file named, even
// when the name holds characters that mean something in a file: URI.
func TestOpenPathWithURICharacters(t *testing.T) {
	for sub, name := range map[string]string{"space": "with space.db", "hash": "hash#1.db", "question": "what?.db", "percent": "pct%41.db"} {
		// Subtest names without the characters, so that t.TempDir's own name is plain.
		t.Run(sub, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			s, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatalf("Open(%q): %v (is the path pasted unescaped into a file: URI?)", name, err)
			}
			mark(t, s, out("c", 1, "+41790000001", 0, 1))
			s.Close()
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Size() == 0 || len(names) != 1 {
				t.Errorf("state for %q went to another file: %s has %q and %q is %d bytes (is the path pasted unescaped into a file: URI?)",
					name, dir, names, name, info.Size())
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("mode %04o, want 0600", info.Mode().Perm())
			}
		})
	}
}

// TestTwoStoresOneFile is two processes writing the same state: BEGIN IMMEDIATE and
// busy_timeout make the second wait rather than fail.
func TestTwoStoresOneFile(t *testing.T) {
	a, path := open(t)
	b, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	start := version(t, a)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for w, s := range []*sqlite.Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				o := out(fmt.Sprintf("w%d", w), 1, fmt.Sprintf("+4179%07d", i), 0, 1)
				b, err := s.MarkSending(context.Background(), []state.Outgoing{o})
				if err != nil {
					errs <- err
					return
				}
				if err := s.Settle(context.Background(), b, []state.Outcome{{Key: o.Key, MessageID: o.MessageID, State: state.Sent}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(list(t, a, state.Filter{States: []state.State{state.Sent}})); got != 2*n {
		t.Errorf("%d sent rows, want %d", got, 2*n)
	}
	va, vb := version(t, a), version(t, b)
	if va != vb || va.Serial != start.Serial+4*n {
		t.Errorf("versions %+v and %+v; want equal with serial %d", va, vb, start.Serial+4*n)
	}
	if n := unresolved(t, a); n != 0 {
		t.Errorf("%d unresolved: every batch was settled", n)
	}
}

func BenchmarkMarkSending(b *testing.B) {
	s, _ := open(b)
	ctx := context.Background()
	const batch = 500
	msgs := make([]state.Outgoing, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for j := range msgs {
			msgs[j] = out("bench", 1, fmt.Sprintf("+41%09d", i*batch+j), 0, uint64(j))
		}
		b.StartTimer()
		if _, err := s.MarkSending(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
}

// TestOpenExistingRefusesMissing: only Init creates a state; OpenExisting of a missing file
// says to run init and creates nothing.
func TestOpenExistingRefusesMissing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "st.db")
	_, err := sqlite.OpenExisting(ctx, path, nil)
	if !errors.Is(err, state.ErrNoState) || !strings.Contains(err.Error(), "smsform init") {
		t.Fatalf("OpenExisting of a missing file: %v; want ErrNoState saying to run smsform init", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused open left files behind: %v", entries)
	}
	if _, err := sqlite.OpenExisting(ctx, dir, nil); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("OpenExisting of a directory: %v", err)
	}
	created, err := sqlite.Init(ctx, path)
	if err != nil || !created {
		t.Fatalf("Init = %v, %v; want created", created, err)
	}
	if created, err := sqlite.Init(ctx, path); err != nil || created {
		t.Fatalf("Init again = %v, %v; want an existing state", created, err)
	}
	s, err := sqlite.OpenExisting(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestOpenExistingTightensMode: a state file readable by others is made private, with a
// warning naming the file and both modes.
func TestOpenExistingTightensMode(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "st.db")
	if _, err := sqlite.Init(ctx, path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	s, err := sqlite.OpenExisting(ctx, path, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o after open, want 0600", info.Mode().Perm())
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], path) || !strings.Contains(warnings[0], "0666") || !strings.Contains(warnings[0], "0600") {
		t.Errorf("warnings %q; want one naming the file, 0666 and 0600", warnings)
	}
	warnings = nil
	s, err = sqlite.OpenExisting(ctx, path, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if len(warnings) != 0 {
		t.Errorf("a private file drew warnings: %q", warnings)
	}
}

// TestPageSize: a new state is made with 16 KiB pages; a database made before, with
// SQLite's 4 KiB, is opened and kept as it is.
func TestPageSize(t *testing.T) {
	_, path := open(t)
	if got := pragma(t, path, "page_size"); got != "16384" {
		t.Errorf("a new state's page size = %s, want 16384", got)
	}

	old := filepath.Join(t.TempDir(), "old.db")
	if _, err := rawDB(t, old).Exec("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE x (a); DROP TABLE x"); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Init(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(context.Background(), old)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.MarkSending(context.Background(), []state.Outgoing{out("c", 1, "+41790000001", 0, 1)}); err != nil {
		t.Fatal(err)
	}
	if got := pragma(t, old, "page_size"); got != "4096" {
		t.Errorf("a 4 KiB database's page size = %s after init and a write, want it kept", got)
	}
}

// TestSettleSharedValues: a batch whose messages share their outcome, tracking, purpose
// and bulk in runs, and differ in one of them message by message in between, is recorded
// field for field: a statement binds what its rows share once, and a row that differs in
// any of it starts another.
func TestSettleSharedValues(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	const n, group = 440, 40
	msgs := make([]state.Outgoing, n)
	outs := make([]state.Outcome, n)
	for i := range msgs {
		m := out("c", 1, fmt.Sprintf("+4179%07d", i), i%3, uint64(i))
		m.Parts, m.Tracked, m.TrackingType = 1+i%2, true, "SMS"
		m.Variant, m.Held = []string{"", "A", "B"}[i%3], i%5 == 0
		m.ConsentAt = []string{"", "2026-03-01T00:00:00.000Z"}[i%2]
		o := state.Outcome{State: state.Failed, StatusGroup: 5, StatusID: 52, StatusName: "REJECTED_DESTINATION", Error: "rejected"}
		// Each group of rows alternates one of the values a statement binds once; the
		// first group alternates none.
		alt := i%2 == 1
		switch i / group {
		case 1:
			if alt {
				o = state.Outcome{State: state.Sent, StatusGroup: 1, StatusID: 26, StatusName: "PENDING_ACCEPTED", SmsCount: 3}
			}
		case 2:
			if alt {
				o.Error = "rejected twice"
			}
		case 3:
			if alt {
				o.StatusName = "REJECTED_NETWORK"
			}
		case 4:
			if alt {
				o.StatusGroup = 4
			}
		case 5:
			m.Tracked = !alt
		case 6:
			if alt {
				m.TrackingType = "Sale"
			}
		case 7:
			if alt {
				m.Purpose = state.Marketing
			}
		case 8:
			if alt {
				m.BulkID = "another-bulk"
			}
		case 9:
			if alt {
				o.StatusID = 8
			}
		case 10:
			if alt {
				o.State = state.Unknown
			}
		}
		msgs[i], outs[i] = m, o
	}
	b, err := s.MarkSending(ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	byBatch := make([]state.Outcome, len(b.Messages)) // the outcomes in the batch's order
	for i, m := range b.Messages {
		byBatch[i] = outs[slicesIndex(msgs, m.To)]
		byBatch[i].Key, byBatch[i].MessageID = m.Key, m.MessageID
	}
	outs = byBatch
	if err := s.Settle(ctx, b, outs); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, state.Filter{Campaign: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d messages recorded, want %d", len(got), n)
	}
	for _, g := range got {
		j := slicesIndex(b.Messages, g.To)
		m, o := b.Messages[j], outs[j]
		parts := m.Parts
		if o.SmsCount > 0 {
			parts = o.SmsCount
		}
		tt := ""
		if m.Tracked {
			tt = m.TrackingType
		}
		want := state.Message{Key: m.Key, Attempt: m.Attempt, MessageID: m.MessageID, BulkID: m.BulkID, State: o.State,
			StatusGroup: o.StatusGroup, StatusID: o.StatusID, StatusName: o.StatusName, SmsCount: parts, TrackingType: tt,
			Error: o.Error, Purpose: m.Purpose, ConsentAt: m.ConsentAt, Variant: m.Variant, Held: m.Held,
			CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
		if g != want {
			t.Errorf("recorded %+v\nwant     %+v", g, want)
		}
	}
}

func slicesIndex(msgs []state.Outgoing, to string) int {
	for i, m := range msgs {
		if m.To == to {
			return i
		}
	}
	return -1
}

// TestInitConcurrently: processes that make the same new state at once (two CI jobs
// running init) all succeed, and leave one state.
func TestInitConcurrently(t *testing.T) {
	dir := t.TempDir()
	for round := range 20 {
		path := filepath.Join(dir, fmt.Sprintf("state-%d.db", round))
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			wg.Go(func() {
				s, err := sqlite.Open(context.Background(), path)
				if err == nil {
					err = s.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, opener %d: %v", round, i, err)
			}
		}
		if got := pragma(t, path, "page_size"); got != "16384" {
			t.Errorf("round %d: page size %s", round, got)
		}
	}
}

// TestLeanAndFullMessagesInOneBatch: a batch of messages with none of the rarer values
// (runs of at least 16 are written by the lean statement, which leaves those to their
// defaults) and messages with one of them, between lean runs or alternating with lean
// messages, records each message with exactly its values.
func TestLeanAndFullMessagesInOneBatch(t *testing.T) {
	s, _ := open(t)
	rare := []func(*state.Outgoing){
		func(m *state.Outgoing) { m.Variant = "a" },
		func(m *state.Outgoing) { m.Variant, m.Held = "b", true },
		func(m *state.Outgoing) { m.SendAt = "2026-12-08T10:00:00.000Z" },
		func(m *state.Outgoing) { m.ConsentAt, m.ConsentSource = "2026-01-01T00:00:00.000Z", "crm" },
		func(m *state.Outgoing) { m.ConsentSource = "shop" },
	}
	// For each rare value, a stretch of 33 messages with that value in the middle of 32
	// lean ones (two lean runs of 16, so that a lean test that missed the value would
	// write the whole stretch lean), then 20 lean and rare messages alternating.
	var msgs []state.Outgoing
	for i := range len(rare)*33 + 20 {
		m := out("c", 1, fmt.Sprintf("+417900%05d", i), i%3, uint64(i+1)*0x9E3779B97F4A7C15)
		m.Purpose, m.Tracked, m.TrackingType, m.Parts = state.Marketing, true, "Sale", i%4+1
		switch {
		case i < len(rare)*33:
			if i%33 == 16 {
				rare[i/33](&m)
			}
		case i%2 == 1:
			rare[i%len(rare)](&m)
		}
		msgs = append(msgs, m)
	}
	settle(t, s, mark(t, s, msgs...), state.Sent)
	got := list(t, s, state.Filter{})
	if len(got) != len(msgs) {
		t.Fatalf("%d messages recorded, want %d", len(got), len(msgs))
	}
	round := state.Round{Campaign: "c", Round: 1}
	recs := snapshot(t, s, round).Records(round)
	for i, m := range msgs {
		g, r := got[i], recs[m.To]
		if g.To != m.To || g.MessageID != m.MessageID || g.Attempt != m.Attempt || g.State != state.Sent || g.SmsCount != m.Parts ||
			g.Purpose != m.Purpose || g.TrackingType != m.TrackingType ||
			g.Variant != m.Variant || g.Held != m.Held || g.SendAt != m.SendAt || g.ConsentAt != m.ConsentAt || g.ConsentSource != m.ConsentSource {
			t.Errorf("message %d recorded as %+v\nwant the values of %+v", i, g, m)
		}
		if r.Hash != m.Hash || r.Attempt != m.Attempt {
			t.Errorf("message %d: hash %x, attempt %d; want %x, %d", i, r.Hash, r.Attempt, m.Hash, m.Attempt)
		}
	}
}
