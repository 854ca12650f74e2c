package runner_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// fastDelivery are delivery options without the logs' rate limit, at the current time.
func fastDelivery(campaign string) runner.DeliveryOptions {
	return runner.DeliveryOptions{Campaign: campaign, Limiter: rate.NewLimiter(rate.Inf, 1), Now: time.Now()}
}

func refresh(t *testing.T, s *sqlite.Store, logs runner.LogReader, opts runner.DeliveryOptions) runner.DeliveryResult {
	t.Helper()
	res, err := runner.RefreshDelivery(context.Background(), s, logs, opts)
	if err != nil {
		t.Fatalf("RefreshDelivery: %v", err)
	}
	return res
}

func TestRefreshDeliveryDelivered(t *testing.T) {
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
	for _, m := range listAll(t, s) {
		if m.StatusGroup != infobip.GroupPending {
			t.Fatalf("after apply: %+v", m)
		}
	}
	logs := &countingLogs{LogReader: client}
	if res := refresh(t, s, logs, fastDelivery("")); res != (runner.DeliveryResult{Checked: 3, Updated: 3}) {
		t.Errorf("refresh %+v", res)
	}
	if logs.calls != 1 {
		t.Errorf("%d logs requests, want 1 (three ids in one query)", logs.calls)
	}
	for _, m := range listAll(t, s) {
		if m.State != state.Sent || m.StatusGroup != infobip.GroupDelivered || m.StatusID != infobip.StatusDeliveredToHandset || m.StatusName != "DELIVERED_TO_HANDSET" {
			t.Errorf("after refresh: %+v", m)
		}
	}
	before := sb.Stats().Requests[sandbox.EndpointLogs]
	if res := refresh(t, s, logs, fastDelivery("")); res != (runner.DeliveryResult{}) {
		t.Errorf("second refresh %+v, want nothing left to check", res)
	}
	if n := sb.Stats().Requests[sandbox.EndpointLogs]; n != before {
		t.Errorf("the second refresh made %d logs requests", n-before)
	}
	// Reports are not consumed: refresh reads the logs.
	if n := sb.Stats().Requests[sandbox.EndpointReports]; n != 0 {
		t.Errorf("%d delivery report requests", n)
	}
}

func TestRefreshDeliveryStillPending(t *testing.T) {
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{DeliveryDelay: time.Hour}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
	if res := refresh(t, s, client, fastDelivery("")); res != (runner.DeliveryResult{Checked: 3, Updated: 0}) {
		t.Errorf("refresh %+v", res)
	}
	for _, m := range listAll(t, s) {
		if m.StatusGroup != infobip.GroupPending || m.StatusName != "PENDING_ACCEPTED" {
			t.Errorf("a pending message changed: %+v", m)
		}
	}
	// Still pending: checked again next time.
	if res := refresh(t, s, client, fastDelivery("")); res.Checked != 3 {
		t.Errorf("second refresh %+v", res)
	}
}

func TestRefreshDeliveryOutsideLogsWindow(t *testing.T) {
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
	opts := fastDelivery("")
	opts.Now = time.Now().Add(49 * time.Hour)
	if res := refresh(t, s, client, opts); res != (runner.DeliveryResult{}) {
		t.Errorf("49 hours later: %+v, want nothing checked", res)
	}
	if n := sb.Stats().Requests[sandbox.EndpointLogs]; n != 0 {
		t.Errorf("%d logs requests for messages beyond the logs' 48 hours", n)
	}
	opts.Now = time.Now().Add(47 * time.Hour)
	if res := refresh(t, s, client, opts); res != (runner.DeliveryResult{Checked: 3, Updated: 3}) {
		t.Errorf("47 hours later: %+v", res)
	}
}

func TestRefreshDeliveryOneCampaign(t *testing.T) {
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{RejectTo: []string{"41790000002"}}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML, "promo.yaml": promoYAML, "promo.csv": numbersCSV(6)})
	// +41790000002 is rejected in both campaigns: failed, so never checked.
	if res := refresh(t, s, client, fastDelivery("promo")); res != (runner.DeliveryResult{Checked: 5, Updated: 5}) {
		t.Errorf("refresh of promo %+v", res)
	}
	for _, m := range listAll(t, s) {
		want := infobip.GroupDelivered
		switch {
		case m.State == state.Failed:
			want = infobip.GroupRejected // as the send's answer said
		case m.Campaign == "otp":
			want = infobip.GroupPending
		}
		if m.StatusGroup != want {
			t.Errorf("%s %s: status group %d, want %d", m.Campaign, m.To, m.StatusGroup, want)
		}
	}
	// The rest: otp's two sent messages; its rejected one is not sent, so not checked.
	if res := refresh(t, s, client, fastDelivery("")); res != (runner.DeliveryResult{Checked: 2, Updated: 2}) {
		t.Errorf("refresh of the rest %+v", res)
	}
	if res := refresh(t, s, client, fastDelivery("nosuch")); res != (runner.DeliveryResult{}) {
		t.Errorf("refresh of an unknown campaign %+v", res)
	}
}

// TestRefreshDeliveryByBulk: a request's messages are looked up by its bulkId, and since
// the logs' rate limit counts requests and a page holds 1,000 entries, the requests of 500
// that apply sends are looked up two to a query: five requests (four of 500, one of 100) in
// three lookups. Every status is read.
func TestRefreshDeliveryByBulk(t *testing.T) {
	for _, tc := range []struct{ messages, lookups int }{{30, 1}, {2100, 3}} {
		s := openStore(t)
		_, client := startSandbox(t, sandbox.Options{}, nil)
		applyFiles(t, s, client, map[string]string{"promo.yaml": promoYAML, "promo.csv": numbersCSV(tc.messages)})
		logs := &countingLogs{LogReader: client}
		if res := refresh(t, s, logs, fastDelivery("")); res != (runner.DeliveryResult{Checked: tc.messages, Updated: tc.messages}) {
			t.Errorf("%d messages: refresh %+v", tc.messages, res)
		}
		if logs.calls != tc.lookups {
			t.Errorf("%d messages: %d logs requests, want %d", tc.messages, logs.calls, tc.lookups)
		}
		for _, m := range listAll(t, s) {
			if m.StatusGroup != infobip.GroupDelivered {
				t.Fatalf("%d messages: after refresh: %+v", tc.messages, m)
			}
		}
	}
}

// pagedStore records the pages a refresh reads, and fails a read of the whole list.
type pagedStore struct {
	*sqlite.Store
	t       *testing.T
	pages   int
	longest int
}

func (s *pagedStore) AwaitingDelivery(context.Context, string, time.Time) ([]state.Pending, error) {
	s.t.Error("refresh read every pending message at once")
	return nil, errors.New("not in one piece")
}

func (s *pagedStore) AwaitingDeliveryPage(ctx context.Context, campaign string, since time.Time, after *state.Pending, limit int) ([]state.Pending, error) {
	page, err := s.Store.AwaitingDeliveryPage(ctx, campaign, since, after, limit)
	s.pages++
	s.longest = max(s.longest, len(page))
	return page, err
}

// bulkLogs records the bulkIds each logs query names.
type bulkLogs struct {
	runner.LogReader
	queries [][]string
}

func (b *bulkLogs) Logs(ctx context.Context, q runner.LogQuery) (runner.LogPage, error) {
	b.queries = append(b.queries, q.BulkIDs)
	return b.LogReader.Logs(ctx, q)
}

// TestRefreshDeliveryInPages: a refresh holds a page of the pending messages at a time,
// never the whole list, and looks each request up once though the pages end within
// requests: every status is read, the progress counts to the total.
func TestRefreshDeliveryInPages(t *testing.T) {
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"promo.yaml": promoYAML, "promo.csv": numbersCSV(2100)})
	ps := &pagedStore{Store: s, t: t}
	logs := &bulkLogs{LogReader: client}
	opts := fastDelivery("")
	opts.PageSize = 700
	var done []int
	opts.Progress = func(d, total int) {
		if total != 2100 || (len(done) > 0 && d < done[len(done)-1]) {
			t.Errorf("progress %d of %d after %v", d, total, done)
		}
		done = append(done, d)
	}
	res, err := runner.RefreshDelivery(context.Background(), ps, logs, opts)
	if err != nil || res != (runner.DeliveryResult{Checked: 2100, Updated: 2100}) {
		t.Fatalf("refresh %+v, %v", res, err)
	}
	if ps.longest > 700 || ps.pages != 4 {
		t.Errorf("%d pages, the longest of %d messages; want 4 of at most 700", ps.pages, ps.longest)
	}
	seen := map[string]bool{}
	for _, q := range logs.queries {
		for _, b := range q {
			if seen[b] {
				t.Errorf("request %s looked up twice: %v", b, logs.queries)
			}
			seen[b] = true
		}
	}
	if len(seen) != 5 {
		t.Errorf("%d requests looked up, want 5: %v", len(seen), logs.queries)
	}
	if len(done) == 0 || done[len(done)-1] != 2100 {
		t.Errorf("progress ended at %v", done)
	}
	for _, m := range listAll(t, s) {
		if m.StatusGroup != infobip.GroupDelivered {
			t.Fatalf("after refresh: %+v", m)
		}
	}

	// Stopped by an error, it reads no further page once it has returned.
	applyFiles(t, s, client, map[string]string{"other.yaml": strings.Replace(promoYAML, "id: promo", "id: other", 1), "promo.csv": numbersCSV(2100)})
	ps = &pagedStore{Store: s, t: t}
	calls := 0
	opts.Progress, opts.PageSize = nil, 100 // 22 pages
	if _, err := runner.RefreshDelivery(context.Background(), ps, logsFunc(func(ctx context.Context, q runner.LogQuery) (runner.LogPage, error) {
		if calls++; calls > 1 {
			return runner.LogPage{}, errors.New("429 past the retries")
		}
		return client.Logs(ctx, q)
	}), opts); err == nil {
		t.Fatal("refresh went on past the error")
	}
	read := ps.pages // read while a page reader still running would write it: a race
	time.Sleep(20 * time.Millisecond)
	if ps.pages != read || read > 4 {
		t.Errorf("%d pages of 22 read (want at most the two taken and two ahead), then %d after the refresh returned", read, ps.pages)
	}
}

func TestRefreshDeliveryCutAnswer(t *testing.T) {
	if testing.Short() {
		t.Skip("1,200 messages")
	}
	// One request of 1,200 messages: the logs answer by bulkId holds at most 1,000, and the
	// rest are asked for by messageId.
	const n = 1200
	ctx := context.Background()
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{}, nil)
	set := load(t, map[string]string{"promo.yaml": promoYAML, "promo.csv": numbersCSV(n)})
	if res, err := runner.Apply(ctx, planFromStore(t, set, s, runner.PlanOptions{}), client, s, runner.ApplyOptions{BatchSize: n}); err != nil || res.Sent != n {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	logs := &countingLogs{LogReader: client}
	if res := refresh(t, s, logs, fastDelivery("")); res != (runner.DeliveryResult{Checked: n, Updated: n}) {
		t.Errorf("refresh %+v", res)
	}
	for _, m := range listAll(t, s) {
		if m.StatusGroup != infobip.GroupDelivered {
			t.Fatalf("not refreshed: %+v", m)
		}
	}
	if logs.calls < 2 {
		t.Errorf("%d logs requests", logs.calls)
	}
}

func TestRefreshDeliveryLogsError(t *testing.T) {
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
	boom := errors.New("boom")
	_, err := runner.RefreshDelivery(context.Background(), s, logsFunc(func(context.Context, runner.LogQuery) (runner.LogPage, error) {
		return runner.LogPage{}, boom
	}), fastDelivery(""))
	if !errors.Is(err, boom) {
		t.Errorf("RefreshDelivery: %v, want the logs error", err)
	}
	for _, m := range listAll(t, s) {
		if m.StatusGroup != infobip.GroupPending {
			t.Errorf("changed: %+v", m)
		}
	}
	// A cancelled context stops it too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := runner.RefreshDelivery(ctx, s, client, runner.DeliveryOptions{Limiter: rate.NewLimiter(1, 1), Now: time.Now()}); err == nil {
		t.Error("RefreshDelivery with a cancelled context succeeded")
	}
}

func TestRefreshDeliveryKeepsWhatItReadBeforeAnError(t *testing.T) {
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{}, nil)
	// Requests of 500, 500 and 100: two lookups by bulkId (a page holds two requests of 500);
	// the second one fails.
	applyFiles(t, s, client, map[string]string{"promo.yaml": promoYAML, "promo.csv": numbersCSV(1100)})
	calls, first := 0, 0
	res, err := runner.RefreshDelivery(context.Background(), s, logsFunc(func(ctx context.Context, q runner.LogQuery) (runner.LogPage, error) {
		calls++
		if calls > 1 {
			return runner.LogPage{}, errors.New("429 past the retries")
		}
		page, err := client.Logs(ctx, q)
		first = len(page.Entries)
		return page, err
	}), fastDelivery(""))
	if err == nil || first == 0 || first >= 1100 || res.Updated != first {
		t.Fatalf("refresh: %+v, %v; want the %d the first lookup read updated, then the error", res, err, first)
	}
	delivered := 0
	for _, m := range listAll(t, s) {
		if m.StatusGroup == infobip.GroupDelivered {
			delivered++
		}
	}
	if delivered != res.Updated {
		t.Errorf("%d messages stored as delivered, but the result says %d were updated", delivered, res.Updated)
	}
}

type logsFunc func(context.Context, runner.LogQuery) (runner.LogPage, error)

func (f logsFunc) Logs(ctx context.Context, q runner.LogQuery) (runner.LogPage, error) {
	return f(ctx, q)
}

func TestRefreshDeliveryProvenByDuplicate(t *testing.T) {
	ctx := context.Background()
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{IdempotencyWindow: time.Hour}, nil)
	// An earlier run's send of the first message went through, its answer lost.
	first := set.Campaigns[0].Recipients.At(0)
	id := runner.MessageID("otp", 1, first.To, 0)
	if _, err := client.Client.Send(ctx, &infobip.MessagesRequest{Messages: []infobip.MessageV3{{
		Sender: "InfoSMS", Content: infobip.TextContent{Text: "an earlier run"}, Destinations: []infobip.Destination{{To: first.To[1:], MessageID: id}},
	}}}); err != nil {
		t.Fatal(err)
	}
	if res, err := runner.Apply(ctx, planFromStore(t, set, s, runner.PlanOptions{}), client, s, runner.ApplyOptions{}); err != nil || res.Sent != 3 {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	if row := stateOf(t, s, state.Filter{})[first.To]; row.StatusID != infobip.StatusRejectedDuplicateMsgID {
		t.Fatalf("recorded %+v", row)
	}
	if res := refresh(t, s, client, fastDelivery("")); res != (runner.DeliveryResult{Checked: 3, Updated: 3}) {
		t.Errorf("refresh %+v, want the message proven sent by status 23 checked too", res)
	}
	rep := buildReport(t, s, "", "")
	if rep.Total.Delivered != 3 {
		t.Errorf("report: %d delivered, want 3 (the logs show all three delivered)", rep.Total.Delivered)
	}
	if !strings.Contains(stateOf(t, s, state.Filter{})[first.To].StatusName, "DELIVERED") {
		t.Errorf("recorded %+v", stateOf(t, s, state.Filter{})[first.To])
	}
}
