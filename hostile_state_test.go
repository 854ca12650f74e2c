package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/smsform/smsform/internal/pgtest"
)

// The attacks of this file are on the state and on the URLs smsform is given (issue:
// untrusted pull requests, part C): a state file that is not a state (empty, another file, a
// symlink planted in the repository, where the default ./smsform.db lives), and credentials
// in INFOBIP_BASE_URL or a state URL that an error, a message or a saved plan would print.

// stateCampaign is one campaign with one recipient: what an apply against a state that is
// not the real one would send again.
const stateCampaign = "id: c1\nfrom: InfoSMS\ntext: Hi\ndestinations: [{to: \"+41793026731\"}]\n"

// stateRun is what one run of the binary printed and how it exited.
type stateRun struct {
	stdout, stderr string
	code           int
}

// stateSecretEnv is the environment of every run: the secret marker wherever a credential
// could be (the Infobip key and password, PostgreSQL's password variables), as in CI.
func stateSecretEnv() []string {
	return append(os.Environ(),
		"INFOBIP_API_KEY="+secretMarker, "INFOBIP_USERNAME=user", "INFOBIP_PASSWORD="+secretMarker,
		"PGPASSWORD="+secretMarker, "PGSSLPASSWORD="+secretMarker,
		"INFOBIP_BASE_URL=https://user:"+secretMarker+"@example.com", "SMSFORM_STATE=")
}

// runStateAttack runs the binary in dir with args and the secret environment (extra
// variables override it), and checks what every run must hold: it ends in time, prints no
// secret marker, no line a CI log runs as a command, no raw control character, and a bounded
// amount of output.
func runStateAttack(t *testing.T, bin, dir string, extra []string, args ...string) stateRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hostileTimeout)
	defer cancel()
	cmd := measuredCommand(t, ctx, filepath.Join(t.TempDir(), "rss"), bin, args...)
	cmd.Dir = dir
	cmd.Env = append(stateSecretEnv(), extra...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("smsform %s: still running after %s (a hang)", strings.Join(args, " "), hostileTimeout)
	}
	r := stateRun{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("smsform %s: %v", strings.Join(args, " "), err)
	}
	out := r.stdout + r.stderr
	if strings.Contains(out, secretMarker) {
		t.Errorf("smsform %s: the secret marker is in the output:\n%s", strings.Join(args, " "), clip(out))
	}
	if m := regexp.MustCompile(`(?m)^\s*::`).FindString(out); m != "" {
		t.Errorf("a line of output starts with %q, which a CI log runs as a command:\n%s", m, clip(out))
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("raw control characters in the output:\n%q", clip(out))
	}
	if len(out) > 64<<10 {
		t.Errorf("%d bytes of output; an error should not echo its input", len(out))
	}
	return r
}

// wantStateExit checks a run's exit code and that its error output matches re.
func wantStateExit(t *testing.T, r stateRun, code int, re string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, clip(r.stdout), clip(r.stderr))
	}
	if !regexp.MustCompile(re).MatchString(r.stderr) {
		t.Errorf("stderr does not match %s:\n%s", re, clip(r.stderr))
	}
}

// fileSum is a file's content digest, or "" when it cannot be read: to prove a run left a
// file as it was.
func fileSum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return string(sum[:])
}

// wantUntouched checks that path still has the content and mode it had before.
func wantUntouched(t *testing.T, path, sum string, mode os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if got := fileSum(t, path); got != sum {
		t.Errorf("%s was written", path)
	}
	if info.Mode().Perm() != mode {
		t.Errorf("%s has mode %04o, was %04o", path, info.Mode().Perm(), mode)
	}
}

// wantNoSideFiles checks that no SQLite side file appeared beside path: nothing opened it
// for writing.
func wantNoSideFiles(t *testing.T, path string) {
	t.Helper()
	for _, p := range []string{path + "-wal", path + "-shm", path + "-journal"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created: the file was opened as a database", filepath.Base(p))
		}
	}
}

// countingAPI is a stand-in for Infobip that counts the requests it gets and accepts none.
func countingAPI(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, `{"requestError":{"serviceException":{"messageId":"x","text":"no"}}}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// newSQLite writes a SQLite database at path holding the statements' tables: a database of
// another application.
func newSQLite(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHostileStateFile: a state file that is not a state is refused by every command but
// init, which refuses it too unless it is empty or a blank database; nothing is sent, nothing
// is written into it, and nothing is written through a symlink planted where the state, its
// lock or its side files live (the default ./smsform.db is in the repository's checkout).
func TestHostileStateFile(t *testing.T) {
	t.Parallel()
	bin := realBin(t)
	// newRepo is a checkout holding one campaign, with a state path st.db in it.
	newRepo := func(t *testing.T) (dir, st string) {
		dir = t.TempDir()
		writeFile(t, filepath.Join(dir, "c.yaml"), stateCampaign)
		return dir, filepath.Join(dir, "st.db")
	}
	initState := func(t *testing.T, dir, st string) {
		t.Helper()
		r := runStateAttack(t, bin, dir, nil, "init", "-state", st)
		wantStateExit(t, r, 0, `^$`)
	}

	t.Run("empty file: no command but init takes it for a state, and apply sends nothing", func(t *testing.T) {
		dir, st := newRepo(t)
		writeFile(t, st, "")
		writeFile(t, filepath.Join(dir, "events.csv"), "messageId,event\nsf-1,purchase\n")
		api, requests := countingAPI(t)
		env := []string{"INFOBIP_BASE_URL=" + api.URL}
		for _, args := range [][]string{
			{"plan", "-state", st, "."},
			{"plan", "-json", "-state", st, "."},
			{"apply", "-auto-approve", "-state", st, "."},
			{"refresh", "-state", st},
			{"report", "-state", st},
			{"state", "list", "-state", st},
			{"state", "resolve", "-as", "sent", "-campaign", "c1", "-state", st},
			{"convert", "-state", st, "events.csv"},
		} {
			r := runStateAttack(t, bin, dir, env, args...)
			wantStateExit(t, r, 1, `st\.db is empty \(0 bytes\): it is not a state.*smsform init.*only if`)
			if info, err := os.Stat(st); err != nil || info.Size() != 0 {
				t.Fatalf("%s: the empty state file was written (%v, %d bytes)", strings.Join(args, " "), err, info.Size())
			}
			wantNoSideFiles(t, st)
		}
		if n := requests.Load(); n != 0 {
			t.Errorf("apply against an empty state file made %d requests to the API", n)
		}
		// init is the one command that may make a state of it.
		r := runStateAttack(t, bin, dir, nil, "init", "-state", st)
		wantStateExit(t, r, 0, `^$`)
		if !strings.Contains(r.stdout, "Created the state") {
			t.Errorf("init on an empty file: %q, want it to say it created the state", r.stdout)
		}
		r = runStateAttack(t, bin, dir, nil, "plan", "-state", st, ".")
		wantStateExit(t, r, 0, `^$`)
	})

	t.Run("a state truncated to zero: apply refuses it", func(t *testing.T) {
		dir, st := newRepo(t)
		initState(t, dir, st)
		if err := os.Truncate(st, 0); err != nil {
			t.Fatal(err)
		}
		api, requests := countingAPI(t)
		r := runStateAttack(t, bin, dir, []string{"INFOBIP_BASE_URL=" + api.URL}, "apply", "-auto-approve", "-state", st, ".")
		wantStateExit(t, r, 1, `st\.db is empty \(0 bytes\)`)
		if n := requests.Load(); n != 0 {
			t.Errorf("apply made %d requests", n)
		}
	})

	t.Run("a file that is not SQLite: refused by every command, init included, and left as it was", func(t *testing.T) {
		dir, _ := newRepo(t)
		st := filepath.Join(dir, "c.yaml") // the campaign file itself, given as the state
		sum := fileSum(t, st)
		for _, args := range [][]string{{"plan", "-state", st, "."}, {"init", "-state", st}, {"state", "list", "-state", st}} {
			r := runStateAttack(t, bin, dir, nil, args...)
			wantStateExit(t, r, 1, `c\.yaml is not a SQLite database.*--state`)
			if strings.Contains(r.stderr, "InfoSMS") {
				t.Errorf("the error quotes the file's content:\n%s", r.stderr)
			}
			wantUntouched(t, st, sum, 0o644)
			wantNoSideFiles(t, st)
		}
	})

	t.Run("another application's SQLite database: refused by every command, init included", func(t *testing.T) {
		dir, st := newRepo(t)
		newSQLite(t, st, "PRAGMA journal_mode=DELETE", "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT)", "INSERT INTO accounts VALUES (1, 'a@example.com')")
		if err := os.Chmod(st, 0o600); err != nil {
			t.Fatal(err)
		}
		sum := fileSum(t, st)
		for _, args := range [][]string{{"plan", "-state", st, "."}, {"report", "-state", st}, {"init", "-state", st}} {
			r := runStateAttack(t, bin, dir, nil, args...)
			wantStateExit(t, r, 1, `st\.db is a SQLite database, but not an smsform state.*--state`)
			wantUntouched(t, st, sum, 0o600)
		}
	})

	t.Run("a blank SQLite database: only init makes a state of it", func(t *testing.T) {
		dir, st := newRepo(t)
		newSQLite(t, st, "PRAGMA journal_mode=DELETE", "CREATE TABLE t (x)", "DROP TABLE t")
		r := runStateAttack(t, bin, dir, nil, "plan", "-state", st, ".")
		wantStateExit(t, r, 1, `st\.db is a SQLite database without smsform's tables.*smsform init.*only if`)
		r = runStateAttack(t, bin, dir, nil, "init", "-state", st)
		wantStateExit(t, r, 0, `^$`)
		r = runStateAttack(t, bin, dir, nil, "plan", "-state", st, ".")
		wantStateExit(t, r, 0, `^$`)
	})

	t.Run("state path is a symlink: refused, its target neither chmodded nor written", func(t *testing.T) {
		for _, target := range []string{"a real state, readable by others", "an empty file", "a file of the user's", "nothing yet"} {
			t.Run(target, func(t *testing.T) {
				dir, st := newRepo(t)
				victim := filepath.Join(t.TempDir(), "victim")
				switch target {
				case "a real state, readable by others":
					initState(t, filepath.Dir(victim), victim)
					if err := os.Chmod(victim, 0o644); err != nil {
						t.Fatal(err)
					}
				case "an empty file":
					writeFile(t, victim, "")
				case "a file of the user's":
					writeFile(t, victim, "export PATH=/usr/bin\n")
				}
				symlink(t, victim, st)
				sum := fileSum(t, victim)
				for _, args := range [][]string{{"plan", "-state", st, "."}, {"state", "list", "-state", st}, {"init", "-state", st}} {
					r := runStateAttack(t, bin, dir, nil, args...)
					wantStateExit(t, r, 1, `st\.db is a symbolic link.*--state`)
					if strings.Contains(r.stderr, victim) {
						t.Errorf("the error names the link's target:\n%s", r.stderr)
					}
					if target == "nothing yet" {
						if _, err := os.Lstat(victim); err == nil {
							t.Fatalf("%s created the link's target", args[0])
						}
						continue
					}
					wantUntouched(t, victim, sum, 0o644)
					wantNoSideFiles(t, victim)
				}
			})
		}
	})

	t.Run("a symlink where the lock or a side file goes: refused, its target untouched", func(t *testing.T) {
		for _, side := range []string{".lock", "-wal", "-shm", "-journal"} {
			t.Run(side, func(t *testing.T) {
				dir, st := newRepo(t)
				initState(t, dir, st)
				victim := filepath.Join(t.TempDir(), "victim")
				writeFile(t, victim, "keep me\n")
				symlink(t, victim, st+side)
				sum := fileSum(t, victim)
				for _, args := range [][]string{{"plan", "-state", st, "."}, {"state", "resolve", "-as", "sent", "-campaign", "c1", "-state", st}, {"state", "unlock", "-state", st}} {
					r := runStateAttack(t, bin, dir, nil, args...)
					wantStateExit(t, r, 1, regexp.QuoteMeta(filepath.Base(st+side))+` is a symbolic link`)
					wantUntouched(t, victim, sum, 0o644)
				}
			})
		}
	})

	t.Run("plan -out and report -html onto a symlink: refused, its target untouched", func(t *testing.T) {
		dir, st := newRepo(t)
		initState(t, dir, st)
		victim := filepath.Join(t.TempDir(), "victim")
		writeFile(t, victim, "keep me\n")
		symlink(t, victim, filepath.Join(dir, "out.plan"))
		symlink(t, victim, filepath.Join(dir, "report.html"))
		sum := fileSum(t, victim)
		r := runStateAttack(t, bin, dir, nil, "plan", "-state", st, "-out", "out.plan", ".")
		wantStateExit(t, r, 1, `out\.plan is a symbolic link`)
		wantUntouched(t, victim, sum, 0o644)
		r = runStateAttack(t, bin, dir, nil, "report", "-state", st, "-html", "report.html")
		wantStateExit(t, r, 1, `report\.html is a symbolic link`)
		wantUntouched(t, victim, sum, 0o644)
	})

	t.Run("a state that is a FIFO: refused at once", func(t *testing.T) {
		dir, st := newRepo(t)
		mkfifo(t, st)
		r := runStateAttack(t, bin, dir, nil, "plan", "-state", st, ".")
		wantStateExit(t, r, 1, `st\.db is not a regular file`)
	})
}

// TestHostileStateSecrets: a credential in INFOBIP_BASE_URL or in a state URL is never
// printed or saved, however the URL is malformed (a password holding '/', '@', '?', '#' or
// '%'), whatever the scheme's case, and in whatever parameter it sits (password=,
// sslpassword=).
func TestHostileStateSecrets(t *testing.T) {
	t.Parallel()
	bin := realBin(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "c.yaml"), stateCampaign)
	st := filepath.Join(dir, "st.db")
	r := runStateAttack(t, bin, dir, nil, "init", "-state", st)
	wantStateExit(t, r, 0, `^$`)

	t.Run("INFOBIP_BASE_URL", func(t *testing.T) {
		for _, base := range []string{
			"https://user:pa/ss" + secretMarker + "@example.com",
			"https://user:" + secretMarker + "/x@example.com",
			"https://user:1234/" + secretMarker + "@example.com",
			"https://user:p@ss" + secretMarker + "@example.com",
			"https://user:p?" + secretMarker + "@example.com",
			"https://user:p#" + secretMarker + "@example.com",
			"https://user:p%zz" + secretMarker + "@example.com",
			"https://" + secretMarker + "@example.com",
			"HTTPS://user:" + secretMarker + "@example.com",
			"https://example.com/?apikey=" + secretMarker,
			"https://example.com/#" + secretMarker,
			"user:" + secretMarker + "@example.com",
		} {
			r := runStateAttack(t, bin, dir, []string{"INFOBIP_BASE_URL=" + base}, "apply", "-auto-approve", "-state", st, ".")
			wantStateExit(t, r, 1, `INFOBIP_BASE_URL`)
		}
	})

	t.Run("state URLs without a server", func(t *testing.T) {
		for _, tc := range []struct{ spec, stderr string }{
			{"POSTGRES://u:" + secretMarker + "@127.0.0.1:1/db", `connect to state postgres://u@127\.0\.0\.1:1/db:`},
			{"PostgreSQL://u:" + secretMarker + "@127.0.0.1:1/db", `connect to state postgresql://u@127\.0\.0\.1:1/db:`},
			{"postgres://u:pa/ss" + secretMarker + "@127.0.0.1:1/db", `state postgres://u@127\.0\.0\.1:1/db`},
			{"postgres://u:p@ss" + secretMarker + "@127.0.0.1:1/db", `state postgres://u@127\.0\.0\.1:1/db`},
			{"postgres://u:p?x=" + secretMarker + "@127.0.0.1:1/db", `state postgres://u@127\.0\.0\.1:1/db`},
			{"postgres://u:p#" + secretMarker + "@127.0.0.1:1/db", `state postgres://u@127\.0\.0\.1:1/db`},
			{"postgres://u:p%zz" + secretMarker + "@127.0.0.1:1/db", `state postgres://u@127\.0\.0\.1:1/db`},
			{"postgres://u@127.0.0.1:1/db?sslmode=disable&sslpassword=" + secretMarker, `connect to state postgres://u@127\.0\.0\.1:1/db\?sslmode=disable:`},
			{"postgres://u@127.0.0.1:1/db?sslmode=disable&password=" + secretMarker + "#" + secretMarker, `connect to state postgres://u@127\.0\.0\.1:1/db\?sslmode=disable:`},
			{"postgres://u@127.0.0.1:1/db?PassWord=" + secretMarker + "&sslmode=disable", `connect to state postgres://u@127\.0\.0\.1:1/db\?sslmode=disable:`},
			{"postgres://u@127.0.0.1:1/db?password=a&" + secretMarker + "&sslmode=disable", `state postgres://u@127\.0\.0\.1:1/db`},
			{"mysql://u:" + secretMarker + "@127.0.0.1:1/db", `state mysql://REDACTED@127\.0\.0\.1:1/db is a URL smsform cannot use.*postgres://`},
			{"host=127.0.0.1 port=1 password=" + secretMarker, `looks like a PostgreSQL key=value connection string.*postgres://`},
		} {
			for _, args := range [][]string{{"plan", "-state", tc.spec, "."}, {"init", "-state", tc.spec}, {"state", "migrate", "-from", st, "-to", tc.spec}} {
				r := runStateAttack(t, bin, dir, nil, args...)
				wantStateExit(t, r, 1, tc.stderr)
			}
			// Nothing was taken for a file path: no file, no lock beside it.
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if n := e.Name(); n != "c.yaml" && !strings.HasPrefix(n, "st.db") {
					t.Errorf("%s: a run created %q in the working directory", tc.spec, n)
				}
			}
		}
	})

	t.Run("an old plan file's state URL is not printed with its password", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "old.plan")
		r := runStateAttack(t, bin, dir, nil, "plan", "-state", st, "-out", out, ".")
		wantStateExit(t, r, 0, `^$`)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		// As a plan saved before passwords in query parameters were redacted would hold it.
		old := regexp.MustCompile(`"state_path": "[^"]*"`).ReplaceAll(data, []byte(`"state_path": "postgres://u:`+secretMarker+`@db.example.com/s?sslpassword=`+secretMarker+`"`))
		if err := os.WriteFile(out, old, 0o644); err != nil {
			t.Fatal(err)
		}
		r = runStateAttack(t, bin, dir, nil, "apply", "-state", st, out)
		wantStateExit(t, r, 1, `stale plan: the plan was made with state postgres://u@db\.example\.com/s`)
	})
}

// TestHostileStatePostgres: against a real PostgreSQL server, a database without smsform's
// schema is refused by everything but init, and the URL's credentials (password, password=
// and sslpassword= parameters, a scheme in capitals) reach no output and no saved plan.
func TestHostileStatePostgres(t *testing.T) {
	t.Parallel()
	bin := realBin(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "c.yaml"), stateCampaign)

	// dbUser is the role of a test database's URL, which the test server trusts.
	dbUser := func(u string) string { return regexp.MustCompile(`^postgres://([^:@/]*)`).FindStringSubmatch(u)[1] }

	t.Run("a database without smsform's schema", func(t *testing.T) {
		plain := pgtest.NewDatabase(t)
		// Another tool's migrations table, as golang-migrate keeps it, at the version this
		// smsform's schema has: it is not smsform's.
		other := pgtest.NewDatabase(t)
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, dirty BOOLEAN NOT NULL)", "INSERT INTO schema_migrations VALUES (1, false), (2, false), (3, false)"} {
			if _, err := conn.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		conn.Close(ctx)
		for _, db := range []string{plain, other} {
			db := pgtest.WithUser(db, dbUser(db), secretMarker)
			api, requests := countingAPI(t)
			for _, args := range [][]string{{"plan", "-state", db, "."}, {"report", "-state", db}, {"state", "list", "-state", db}, {"apply", "-auto-approve", "-state", db, "."}} {
				r := runStateAttack(t, bin, dir, []string{"INFOBIP_BASE_URL=" + api.URL}, args...)
				wantStateExit(t, r, 1, `no smsform state in this database .*smsform init`)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("apply made %d requests", n)
			}
		}
		r := runStateAttack(t, bin, dir, nil, "init", "-state", other)
		wantStateExit(t, r, 1, `schema_migrations.*not smsform's`)
		r = runStateAttack(t, bin, dir, nil, "init", "-state", plain)
		wantStateExit(t, r, 0, `^$`)
	})

	t.Run("credentials in the URL", func(t *testing.T) {
		admin := pgtest.NewDatabase(t)
		user := dbUser(admin)
		withSecrets := pgtest.WithUser(admin, user, secretMarker)
		withSecrets = strings.Replace(withSecrets, "postgres://", "POSTGRES://", 1)
		if strings.Contains(withSecrets, "?") {
			withSecrets += "&"
		} else {
			withSecrets += "?"
		}
		withSecrets += "sslpassword=" + secretMarker + "&password=" + secretMarker
		r := runStateAttack(t, bin, dir, nil, "init", "-state", withSecrets)
		wantStateExit(t, r, 0, `^$`)
		if !strings.Contains(r.stdout, "Created the state postgres://"+user+"@") {
			t.Errorf("init: %q", r.stdout)
		}
		out := filepath.Join(t.TempDir(), "p.plan")
		r = runStateAttack(t, bin, dir, nil, "plan", "-state", withSecrets, "-out", out, ".")
		wantStateExit(t, r, 0, `^$`)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(secretMarker)) {
			t.Errorf("the saved plan holds the secret:\n%s", data)
		}
		if !bytes.Contains(data, []byte(`"state_path": "postgres://`+user+`@`)) {
			t.Errorf("the saved plan does not name the state without its password:\n%s", data)
		}
		// The same state, spelt without the secrets, applies the plan.
		api, requests := countingAPI(t)
		r = runStateAttack(t, bin, dir, []string{"INFOBIP_BASE_URL=" + api.URL}, "apply", "-state", admin, out)
		if r.code == 1 && strings.Contains(r.stderr, "stale plan") {
			t.Errorf("the saved plan's state does not match the same URL without its secrets:\n%s", r.stderr)
		}
		if requests.Load() == 0 {
			t.Errorf("apply of the saved plan sent nothing: exit %d\n%s", r.code, r.stderr)
		}
		st := filepath.Join(t.TempDir(), "st.db")
		runStateAttack(t, bin, dir, nil, "init", "-state", st)
		r = runStateAttack(t, bin, dir, nil, "state", "migrate", "-from", withSecrets, "-to", st)
		wantStateExit(t, r, 0, `^$`)
		r = runStateAttack(t, bin, dir, nil, "state", "unlock", "-state", withSecrets)
		wantStateExit(t, r, 0, `^$`)
	})
}
