package state_test

import (
	"fmt"
	"strings"
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

// TestPutCodedRow: a row whose state is read as its code (StateCodes) holds what PutRow
// records with the state as text, for every state; a code out of range is no state.
func TestPutCodedRow(t *testing.T) {
	at := []byte(state.FormatTime(state.Now()))
	b := state.NewSnapshotBuilder(state.Version{})
	text, coded := b.Round(state.Round{Campaign: "t", Round: 1}), b.Round(state.Round{Campaign: "c", Round: 1})
	codes := state.StateCodes()
	for code, st := range codes {
		to := []byte(fmt.Sprintf("+4179000000%d", code))
		text.PutRow(to, []byte(st), -7, 3, []byte("why"), at)
		coded.PutCodedRow(to, int64(code), -7, 3, []byte("why"), at)
	}
	for _, code := range []int64{-1, int64(len(codes)), 1 << 40} {
		coded.PutCodedRow([]byte(fmt.Sprintf("+4178%d", code&0xffff)), code, 1, 0, nil, at)
	}
	for code, st := range codes {
		to := fmt.Sprintf("+4179000000%d", code)
		got, ok := coded.Get(to)
		if want, _ := text.Get(to); !ok || got != want || got.State != st {
			t.Errorf("code %d: PutCodedRow recorded %+v, PutRow %+v (state %q)", code, got, want, st)
		}
	}
	coded.Each(func(to string, rec state.Record) {
		if strings.HasPrefix(to, "+4178") && rec.State != "" {
			t.Errorf("%s: a code out of range recorded state %q", to, rec.State)
		}
	})
}
