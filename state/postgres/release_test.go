package postgres_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/internal/pgtest"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/postgres"
)

// releaseState makes a state as the release before the migrations were numbered as
// SQLite's made it, migrated up to its migration upTo (0001 init, 0002 resolve, 0003
// opt-outs: testdata/release-migrations, that release's files), with one sent message and,
// from 0003 on, one opt-out.
func releaseState(t *testing.T, upTo int) string {
	t.Helper()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	files, err := filepath.Glob("testdata/release-migrations/*.sql")
	if err != nil || len(files) != 3 {
		t.Fatalf("release migrations: %v, %v", files, err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
	for i, f := range files[:upTo] {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		if i == 0 {
			exec("INSERT INTO meta (key, value) VALUES ('lineage', 'feedc0de'), ('serial', '7')")
		}
		exec("INSERT INTO schema_migrations (version) VALUES ($1)", i+1)
	}
	at := state.FormatTime(time.Now())
	exec(`INSERT INTO messages (campaign, round, destination, attempt, message_id, bulk_id, text_hash, state, sms_count, created_at, sending_at, updated_at)
		VALUES ('c', 1, '+41790000001', 0, 'sf-1', 'b-1', 7, 'sent', 1, $1, $1, $1)`, at)
	if upTo >= 3 {
		exec("INSERT INTO opt_outs (number, source, received_at, recorded_at) VALUES ('+41790000002', 'added by hand', $1, $1)", at)
	}
	return url
}

// versions lists what schema_migrations records.
func versions(t *testing.T, url string) []int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// TestReleaseNumbering: a state migrated by the release before PostgreSQL's migrations were
// numbered as SQLite's opens as it is when it is complete, and says to run init when it is
// not; init renumbers it in place (that release's 0002 resolve and 0003 opt-outs become 0003
// and 0004, as in SQLite), adds what it lacks, keeps its lineage and rows, and a second init
// changes nothing.
func TestReleaseNumbering(t *testing.T) {
	ctx := context.Background()
	// The release's 0003 was the newest migration when it was made (today's 0004); a state
	// of it is complete only while no newer migration exists, and otherwise needs init
	// like the others.
	latest := postgres.LatestMigration()
	for upTo := 1; upTo <= 3; upTo++ {
		t.Run(fmt.Sprintf("up to its %04d", upTo), func(t *testing.T) {
			url := releaseState(t, upTo)
			s, err := postgres.Open(ctx, url)
			complete := upTo == 3 && latest == 4
			switch {
			case complete && err != nil:
				t.Fatalf("Open of a complete state of the release: %v", err)
			case !complete && (err == nil || !strings.Contains(err.Error(), "run `smsform init")):
				t.Fatalf("Open of a state of the release missing migrations: %v; want it to say to run init", err)
			case err == nil:
				if v, err := s.Version(ctx); err != nil || v.Lineage != "feedc0de" {
					t.Errorf("Version = %+v, %v", v, err)
				}
				if o, err := s.OptOuts(ctx, false); err != nil || len(o) != 1 {
					t.Errorf("OptOuts = %+v, %v", o, err)
				}
				s.Close()
			}
			if got := versions(t, url); len(got) != upTo {
				t.Fatalf("Open changed schema_migrations: %v", got)
			}
			for range 2 {
				created, err := postgres.Init(ctx, url)
				if err != nil || created {
					t.Fatalf("Init = %v, %v; want the state kept", created, err)
				}
				if got := versions(t, url); !slices.Equal(got, upTo1(latest)) {
					t.Fatalf("schema_migrations after Init = %v, want 1 to %d", got, latest)
				}
			}
			s, err = postgres.Open(ctx, url)
			if err != nil {
				t.Fatalf("Open after Init: %v", err)
			}
			defer s.Close()
			if v, err := s.Version(ctx); err != nil || v.Lineage != "feedc0de" {
				t.Errorf("Version after Init = %+v, %v; want the lineage kept", v, err)
			}
			if m, err := s.List(ctx, state.Filter{}); err != nil || len(m) != 1 || m[0].MessageID != "sf-1" || m[0].State != state.Sent {
				t.Errorf("List after Init = %+v, %v", m, err)
			}
			// What 0003 and 0004 add works.
			if _, err := s.Undecided(ctx); err != nil {
				t.Errorf("Undecided after Init: %v", err)
			}
			added, err := s.AddOptOut(ctx, state.OptOut{Number: "+41790000003", Source: "added by hand", ReceivedAt: time.Now()})
			if err != nil || !added {
				t.Errorf("AddOptOut after Init = %v, %v", added, err)
			}
			// And what 0006 (the contact policy) adds.
			capped := state.Outgoing{Key: state.Key{Campaign: "c", Round: 1, To: "+41790000004"}, MessageID: "sf-4", Purpose: state.Marketing}
			if err := s.RecordCapped(ctx, []state.Outgoing{capped}, []string{"over the cap"}); err != nil {
				t.Errorf("RecordCapped after Init: %v", err)
			}
		})
	}
}

// TestNumberedAsSQLite: a new state records the migrations of today's numbering, 1 to the
// latest, and Init on it changes nothing.
func TestNumberedAsSQLite(t *testing.T) {
	_, url := newState(t)
	if _, err := postgres.Init(context.Background(), url); err != nil {
		t.Fatal(err)
	}
	if got, latest := versions(t, url), postgres.LatestMigration(); !slices.Equal(got, upTo1(latest)) || latest < 5 {
		t.Errorf("schema_migrations = %v, want 1 to %d (at least 5)", got, latest)
	}
}

// upTo1 is 1, 2, ..., n.
func upTo1(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}
