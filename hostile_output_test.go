package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/runner"
	"github.com/smsform/smsform/state"
	"github.com/smsform/smsform/state/sqlite"
)

// hostileAPI is an Infobip API that answers what a hostile or broken one could: each
// endpoint is a handler a case sets; an endpoint left nil answers an empty success.
type hostileAPI struct {
	send, logs, inbox http.HandlerFunc
}

func (h *hostileAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	var handler http.HandlerFunc
	switch r.URL.Path {
	case infobip.PathMessages:
		handler = h.send
	case infobip.PathLogs:
		handler = h.logs
	case infobip.PathInbound:
		handler = h.inbox
	}
	if handler == nil {
		io.WriteString(w, `{"results":[]}`)
		return
	}
	handler(w, r)
}

// sendRequest reads a POST /sms/3/messages body, for handlers that answer per message.
func sendRequest(t *testing.T, r *http.Request) infobip.MessagesRequest {
	var req infobip.MessagesRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		t.Errorf("hostile API: read the send request: %v", err)
	}
	return req
}

// answerSend answers a send with one status per destination.
//
// It writes what encoding/json writes for an infobip.MessagesResponse, but encodes each
// distinct status once: encoding megabytes of text again for every message, under the race
// detector, took longer than the run the answer was for.
func answerSend(t *testing.T, w http.ResponseWriter, r *http.Request, status func(i int) infobip.Status) {
	req := sendRequest(t, r)
	encoded := map[infobip.Status][]byte{}
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"bulkId":"b","messages":[`)
	n := 0
	for i, m := range req.Messages {
		for _, d := range m.Destinations {
			st := status(i)
			js, ok := encoded[st]
			if !ok {
				js = marshal(t, st)
				encoded[st] = js
			}
			if n++; n > 1 {
				bw.WriteByte(',')
			}
			fmt.Fprintf(bw, `{"messageId":%s,"destination":%s,"status":`, marshal(t, d.MessageID), marshal(t, d.To))
			bw.Write(js)
			bw.WriteByte('}')
		}
	}
	bw.WriteString("]}\n")
	bw.Flush()
}

func marshal(t *testing.T, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		t.Errorf("hostile API: %v", err)
	}
	return data
}

var pendingStatus = infobip.Status{GroupID: 1, GroupName: "PENDING", ID: 26, Name: "PENDING_ACCEPTED"}

// outputRun is one run of the binary against the hostile API, with what it must show.
type outputRun struct {
	args   []string // after -state STATE
	code   int
	stdout string // a regular expression stdout must match, if set
	stderr string // a regular expression stderr must match, if set
	memory bool   // the attack was memory: check the peak RSS
	// maxOutput bounds stdout and stderr together; 0 means 64 KB.
	maxOutput int
}

// outputEnv is where the runs of one case happen: a campaign directory, a state, the API.
type outputEnv struct {
	bin, dir, state, url string
}

func newOutputEnv(t *testing.T, bin string, api *hostileAPI) *outputEnv {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	e := &outputEnv{bin: bin, dir: filepath.Join(t.TempDir(), "repo"), state: filepath.Join(t.TempDir(), "st.db"), url: srv.URL}
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Init(context.Background(), e.state); err != nil {
		t.Fatal(err)
	}
	return e
}

// campaign writes a marketing campaign of n recipients with text.
func (e *outputEnv) campaign(t *testing.T, text string, n int) {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("to\n")
	for i := range n {
		fmt.Fprintf(&csv, "+41793%06d\n", i)
	}
	writeFile(t, filepath.Join(e.dir, "r.csv"), csv.String())
	writeFile(t, filepath.Join(e.dir, "c.yaml"), "id: c1\nfrom: InfoSMS\ntext: '"+text+"'\ndestinations_file: r.csv\n")
}

// run runs the binary and checks what every hostile run must hold: the exit code, no
// secret, no line a CI log would run as a command (`::` at a line's start, `##[` anywhere),
// no raw escape or bidirectional control, bounded output, bounded memory where that was
// the attack. It returns stdout and stderr.
func (e *outputEnv) run(t *testing.T, r outputRun) (string, string) {
	t.Helper()
	args := append([]string{"-state", e.state}, r.args...)
	ctx, cancel := context.WithTimeout(context.Background(), hostileTimeout)
	defer cancel()
	rssFile := filepath.Join(t.TempDir(), "rss")
	cmd := measuredCommand(t, ctx, rssFile, e.bin, args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "INFOBIP_API_KEY="+secretMarker, "INFOBIP_BASE_URL="+e.url, "SMSFORM_STATE=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	peak := peakRSS(rssFile)
	what := "smsform " + strings.Join(r.args, " ")
	t.Logf("%s: %s, peak RSS %d MB", what, time.Since(start).Round(time.Millisecond), peak>>20)
	if ctx.Err() != nil {
		t.Fatalf("%s: still running after %s (a hang)\nstderr:\n%s", what, hostileTimeout, clip(stderr.String()))
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if code != r.code {
		t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, code, r.code, clip(stdout.String()), clip(stderr.String()))
	}
	out := stdout.String() + stderr.String()
	if strings.Contains(out, secretMarker) {
		t.Errorf("%s: the secret marker from the environment is in the output:\n%s", what, clip(out))
	}
	if m := regexp.MustCompile(`(?m)^\s*::`).FindString(out); m != "" {
		t.Errorf("%s: a line of output starts with %q, which a CI log runs as a command:\n%s", what, m, clip(out))
	}
	if i := strings.Index(out, "##["); i >= 0 {
		t.Errorf("%s: the output holds %q, which GitHub Actions runs as a command anywhere in a line:\n%s", what, "##[", clip(out[max(i-200, 0):]))
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("%s: raw control characters in the output:\n%q", what, clip(out))
	}
	limit := r.maxOutput
	if limit == 0 {
		limit = 64 << 10
	}
	if len(out) > limit {
		t.Errorf("%s: %d bytes of output, want at most %d", what, len(out), limit)
	}
	if r.stdout != "" && !regexp.MustCompile(r.stdout).MatchString(stdout.String()) {
		t.Errorf("%s: stdout does not match %s:\n%s", what, r.stdout, clip(stdout.String()))
	}
	if r.stderr != "" && !regexp.MustCompile(r.stderr).MatchString(stderr.String()) {
		t.Errorf("%s: stderr does not match %s:\n%s", what, r.stderr, clip(stderr.String()))
	}
	if r.memory {
		if peak <= 0 {
			t.Fatal("no peak RSS measured for the process")
		}
		if peak > hostileMaxRSS {
			t.Errorf("%s: peak RSS %d MB, want under %d MB", what, peak>>20, hostileMaxRSS>>20)
		}
	}
	return stdout.String(), stderr.String()
}

// stateSize is the bytes the state takes on disk, its WAL included.
func (e *outputEnv) stateSize(t *testing.T) int64 {
	t.Helper()
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(e.state + suffix); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TestHostileOutput runs the real binary where what it prints comes from a hostile campaign
// file, a tampered state or a hostile Infobip API (issue 16, part D): no output line may
// carry a CI log command (`::` at its start, `##[` anywhere, which GitHub Actions' runner
// still honours), an API's text never brings a line break or unbounded bytes into the
// output or the state, and a broken API cannot make refresh loop for ever.
func TestHostileOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; not run with -short")
	}
	t.Parallel()
	bin := realBin(t)
	forged := "FORGED LINE ##[error]forged\n::error::forged\n##[add-mask]x"

	t.Run("##[ in a campaign text (plan, plan -json)", func(t *testing.T) {
		t.Parallel()
		e := newOutputEnv(t, bin, &hostileAPI{})
		e.campaign(t, "Hi ##[error]Security review passed ##[stop-commands]x", 1)
		e.run(t, outputRun{args: []string{"plan", "."}, stdout: `"Hi ##\\u005berror\]Security review passed ##\\u005bstop-commands\]x"`})
		stdout, _ := e.run(t, outputRun{args: []string{"plan", "-json", "."}})
		var doc struct {
			Campaigns []struct {
				Messages []struct{ Text string }
			}
		}
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatalf("plan -json is not JSON: %v\n%s", err, clip(stdout))
		}
		if got := doc.Campaigns[0].Messages[0].Text; got != "Hi ##[error]Security review passed ##[stop-commands]x" {
			t.Errorf("plan -json holds the text %q: JSON output must mean the same text", got)
		}
	})

	t.Run("##[ in a number and a key (validate)", func(t *testing.T) {
		t.Parallel()
		e := newOutputEnv(t, bin, &hostileAPI{})
		writeFile(t, filepath.Join(e.dir, "r.csv"), "to\n\"##[error]x\"\n")
		writeFile(t, filepath.Join(e.dir, "c.yaml"), "id: c1\nfrom: InfoSMS\ntext: Hi\ndestinations_file: r.csv\n\"##[add-mask]k\": 1\n")
		e.run(t, outputRun{args: []string{"validate", "."}, code: 1, stderr: `r.csv:2: to: .*##\\u005berror\]x`})
	})

	t.Run("an API error text with line breaks and ##[ (apply, state list)", func(t *testing.T) {
		t.Parallel()
		e := newOutputEnv(t, bin, &hostileAPI{send: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(infobip.NewErrorBody("BAD_REQUEST", "Bad request\n"+forged))
		}})
		e.campaign(t, "Hi", 3)
		_, stderr := e.run(t, outputRun{args: []string{"apply", "-auto-approve", "."}, code: 1, stderr: `(?m)^Error: .*HTTP 400 BAD_REQUEST: Bad request\\nFORGED LINE`})
		if regexp.MustCompile(`(?m)^FORGED`).MatchString(stderr) {
			t.Errorf("Infobip's text started a line of its own:\n%s", stderr)
		}
		stdout, _ := e.run(t, outputRun{args: []string{"state", "list"}, stdout: `Bad request\\nFORGED LINE`})
		if regexp.MustCompile(`(?m)^FORGED`).MatchString(stdout) {
			t.Errorf("state list: Infobip's text started a line of its own:\n%s", stdout)
		}
		stdout, _ = e.run(t, outputRun{args: []string{"state", "list", "-json"}})
		var list struct {
			Messages []runner.RecordedMessage `json:"messages"`
		}
		if err := json.Unmarshal([]byte(stdout), &list); err != nil || len(list.Messages) != 3 {
			t.Fatalf("state list -json: %v, %d messages\n%s", err, len(list.Messages), clip(stdout))
		}
	})

	t.Run("a 4 MB API error text for a batch of 100 (apply)", func(t *testing.T) {
		t.Parallel()
		huge := strings.Repeat("Bad request ", 4<<20/12)
		e := newOutputEnv(t, bin, &hostileAPI{send: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(infobip.NewErrorBody("BAD_REQUEST", huge))
		}})
		e.campaign(t, "Hi", 100)
		e.run(t, outputRun{args: []string{"apply", "-auto-approve", "."}, code: 1, memory: true, stderr: `(?m)^Error: .*HTTP 400 BAD_REQUEST: Bad request Bad request .*\(cut: \d+ bytes in all\)`})
		if n := e.stateSize(t); n > 8<<20 {
			t.Errorf("the state takes %d MB after one refused batch of 100 messages; Infobip's text must be stored bounded", n>>20)
		}
		e.run(t, outputRun{args: []string{"state", "list", "-limit", "20"}, stdout: `(?m)^c1 .* failed .*Bad request`})
	})

	t.Run("per-message rejections with 1 MB descriptions (apply)", func(t *testing.T) {
		t.Parallel()
		huge := strings.Repeat("x", 1<<20)
		rejected := infobip.Status{GroupID: 5, GroupName: "REJECTED", ID: 52, Name: "REJECTED_DESTINATION ##[error]" + huge, Description: forged + huge}
		e := newOutputEnv(t, bin, &hostileAPI{send: func(w http.ResponseWriter, r *http.Request) {
			answerSend(t, w, r, func(int) infobip.Status { return rejected })
		}})
		e.campaign(t, "Hi", 20)
		e.run(t, outputRun{args: []string{"apply", "-auto-approve", "."}, code: 3, memory: true, stdout: `20 failed`})
		if n := e.stateSize(t); n > 8<<20 {
			t.Errorf("the state takes %d MB after 20 rejections; Infobip's texts must be stored bounded", n>>20)
		}
		e.run(t, outputRun{args: []string{"state", "list"}, stdout: `REJECTED_DESTINATION ##\\u005berror\]x`})
	})

	t.Run("a logs cursor that never changes (refresh of unknown outcomes)", func(t *testing.T) {
		t.Parallel()
		// apply has no unknown outcome to look up before it sends: the logs are read by refresh.
		e := newOutputEnv(t, bin, &hostileAPI{send: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"errorCode":"E500","description":"General error"}`)
		}, logs: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"results":[{"messageId":"other","status":{"groupId":3,"id":5,"name":"DELIVERED_TO_HANDSET"}}],"cursor":{"limit":1000,"nextCursor":"same"}}`)
		}})
		e.campaign(t, "Hi", 2)
		e.run(t, outputRun{args: []string{"apply", "-auto-approve", "."}, code: 3})
		e.run(t, outputRun{args: []string{"refresh"}, code: 3, stderr: `(?m)^Warning: .*Infobip's logs answered the cursor .* twice`})
		e.run(t, outputRun{args: []string{"state", "list", "-only", "unknown"}, stdout: `(?m)^c1 .* unknown `})
	})

	t.Run("a logs page repeated with a new cursor each time (refresh of delivery status)", func(t *testing.T) {
		t.Parallel()
		var page atomic.Int64
		e := newOutputEnv(t, bin, &hostileAPI{send: func(w http.ResponseWriter, r *http.Request) {
			answerSend(t, w, r, func(int) infobip.Status { return pendingStatus })
		}, logs: func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"results":[{"messageId":"other","status":{"groupId":3,"id":5,"name":"DELIVERED_TO_HANDSET"}}],"cursor":{"limit":1000,"nextCursor":"c%d"}}`, page.Add(1))
		}})
		e.campaign(t, "Hi", 2)
		e.run(t, outputRun{args: []string{"apply", "-auto-approve", "."}, stdout: `Apply complete: 2 sent`})
		e.run(t, outputRun{args: []string{"refresh"}, stderr: `(?m)^Warning: .*Infobip's logs answered the same page again`})
	})

	t.Run("an inbox that keeps answering the same reply (refresh)", func(t *testing.T) {
		t.Parallel()
		e := newOutputEnv(t, bin, &hostileAPI{inbox: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"results":[{"messageId":"in-1","from":"41793026731","to":"41793026700","text":"STOP","receivedAt":"2026-01-02T10:00:00.000+0000"}],"messageCount":1,"pendingMessageCount":1}`)
		}})
		e.run(t, outputRun{args: []string{"refresh"}, stdout: `1 new opt-out`, stderr: `(?m)^Warning: .*handed out again`})
	})

	t.Run("inbound senders written otherwise, or not numbers; received times in every layout (refresh)", func(t *testing.T) {
		t.Parallel()
		var pulled atomic.Bool
		e := newOutputEnv(t, bin, &hostileAPI{inbox: func(w http.ResponseWriter, r *http.Request) {
			if pulled.Swap(true) {
				io.WriteString(w, `{"results":[],"messageCount":0,"pendingMessageCount":0}`)
				return
			}
			io.WriteString(w, `{"results":[
				{"messageId":"in-1","from":"0041 79 302 67 31","text":"STOP","receivedAt":"2025-01-17T08:17:23.000+0000"},
				{"messageId":"in-2","from":"##[error]x\u001b[2J","text":"STOP","receivedAt":"2025-01-17T08:17:23.000+0000"},
				{"messageId":"in-3","from":"+41 (79) 302-67-32","text":"STOP","receivedAt":"2025-01-17T08:17:23Z"},
				{"messageId":"in-4","from":"41793026733","text":"STOP","receivedAt":"2025-01-17"},
				{"messageId":"in-5","from":"41793026734","text":"STOP","receivedAt":"2025-01-17T08:17:23.000"},
				{"messageId":"in-6","from":"41793026735","text":"STOP","receivedAt":"yesterday ##[error]x"}],
				"messageCount":6,"pendingMessageCount":0}`)
		}})
		e.run(t, outputRun{args: []string{"refresh"}, stdout: `(?m)^Inbound replies: 5 new replies recorded, 5 new opt-outs\.$`,
			stderr: `(?s)Warning: 1 inbound reply skipped: its sender "##\\u005berror\]x\\x1b\[2J" is not a phone number.*` +
				`Warning: 1 inbound reply recorded with the time of this refresh: its received time "yesterday ##\\u005berror\]x" is in none of the forms smsform reads`})
		stdout, _ := e.run(t, outputRun{args: []string{"state", "opt-outs"}})
		for _, want := range []string{
			`(?m)^\+41793026731 +2025-01-17T08:17Z `, `(?m)^\+41793026732 +2025-01-17T08:17Z `, `(?m)^\+41793026733 +2025-01-17T00:00Z `,
			`(?m)^\+41793026734 +2025-01-17T08:17Z `, `(?m)^\+41793026735 `,
		} {
			if !regexp.MustCompile(want).MatchString(stdout) {
				t.Errorf("state opt-outs does not match %s:\n%s", want, stdout)
			}
		}
		if strings.Contains(stdout, "error") || strings.Count(stdout, "\n") != 6 {
			t.Errorf("state opt-outs lists something other than the five numbers:\n%s", stdout)
		}
	})

	t.Run("escape sequences, U+202E and ##[ in a state (report text, CSV, HTML; state list)", func(t *testing.T) {
		t.Parallel()
		e := newOutputEnv(t, bin, &hostileAPI{})
		ctx := context.Background()
		st, err := sqlite.Open(ctx, e.state)
		if err != nil {
			t.Fatal(err)
		}
		hostile := "c\x1b[2J\u202e##[error]x"
		const hostileJSON = `"c\u001b[2J\u202e##\u005berror]x"` // the same string, nothing raw
		b, err := st.MarkSending(ctx, []state.Outgoing{{Key: state.Key{Campaign: hostile, Round: 1, To: "+41793026731"}, MessageID: "m-##[error]1",
			BulkID: "b", Parts: 1, Tracked: true, TrackingType: "T\x1b]0;pwned\x07##[warning]t"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Settle(ctx, b, []state.Outcome{{Key: b.Messages[0].Key, MessageID: "m-##[error]1", State: state.Sent, StatusName: "OK\u202e##[error]"}}); err != nil {
			t.Fatal(err)
		}
		st.Close()
		e.run(t, outputRun{args: []string{"report"}, stdout: `c\\x1b\[2J\\u202e##\\u005berror\]x`})
		e.run(t, outputRun{args: []string{"report", "-by", "type"}, stdout: `T\\x1b\]0;pwned\\x07##\\u005bwarning\]t`})
		e.run(t, outputRun{args: []string{"report", "-csv"}, stdout: `c\\x1b\[2J\\u202e##\\u005berror\]x`})
		e.run(t, outputRun{args: []string{"report", "-csv", "-by", "type"}, stdout: `T\\x1b\]0;pwned\\x07##\\u005bwarning\]t`})
		e.run(t, outputRun{args: []string{"state", "list"}, stdout: `m-##\\u005berror\]1`})
		for _, args := range [][]string{{"report", "-json"}, {"report", "-json", "-by", "type"}, {"state", "list", "-json"}} {
			stdout, _ := e.run(t, outputRun{args: args})
			var doc any
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Errorf("%s: not JSON: %v\n%s", args, err, stdout)
			}
			if !strings.Contains(stdout, hostileJSON) {
				t.Errorf("%s: the campaign id is not written %s:\n%s", args, hostileJSON, stdout)
			}
		}
		page := filepath.Join(t.TempDir(), "r.html")
		e.run(t, outputRun{args: []string{"report", "-html", page}})
		html, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.ContainsAny(html, "\x1b\x07\u202e") || bytes.Contains(html, []byte("##[")) {
			t.Errorf("the HTML report holds raw control characters or ##[ from the state:\n%q", clip(string(html)))
		}
	})
}
