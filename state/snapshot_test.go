package state_test

import (
	"testing"

	"github.com/smsform/smsform/state"
)

func TestNewSnapshot(t *testing.T) {
	v := state.Version{Lineage: "abc", Serial: 7}
	snap := state.NewSnapshot(v, map[state.Key]state.Record{
		{Campaign: "a", Round: 1, To: "+41790000001"}: {State: state.Sent, Hash: 1 << 63},
		{Campaign: "a", Round: 2, To: "+41790000001"}: {State: state.Failed, Error: "x"},
	})
	if snap.Version != v {
		t.Errorf("Version = %+v", snap.Version)
	}
	if r := snap.Records(state.Round{Campaign: "a", Round: 1})["+41790000001"]; r.State != state.Sent || r.Hash != 1<<63 {
		t.Errorf("round 1 = %+v", r)
	}
	if r := snap.Records(state.Round{Campaign: "a", Round: 2})["+41790000001"]; r.State != state.Failed {
		t.Errorf("round 2 = %+v", r)
	}
	if r := snap.Records(state.Round{Campaign: "b", Round: 1}); len(r) != 0 {
		t.Errorf("round b/1 = %+v", r)
	}
}

// TestPutRow: a round read row by row from a backend's columns holds what Put records.
func TestPutRow(t *testing.T) {
	at := state.Now()
	rec := state.Record{State: state.Failed, Hash: 1<<63 + 5, Attempt: 2, Error: "no", SendingAt: at}
	b := state.NewSnapshotBuilder(state.Version{})
	b.Round(state.Round{Campaign: "a", Round: 1}).Put("+41790000001", rec)
	b.Round(state.Round{Campaign: "b", Round: 1}).PutRow([]byte("+41790000001"), []byte("failed"), int64(rec.Hash), 2, []byte("no"), []byte(state.FormatTime(at)))
	b.Round(state.Round{Campaign: "b", Round: 1}).PutRow([]byte("not a number"), []byte("sent"), 1, 0, nil, nil)
	snap := b.Snapshot()
	got, ok := snap.Round(state.Round{Campaign: "b", Round: 1}).Get("+41790000001")
	if want, _ := snap.Round(state.Round{Campaign: "a", Round: 1}).Get("+41790000001"); !ok || got != want || !got.SendingAt.Equal(at) {
		t.Errorf("PutRow recorded %+v, Put %+v", got, want)
	}
	if n := snap.Round(state.Round{Campaign: "b", Round: 1}).Len(); n != 1 {
		t.Errorf("%d records, want 1: a row that is not a number is no message", n)
	}
}
