package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smsform/smsform/internal/sandbox"
)

// writeCampaign writes a campaign of n recipients (a CSV) into dir, for a round.
func writeCampaign(t *testing.T, dir string, n, round int) {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("to,name\n")
	for i := range n {
		fmt.Fprintf(&csv, "+4179%07d,n%d\n", 1000000+i, i)
	}
	must(t, os.WriteFile(filepath.Join(dir, "people.csv"), []byte(csv.String()), 0o644))
	yaml := fmt.Sprintf("id: kill\nround: %d\nfrom: InfoSMS\ntext: \"Hi {{.name}}, round %d\"\ndestinations_file: people.csv\n", round, round)
	must(t, os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(yaml), 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// smsform runs the CLI (the test binary under the name smsform, see TestMain) with env.
func smsform(ctx context.Context, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "smsform", args...)
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func exitCodeOf(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// checkExactlyOnce asserts the invariant users buy smsform for: every message (number and
// round, told apart by the text) accepted by the API exactly once; repeats only ever as
// status-23 rejections. It returns how many were accepted.
func checkExactlyOnce(t *testing.T, srv *sandbox.Server, perRound, rounds int) int {
	t.Helper()
	seen := map[string]int{}
	for _, r := range srv.Received() {
		seen[r.To+" "+r.Text]++
	}
	for msg, c := range seen {
		if c != 1 {
			t.Errorf("%q accepted %d times", msg, c)
		}
	}
	if len(seen) != perRound*rounds {
		t.Errorf("%d distinct messages accepted, want %d", len(seen), perRound*rounds)
	}
	return len(seen)
}

// killed reports whether a command ended by SIGKILL.
func killed(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// TestKillApply kills apply with SIGKILL at random moments, then reruns it until done, round
// after round: every message must be accepted exactly once, and the final plan be empty.
func TestKillApply(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes for a few seconds")
	}
	// With the logs lagging, reconciliation never finds the messages in flight at the kill:
	// they are resent with the same messageId, and only Infobip's duplicate check (status 23)
	// stands between the user and a double send.
	for _, lag := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprintf("logs-lag=%s", lag), func(t *testing.T) { killApply(t, lag) })
	}
}

func killApply(t *testing.T, logsLag time.Duration) {
	const recipients, rounds = 500, 22
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	srv := sandbox.New(sandbox.Options{Latency: 2 * time.Millisecond, LogsLag: logsLag})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	dir := t.TempDir()
	env := []string{"INFOBIP_BASE_URL=" + hs.URL, "INFOBIP_API_KEY=k", "SMSFORM_STATE=" + filepath.Join(dir, "st.db")}
	ctx := context.Background()
	if out, err := smsform(ctx, env, "init").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	// Grace 0: a message missing from the logs is resent at once (same messageId), the
	// harshest setting for duplicates.
	apply := func() *exec.Cmd {
		return smsform(ctx, env, "apply", "-auto-approve", "-batch-size", "5", "-parallelism", "4", "-unknown-grace", "0s", dir)
	}

	// Round 1 runs undisturbed, to learn how long a whole apply takes here.
	writeCampaign(t, dir, recipients, 1)
	start := time.Now()
	if out, err := apply().CombinedOutput(); err != nil {
		t.Fatalf("round 1: %v\n%s", err, out)
	}
	full := time.Since(start)

	kills, reruns := 0, 0
	for round := 2; round <= rounds; round++ {
		writeCampaign(t, dir, recipients, round)
		for attempt := 0; ; attempt++ {
			cmd := apply()
			must(t, cmd.Start())
			if attempt < 2 { // kill the first two runs of each round at a random moment
				time.Sleep(time.Duration(rng.Int64N(int64(full) * 4 / 5)))
				cmd.Process.Kill()
			}
			err := cmd.Wait()
			switch {
			case killed(err):
				kills++
				continue
			case err == nil:
			case exitCodeOf(err) == 3: // unknown outcomes left for the next run
				continue
			default:
				t.Fatalf("round %d: apply exited %v", round, err)
			}
			if attempt >= 2 {
				reruns++
			}
			break
		}
	}
	out, err := smsform(ctx, env, "plan", "-detailed-exitcode", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("final plan: %v\n%s", err, out)
	}
	accepted := checkExactlyOnce(t, srv, recipients, rounds)
	st := srv.Stats()
	t.Logf("full apply %s; %d rounds, %d SIGKILLs, %d messages accepted (%d duplicates accepted), %d duplicate messageIds refused (status 23), %d send requests",
		full.Round(time.Millisecond), rounds, kills, accepted, st.Accepted-accepted, st.Duplicates, st.Requests[sandbox.EndpointSend])
	if kills < 20 {
		t.Errorf("only %d runs were killed; the test proves little", kills)
	}
}
