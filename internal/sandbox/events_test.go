package sandbox_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/sandbox"
)

// sendVariants sends n messages of each variant, in v3, filed under "exp:<variant>" as
// smsform files them, in the order given (reversed when reverse).
func sendVariants(t *testing.T, c *infobip.Client, n int, reverse bool) {
	t.Helper()
	var msgs []infobip.MessageV3
	for _, v := range []string{"a", "b"} {
		for i := range n {
			msgs = append(msgs, infobip.MessageV3{Sender: "Shop", Content: infobip.TextContent{Text: "Hi from " + v},
				Destinations: []infobip.Destination{{To: fmt.Sprintf("4179%07d", len(msgs)), MessageID: fmt.Sprintf("sf-%s-%d", v, i)}},
				Options:      &infobip.MessageOptionsV3{CampaignReferenceID: "exp:" + v}})
		}
	}
	if reverse {
		slices.Reverse(msgs)
	}
	for len(msgs) > 0 {
		k := min(len(msgs), 500)
		if _, err := c.Send(context.Background(), &infobip.MessagesRequest{Messages: msgs[:k]}); err != nil {
			t.Fatal(err)
		}
		msgs = msgs[k:]
	}
}

// converted reads an event export: the messageIds of its rows, sorted.
func converted(t *testing.T, data []byte) []string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) == 0 || strings.Join(rows[0], ",") != "messageId,event,timestamp" {
		t.Fatalf("export %q: %v", data, err)
	}
	var ids []string
	for _, r := range rows[1:] {
		ids = append(ids, r[0])
	}
	slices.Sort(ids)
	return ids
}

// TestEvents: each received message converts with its variant's propensity (or its
// text's), within sampling error; the same seed gives the same events whatever the order
// the messages arrived in, another seed others; the endpoint answers the same CSV.
func TestEvents(t *testing.T) {
	const n = 2000
	sb, c, url := start(t, sandbox.Options{})
	sendVariants(t, c, n, false)
	o := sandbox.EventOptions{Seed: 7, ByVariant: map[string]float64{"a": 0.3, "b": 0.1}}
	var buf bytes.Buffer
	if err := sb.WriteEvents(&buf, o); err != nil {
		t.Fatal(err)
	}
	ids := converted(t, buf.Bytes())
	count := map[string]int{}
	for _, id := range ids {
		count[strings.Split(id, "-")[1]]++
	}
	for v, p := range o.ByVariant {
		// Within 4 standard deviations of n·p.
		if sd := math.Sqrt(n * p * (1 - p)); math.Abs(float64(count[v])-n*p) > 4*sd {
			t.Errorf("variant %s: %d of %d converted, want %.0f ± %.0f", v, count[v], n, n*p, 4*sd)
		}
	}

	sb2, c2, _ := start(t, sandbox.Options{})
	sendVariants(t, c2, n, true)
	var buf2 bytes.Buffer
	if err := sb2.WriteEvents(&buf2, o); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(converted(t, buf2.Bytes()), ids) {
		t.Error("the same seed gave other events for the messages received in another order")
	}
	o.Seed = 8
	buf2.Reset()
	if err := sb.WriteEvents(&buf2, o); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(converted(t, buf2.Bytes()), ids) {
		t.Error("another seed gave the same events")
	}

	resp, data := raw(t, http.MethodGet, url+"/sandbox/events?seed=7&variant=a=0.3&variant=b=0.1", "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !slices.Equal(converted(t, data), ids) {
		t.Errorf("GET /sandbox/events: %d %s, %d rows, want the %d of WriteEvents", resp.StatusCode, resp.Header.Get("Content-Type"), len(converted(t, data)), len(ids))
	}
	// By text, and certainties.
	_, data = raw(t, http.MethodGet, url+"/sandbox/events?text=from+a=1&default=0", "")
	if got := converted(t, data); len(got) != n || !strings.HasPrefix(got[0], "sf-a-") || !strings.HasPrefix(got[n-1], "sf-a-") {
		t.Errorf("text=from a=1: %d rows, want every a", len(got))
	}
	for _, q := range []string{"variant=a=2", "variant=a", "seed=x", "default=-1"} {
		if resp, _ := raw(t, http.MethodGet, url+"/sandbox/events?"+q, ""); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, resp.StatusCode)
		}
	}
}
