package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsform/smsform/internal/infobip"
	"github.com/smsform/smsform/internal/sandbox"
)

// attemptLog sits in front of the sandbox and remembers every send attempt of every
// messageId, with the step of the test it happened in and whether the API answered 429
// (which proves the attempt did nothing).
type attemptLog struct {
	next http.Handler
	mu   sync.Mutex
	step int
	byID map[string][]attempt
}

type attempt struct {
	step    int
	refused bool // answered 429: nothing was done
}

func (l *attemptLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != infobip.PathMessages {
		l.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	l.next.ServeHTTP(rec, r)
	var req infobip.MessagesRequest
	if json.Unmarshal(body, &req) != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range req.Messages {
		for _, d := range m.Destinations {
			l.byID[d.MessageID] = append(l.byID[d.MessageID], attempt{step: l.step, refused: rec.status == http.StatusTooManyRequests})
		}
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// Hijack lets the sandbox drop connections through the recorder.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return s.ResponseWriter.(http.Hijacker).Hijack()
}

// TestRandomFaults drives random sequences of apply (sometimes killed), refresh, people's
// decisions and API faults against a sandbox that behaves like a default Infobip account (a
// repeated messageId is delivered again), and checks the invariants after every step: no
// (campaign, round, number) delivered twice; no messageId sent again unless allowed (on a
// default account: only after a person decided it unsent; declared idempotent: only by an
// apply with a zero grace); and at the end, once the API heals, every message sent and in
// exactly one final state. It runs with idempotency off, and with a 24h window on both sides.
func TestRandomFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs many processes")
	}
	t.Parallel()
	for _, window := range []time.Duration{0, 24 * time.Hour} {
		t.Run(fmt.Sprintf("idempotency-window=%s", window), func(t *testing.T) {
			t.Parallel()
			randomFaults(t, window)
		})
	}
}

func randomFaults(t *testing.T, window time.Duration) {
	const recipients, steps = 150, 36
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (a failure reproduces with the same seed)", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	sb := sandbox.New(sandbox.Options{Latency: time.Millisecond, Rand: rand.New(rand.NewPCG(seed, 3)), IdempotencyWindow: window})
	log := &attemptLog{next: sb, byID: map[string][]attempt{}}
	hs := httptest.NewServer(log)
	defer hs.Close()
	dir := t.TempDir()
	writeCampaign(t, dir, recipients, 1)
	env := []string{"INFOBIP_BASE_URL=" + hs.URL, "INFOBIP_API_KEY=k", "SMSFORM_STATE=" + filepath.Join(dir, "st.db")}
	if window > 0 {
		env = append(env, "INFOBIP_IDEMPOTENCY_WINDOW="+window.String())
	}
	ctx := context.Background()
	if out, err := smsform(t, ctx, env, "init").CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}

	allowed := map[int]bool{}   // steps in which any messageId may be sent again
	decided := map[string]int{} // messageId -> decisions "unsent": each allows one resend
	round := 1
	pick := func(xs ...float64) float64 { return xs[rng.IntN(len(xs))] }
	for step := 1; step <= steps; step++ {
		log.mu.Lock()
		log.step = step
		log.mu.Unlock()
		var desc string
		switch rng.IntN(6) {
		case 4:
			round++
			writeCampaign(t, dir, recipients, round)
			desc = fmt.Sprintf("round %d", round)
		case 0:
			f := sandbox.Faults{Latency: time.Millisecond, DropRate: pick(0, 0.2, 0.5), ErrorRate: pick(0, 0.2, 0.5), TooManyRate: pick(0, 0, 0.1)}
			if rng.IntN(2) == 0 {
				f.LogsLag = time.Hour
			}
			sb.SetFaults(f)
			desc = fmt.Sprintf("faults %+v", f)
		case 1:
			out, err := smsform(t, ctx, env, "refresh", "-unknown-grace", "1h").CombinedOutput()
			if c := exitCodeOf(err); c != 0 && c != 3 {
				t.Fatalf("step %d refresh: %v\n%s", step, err, out)
			}
			desc = "refresh"
		case 5:
			// A person looks at Infobip's portal and decides the unknowns; the next apply
			// may send those decided unsent again.
			n, unsent := decideLikeAPerson(t, ctx, env, sb)
			for _, id := range unsent {
				decided[id]++
			}
			desc = fmt.Sprintf("a person decided %d unknown outcomes", n)
		default:
			grace := "1h"
			if rng.IntN(3) == 0 {
				grace = "0s"
				if window > 0 {
					allowed[step] = true
				}
			}
			cmd := smsform(t, ctx, env, "apply", "-auto-approve", "-batch-size", "10", "-unknown-grace", grace, dir)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			must(t, cmd.Start())
			kill := rng.IntN(2) == 0
			if kill {
				time.Sleep(time.Duration(rng.IntN(80)) * time.Millisecond)
				cmd.Process.Kill()
			}
			err := cmd.Wait()
			if c := exitCodeOf(err); !killed(err) && c != 0 && c != 3 && c != 1 {
				t.Fatalf("step %d apply: %v\n%s", step, err, out.String())
			}
			desc = fmt.Sprintf("apply grace=%s kill=%v: %v", grace, kill, err)
		}
		t.Logf("step %d: %s", step, desc)
		checkInvariants(t, sb, log, allowed, decided)
	}

	// Heal the API; everything must end sent, exactly once. What the logs cannot show (never
	// sent) waits for a person on a default account.
	sb.SetFaults(sandbox.Faults{})
	for rerun := 0; ; rerun++ {
		out, err := smsform(t, ctx, env, "apply", "-auto-approve", "-unknown-grace", "0s", dir).CombinedOutput()
		if err == nil {
			break
		}
		if rerun == 5 {
			t.Fatalf("apply not done after healing: %v\n%s", err, out)
		}
		if exitCodeOf(err) == 3 && window == 0 {
			decideLikeAPerson(t, ctx, env, sb)
		}
	}
	// The current round is complete: each of its recipients accepted exactly once.
	current := 0
	for _, r := range sb.Received() {
		if strings.HasSuffix(r.Text, fmt.Sprintf(", round %d", round)) {
			current++
		}
	}
	if current != recipients {
		t.Errorf("round %d: %d messages accepted, want %d", round, current, recipients)
	}
	// Every message ends in exactly one final state, and "sent" is never a guess.
	accepted := map[string]bool{}
	for _, r := range sb.Received() {
		accepted[r.MessageID] = true
	}
	out, err := smsform(t, ctx, env, "state", "list", "-json", "-limit", "0").Output()
	must(t, err)
	var list struct {
		Messages []struct {
			State     string `json:"state"`
			MessageID string `json:"message_id"`
			Error     string `json:"error"`
		} `json:"messages"`
	}
	must(t, json.Unmarshal(out, &list))
	msgs := list.Messages
	states := map[string]int{}
	for _, m := range msgs {
		states[m.State]++
		switch m.State {
		case "sent":
			if !accepted[m.MessageID] {
				t.Errorf("%s recorded sent, but the API never accepted it", m.MessageID)
			}
		case "abandoned": // only messages of rounds left behind with an unknown outcome
			if !strings.Contains(m.Error, "no longer in the files") {
				t.Errorf("%s abandoned: %s", m.MessageID, m.Error)
			}
		case "unknown": // of a round no longer in the files, waiting for a person
			if window == 0 && accepted[m.MessageID] {
				t.Errorf("%s unknown, but the logs show it", m.MessageID)
			}
		default:
			t.Errorf("%s ended %q", m.MessageID, m.State)
		}
	}
	st := sb.Stats()
	if st.DoubleSends != 0 {
		t.Errorf("%d double sends: %v", st.DoubleSends, st.DeliveriesPerPhone)
	}
	t.Logf("%d steps, %d rounds: %d accepted, %d double sends, %d status-23 refusals, final states %v, faults %v", steps, round, st.Accepted, st.DoubleSends, st.Duplicates, states, st.Faults)
}

func checkInvariants(t *testing.T, sb *sandbox.Server, log *attemptLog, allowed map[int]bool, decided map[string]int) {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range sb.Received() {
		key := r.To + " " + r.Text // the text names the round
		if seen[key] {
			t.Fatalf("%q delivered twice", key)
		}
		seen[key] = true
	}
	if st := sb.Stats(); st.DoubleSends != 0 {
		t.Fatalf("%d double sends: %v", st.DoubleSends, st.DeliveriesPerPhone)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for id, as := range log.byID {
		tries := 0
		for _, a := range as {
			if a.refused || allowed[a.step] {
				continue // a 429 did nothing; a declared window allowed the resend
			}
			if tries++; tries > 1+decided[id] {
				t.Fatalf("messageId %s sent again at step %d, with %d attempts and %d decisions \"unsent\"", id, a.step, tries, decided[id])
			}
		}
	}
}
