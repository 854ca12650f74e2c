package runner_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/smsform/smsform/campaign"
	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/infobip/sms"
	"github.com/smsform/smsform/internal/sandbox"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// newsYAML is a campaign sent without tracking; its first number is also one of otpYAML's.
const newsYAML = `id: news
from: InfoSMS
text: "News for {{.name}}"
destinations:
  - {to: "+41 79 000 00 01", vars: {name: Ann}}
  - {to: "+41 79 000 00 04", vars: {name: Dan}}
`

// promoYAML is a tracked campaign of six numbers, +41790000000 to +41790000005.
const promoYAML = `id: promo
from: InfoSMS
text: "Deal for {{.name}}"
tracking: {track: SMS, type: Promo}
destinations_file: promo.csv
`

// applyFiles loads the campaign files, plans them against s and applies the plan.
func applyFiles(t testing.TB, s *sqlite.Store, sender runner.Sender, files map[string]string) *campaign.Set {
	t.Helper()
	set := load(t, files)
	res, err := runner.Apply(context.Background(), planFromStore(t, set, s, runner.PlanOptions{}), sender, s, runner.ApplyOptions{})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if res.NotSent != 0 {
		t.Fatalf("apply: %+v", res)
	}
	return set
}

// eventsFile writes one events CSV and returns its path.
func eventsFile(t testing.TB, name, content string) string {
	t.Helper()
	return filepath.Join(writeFiles(t, map[string]string{name: content}), name)
}

// countingConverter counts the conversions submitted through it, per messageId. fail, if
// set, decides per call (numbered from 1) whether to answer with an error instead of
// passing the call on.
type countingConverter struct {
	api  runner.Converter
	fail func(call int, id string) error

	mu    sync.Mutex
	n     int
	calls map[string]int
}

func (c *countingConverter) SubmitConversion(ctx context.Context, id string) (string, error) {
	c.mu.Lock()
	c.n++
	n := c.n
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[id]++
	c.mu.Unlock()
	if c.fail != nil {
		if err := c.fail(n, id); err != nil {
			return "", sms.ConversionError(err) // as if Infobip had answered so
		}
	}
	return c.api.SubmitConversion(ctx, id)
}

func (c *countingConverter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *countingConverter) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for id, n := range c.calls {
		for range n {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// conversionsOf reads the conversion state of every indexed message, by messageId.
func conversionsOf(t *testing.T, s *sqlite.Store) map[string]state.ConversionState {
	t.Helper()
	idx, err := s.Index(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]state.ConversionState{}
	for i := range idx.Len() {
		m := idx.Get(int32(i))
		if m.Conversion != "" {
			out[m.MessageID] = m.Conversion
		}
	}
	return out
}

// convRow is a conversions row as stored.
type convRow struct {
	State, ProcessKey, Error, Source, SubmittedAt string
}

// conversionRows reads the conversions table directly: the runner has no reader of its own.
func conversionRows(t *testing.T, s *sqlite.Store) map[string]convRow {
	t.Helper()
	db, err := sql.Open("sqlite", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT message_id, state, COALESCE(process_key, ''), COALESCE(error, ''), source, submitted_at FROM conversions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]convRow{}
	for rows.Next() {
		var id string
		var r convRow
		if err := rows.Scan(&id, &r.State, &r.ProcessKey, &r.Error, &r.Source, &r.SubmittedAt); err != nil {
			t.Fatal(err)
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func otpID(to string) string { return runner.MessageID("otp", 1, to, 0) }

func hasExample(res runner.ConvertResult, prefix, contains string) bool {
	return slices.ContainsFunc(res.Examples, func(e string) bool {
		return strings.HasPrefix(e, prefix) && strings.Contains(e, contains)
	})
}

func TestCheckEvents(t *testing.T) {
	id := otpID("+41790000001")
	tests := []struct {
		name, content, flag string
		line                int    // 0: no problem
		msg                 string // in the problem
	}{
		{name: "camel", content: "messageId,event\n" + id + ",signup\n"},
		{name: "upper", content: "MessageID,event\n" + id + ",signup\n"},
		{name: "snake", content: "event,message_id\nsignup," + id + "\n"},
		{name: "spaced", content: " Message Id ,event\n" + id + ",signup\n"},
		{name: "bom", content: "\uFEFFmessageId\n" + id + "\n"},
		{name: "header only", content: "messageId,event\n"},
		{name: "phone and campaign", content: "Phone,Campaign,event\n+41790000001,otp,signup\n"},
		{name: "to and campaign", content: "TO,campaign\n+41790000001,otp\n"},
		{name: "to with flag", content: "to,event\n+41790000001,signup\n", flag: "otp"},
		{name: "phone with flag", content: "phone\n+41790000001\n", flag: "otp"},
		{name: "to without campaign", content: "to,event\n+41790000001,signup\n", line: 1, msg: "campaign column or -campaign"},
		{name: "phone without campaign", content: "PHONE\n+41790000001\n", line: 1, msg: "campaign column or -campaign"},
		{name: "no usable column", content: "event,timestamp\nsignup,2026-01-01\n", line: 1, msg: "no column names a message"},
		{name: "campaign only", content: "campaign\notp\n", flag: "otp", line: 1, msg: "no column names a message"},
		{name: "empty", content: "", line: 1, msg: "empty"},
		{name: "bare quote", content: "messageId,event\n" + id + ",ok\nsf-2,bro\"ken\nsf-3,x\n", line: 3, msg: "CSV:"},
		{name: "quote in quoted field", content: "messageId,event\n" + id + ",ok\n" + id + ",ok\n\"sf-4\"x,y\n", line: 4, msg: "CSV:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := eventsFile(t, "events.csv", tt.content)
			err := runner.CheckEvents([]string{path}, tt.flag)
			if tt.line == 0 {
				if err != nil {
					t.Fatalf("CheckEvents: %v", err)
				}
				return
			}
			var ve *campaign.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("CheckEvents: %v (%T), want a ValidationError", err, err)
			}
			if len(ve.Problems) != 1 {
				t.Fatalf("problems %+v", ve.Problems)
			}
			p := ve.Problems[0]
			if p.File != path || p.Line != tt.line || !strings.Contains(p.Msg, tt.msg) {
				t.Errorf("problem %+v, want %s:%d: ...%s...", p, path, tt.line, tt.msg)
			}
			if want := fmt.Sprintf("%s:%d", path, tt.line); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		})
	}
}

// TestCheckEventsConfined: an events file is opened as a file a campaign names is: a
// symlink out of its directory, into /proc or to a device, a FIFO or a directory is a
// problem naming the file, and no problem quotes the file's first line.
func TestCheckEventsConfined(t *testing.T) {
	outside := writeFiles(t, map[string]string{"secret.csv": "INFOBIP_API_KEY=s3cr3t,PGPASSWORD=hunter2\n"})
	dir := writeFiles(t, map[string]string{
		"secrets.csv": "INFOBIP_API_KEY=s3cr3t\x00PGPASSWORD=hunter2\x00\n",
		"msisdn.csv":  "MSISDN,s3cr3t\n+41790000001,x\n",
		"long.csv":    "messageId,event\nsf-1,\"" + strings.Repeat(strings.Repeat("s3cr3t", 16)+"\n", 1000) + "\"\n",
		"sub/.keep":   "",
	})
	symlinkOrFail := func(target, link string) {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	symlinkOrFail("/proc/self/environ", "environ.csv")
	symlinkOrFail("/dev/zero", "zero.csv")
	symlinkOrFail(filepath.Join(outside, "secret.csv"), "out.csv")
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.csv"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		file string
		line int
		msg  string
	}{
		{"environ.csv", 0, "cannot read: resolves (after symlinks) outside " + dir + ", the directory given"},
		{"zero.csv", 0, "cannot read: resolves (after symlinks) outside"},
		{"out.csv", 0, "cannot read: resolves (after symlinks) outside"},
		{"fifo.csv", 0, "cannot read: is not a regular file"},
		{"sub", 0, "cannot read: is not a regular file"},
		{"secrets.csv", 1, "the header (1 column) has no messageId, message_id, to or phone"},
		{"msisdn.csv", 1, "the header (2 columns) has no messageId, message_id, to or phone: rename \"MSISDN\", the column of numbers, to `to`"},
		{"long.csv", 2, "the record that starts on this line runs past 65536 bytes"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			err := runner.CheckEvents([]string{path}, "")
			var ve *campaign.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 {
				t.Fatalf("CheckEvents: %v, want one problem", err)
			}
			if p := ve.Problems[0]; p.File != path || p.Line != tt.line || !strings.Contains(p.Msg, tt.msg) {
				t.Errorf("problem %+v, want %s:%d: ...%s...", p, path, tt.line, tt.msg)
			}
			if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the file's content is quoted:\n%v", err)
			}
		})
	}
}

func TestCheckEventsUnterminatedQuote(t *testing.T) {
	path := eventsFile(t, "events.csv", "messageId,event\nsf-1,ok\nsf-2,\"never closed\nsf-3,x\n")
	err := runner.CheckEvents([]string{path}, "")
	var ve *campaign.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("CheckEvents: %v", err)
	}
	if p := ve.Problems[0]; p.File != path || p.Line < 3 || !strings.Contains(p.Msg, "CSV:") {
		t.Errorf("problem %+v, want the file and a line from 3 on", p)
	}
}

func TestCheckEventsReportsEveryFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.csv": "event\nsignup\n",
		"b.csv": "messageId\nsf-1\n",
		"c.csv": "messageId,x\nsf-1,\"a\"b\n",
		"d.csv": "",
		"e.csv": "to\n+41790000001\n",
	})
	files := []string{"a.csv", "b.csv", "c.csv", "d.csv", "e.csv"}
	for i, f := range files {
		files[i] = filepath.Join(dir, f)
	}
	err := runner.CheckEvents(files, "")
	var ve *campaign.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("CheckEvents: %v", err)
	}
	got := map[string]int{}
	for _, p := range ve.Problems {
		got[filepath.Base(p.File)] = p.Line
	}
	want := map[string]int{"a.csv": 1, "c.csv": 2, "d.csv": 1, "e.csv": 1}
	if len(ve.Problems) != len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("problems %+v, want one each at %v", ve.Problems, want)
	}
	if !strings.Contains(ve.Subject, "nothing was submitted") {
		t.Errorf("subject %q does not say nothing was submitted", ve.Subject)
	}
	// With -campaign, e.csv is fine.
	err = runner.CheckEvents(files, "otp")
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Errorf("with -campaign: %v", err)
	}
	if err := runner.CheckEvents(files[1:2], ""); err != nil {
		t.Errorf("a good file alone: %v", err)
	}
}

func TestConvertOncePerMessage(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML, "news.yaml": newsYAML})
	path := eventsFile(t, "events.csv", strings.Join([]string{
		"messageId,event",
		otpID("+41790000001") + ",signup",                           // 2
		otpID("+41790000002") + ",signup",                           // 3
		otpID("+41790000003") + ",signup",                           // 4
		otpID("+41790000001") + ",again",                            // 5: the same message again
		"sf-00000000000000000000000000000000,signup",                // 6: unknown
		"not-ours,signup",                                           // 7: not an smsform id
		",signup",                                                   // 8: no id
		runner.MessageID("news", 1, "+41790000004", 0) + ",signup",  // 9: untracked
		"  " + otpID("+41790000002") + "  ,again",                   // 10: padded, again
		runner.MessageID("news", 1, "+41790000001", 0) + ",signup2", // 11: untracked, same number as an otp one
	}, "\n")+"\n")
	if err := runner.CheckEvents([]string{path}, ""); err != nil {
		t.Fatal(err)
	}
	conv := &countingConverter{api: client}
	res, err := runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := runner.ConvertResult{Rows: 10, Submitted: 3, Unmatched: 3, Untracked: 2, DuplicateRows: 2, ToSubmit: 3}
	got := res
	got.Examples = nil
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("result %+v\nwant   %+v", got, want)
	}
	for _, ex := range []struct {
		line     int
		contains string
	}{
		{6, `no recorded message has messageId "sf-00000000000000000000000000000000"`},
		{7, `"not-ours"`},
		{8, "no messageId and no number"},
		{9, "without tracking"},
		{11, "without tracking"},
	} {
		if !hasExample(res, fmt.Sprintf("%s:%d: ", path, ex.line), ex.contains) {
			t.Errorf("no example %s:%d: ...%s... in %q", path, ex.line, ex.contains, res.Examples)
		}
	}
	if len(res.Examples) != 5 {
		t.Errorf("examples %q, want the five skipped rows", res.Examples)
	}

	wantIDs := []string{otpID("+41790000001"), otpID("+41790000002"), otpID("+41790000003")}
	slices.Sort(wantIDs)
	if got := conv.ids(); !slices.Equal(got, wantIDs) {
		t.Errorf("LogEnd calls %v, want one each for %v", got, wantIDs)
	}
	if st := sb.Stats(); st.Conversions != 3 || st.Requests[sandbox.EndpointLogEnd] != 3 {
		t.Errorf("sandbox: %d conversions in %d requests, want 3", st.Conversions, st.Requests[sandbox.EndpointLogEnd])
	}
	for _, r := range sb.Received() {
		want := 0
		if slices.Contains(wantIDs, r.MessageID) {
			want = 1
		}
		if r.Converted != want {
			t.Errorf("%s converted %d times, want %d", r.MessageID, r.Converted, want)
		}
	}
	rows := conversionRows(t, s)
	lines := map[string]int{otpID("+41790000001"): 2, otpID("+41790000002"): 3, otpID("+41790000003"): 4}
	if len(rows) != 3 {
		t.Errorf("conversions recorded %+v", rows)
	}
	for id, line := range lines {
		r := rows[id]
		if r.State != string(state.Converted) || r.ProcessKey != sandbox.ProcessKey || r.Error != "" ||
			r.Source != fmt.Sprintf("%s:%d", path, line) || r.SubmittedAt == "" {
			t.Errorf("%s recorded %+v", id, r)
		}
	}

	// Rerun: nothing new.
	res, err = runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The repeated rows are counted as repeated again, not as converted.
	want = runner.ConvertResult{Rows: 10, AlreadyConverted: 3, Unmatched: 3, Untracked: 2, DuplicateRows: 2}
	got = res
	got.Examples = nil
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("rerun %+v\nwant  %+v", got, want)
	}
	if conv.total() != 3 || sb.Stats().Conversions != 3 {
		t.Errorf("the rerun submitted: %d calls, %d conversions", conv.total(), sb.Stats().Conversions)
	}
}

func TestConvertSeveralFilesShareOneMessage(t *testing.T) {
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
	a := eventsFile(t, "a.csv", "messageId\n"+otpID("+41790000001")+"\n")
	b := eventsFile(t, "b.csv", "phone,campaign\n+41790000001,otp\n+41790000002,otp\n")
	if err := runner.CheckEvents([]string{a, b}, ""); err != nil {
		t.Fatal(err)
	}
	res, err := runner.Convert(context.Background(), []string{a, b}, s, client, runner.ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 || res.Submitted != 2 || res.DuplicateRows != 1 || res.Unmatched != 0 {
		t.Errorf("result %+v", res)
	}
	if sb.Stats().Conversions != 2 {
		t.Errorf("%d conversions, want 2", sb.Stats().Conversions)
	}
	if r := conversionRows(t, s)[otpID("+41790000001")]; r.Source != a+":2" {
		t.Errorf("source %q, want the first row that named it, %s:2", r.Source, a)
	}
}

func TestConvertMatchByNumber(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML, "promo.yaml": promoYAML, "promo.csv": numbersCSV(6)})
	promo := func(to string) string { return runner.MessageID("promo", 1, to, 0) }

	byColumn := eventsFile(t, "by_column.csv", strings.Join([]string{
		"Phone,Campaign,event",
		"+41790000000,promo,signup",       // 2
		"41790000001,promo,signup",        // 3: digits without '+'
		"+41790000099,promo,signup",       // 4: not sent
		"+41790000002,nosuch,signup",      // 5: campaign unknown
		`"+41 79 000 00 03",promo,signup`, // 6: spaced
		"079 000 00 04,promo,signup",      // 7: national, no region
		"+41790000001,otp,signup",         // 8: the other campaign's message to the number
		"not a number,promo,signup",       // 9
		",promo,signup",                   // 10: no number
	}, "\n")+"\n")
	byFlag := eventsFile(t, "by_flag.csv", "to,event\n+41790000004,signup\n+41790000002,signup\n")
	files := []string{byColumn, byFlag}
	if err := runner.CheckEvents(files, "promo"); err != nil {
		t.Fatal(err)
	}
	conv := &countingConverter{api: client}
	res, err := runner.Convert(ctx, files, s, conv, runner.ConvertOptions{Campaign: "promo"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 11 || res.Submitted != 6 || res.Unmatched != 5 || res.DuplicateRows != 0 || res.Untracked != 0 || res.ToSubmit != 6 {
		t.Errorf("result %+v", res)
	}
	wantIDs := []string{promo("+41790000000"), promo("+41790000001"), promo("+41790000003"), promo("+41790000004"), promo("+41790000002"), otpID("+41790000001")}
	slices.Sort(wantIDs)
	if got := conv.ids(); !slices.Equal(got, wantIDs) {
		t.Errorf("LogEnd calls %v\nwant %v", got, wantIDs)
	}
	if sb.Stats().Conversions != 6 {
		t.Errorf("%d conversions, want 6", sb.Stats().Conversions)
	}
	for _, ex := range []struct {
		line     int
		contains string
	}{
		{4, "campaign promo sent nothing to +41790000099"},
		{5, "campaign nosuch sent nothing to +41790000002"},
		{7, "to: "},
		{9, "to: "},
		{10, "to: "},
	} {
		if !hasExample(res, fmt.Sprintf("%s:%d: ", byColumn, ex.line), ex.contains) {
			t.Errorf("no example %s:%d: ...%s... in %q", byColumn, ex.line, ex.contains, res.Examples)
		}
	}
	if r := conversionRows(t, s)[promo("+41790000002")]; r.Source != byFlag+":3" {
		t.Errorf("source %q, want %s:3", r.Source, byFlag)
	}

	// With a region, national numbers match, and so do digits without '+'.
	national := eventsFile(t, "national.csv", "to,campaign\n079 000 00 05,promo\n41790000000,promo\n0041 79 000 00 02,promo\n")
	res, err = runner.Convert(ctx, []string{national}, s, conv, runner.ConvertOptions{Region: "CH"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 || res.Submitted != 1 || res.AlreadyConverted != 2 || res.Unmatched != 0 {
		t.Errorf("with region: %+v", res)
	}
	if got := conv.ids(); !slices.Contains(got, promo("+41790000005")) || len(got) != 7 {
		t.Errorf("LogEnd calls %v", got)
	}
}

func TestConvertWithoutCampaignForNumber(t *testing.T) {
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
	// A campaign column that is empty on a row, without -campaign: that row cannot match.
	path := eventsFile(t, "events.csv", "to,campaign\n+41790000001,\n+41790000002,otp\n")
	conv := &countingConverter{api: client}
	res, err := runner.Convert(context.Background(), []string{path}, s, conv, runner.ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Submitted != 1 || res.Unmatched != 1 || !hasExample(res, path+":2: ", "no campaign") {
		t.Errorf("result %+v", res)
	}
}

func TestConvertUnknownCampaignOption(t *testing.T) {
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
	path := eventsFile(t, "events.csv", "to\n+41790000001\n")
	conv := &countingConverter{api: client}
	_, err := runner.Convert(context.Background(), []string{path}, s, conv, runner.ConvertOptions{Campaign: "nosuch"})
	if err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("Convert: %v, want an error naming the campaign", err)
	}
	if conv.total() != 0 || sb.Stats().Conversions != 0 || len(conversionRows(t, s)) != 0 {
		t.Error("something was submitted")
	}
}

func TestConvertLatestRoundWins(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	const round = `id: promo
from: InfoSMS
text: "Deal %d"
tracking: {track: SMS, type: Promo}
round: %d
destinations:
  - to: "+41 79 000 00 01"
  - to: "+41 79 000 00 02"
`
	applyFiles(t, s, client, map[string]string{"promo.yaml": fmt.Sprintf(round, 1, 1)})
	applyFiles(t, s, client, map[string]string{"promo.yaml": fmt.Sprintf(round, 2, 2)})
	if n := len(sb.Received()); n != 4 {
		t.Fatalf("%d messages sent, want 2 per round", n)
	}
	path := eventsFile(t, "events.csv", "to,campaign\n+41790000001,promo\n")
	conv := &countingConverter{api: client}
	res, err := runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := runner.MessageID("promo", 2, "+41790000001", 0)
	if res.Submitted != 1 || !slices.Equal(conv.ids(), []string{want}) {
		t.Errorf("result %+v, calls %v; want the round-2 message %s", res, conv.ids(), want)
	}
	// The round-1 message can still be named by its messageId.
	old := runner.MessageID("promo", 1, "+41790000001", 0)
	path = eventsFile(t, "events.csv", "messageId\n"+old+"\n")
	if res, err := runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{}); err != nil || res.Submitted != 1 {
		t.Errorf("by the round-1 messageId: %+v, %v", res, err)
	}
}

func TestConvertNotSentMessage(t *testing.T) {
	s := openStore(t)
	_, client := startSandbox(t, sandbox.Options{RejectTo: []string{"41790000002"}}, nil)
	set := load(t, map[string]string{"otp.yaml": otpYAML})
	if _, err := runner.Apply(context.Background(), planFromStore(t, set, s, runner.PlanOptions{}), client, s, runner.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	path := eventsFile(t, "events.csv", "messageId\n"+otpID("+41790000002")+"\n"+otpID("+41790000001")+"\n")
	conv := &countingConverter{api: client}
	res, err := runner.Convert(context.Background(), []string{path}, s, conv, runner.ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Submitted != 1 || res.NotSentMessages != 1 || res.Untracked != 0 || !hasExample(res, path+":2: ", "is failed, not sent") {
		t.Errorf("result %+v", res)
	}
}

func TestConvertDryRun(t *testing.T) {
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML, "news.yaml": newsYAML})
	path := eventsFile(t, "events.csv", "phone,campaign\n+41790000001,otp\n+41790000002,otp\n+41790000003,otp\n+41790000003,otp\n+41790000004,news\n+41790000009,otp\n")
	conv := &countingConverter{api: client}
	res, err := runner.Convert(context.Background(), []string{path}, s, conv, runner.ConvertOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := runner.ConvertResult{Rows: 6, ToSubmit: 3, NotSent: 3, DuplicateRows: 1, Untracked: 1, Unmatched: 1}
	got := res
	got.Examples = nil
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("dry run %+v\nwant    %+v", got, want)
	}
	if conv.total() != 0 || sb.Stats().Conversions != 0 || len(conversionRows(t, s)) != 0 {
		t.Error("a dry run submitted or recorded something")
	}
	res, err = runner.Convert(context.Background(), []string{path}, s, conv, runner.ConvertOptions{})
	if err != nil || res.Submitted != 3 {
		t.Errorf("after the dry run: %+v, %v", res, err)
	}
}

func TestConvertRejected404(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
	bad := otpID("+41790000002")
	path := eventsFile(t, "events.csv", "messageId\n"+otpID("+41790000001")+"\n"+bad+"\n"+otpID("+41790000003")+"\n")
	conv := &countingConverter{api: client, fail: func(_ int, id string) error {
		if id == bad {
			return &infobip.APIError{StatusCode: 404, Code: "NOT_FOUND", Text: "No message with this messageId"}
		}
		return nil
	}}
	res, err := runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Submitted != 2 || res.Failed != 1 || res.Unknown != 0 || res.NotSent != 0 || res.ToSubmit != 3 {
		t.Errorf("result %+v", res)
	}
	if !hasExample(res, path+":3: ", "(404)") || !hasExample(res, path+":3: ", "No message with this messageId") {
		t.Errorf("examples %q, want the failed row with its reason", res.Examples)
	}
	r := conversionRows(t, s)[bad]
	if r.State != string(state.ConvFailed) || !strings.Contains(r.Error, "404") || r.ProcessKey != "" {
		t.Errorf("recorded %+v", r)
	}
	// A rerun does not submit it again.
	good := &countingConverter{api: client}
	res, err = runner.Convert(ctx, []string{path}, s, good, runner.ConvertOptions{})
	if err != nil || res.Submitted != 0 || res.AlreadyConverted != 2 || res.PreviouslyFailed != 1 || good.total() != 0 {
		t.Errorf("rerun: %+v, %v, %d calls", res, err, good.total())
	}
	if sb.Stats().Conversions != 2 {
		t.Errorf("%d conversions, want 2", sb.Stats().Conversions)
	}
}

func TestConvertOutcomeUnknown(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"500", &infobip.APIError{StatusCode: 500, Code: "GENERAL_ERROR", Text: "Something went wrong"}},
		{"lost answer", &infobip.TransportError{Err: errors.New("connection reset"), Written: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openStore(t)
			sb, client := startSandbox(t, sandbox.Options{}, nil)
			applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
			lost := otpID("+41790000003")
			path := eventsFile(t, "events.csv", "phone,campaign\n+41790000001,otp\n+41790000002,otp\n+41790000003,otp\n")
			conv := &countingConverter{api: client, fail: func(_ int, id string) error {
				if id == lost {
					return tt.err
				}
				return nil
			}}
			res, err := runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Submitted != 2 || res.Unknown != 1 || res.Failed != 0 || res.NotSent != 0 {
				t.Errorf("result %+v", res)
			}
			r := conversionRows(t, s)[lost]
			if r.State != string(state.ConvUnknown) || r.Error == "" || r.Source != path+":4" {
				t.Errorf("recorded %+v", r)
			}
			good := &countingConverter{api: client}
			res, err = runner.Convert(ctx, []string{path}, s, good, runner.ConvertOptions{})
			if err != nil || res.Submitted != 0 || res.AlreadyConverted != 2 || res.PreviouslyUnknown != 1 || good.total() != 0 {
				t.Errorf("rerun: %+v, %v, %d calls; an unknown outcome must not be submitted again", res, err, good.total())
			}
			if sb.Stats().Conversions != 2 {
				t.Errorf("%d conversions, want 2", sb.Stats().Conversions)
			}
		})
	}
}

func TestConvertNothingDone(t *testing.T) {
	// 429s past the retries and requests that never left did nothing: not recorded, an
	// error, and submitted by the next run.
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"429", &infobip.APIError{StatusCode: 429, Code: "TOO_MANY_REQUESTS"}},
		{"not sent", &infobip.TransportError{Err: errors.New("connection refused"), Written: false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openStore(t)
			sb, client := startSandbox(t, sandbox.Options{}, nil)
			applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
			skipped := otpID("+41790000002")
			path := eventsFile(t, "events.csv", "phone,campaign\n+41790000001,otp\n+41790000002,otp\n+41790000003,otp\n")
			conv := &countingConverter{api: client, fail: func(_ int, id string) error {
				if id == skipped {
					return tt.err
				}
				return nil
			}}
			res, err := runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{})
			if err == nil {
				t.Error("Convert succeeded with a conversion left unsubmitted")
			}
			if res.Submitted != 2 || res.NotSent != 1 || res.Failed != 0 || res.Unknown != 0 {
				t.Errorf("result %+v", res)
			}
			if _, ok := conversionRows(t, s)[skipped]; ok {
				t.Error("the conversion that was not submitted is recorded")
			}
			if n, err := s.MarkConversionsInterrupted(ctx); n != 0 || err != nil {
				t.Errorf("%d left submitting, %v", n, err)
			}
			good := &countingConverter{api: client}
			res, err = runner.Convert(ctx, []string{path}, s, good, runner.ConvertOptions{})
			if err != nil || res.Submitted != 1 || res.AlreadyConverted != 2 || !slices.Equal(good.ids(), []string{skipped}) {
				t.Errorf("rerun: %+v, %v, calls %v", res, err, good.ids())
			}
			if sb.Stats().Conversions != 3 {
				t.Errorf("%d conversions, want 3", sb.Stats().Conversions)
			}
		})
	}
}

func TestConvertCredentialsRefused(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	sb := sandbox.New(sandbox.Options{APIKey: "good"})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	applyFiles(t, s, newClient(t, srv.URL, "good"), map[string]string{"otp.yaml": otpYAML})
	path := eventsFile(t, "events.csv", "phone,campaign\n+41790000001,otp\n+41790000002,otp\n+41790000003,otp\n")

	res, err := runner.Convert(ctx, []string{path}, s, newClient(t, srv.URL, "bad"), runner.ConvertOptions{})
	if !errors.Is(err, infobip.ErrCredentials) {
		t.Fatalf("Convert: %v, want a credentials error", err)
	}
	if strings.Contains(err.Error(), "App bad") {
		t.Errorf("the error shows the key: %v", err)
	}
	if res.Submitted != 0 || res.Failed != 0 || res.Unknown != 0 || res.NotSent != 3 {
		t.Errorf("result %+v", res)
	}
	if n, err := s.MarkConversionsInterrupted(ctx); n != 0 || err != nil {
		t.Errorf("%d conversions left submitting, %v", n, err)
	}
	if rows := conversionRows(t, s); len(rows) != 0 {
		t.Errorf("recorded %+v", rows)
	}
	st := sb.Stats()
	if st.Conversions != 0 || st.Unauthorized == 0 {
		t.Errorf("sandbox stats %+v", st)
	}

	res, err = runner.Convert(ctx, []string{path}, s, newClient(t, srv.URL, "good"), runner.ConvertOptions{})
	if err != nil || res.Submitted != 3 {
		t.Errorf("with good credentials: %+v, %v", res, err)
	}
	if sb.Stats().Conversions != 3 {
		t.Errorf("%d conversions, want 3", sb.Stats().Conversions)
	}
}

func TestConvertCredentialsRefusedMidway(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"promo.yaml": promoYAML, "promo.csv": numbersCSV(6)})
	var rows strings.Builder
	rows.WriteString("to,campaign\n")
	for i := range 6 {
		fmt.Fprintf(&rows, "+4179%07d,promo\n", i)
	}
	path := eventsFile(t, "events.csv", rows.String())
	// Refused from the second call on.
	conv := &countingConverter{api: client, fail: func(n int, _ string) error {
		if n >= 2 {
			return fmt.Errorf("%w refused (infobip: HTTP 401 UNAUTHORIZED)", infobip.ErrCredentials)
		}
		return nil
	}}
	res, err := runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{Parallelism: 1})
	if !errors.Is(err, infobip.ErrCredentials) {
		t.Fatalf("Convert: %v", err)
	}
	if res.Submitted != 1 || res.NotSent != 5 || res.Failed != 0 || res.Unknown != 0 {
		t.Errorf("result %+v", res)
	}
	if n, err := s.MarkConversionsInterrupted(ctx); n != 0 || err != nil {
		t.Errorf("%d conversions left submitting, %v", n, err)
	}
	if got := conversionsOf(t, s); len(got) != 1 {
		t.Errorf("conversions recorded %v, want the one that went through", got)
	}

	good := &countingConverter{api: client}
	res, err = runner.Convert(ctx, []string{path}, s, good, runner.ConvertOptions{})
	if err != nil || res.Submitted != 5 || res.AlreadyConverted != 1 || good.total() != 5 {
		t.Errorf("later run: %+v, %v, %d calls", res, err, good.total())
	}
	if sb.Stats().Conversions != 6 {
		t.Errorf("%d conversions, want 6", sb.Stats().Conversions)
	}
	for _, r := range sb.Received() {
		if r.Converted != 1 {
			t.Errorf("%s converted %d times", r.MessageID, r.Converted)
		}
	}
}

func TestConvertStopped(t *testing.T) {
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"otp.yaml": otpYAML})
	path := eventsFile(t, "events.csv", "phone,campaign\n+41790000001,otp\n+41790000002,otp\n+41790000003,otp\n")
	stop := make(chan struct{})
	close(stop)
	conv := &countingConverter{api: client}
	res, err := runner.Convert(context.Background(), []string{path}, s, conv, runner.ConvertOptions{Stop: stop})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Submitted != 0 || res.ToSubmit != 3 || res.NotSent != 3 {
		t.Errorf("result %+v", res)
	}
	if conv.total() != 0 || sb.Stats().Conversions != 0 || len(conversionRows(t, s)) != 0 {
		t.Error("a stopped run submitted or recorded something")
	}
}

func TestConvertManyRows(t *testing.T) {
	if testing.Short() {
		t.Skip("2,500 messages")
	}
	const n = 2500
	ctx := context.Background()
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"promo.yaml": promoYAML, "promo.csv": numbersCSV(n)})
	var b strings.Builder
	b.WriteString("messageId,event\n")
	for i := range n {
		fmt.Fprintf(&b, "%s,signup\n", runner.MessageID("promo", 1, fmt.Sprintf("+4179%07d", i), 0))
	}
	path := eventsFile(t, "events.csv", b.String())
	if err := runner.CheckEvents([]string{path}, ""); err != nil {
		t.Fatal(err)
	}
	conv := &countingConverter{api: client}
	var progress [][2]int
	res, err := runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{
		Progress: func(done, total int) { progress = append(progress, [2]int{done, total}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != n || res.Submitted != n || res.ToSubmit != n || res.NotSent != 0 {
		t.Errorf("result %+v", res)
	}
	if want := [][2]int{{1000, n}, {2000, n}, {n, n}}; fmt.Sprint(progress) != fmt.Sprint(want) {
		t.Errorf("progress %v, want one call per chunk of 1000: %v", progress, want)
	}
	if conv.total() != n || sb.Stats().Conversions != n {
		t.Errorf("%d calls, %d conversions, want %d", conv.total(), sb.Stats().Conversions, n)
	}
	for _, r := range sb.Received() {
		if r.Converted != 1 {
			t.Fatalf("%s converted %d times", r.MessageID, r.Converted)
		}
	}
	if got := conversionsOf(t, s); len(got) != n {
		t.Errorf("%d conversions recorded", len(got))
	}
	// Each chunk's conversions name their own rows.
	rows := conversionRows(t, s)
	for i := range n {
		id := runner.MessageID("promo", 1, fmt.Sprintf("+4179%07d", i), 0)
		if r := rows[id]; r.Source != fmt.Sprintf("%s:%d", path, i+2) || r.State != string(state.Converted) {
			t.Fatalf("%s recorded %+v; want converted, from %s:%d", id, r, path, i+2)
		}
	}
	res, err = runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{})
	if err != nil || res.AlreadyConverted != n || res.Submitted != 0 || conv.total() != n {
		t.Errorf("rerun: %+v, %v", res, err)
	}
}

func TestConvertStoppedBetweenChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("1,500 messages")
	}
	const n = 1500
	ctx := context.Background()
	s := openStore(t)
	sb, client := startSandbox(t, sandbox.Options{}, nil)
	applyFiles(t, s, client, map[string]string{"promo.yaml": promoYAML, "promo.csv": numbersCSV(n)})
	var b strings.Builder
	b.WriteString("to,campaign\n")
	for i := range n {
		fmt.Fprintf(&b, "+4179%07d,promo\n", i)
	}
	path := eventsFile(t, "events.csv", b.String())
	// The first Ctrl-C arrives after 1,000 conversions: those in flight finish, no other starts.
	stop := make(chan struct{})
	conv := &countingConverter{api: client}
	res, err := runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{Stop: stop, Progress: func(done, total int) {
		if done == 1000 {
			close(stop)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Requests already in flight or answered when the stop came are recorded; none starts after.
	if !res.Stopped || res.Submitted < 1000 || res.Submitted >= n || res.Submitted+res.NotSent != n || res.ToSubmit != n {
		t.Errorf("result %+v", res)
	}
	first := res.Submitted
	if n, err := s.MarkConversionsInterrupted(ctx); n != 0 || err != nil {
		t.Errorf("%d conversions left submitting, %v", n, err)
	}
	res, err = runner.Convert(ctx, []string{path}, s, conv, runner.ConvertOptions{})
	if err != nil || res.Submitted != n-first || res.AlreadyConverted != first {
		t.Errorf("the next run: %+v, %v", res, err)
	}
	if conv.total() != n || sb.Stats().Conversions != n {
		t.Errorf("%d calls, %d conversions, want %d", conv.total(), sb.Stats().Conversions, n)
	}
}
