package main

import (
	"context"
	"encoding/json"
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

// smsform runs the real binary (see realBin) with env.
func smsform(t *testing.T, ctx context.Context, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(ctx, realBin(t), args...)
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
// round, told apart by the text) delivered exactly once, and no messageId delivered a second
// time (the sandbox behaves like a default account: a repeat reaches the phone again). It
// returns how many were accepted.
func checkExactlyOnce(t *testing.T, srv *sandbox.Server, perRound, rounds int) int {
	t.Helper()
	seen := map[string]int{}
	for _, r := range srv.Received() {
		seen[r.To+" "+r.Text]++
	}
	for msg, c := range seen {
		if c != 1 {
			t.Errorf("%q delivered %d times", msg, c)
		}
	}
	if len(seen) != perRound*rounds {
		t.Errorf("%d distinct messages accepted, want %d", len(seen), perRound*rounds)
	}
	if st := srv.Stats(); st.DoubleSends != 0 || len(st.DeliveriesPerPhone) != 0 {
		t.Errorf("%d double sends; deliveries of the phones concerned: %v", st.DoubleSends, st.DeliveriesPerPhone)
	}
	return len(seen)
}

// decideLikeAPerson settles every message of unknown outcome the way a person does after
// looking at Infobip's portal (here: what the sandbox accepted): `state resolve -as sent` for
// those Infobip has, `-as unsent` for the others. It returns how many it decided, and the
// messageIds decided unsent (which the next apply may send again).
func decideLikeAPerson(t *testing.T, ctx context.Context, env []string, srv *sandbox.Server) (int, []string) {
	t.Helper()
	for _, kv := range env {
		if path, ok := strings.CutPrefix(kv, "SMSFORM_STATE="); ok && !strings.Contains(path, "://") {
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				return 0, nil // nothing was recorded yet
			}
		}
	}
	out, err := smsform(t, ctx, env, "state", "list", "-json", "-only", "unknown", "-limit", "0").Output()
	if err != nil {
		t.Fatalf("state list: %v", err)
	}
	var list struct {
		Messages []struct {
			MessageID string `json:"message_id"`
		} `json:"messages"`
	}
	must(t, json.Unmarshal(out, &list))
	msgs := list.Messages
	accepted := map[string]bool{}
	for _, r := range srv.Received() {
		accepted[r.MessageID] = true
	}
	var sent, unsent []string
	for _, m := range msgs {
		if accepted[m.MessageID] {
			sent = append(sent, m.MessageID)
		} else {
			unsent = append(unsent, m.MessageID)
		}
	}
	for as, ids := range map[string][]string{"sent": sent, "unsent": unsent} {
		if len(ids) == 0 {
			continue
		}
		args := append([]string{"state", "resolve", "-as", as, "-by", "test"}, ids...)
		if out, err := smsform(t, ctx, env, args...).CombinedOutput(); err != nil {
			t.Fatalf("state resolve -as %s: %v\n%s", as, err, out)
		}
	}
	return len(msgs), unsent
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
// after round, against a sandbox that behaves like a default Infobip account (a repeated
// messageId is delivered again): every message must be delivered exactly once, and the final
// plan be empty.
func TestKillApply(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes for a few seconds")
	}
	t.Parallel()
	for _, tc := range []struct {
		lag    time.Duration
		window time.Duration
	}{
		// Not declared idempotent: nothing resends an unknown. With the logs answering at
		// once, the next apply finds what was accepted; what never left waits for a person.
		{0, 0},
		// The logs lag an hour: the unknowns stay unknown (exit 3) until the lag ends.
		{time.Hour, 0},
		// Declared and enabled on both sides: unknowns are resent with the same messageId
		// at once (grace 0) and the account drops the copies of those that went through.
		{time.Hour, 24 * time.Hour},
	} {
		t.Run(fmt.Sprintf("logs-lag=%s,idempotency-window=%s", tc.lag, tc.window), func(t *testing.T) {
			t.Parallel()
			killApply(t, tc.lag, tc.window, "", 22)
		})
	}
}

// killApply runs the kill test: rounds of 500 recipients, the first two runs of each
// SIGKILLed at random moments, against a state at stateURL (empty: a SQLite file).
func killApply(t *testing.T, logsLag, window time.Duration, stateURL string, rounds int) {
	const recipients = 500
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	faults := sandbox.Faults{Latency: 2 * time.Millisecond, LogsLag: logsLag}
	srv := sandbox.New(sandbox.Options{Latency: faults.Latency, LogsLag: logsLag, IdempotencyWindow: window})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	dir := t.TempDir()
	if stateURL == "" {
		stateURL = filepath.Join(dir, "st.db")
	}
	env := []string{"INFOBIP_BASE_URL=" + hs.URL, "INFOBIP_API_KEY=k", "SMSFORM_STATE=" + stateURL}
	if window > 0 {
		env = append(env, "INFOBIP_IDEMPOTENCY_WINDOW="+window.String())
	}
	ctx := context.Background()
	if out, err := smsform(t, ctx, env, "init").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	// Grace 0: where a resend is allowed at all, a message missing from the logs is resent at
	// once (same messageId), the harshest setting for duplicates.
	apply := func() *exec.Cmd {
		return smsform(t, ctx, env, "apply", "-auto-approve", "-batch-size", "5", "-parallelism", "4", "-unknown-grace", "0s", dir)
	}

	// Round 1 runs undisturbed, to learn how long a whole apply takes here.
	writeCampaign(t, dir, recipients, 1)
	start := time.Now()
	if out, err := apply().CombinedOutput(); err != nil {
		t.Fatalf("round 1: %v\n%s", err, out)
	}
	full := time.Since(start)

	kills, reruns, waited, decided := 0, 0, 0, 0
	// midSend counts the kills that landed after the run had sent its first request: in the
	// middle of its batches, not while it was starting.
	midSend := 0
	for round := 2; round <= rounds; round++ {
		writeCampaign(t, dir, recipients, round)
		srv.SetFaults(faults)
		lagEnded := false
		killsHere := 0
		for attempt := 0; ; attempt++ {
			if attempt == 40 {
				t.Fatalf("round %d: apply did not finish in 40 runs", round)
			}
			cmd := apply()
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			began := time.Now()
			sentBefore := srv.Stats().Requests[sandbox.EndpointSend]
			must(t, cmd.Start())
			// Kill two runs of each round at a random moment (a run that ends before its
			// moment does not count; four tries at most).
			sending := false
			if killsHere < 2 && attempt < 4 {
				time.Sleep(time.Duration(rng.Int64N(int64(full) * 4 / 5)))
				sending = srv.Stats().Requests[sandbox.EndpointSend] > sentBefore
				cmd.Process.Kill()
			}
			err := cmd.Wait()
			switch {
			case killed(err):
				kills++
				killsHere++
				if sending {
					midSend++
				}
				continue
			case err == nil:
				if attempt == 0 {
					full = time.Since(began) // a whole round, undisturbed: how long one takes now
				}
			case exitCodeOf(err) == 3: // unknown outcomes left
				waited++
				if window > 0 {
					continue // the next run resends them, same messageId
				}
				if !strings.Contains(out.String(), "Nothing resends them automatically") {
					t.Fatalf("round %d: exit 3 without saying why:\n%s", round, out.String())
				}
				if logsLag > 0 && !lagEnded {
					// They stayed unknown while the logs lagged; now the lag ends.
					srv.SetFaults(sandbox.Faults{Latency: faults.Latency})
					lagEnded = true
					continue
				}
				// What the logs cannot show (never sent: killed between recording and
				// sending) waits for a person.
				n, _ := decideLikeAPerson(t, ctx, env, srv)
				if n == 0 && attempt > 20 {
					t.Fatalf("round %d: exit 3 with nothing to decide:\n%s", round, out.String())
				}
				decided += n
				continue
			default:
				t.Fatalf("round %d: apply exited %v\n%s", round, err, out.String())
			}
			if attempt >= 2 {
				reruns++
			}
			break
		}
	}
	out, err := smsform(t, ctx, env, "plan", "-detailed-exitcode", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("final plan: %v\n%s", err, out)
	}
	accepted := checkExactlyOnce(t, srv, recipients, rounds)
	st := srv.Stats()
	t.Logf("full apply %s; %d rounds, %d SIGKILLs (%d after the run had begun sending), %d runs ended exit 3, %d messages decided by hand, %d accepted, %d double sends, %d duplicate messageIds refused (status 23), %d send requests",
		full.Round(time.Millisecond), rounds, kills, midSend, waited, decided, accepted, st.DoubleSends, st.Duplicates, st.Requests[sandbox.EndpointSend])
	if kills < rounds-2 {
		t.Errorf("only %d runs were killed; the test proves little", kills)
	}
	if midSend < rounds/4 {
		t.Errorf("only %d of %d SIGKILLs landed after the run had begun sending; the test proves little", midSend, kills)
	}
}
