package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/smsform/smsform/internal/pgtest"
)

// cmdPGDB creates an empty database on the test server (see internal/pgtest) and sets VAR
// to its URL and VARDBNAME to its name: pgdb VAR.
func cmdPGDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pgdb VAR")
	}
	u := pgtest.NewDatabase(scriptT{ts})
	ts.Setenv(args[0], u)
	// VARDBNAME: the database's name, for GRANTs.
	ts.Setenv(args[0]+"DBNAME", u[strings.LastIndex(u, "/")+1:strings.Index(u+"?", "?")])
}

// cmdPGSQL runs statements on the database VAR names, as its owner, with ${NAME} in them
// replaced from the script's environment: pgsql VAR SQL...
func cmdPGSQL(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: pgsql VAR SQL...")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ts.Getenv(args[0]))
	ts.Check(err)
	defer conn.Close(ctx)
	for _, q := range args[1:] {
		q = os.Expand(q, ts.Getenv)
		_, err := conn.Exec(ctx, q)
		if (err != nil) != neg {
			ts.Fatalf("%s: %v", q, err)
		}
	}
}

// cmdPGWaitHolder waits up to 10s until the holder of the state's lock is COMMAND:
// pgwaitholder VAR COMMAND.
func cmdPGWaitHolder(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: pgwaitholder VAR COMMAND")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ts.Getenv(args[0]))
	ts.Check(err)
	defer conn.Close(ctx)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var cmd string
		if conn.QueryRow(ctx, "SELECT command FROM lock_holder WHERE id = 1").Scan(&cmd) == nil && cmd == args[1] {
			return
		}
	}
	ts.Fatalf("no %s held the lock of %s within 10s", args[1], ts.Getenv(args[0]))
}

// cmdSentOnce asserts that the sandbox accepted N distinct messages (number and text), each
// exactly once: sentonce N.
func cmdSentOnce(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sentonce N")
	}
	seen := map[string]int{}
	for _, r := range ts.Value(sandboxKey{}).(*sandboxes).server(ts).Received() {
		seen[r.To+" "+r.Text]++
	}
	var twice []string
	for m, n := range seen {
		if n != 1 {
			twice = append(twice, fmt.Sprintf("%q %d times", m, n))
		}
	}
	if len(twice) > 0 {
		ts.Fatalf("accepted more than once: %s", strings.Join(twice, ", "))
	}
	if fmt.Sprint(len(seen)) != args[0] {
		ts.Fatalf("%d distinct messages accepted, want %s", len(seen), args[0])
	}
}

// scriptT lets pgtest report through a script.
type scriptT struct{ ts *testscript.TestScript }

func (s scriptT) Helper()                        {}
func (s scriptT) Fatalf(format string, a ...any) { s.ts.Fatalf(format, a...) }
func (s scriptT) Cleanup(f func())               { s.ts.Defer(f) }

// cmdPGURL sets NEWVAR to the URL in VAR with another user and password:
// pgurl VAR NEWVAR USER [PASSWORD].
func cmdPGURL(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 || len(args) > 4 {
		ts.Fatalf("usage: pgurl VAR NEWVAR USER [PASSWORD]")
	}
	pw := ""
	if len(args) == 4 {
		pw = args[3]
	}
	ts.Setenv(args[1], pgtest.WithUser(ts.Getenv(args[0]), args[2], pw))
}

// cmdSandboxWait waits up to 10s until the sandbox has accepted at least N messages:
// sandboxwait N (to act in the middle of an apply, not before it sent anything).
func cmdSandboxWait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sandboxwait N")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	sb := ts.Value(sandboxKey{}).(*sandboxes).server(ts)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if len(sb.Received()) >= n {
			return
		}
	}
	ts.Fatalf("the sandbox accepted %d messages within 10s, want at least %d", len(sb.Received()), n)
}
