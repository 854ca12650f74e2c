package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smsform/smsform/internal/cli"
	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/pgtest"
	"github.com/smsform/smsform/internal/sandbox"
)

var updateScripts = flag.Bool("update", false, "rewrite the golden files embedded in testdata/script")

func TestMain(m *testing.M) {
	// Every smsform a script runs is this binary, built with -race, and the race runtime
	// sleeps a second before a process exits (GORACE atexit_sleep_ms, default 1000) in case
	// another thread is about to report: hundreds of runs would each wait out that second. A
	// race found while a run works is reported as before (exit 66); a GORACE the caller set
	// comes last, so its settings win.
	os.Setenv("GORACE", strings.TrimSpace("atexit_sleep_ms=10 "+os.Getenv("GORACE")))
	// pgtest.M stops the private PostgreSQL cluster, if a test started one; afterTests
	// removes the programs the tests built.
	testscript.Main(afterTests{pgtest.M{M: m}}, map[string]func(){
		"smsform": func() { os.Exit(cli.Main(context.Background(), os.Args, cli.OSIO())) },
	})
}

// afterTests runs the tests, then removes what they left outside their temporary directories.
type afterTests struct{ m interface{ Run() int } }

func (a afterTests) Run() int {
	code := a.m.Run()
	for _, b := range []*builtBin{smsformBin, launcherBin} {
		if b.dir != "" {
			os.RemoveAll(b.dir)
		}
	}
	return code
}

// builtBin is a program built once per test binary, on first use, without -race.
type builtBin struct {
	pkg, name string
	once      sync.Once
	dir, path string
	err       error
}

var (
	// smsformBin is the real binary, for the tests that run it hundreds of times or measure
	// it: the hostile tests bound its time and memory, and the kill tests kill it at random
	// moments as users run it (the race-built binary takes four to five times the CPU, most
	// of a run's time goes into starting it, and its timing is not a user's). The scripts
	// run every command race-built.
	smsformBin = &builtBin{pkg: ".", name: "smsform"}
	// launcherBin is the hostile tests' measure-rss launcher (see measuredCommand).
	launcherBin = &builtBin{pkg: "./testdata/measure-rss", name: "measure-rss"}
)

// get builds the program on first use and returns its path.
func (b *builtBin) get(t *testing.T) string {
	t.Helper()
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "smsform-bin-"); b.err != nil {
			return
		}
		path := filepath.Join(b.dir, b.name)
		if out, err := exec.Command("go", "build", "-o", path, b.pkg).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
			return
		}
		b.path = path
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// realBin is the path of the real smsform binary.
func realBin(t *testing.T) string { return smsformBin.get(t) }

// TestScripts runs the CLI end to end: every testdata/script/*.txtar is a session of
// commands with the outputs they must print. The Infobip API is the in-process sandbox.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *updateScripts,
		Setup: func(env *testscript.Env) error {
			now := time.Now().UTC().Truncate(time.Second)
			env.Setenv("SEND_AT_SOON", now.Add(36*time.Hour).Format(time.RFC3339))
			env.Setenv("SEND_AT_PAST", now.Add(-time.Hour).Format(time.RFC3339))
			env.Setenv("SEND_AT_FAR", now.Add(200*24*time.Hour).Format(time.RFC3339))
			env.Setenv("SEND_AT_SOON_INFOBIP", now.Add(36*time.Hour).Format(infobip.SendAtLayout))
			setQuietEnv(env, now)
			// Send times for the frequency caps' window (contact_policy.txtar): T0, exactly
			// 7 days after it, and a second less; _Z as a cap's reason prints a time.
			t0 := now.Add(48 * time.Hour).Truncate(time.Hour)
			env.Setenv("CAP_T0", t0.Format(time.RFC3339))
			env.Setenv("CAP_T0_Z", t0.Format("2006-01-02 15:04Z"))
			env.Setenv("CAP_T0_7D", t0.Add(7*24*time.Hour).Format(time.RFC3339))
			env.Setenv("CAP_T0_7D_1S", t0.Add(7*24*time.Hour-time.Second).Format(time.RFC3339))
			env.Setenv("SMSFORM_STATE", "") // each script says where its state is
			env.Values[sandboxKey{}] = &sandboxes{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sandbox":  cmdSandbox,
			"filemode": cmdFilemode,
			"envsubst": cmdEnvsubst,
			"exits":    cmdExits,
			"waitfor":  cmdWaitfor,
			// A PostgreSQL state (main_pg_test.go).
			"pgdb":         cmdPGDB,
			"pgsql":        cmdPGSQL,
			"pgurl":        cmdPGURL,
			"pgwaitholder": cmdPGWaitHolder,
			"sentonce":     cmdSentOnce,
			"sandboxwait":  cmdSandboxWait,
		},
	})
}

type sandboxKey struct{}

type sandboxes struct {
	cur *sandbox.Server
	// sendBase is how many send requests had arrived at the last `sandbox start` or
	// `sandbox faults`, from which `sandbox arrived` counts.
	sendBase int

	mu sync.Mutex
	// held, while `sandbox hold` is in force, keeps send requests at the door until `sandbox
	// release` closes it.
	held chan struct{}
}

// door is the handler in front of the sandbox: while the script holds it, a send request
// waits there until it is released (or the client gives up: then it never reaches the
// sandbox, as a request dropped with its connection). A run holding the state's lock keeps
// it for as long as the script needs, however slow the machine, where a latency would be a
// guess.
func (sb *sandboxes) door(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sb.mu.Lock()
		held := sb.held
		sb.mu.Unlock()
		if held != nil && r.Method == http.MethodPost && r.URL.Path == infobip.PathMessages {
			select {
			case <-held:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// cmdSandbox drives the in-process fake Infobip API:
//
//	sandbox start [-api-key K] [-reject-to DIGITS]... [-seed N] [FAULTS]
//	sandbox faults [FAULTS]  changes the running sandbox's faults: -error-rate R -drop-rate R
//	                         -429-rate R -latency D -logs-lag D (unset ones are cleared)
//	sandbox received      prints every accepted message, one line each, sorted by number
//	sandbox count N       asserts N accepted messages
//	sandbox duplicates N  asserts N status-23 rejections
//	sandbox doubles N     asserts N double sends (a messageId delivered again)
//	sandbox conversions N asserts N conversions logged (POST /ct/1/log/end)
//	sandbox arrived N     waits until N send requests have arrived since the last start or
//	                      faults (counted on arrival, before -latency: they are in flight)
//	sandbox hold          keeps send requests waiting at the door, not yet at the sandbox
//	sandbox release       lets them in, and those that come after
func cmdSandbox(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! sandbox")
	}
	sb := ts.Value(sandboxKey{}).(*sandboxes)
	if len(args) == 0 {
		ts.Fatalf("usage: sandbox start|received|count|duplicates")
	}
	switch args[0] {
	case "start", "faults":
		fs := flag.NewFlagSet("sandbox "+args[0], flag.ContinueOnError)
		key := fs.String("api-key", "", "")
		window := fs.Duration("idempotency-window", 0, "")
		seed := fs.Uint64("seed", 0, "")
		var f sandbox.Faults
		fs.Float64Var(&f.ErrorRate, "error-rate", 0, "")
		fs.Float64Var(&f.DropRate, "drop-rate", 0, "")
		fs.Float64Var(&f.TooManyRate, "429-rate", 0, "")
		fs.DurationVar(&f.Latency, "latency", 0, "")
		fs.DurationVar(&f.LogsLag, "logs-lag", 0, "")
		var reject []string
		fs.Func("reject-to", "", func(v string) error { reject = append(reject, v); return nil })
		ts.Check(fs.Parse(args[1:]))
		if args[0] == "faults" {
			sb.server(ts).SetFaults(f)
			sb.sendBase = sb.server(ts).Stats().Requests[sandbox.EndpointSend]
			return
		}
		opts := sandbox.Options{
			APIKey: *key, ErrorRate: f.ErrorRate, DropRate: f.DropRate, TooManyRate: f.TooManyRate,
			Latency: f.Latency, LogsLag: f.LogsLag, RetryAfter: time.Second, RejectTo: reject, IdempotencyWindow: *window,
		}
		if *seed != 0 {
			// Fault rates drawn from a seeded source: with requests made one at a time, the
			// same faults hit the same requests on every run.
			opts.Rand = rand.New(rand.NewPCG(*seed, *seed))
		}
		sb.cur = sandbox.New(opts)
		srv := httptest.NewServer(sb.door(sb.cur))
		ts.Defer(srv.Close)
		ts.Defer(sb.release) // a script that ends holding: let the requests go before Close
		ts.Setenv("INFOBIP_BASE_URL", srv.URL)
		sb.sendBase = 0
	case "arrived":
		// Waiting for an observable event, not for a guessed duration: the poll ends as
		// soon as the requests are at the sandbox.
		if len(args) != 2 {
			ts.Fatalf("usage: sandbox arrived N")
		}
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		srv := sb.server(ts)
		got := 0
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if got = srv.Stats().Requests[sandbox.EndpointSend] - sb.sendBase; got >= want {
				return
			}
		}
		ts.Fatalf("%d send requests arrived at the sandbox within 10s, want %d", got, want)
	case "hold":
		sb.server(ts)
		sb.mu.Lock()
		if sb.held == nil {
			sb.held = make(chan struct{})
		}
		sb.mu.Unlock()
	case "release":
		sb.server(ts)
		sb.release()
	case "received":
		var lines []string
		for _, r := range sb.server(ts).Received() {
			lines = append(lines, describe(r))
		}
		slices.Sort(lines)
		for _, l := range lines {
			fmt.Fprintln(ts.Stdout(), l)
		}
	case "count", "duplicates", "conversions", "doubles":
		if len(args) != 2 {
			ts.Fatalf("usage: sandbox %s N", args[0])
		}
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		got := len(sb.server(ts).Received())
		switch args[0] {
		case "duplicates":
			got = len(sb.server(ts).Duplicates())
		case "conversions":
			got = sb.server(ts).Stats().Conversions
		case "doubles":
			got = sb.server(ts).Stats().DoubleSends
		}
		if got != want {
			ts.Fatalf("sandbox %s: got %d, want %d", args[0], got, want)
		}
	case "events": // write the sandbox's event export: events [-seed N] [-variant NAME=RATE]... [-text PART=RATE]... [-default RATE] FILE
		fs := flag.NewFlagSet("sandbox events", flag.ContinueOnError)
		var o sandbox.EventOptions
		fs.Uint64Var(&o.Seed, "seed", 0, "")
		fs.Float64Var(&o.Default, "default", 0, "")
		var variants, texts []string
		fs.Func("variant", "", func(v string) error { variants = append(variants, v); return nil })
		fs.Func("text", "", func(v string) error { texts = append(texts, v); return nil })
		ts.Check(fs.Parse(args[1:]))
		if fs.NArg() != 1 {
			ts.Fatalf("usage: sandbox events [-seed N] [-variant NAME=RATE]... [-text PART=RATE]... [-default RATE] FILE")
		}
		var err error
		o.ByVariant, err = sandbox.ParsePropensities(variants)
		ts.Check(err)
		o.ByText, err = sandbox.ParsePropensities(texts)
		ts.Check(err)
		var buf bytes.Buffer
		ts.Check(sb.server(ts).WriteEvents(&buf, o))
		ts.Check(os.WriteFile(ts.MkAbs(fs.Arg(0)), buf.Bytes(), 0o644))
	case "inbound": // queue a reply FROM (international digits) with TEXT
		if len(args) != 3 {
			ts.Fatalf("usage: sandbox inbound FROM TEXT")
		}
		ts.Check(sb.server(ts).QueueInbound(sandbox.Inbound{From: args[1], Text: args[2]}))
	default:
		ts.Fatalf("unknown sandbox subcommand %q", args[0])
	}
}

func (sb *sandboxes) release() {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.held != nil {
		close(sb.held)
		sb.held = nil
	}
}

func (sb *sandboxes) server(ts *testscript.TestScript) *sandbox.Server {
	if sb.cur == nil {
		ts.Fatalf("no sandbox started")
	}
	return sb.cur
}

// describe prints what a test needs to see of a received message, options only when set.
func describe(r sandbox.Received) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s from=%s", r.To, r.From)
	if r.Tracking != nil {
		fmt.Fprintf(&b, " tracking=%s/%s", r.Tracking.Track, r.Tracking.Type)
	}
	if strings.Contains(r.CampaignReference, ":") { // an experiment's variant: <campaign>:<variant>
		fmt.Fprintf(&b, " ref=%s", r.CampaignReference)
	}
	if r.ValidityPeriod > 0 {
		fmt.Fprintf(&b, " validity=%dm", r.ValidityPeriod)
	}
	if r.SendAt != "" {
		fmt.Fprintf(&b, " send_at=%s", r.SendAt)
	}
	if w := r.DeliveryTimeWindow; w != nil {
		fmt.Fprintf(&b, " window=%s/%02d:%02d-%02d:%02d", strings.Join(w.Days, ","), w.From.Hour, w.From.Minute, w.To.Hour, w.To.Minute)
	}
	if s := r.SpeedLimit; s != nil {
		fmt.Fprintf(&b, " speed=%d/%s", s.Amount, s.TimeUnit)
	}
	if r.NotifyURL != "" {
		fmt.Fprintf(&b, " notify=%s", r.NotifyURL)
	}
	if r.CallbackData != "" {
		fmt.Fprintf(&b, " callback=%s", r.CallbackData)
	}
	fmt.Fprintf(&b, " parts=%d id=%s text=%q", r.SmsCount, r.MessageID, r.Text)
	return b.String()
}

// cmdFilemode asserts a file's permission bits: filemode FILE 0600.
func cmdFilemode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: filemode FILE MODE")
	}
	info, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if got := info.Mode().Perm(); (uint64(got) == want) == neg {
		ts.Fatalf("%s has mode %#o, want %s%#o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// cmdEnvsubst replaces ${VAR} in a file with the script's environment: envsubst FILE.
func cmdEnvsubst(ts *testscript.TestScript, neg bool, args []string) {
	for _, f := range args {
		data := ts.ReadFile(f)
		ts.Check(os.WriteFile(ts.MkAbs(f), []byte(os.Expand(data, ts.Getenv)), 0o644))
	}
}

// cmdExits runs a command and asserts its exit code, keeping its output for stdout/stderr
// checks: exits 2 smsform plan -detailed-exitcode.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// cmdWaitfor waits up to 10s until a file matches a regular expression: waitfor FILE REGEXP.
func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: waitfor FILE REGEXP")
	}
	re := regexp.MustCompile(args[1])
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if data, err := os.ReadFile(ts.MkAbs(args[0])); err == nil && re.Match(data) {
			return
		}
	}
	ts.Fatalf("%s did not match %q within 10s", args[0], args[1])
}

// setQuietEnv sets quiet hours around the current time for quiet_hours.txtar, which cannot
// fix the clock: QUIET_FROM is an hour before Zurich's wall clock now and QUIET_TO five
// hours after, so Zurich (now) and India (3.5 or 4.5 hours ahead) are inside them and New
// York and Tokyo (6 hours behind, 7 or 8 ahead) outside. QUIET_AT_ZURICH_RE and
// QUIET_AT_INDIA_RE are when each may get a text: the first instant ahead at which its wall
// clock shows QUIET_TO, worked out here apart from smsform's own computation (in Infobip's
// sendAt format, quoted for a regexp; _RFC in RFC 3339, _Z as plan prints it).
func setQuietEnv(env *testscript.Env, now time.Time) {
	zurich, _ := time.LoadLocation("Europe/Zurich")
	india, _ := time.LoadLocation("Asia/Kolkata")
	local := now.In(zurich).Truncate(time.Minute)
	from, to := local.Add(-time.Hour), local.Add(5*time.Hour)
	env.Setenv("QUIET_FROM", from.Format("15:04"))
	env.Setenv("QUIET_TO", to.Format("15:04"))
	for name, z := range map[string]*time.Location{"ZURICH": zurich, "INDIA": india} {
		l := now.In(z)
		at := time.Date(l.Year(), l.Month(), l.Day(), to.Hour(), to.Minute(), 0, 0, z)
		if !at.After(now) {
			at = time.Date(l.Year(), l.Month(), l.Day()+1, to.Hour(), to.Minute(), 0, 0, z)
		}
		env.Setenv("QUIET_AT_"+name+"_RE", regexp.QuoteMeta(at.UTC().Format(infobip.SendAtLayout)))
		env.Setenv("QUIET_AT_"+name+"_RFC", at.UTC().Format(time.RFC3339))
		env.Setenv("QUIET_AT_"+name+"_Z", at.UTC().Format("2006-01-02 15:04Z"))
	}
}
