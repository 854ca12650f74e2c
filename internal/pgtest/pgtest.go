// Package pgtest gives tests a PostgreSQL server: the one SMSFORM_TEST_POSTGRES names, or
// else a private cluster started from the installed PostgreSQL binaries, once per test
// binary, on a free loopback port, and stopped by Stop. When neither exists the tests fail
// with the command that installs PostgreSQL: they are never skipped silently.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names an existing server to use instead of a private cluster: a URL of a role that
// may CREATE DATABASE, such as postgres://postgres@127.0.0.1:5432/postgres.
const EnvVar = "SMSFORM_TEST_POSTGRES"

// Install is what to run on Debian or Ubuntu when PostgreSQL is missing.
const Install = "apt-get update && apt-get install -y postgresql"

var (
	once     sync.Once
	adminURL string
	startErr error
	cluster  *privateCluster
	seq      atomic.Int64
)

type privateCluster struct {
	dir, bin string
	asUser   []string // the command prefix that runs a program as the cluster's owner
}

// WithUser is raw with another user and password (none if empty): to connect as another
// role. The private cluster trusts every local connection, so any password is accepted.
func WithUser(raw, user, password string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.User = url.User(user)
	if password != "" {
		u.User = url.UserPassword(user, password)
	}
	return u.String()
}

// M wraps testing.M so that the private cluster, if one was started, is stopped after the
// tests: pgtest.M{m}.Run() in TestMain, or testscript.Main(pgtest.M{M: m}, ...).
type M struct{ M interface{ Run() int } }

// Run runs the tests, then stops the cluster.
func (m M) Run() int {
	code := m.M.Run()
	Stop()
	return code
}

// Stop stops the private cluster the tests started and removes its files.
func Stop() {
	cluster.stop()
	cluster = nil
}

func (c *privateCluster) stop() {
	if c == nil {
		return
	}
	cmd := exec.Command(c.asUser[0], append(c.asUser[1:], filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w", "stop")...)
	cmd.Run()
	os.RemoveAll(c.dir)
}

// Start starts a private cluster of its own with the given server settings (NAME=VALUE),
// for the benchmarks, and returns a URL of a role that may create databases and the function
// that stops it.
func Start(settings []string) (string, func(), error) {
	u, c, err := start(settings)
	if err != nil {
		return "", nil, err
	}
	return u, c.stop, nil
}

// T is what pgtest needs of a test (a *testing.T, or a script's stand-in).
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Server returns the URL of a role that may create databases on the test server, starting
// the private cluster on first use.
func Server(t T) string {
	t.Helper()
	once.Do(func() {
		if u := os.Getenv(EnvVar); u != "" {
			adminURL = u
			return
		}
		// fsync off: the tests kill smsform, never the server, and share two cores.
		var c *privateCluster
		adminURL, c, startErr = start([]string{"fsync=off"})
		cluster = c
	})
	if startErr != nil {
		t.Fatalf("PostgreSQL tests: %v", startErr)
	}
	return adminURL
}

// NewDatabase creates an empty database for one test and returns its URL; it is dropped
// when the test ends.
func NewDatabase(t T) string {
	t.Helper()
	admin := Server(t)
	name := fmt.Sprintf("smsform_test_%d_%d", os.Getpid(), seq.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	u.Path = "/" + name
	return u.String()
}

// debianGlob is where Debian's packages keep each version's server binaries, off the PATH.
var debianGlob = "/usr/lib/postgresql/*/bin/initdb"

// binDir finds initdb: on PATH, or in Debian's versioned directories (newest first).
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob(debianGlob)
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(a))))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(b))))
		return vb - va
	})
	if len(dirs) == 0 {
		return "", fmt.Errorf("PostgreSQL is not installed (no initdb on PATH or in %s): install it with `%s`, or set %s to a server's URL", filepath.Dir(debianGlob), Install, EnvVar)
	}
	return filepath.Dir(dirs[0]), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start initialises and starts a private cluster. initdb refuses to run as root, so as
// root the cluster belongs to the "postgres" user (or "nobody"), run through runuser.
func start(settings []string) (string, *privateCluster, error) {
	bin, err := binDir()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "smsform-pgtest-")
	if err != nil {
		return "", nil, err
	}
	c := &privateCluster{dir: dir, bin: bin, asUser: []string{"env"}}
	if os.Geteuid() == 0 {
		var owner *user.User
		for _, name := range []string{"postgres", "nobody"} {
			if owner, err = user.Lookup(name); err == nil {
				break
			}
		}
		if owner == nil {
			os.RemoveAll(dir)
			return "", nil, errors.New("running as root and no unprivileged user (postgres, nobody) to own a test cluster: set " + EnvVar)
		}
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
		c.asUser = []string{"runuser", "-u", owner.Username, "--"}
	}
	run := func(args ...string) error {
		cmd := exec.Command(c.asUser[0], append(c.asUser[1:], args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := run(filepath.Join(bin, "initdb"), "-D", data, "-U", "smsform", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C.UTF-8"); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start a test cluster: %w", err)
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", port, dir)
	for _, set := range settings {
		opts += " -c " + set
	}
	if err := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start a test cluster: %w\n%s", err, log)
	}
	u := fmt.Sprintf("postgres://smsform@127.0.0.1:%d/postgres?sslmode=disable", port)
	// Wait until it takes connections (pg_ctl -w says it started; be sure).
	for deadline := time.Now().Add(30 * time.Second); ; {
		conn, err := pgx.Connect(context.Background(), u)
		if err == nil {
			conn.Close(context.Background())
			return u, c, nil
		}
		if time.Now().After(deadline) {
			c.stop()
			return "", nil, fmt.Errorf("test cluster on port %d does not answer: %w", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
