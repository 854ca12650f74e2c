// Command bench measures smsform end to end on generated data: it writes a campaign of N
// recipients (a CSV), starts the sandbox as its own process, runs each step as a child
// process and prints wall time, peak RSS and throughput per step.
//
//	go run ./bench -n 1000000
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/smsform/smsform/internal/pgtest"
)

func main() {
	n := flag.Int("n", 1_000_000, "recipients")
	bin := flag.String("bin", "bin/smsform", "the smsform binary to measure")
	keep := flag.Bool("keep", false, "keep the work directory")
	baselineN := flag.Int("baseline-n", 50_000, "messages the baseline senders send (their rate is compared)")
	baselineBin := flag.String("baseline", "bin/baseline", "the baseline sender binary")
	profile := flag.String("profile", "", "write a CPU profile of each step into this directory")
	compare := flag.String("compare-bin", "", "an older smsform binary (one that sends through the superseded /sms/2/text/advanced) whose apply is measured in the same run, against the same sandbox, for comparison")
	growthNs := flag.String("growth", "", "more recipient counts, such as \"5000000 10000000\": validate, plan, apply and re-plan are measured at each, for the growth table")
	growthOnly := flag.Bool("growth-only", false, "measure only the growth table's steps (validate, plan, apply, re-plan), at -n and each -growth size")
	pairs := flag.Int("pairs", 3, "rounds of the batched client and apply back to back, whose median ratio is printed (0: none)")
	pgURL := flag.String("postgres", "", "a PostgreSQL server URL (a role that may CREATE DATABASE) for the PostgreSQL rows; empty: a private cluster with the settings of pgSettings; \"off\": no PostgreSQL rows")
	flag.Parse()
	log.SetFlags(0)

	work, err := os.MkdirTemp("", "smsform-bench-")
	check(err)
	if !*keep {
		defer os.RemoveAll(work)
	}
	abs, err := filepath.Abs(*bin)
	check(err)
	campaigns := filepath.Join(work, "campaigns")
	check(os.MkdirAll(campaigns, 0o755))
	if !*growthOnly {
		start := time.Now()
		check(writeCampaign(campaigns, *n))
		log.Printf("generated %d recipients in %s (%s)", *n, time.Since(start).Round(time.Millisecond), work)
	}

	url, stop := startSandbox(abs, work)
	defer stop()
	env := stepEnv(url, filepath.Join(work, "smsform.db"))

	if *growthOnly {
		var growth []growthRow
		for _, gn := range append([]int{*n}, parseNs(*growthNs)...) {
			reset(url)
			growth = append(growth, measureGrowth(abs, url, work, gn, *keep))
		}
		printGrowth(growth)
		return
	}

	var rows []row
	step := 0
	measure := func(name string, items int, args ...string) {
		if *profile != "" {
			step++
			check(os.MkdirAll(*profile, 0o755))
			args = append([]string{"--cpuprofile", filepath.Join(*profile, fmt.Sprintf("%d-%s.prof", step, args[0]))}, args...)
		}
		r := run(abs, env, args...)
		r.name, r.items = name, items
		rows = append(rows, r)
		log.Printf("%-32s %8s %6d MB", name, r.wall.Round(time.Millisecond), r.rssKB/1024)
	}
	events := filepath.Join(work, "events.csv")
	check(writeEvents(events, *n))
	run(abs, env, "init")
	measure("validate", *n, "validate", campaigns)
	measure("plan (empty state)", *n, "plan", campaigns)
	var ratios []string
	var older *row
	if *compare != "" {
		// The same apply by the older binary first, into a fresh state of its own, so that
		// the sandbox's warm-up (its heap growing) is not counted against the binary
		// measured here; then the sandbox forgets it.
		cmpAbs, err := filepath.Abs(*compare)
		check(err)
		cmpEnv := stepEnv(url, filepath.Join(work, "compare.db"))
		r := run(cmpAbs, cmpEnv, "apply", "-auto-approve", campaigns)
		r.name, r.items = "apply -auto-approve (older, v2)", *n
		rows = append(rows, r)
		log.Printf("%-32s %8s %6d MB", r.name, r.wall.Round(time.Millisecond), r.rssKB/1024)
		older = &r
		reset(url)
	}
	measure("apply -auto-approve (v3)", *n, "apply", "-auto-approve", campaigns)
	apply := rows[len(rows)-1]
	if older != nil {
		ratios = append(ratios, fmt.Sprintf("apply on v3 is %.2fx the older binary's on v2 (target >= 1.0x)", rate(apply)/rate(*older)))
	}
	measure("plan (all recorded)", *n, "plan", "-detailed-exitcode", campaigns)
	planAll := rows[len(rows)-1]
	// Frequency caps: a new campaign to the same numbers, planned without a cap and under
	// one that counts the million marketing messages just recorded (target <= 1.5x).
	next := filepath.Join(work, "next")
	check(writeNext(next, campaigns))
	measure("plan (new campaign, no cap)", *n, "plan", next)
	noCap := rows[len(rows)-1]
	check(os.WriteFile(filepath.Join(next, "smsform.yaml"), []byte("contact_policy:\n  marketing: {max: 2, per: 7d}\n"), 0o644))
	measure("plan (new campaign, cap 2/7d)", *n, "plan", next)
	ratios = append(ratios, fmt.Sprintf("plan under a cap counting %d recorded messages takes %.2fx the plan without (target <= 1.5x)",
		*n, rows[len(rows)-1].wall.Seconds()/noCap.wall.Seconds()))
	measure(fmt.Sprintf("convert (%d rows, %d distinct)", *n, *n/2), *n/2, "convert", events)
	measure(fmt.Sprintf("report (%d conversions)", *n/2), *n, "report")
	reset(url)

	// The same apply and plan against a PostgreSQL state on loopback, compared with SQLite's.
	var pgRatios []string
	if *pgURL != "off" {
		admin := *pgURL
		if admin == "" {
			u, stopPG, err := pgtest.Start(pgSettings)
			check(err)
			defer stopPG()
			admin = u
			log.Printf("PostgreSQL: a private cluster with %s", strings.Join(pgSettings, ", "))
		}
		pgState := newDatabase(admin)
		pgEnv := stepEnv(url, pgState)
		measurePG := func(name string, items int, args ...string) row {
			r := run(abs, pgEnv, args...)
			r.name, r.items = name, items
			rows = append(rows, r)
			log.Printf("%-32s %8s %6d MB", name, r.wall.Round(time.Millisecond), r.rssKB/1024)
			return r
		}
		run(abs, pgEnv, "init")
		pgApply := measurePG("apply -auto-approve (PostgreSQL)", *n, "apply", "-auto-approve", campaigns)
		pgPlan := measurePG("plan (all recorded, PostgreSQL)", *n, "plan", "-detailed-exitcode", campaigns)
		measurePG("report (PostgreSQL, no conversions)", *n, "report")
		pgRatios = append(pgRatios, fmt.Sprintf("PostgreSQL apply rate is %.2fx SQLite's (target >= 0.7x)", rate(pgApply)/rate(apply)),
			fmt.Sprintf("PostgreSQL plan time is %.2fx SQLite's (target <= 1.5x)", pgPlan.wall.Seconds()/planAll.wall.Seconds()))
		reset(url)
	}

	// The baselines send a part of the same list through the same sandbox; their rate is
	// what apply's is compared with.
	blAbs, err := filepath.Abs(*baselineBin)
	check(err)
	recipients := filepath.Join(campaigns, "recipients.csv")
	for _, mode := range []string{"careful", "stateless"} {
		reset(url)
		r := runCmd(blAbs, env, "-mode", mode, "-n", fmt.Sprint(*baselineN), "-csv", recipients, "-db", filepath.Join(work, "baseline.db"))
		r.name, r.items = "baseline: "+mode+" sender", *baselineN
		rows = append(rows, r)
		log.Printf("%-32s %8s %6d MB", r.name, r.wall.Round(time.Millisecond), r.rssKB/1024)
		ratios = append(ratios, fmt.Sprintf("apply is %.1fx the %s sender", rate(apply)/rate(r), mode))
	}
	batched := batchedBaseline(blAbs, env, url, recipients, *n)
	rows = append(rows, batched)
	ratios = append(ratios, fmt.Sprintf("apply is %.2fx the batched client (target >= 0.8x)", rate(apply)/rate(batched)))
	if *pairs > 0 {
		ratios = append(ratios, pairedRatio(abs, blAbs, url, work, campaigns, recipients, *n, *pairs))
	}

	growth := []growthRow{growthOf(*n, rows)}
	for _, gn := range parseNs(*growthNs) {
		reset(url)
		growth = append(growth, measureGrowth(abs, url, work, gn, *keep))
	}

	fmt.Printf("\nsmsform, %d recipients from a CSV, against the local sandbox (%d CPUs)\n", *n, runtime.NumCPU())
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\ttime\tCPU\tpeak RSS\titems/s\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.2f s\t%.2f s\t%d MB\t%.0f\t\n", r.name, r.wall.Seconds(), r.cpu.Seconds(), r.rssKB/1024, rate(r))
	}
	tw.Flush()
	fmt.Println(strings.Join(append(ratios, pgRatios...), "; ") + ".")
	printGrowth(growth)
}

// batchedBaseline sends the whole campaign as apply does, in the same batches with the same
// parallelism (apply's defaults, runner.ApplyOptions), with no state and no checks, into a
// sandbox emptied before and after.
func batchedBaseline(bin string, env []string, url, recipients string, n int) row {
	reset(url)
	defer reset(url)
	r := runCmd(bin, env, "-mode", "batched", "-n", fmt.Sprint(n), "-csv", recipients, "-batch-size", "500", "-parallelism", "4")
	r.name, r.items = "baseline: batched client", n
	log.Printf("%-32s %8s %6d MB", r.name, r.wall.Round(time.Millisecond), r.rssKB/1024)
	return r
}

// stepEnv is the environment of a step of smsform's: the sandbox at url, and the state.
func stepEnv(url, state string) []string {
	return append(os.Environ(), "INFOBIP_BASE_URL="+url, "INFOBIP_API_KEY=bench", "SMSFORM_STATE="+state)
}

// pairedRatio measures apply's ratio to the batched client in rounds of the two back to
// back, each apply into a new state of its own: the table's apply and client run minutes
// apart, over which this machine's speed drifts by more than the difference sought. Odd
// rounds run apply first, even ones the client, so that a drift within a round favours
// neither. The median of the rounds is the figure to hold against the target.
func pairedRatio(bin, baseline, url, work, campaigns, recipients string, n, rounds int) string {
	var rs []float64
	var each []string
	for i := range rounds {
		dir := filepath.Join(work, fmt.Sprintf("pair-%d", i))
		check(os.MkdirAll(dir, 0o755))
		env := stepEnv(url, filepath.Join(dir, "smsform.db"))
		run(bin, env, "init")
		var a, b row
		applyRun := func() {
			a = run(bin, env, "apply", "-auto-approve", campaigns)
			a.items = n
			reset(url)
		}
		if i%2 == 0 {
			applyRun()
			b = batchedBaseline(baseline, env, url, recipients, n)
		} else {
			b = batchedBaseline(baseline, env, url, recipients, n)
			applyRun()
		}
		check(os.RemoveAll(dir))
		r := rate(a) / rate(b)
		log.Printf("pair %d: apply %s, batched client %s: %.2fx", i+1, a.wall.Round(time.Millisecond), b.wall.Round(time.Millisecond), r)
		rs = append(rs, r)
		each = append(each, fmt.Sprintf("%.2fx", r))
	}
	slices.Sort(rs)
	median := rs[len(rs)/2]
	if len(rs)%2 == 0 {
		median = (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
	}
	return fmt.Sprintf("in %d rounds of the two back to back, apply is %.2fx the batched client (median of %s; target >= 0.8x)", rounds, median, strings.Join(each, ", "))
}

// growthSteps are the steps of the growth table, by the names the main table gives them.
var growthSteps = []string{"validate", "plan (empty state)", "apply -auto-approve (v3)", "plan (all recorded)"}

// A growthRow is the growth table's line for one campaign size: each step's wall time and
// peak RSS.
type growthRow struct {
	n     int
	steps []row
}

// growthOf picks the growth table's steps out of the main table's rows.
func growthOf(n int, rows []row) growthRow {
	g := growthRow{n: n}
	for _, name := range growthSteps {
		for _, r := range rows {
			if r.name == name {
				g.steps = append(g.steps, r)
				break
			}
		}
	}
	return g
}

// measureGrowth runs the growth table's steps on a campaign of n recipients, in a work
// directory and a state of its own, removed afterwards unless keep.
func measureGrowth(bin, url, work string, n int, keep bool) growthRow {
	dir := filepath.Join(work, fmt.Sprintf("growth-%d", n))
	campaigns := filepath.Join(dir, "campaigns")
	check(os.MkdirAll(campaigns, 0o755))
	check(writeCampaign(campaigns, n))
	env := stepEnv(url, filepath.Join(dir, "smsform.db"))
	run(bin, env, "init")
	g := growthRow{n: n}
	for i, args := range [][]string{{"validate", campaigns}, {"plan", campaigns}, {"apply", "-auto-approve", campaigns}, {"plan", "-detailed-exitcode", campaigns}} {
		r := run(bin, env, args...)
		r.name, r.items = growthSteps[i], n
		log.Printf("%-32s %8s %6d MB", fmt.Sprintf("%s (%d)", r.name, n), r.wall.Round(time.Millisecond), r.rssKB/1024)
		g.steps = append(g.steps, r)
	}
	if !keep {
		check(os.RemoveAll(dir))
	}
	return g
}

func printGrowth(rows []growthRow) {
	fmt.Printf("\ngrowth: wall time and peak RSS per step and campaign size\n")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "recipients\tvalidate\tplan\tapply\tre-plan\t")
	for _, g := range rows {
		fmt.Fprintf(tw, "%d\t", g.n)
		for _, r := range g.steps {
			fmt.Fprintf(tw, "%.2f s, %d MB\t", r.wall.Seconds(), r.rssKB/1024)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// parseNs reads a list of recipient counts separated by spaces or commas.
func parseNs(s string) []int {
	var ns []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			log.Fatalf("-growth: %q is not a number of recipients", f)
		}
		ns = append(ns, n)
	}
	return ns
}

// pgSettings are the server settings of the private cluster the bench starts: the defaults
// of PostgreSQL 15, durable (fsync and synchronous_commit on, as smsform requires), with
// more shared memory and WAL between checkpoints than the tiny defaults, as any server
// holding a million-row state would have.
var pgSettings = []string{"shared_buffers=256MB", "max_wal_size=4GB", "checkpoint_timeout=15min", "fsync=on", "synchronous_commit=on"}

// newDatabase creates a database for the bench's state and returns its URL.
func newDatabase(admin string) string {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	check(err)
	defer conn.Close(ctx)
	name := fmt.Sprintf("smsform_bench_%d", os.Getpid())
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	check(err)
	u, err := url.Parse(admin)
	check(err)
	u.Path = "/" + name
	return u.String()
}

func rate(r row) float64 { return float64(r.items) / r.wall.Seconds() }

// reset empties the sandbox, so each step's sends start from the same memory.
func reset(url string) {
	req, _ := http.NewRequest(http.MethodDelete, url+"/sandbox/messages", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// writeEvents writes n conversion events, two for each of the first n/2 recipients.
func writeEvents(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "event,campaign,phone")
	for i := range n {
		j := i / 2
		fmt.Fprintf(w, "code_used,bench,+417%d%07d\n", 5+j/10_000_000%5, j%10_000_000)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

type row struct {
	name  string
	items int
	wall  time.Duration
	cpu   time.Duration // the step's own user and system time (not the sandbox's or a server's)
	rssKB int64
}

// run runs one step as a child process and reads its peak RSS from the kernel's rusage.
func run(bin string, env []string, args ...string) row { return runCmd(bin, env, args...) }

func runCmd(bin string, env []string, args ...string) row {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if code := cmd.ProcessState.ExitCode(); err != nil && code != 2 {
		log.Fatalf("smsform %s: %v\n%s", strings.Join(args, " "), err, tail(out.String()))
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return row{wall: wall, cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), rssKB: ru.Maxrss}
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

func startSandbox(bin, work string) (string, func()) {
	logf := filepath.Join(work, "sandbox.log")
	f, err := os.Create(logf)
	check(err)
	cmd := exec.Command(bin, "sandbox", "-listen", "127.0.0.1:0", "-delivery-delay", "0s")
	cmd.Stdout, cmd.Stderr = f, f
	check(cmd.Start())
	re := regexp.MustCompile(`listening on (http://\S+)`)
	for range 100 {
		data, _ := os.ReadFile(logf)
		if m := re.FindSubmatch(data); m != nil {
			return string(m[1]), func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	log.Fatal("the sandbox did not start")
	return "", nil
}

// writeCampaign writes a personalised campaign with n distinct valid Swiss mobile numbers.
func writeCampaign(dir string, n int) error {
	f, err := os.Create(filepath.Join(dir, "recipients.csv"))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "to,name,code")
	for i := range n {
		// +41 75..79 and 7 digits: 5M valid mobile numbers.
		fmt.Fprintf(w, "+417%d%07d,Name%d,C%06d\n", 5+i/10_000_000%5, i%10_000_000, i, i%1_000_000)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	yaml := `id: bench
from: InfoSMS
text: "Hi {{.name}}, your code is {{.code}}."
tracking: {track: SMS, type: Bench}
destinations_file: recipients.csv
`
	return os.WriteFile(filepath.Join(dir, "bench.yaml"), []byte(yaml), 0o644)
}

// writeNext writes, in dir, a second marketing campaign to the recipients of the campaign
// in campaigns (its CSV linked, not copied).
func writeNext(dir, campaigns string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Link(filepath.Join(campaigns, "recipients.csv"), filepath.Join(dir, "recipients.csv")); err != nil {
		return err
	}
	yaml := `id: next
from: InfoSMS
text: "Hi {{.name}}, our next offer: {{.code}}."
destinations_file: recipients.csv
`
	return os.WriteFile(filepath.Join(dir, "next.yaml"), []byte(yaml), 0o644)
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
