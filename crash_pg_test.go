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

	"github.com/smsform/smsform/internal/pgtest"
	"github.com/smsform/smsform/internal/sandbox"
)

// TestKillApplyPostgres is the kill test against a PostgreSQL state: apply is killed with
// SIGKILL at random moments and rerun until done, round after round. Every message must be
// accepted exactly once, and the final plan be empty. (Self-contained: crash_test.go's
// helpers belong to the SQLite kill test.)
func TestKillApplyPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes for a few seconds")
	}
	for _, lag := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprintf("logs-lag=%s", lag), func(t *testing.T) { killApplyPostgres(t, lag) })
	}
}

func killApplyPostgres(t *testing.T, logsLag time.Duration) {
	const recipients, rounds = 300, 12
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	srv := sandbox.New(sandbox.Options{Latency: 2 * time.Millisecond, LogsLag: logsLag})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	dir := t.TempDir()
	env := append(os.Environ(), "INFOBIP_BASE_URL="+hs.URL, "INFOBIP_API_KEY=k", "SMSFORM_STATE="+pgtest.NewDatabase(t))
	ctx := context.Background()
	run := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "smsform", args...)
		cmd.Env = env
		return cmd
	}
	write := func(round int) {
		var csv strings.Builder
		csv.WriteString("to,name\n")
		for i := range recipients {
			fmt.Fprintf(&csv, "+4179%07d,n%d\n", 2000000+i, i)
		}
		yaml := fmt.Sprintf("id: killpg\nround: %d\nfrom: InfoSMS\ntext: \"Hi {{.name}}, round %d\"\ndestinations_file: people.csv\n", round, round)
		for name, data := range map[string]string{"people.csv": csv.String(), "c.yaml": yaml} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if out, err := run("init").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	apply := func() *exec.Cmd {
		return run("apply", "-auto-approve", "-batch-size", "5", "-parallelism", "4", "-unknown-grace", "0s", "-lock-timeout", "30s", dir)
	}
	write(1)
	start := time.Now()
	if out, err := apply().CombinedOutput(); err != nil {
		t.Fatalf("round 1: %v\n%s", err, out)
	}
	full := time.Since(start)

	kills := 0
	for round := 2; round <= rounds; round++ {
		write(round)
		for attempt := 0; ; attempt++ {
			cmd := apply()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if attempt < 2 { // kill the first two runs of each round at a random moment
				time.Sleep(time.Duration(rng.Int64N(int64(full) * 4 / 5)))
				cmd.Process.Kill()
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			switch {
			case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled():
				kills++
				continue
			case err == nil:
			case errors.As(err, &ee) && ee.ExitCode() == 3: // unknown outcomes left for the next run
				continue
			default:
				t.Fatalf("round %d: apply exited %v", round, err)
			}
			break
		}
	}
	if out, err := run("plan", "-detailed-exitcode", dir).CombinedOutput(); err != nil {
		t.Fatalf("final plan: %v\n%s", err, out)
	}
	seen := map[string]int{}
	for _, r := range srv.Received() {
		seen[r.To+" "+r.Text]++
	}
	for msg, n := range seen {
		if n != 1 {
			t.Errorf("%q accepted %d times", msg, n)
		}
	}
	if len(seen) != recipients*rounds {
		t.Errorf("%d distinct messages accepted, want %d", len(seen), recipients*rounds)
	}
	st := srv.Stats()
	t.Logf("full apply %s; %d rounds, %d SIGKILLs, %d accepted, %d duplicate messageIds refused (status 23)",
		full.Round(time.Millisecond), rounds, kills, len(seen), st.Duplicates)
	if kills < 10 {
		t.Errorf("only %d runs were killed; the test proves little", kills)
	}
}
