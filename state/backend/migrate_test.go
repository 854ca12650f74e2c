package backend_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/smsform/smsform/internal/pgtest"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/backend"
)

func TestMain(m *testing.M) { os.Exit(pgtest.M{M: m}.Run()) }

// TestMigrateInFlight: a batch in flight (a run died before recording its answer) is copied
// as it is, both ways, so the next run on the copy reconciles it instead of sending it again.
func TestMigrateInFlight(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src, pg, back := filepath.Join(dir, "a.db"), pgtest.NewDatabase(t), filepath.Join(dir, "b.db")
	for _, spec := range []string{src, pg, back} {
		if _, err := backend.Init(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	s, err := backend.Open(ctx, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := state.Outgoing{Key: state.Key{Campaign: "c", Round: 1, To: "+41790000001"}, MessageID: "sf-1", BulkID: "b", Hash: 7, Parts: 1}
	b, err := s.MarkSending(ctx, []state.Outgoing{msg})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	round := state.Round{Campaign: "c", Round: 1}
	for _, hop := range [][2]string{{src, pg}, {pg, back}} {
		got, err := backend.Migrate(ctx, hop[0], hop[1], 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got != (state.Contents{InFlight: 1}) {
			t.Errorf("%s -> %s copied %+v, want one batch in flight", backend.Name(hop[0]), backend.Name(hop[1]), got)
		}
		d, err := backend.Open(ctx, hop[1], nil)
		if err != nil {
			t.Fatal(err)
		}
		snap, err := d.Snapshot(ctx, []state.Round{round})
		if err != nil {
			t.Fatal(err)
		}
		rec := snap.Records(round)["+41790000001"]
		if rec.State != state.Sending || rec.Hash != 7 || !rec.SendingAt.Equal(b.CreatedAt) {
			t.Errorf("in %s the message is %+v; want sending since %v", backend.Name(hop[1]), rec, b.CreatedAt)
		}
		d.Close()
	}
	// The next run on the copy finds the batch and turns it into an unknown outcome.
	d, err := backend.Open(ctx, back, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n, err := d.MarkInterrupted(ctx); err != nil || n != 1 {
		t.Errorf("MarkInterrupted on the copy = %d, %v; want the batch's message", n, err)
	}
	if p, err := d.Unresolved(ctx); err != nil || len(p) != 1 || p[0].MessageID != "sf-1" {
		t.Errorf("Unresolved on the copy = %+v, %v", p, err)
	}
}
