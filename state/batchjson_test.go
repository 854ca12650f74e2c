package state_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/smsform/smsform/state"
)

// filled is an Outgoing with every field set to a value of its own, found by reflection, so
// that a field added to Outgoing and forgotten by the compact form fails the round trip.
func filled(i int, to string) state.Outgoing {
	var o state.Outgoing
	v := reflect.ValueOf(&o).Elem()
	var fill func(v reflect.Value, name string)
	fill = func(v reflect.Value, name string) {
		switch v.Kind() {
		case reflect.Struct:
			for j := range v.NumField() {
				fill(v.Field(j), v.Type().Field(j).Name)
			}
		case reflect.String:
			v.SetString(name + "-" + string(rune('a'+i)))
		case reflect.Int, reflect.Int64:
			v.SetInt(int64(len(name) + i + 1))
		case reflect.Uint64:
			v.SetUint(uint64(len(name)*1000 + i + 1))
		case reflect.Bool:
			v.SetBool(true)
		default:
			panic("a field of a kind filled does not know: " + name)
		}
	}
	fill(v, "")
	o.Campaign, o.Round, o.BulkID, o.To = "c", 2, "c-r2-0123456789abcdef", to
	return o
}

// TestBatchJSONRoundTrip: a batch in flight reads back as it was written, every field of
// Outgoing, in the compact form (one request's messages) and in the array form (messages
// of several campaigns, and what earlier versions wrote); the compact form is smaller.
func TestBatchJSONRoundTrip(t *testing.T) {
	one := []state.Outgoing{filled(0, "+41790000001"), filled(1, "+41790000002")}
	mixed := []state.Outgoing{filled(0, "+41790000001"), filled(1, "+41790000002")}
	mixed[1].Campaign = "d"
	for name, msgs := range map[string][]state.Outgoing{"one request": one, "mixed": mixed} {
		data, err := state.EncodeBatch(msgs)
		if err != nil {
			t.Fatal(err)
		}
		if compact := strings.HasPrefix(string(data), "{"); compact != (name == "one request") {
			t.Errorf("%s: written %s", name, data)
		}
		got, err := state.DecodeBatch(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, msgs) {
			t.Errorf("%s: read back\n%+v\nwant\n%+v", name, got, msgs)
		}
	}
	old, err := json.Marshal(one) // as earlier versions wrote it
	if err != nil {
		t.Fatal(err)
	}
	if got, err := state.DecodeBatch(old); err != nil || !reflect.DeepEqual(got, one) {
		t.Errorf("earlier form read back %+v, %v", got, err)
	}
	if compact, _ := state.EncodeBatch(one); len(compact) >= len(old) {
		t.Errorf("compact form %d bytes, the array %d", len(compact), len(old))
	}
	for _, bad := range []string{"", "{", `{"m":[{"t":1}]}`, "[1]"} {
		if _, err := state.DecodeBatch([]byte(bad)); err == nil {
			t.Errorf("DecodeBatch(%q) succeeded", bad)
		}
	}
}

// BenchmarkEncodeBatch: a request's 500 messages as the inflight table keeps them, written
// before every request apply sends.
func BenchmarkEncodeBatch(b *testing.B) {
	msgs := make([]state.Outgoing, 500)
	for i := range msgs {
		msgs[i] = state.Outgoing{Key: state.Key{Campaign: "spring-sale", Round: 1, To: fmt.Sprintf("+4179%07d", i)},
			MessageID: fmt.Sprintf("sf-%032x", i*7919), BulkID: "spring-sale-r1-0123456789abcdef", Hash: uint64(i) * 0x9e3779b97f4a7c15,
			Parts: 1, TrackingType: "SPRING", Tracked: true, Purpose: "marketing"}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := state.EncodeBatch(msgs); err != nil {
			b.Fatal(err)
		}
	}
}
