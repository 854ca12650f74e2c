package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/smsform/smsform/state/internal/sqlstore"
)

// dbQuerier runs each's reads on a plain database.
type dbQuerier struct{ db *sql.DB }

func (q dbQuerier) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	return q.db.QueryContext(ctx, query, args...)
}

func eachDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", fileURI(filepath.Join(t.TempDir(), "each.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, s TEXT, b BLOB) WITHOUT ROWID;
		INSERT INTO t VALUES ('a', 1, 'one', x'00ff'), ('b', 9000000000, NULL, NULL), ('c', -7, '', x''), ('d', 3, 'three', 'text')`)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestEach: every row reaches the function, its columns scanned as database/sql would
// scan them, in the order of the key; the bytes of a row are its own.
func TestEach(t *testing.T) {
	db := eachDB(t)
	var k, s, b sql.RawBytes
	var n int64
	var got []string
	err := each(context.Background(), dbQuerier{db}, []string{"k", "n", "s", "b"}, "t WHERE k <> ?", []any{"zz"}, []any{&k, &n, &s, &b}, func() error {
		got = append(got, strings.Join([]string{string(k), strconv.FormatInt(n, 10), string(s), string(b), nilness(s)}, "|"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a|1|one|\x00\xff|", "b|9000000000|||nil", "c|-7|||", "d|3|three|text|"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%q\nwant\n%q", got, want)
	}
	// No row: no call, no error.
	calls := 0
	if err := each(context.Background(), dbQuerier{db}, []string{"k"}, "t WHERE k = ?", []any{"zz"}, []any{&k}, func() error { calls++; return nil }); err != nil || calls != 0 {
		t.Errorf("a read of no row: %d calls, %v", calls, err)
	}
}

// TestEachErrors: an error of the row function stops the read and is returned as it is;
// a value its destination cannot hold is an error, not a silent zero; a call of the
// function outside a read is refused.
func TestEachErrors(t *testing.T) {
	db := eachDB(t)
	ctx := context.Background()
	var k sql.RawBytes
	var n32 int32
	var n64 int64
	stop := errors.New("stop")
	calls := 0
	err := each(ctx, dbQuerier{db}, []string{"k"}, "t", nil, []any{&k}, func() error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("a row's error: %v after %d calls, want %v after 1", err, calls, stop)
	}
	if err := each(ctx, dbQuerier{db}, []string{"n"}, "t", nil, []any{&n32}, func() error { return nil }); err == nil {
		t.Error("9000000000 scanned into an int32")
	}
	if err := each(ctx, dbQuerier{db}, []string{"s"}, "t WHERE k = 'b'", nil, []any{&n64}, func() error { return nil }); err == nil {
		t.Error("NULL scanned into an int64")
	}
	if err := each(ctx, dbQuerier{db}, []string{"k", "n"}, "t", nil, []any{&k}, func() error { return nil }); err == nil {
		t.Error("two columns scanned into one destination")
	}
	var res any
	if err := db.QueryRow("SELECT " + eachFunction + "(12345, k) FROM t").Scan(&res); err == nil {
		t.Errorf("%s outside a read returned %v", eachFunction, res)
	}
}

// TestEachConcurrent: reads under way at once, on two databases, each get their own rows.
func TestEachConcurrent(t *testing.T) {
	dbs := []*sql.DB{eachDB(t), eachDB(t)}
	if _, err := dbs[1].Exec("UPDATE t SET n = n + 100"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() {
			for range 50 {
				var n int64
				sum := int64(0)
				if err := each(context.Background(), dbQuerier{db}, []string{"n"}, "t", nil, []any{&n}, func() error { sum += n; return nil }); err != nil {
					t.Error(err)
					return
				}
				if want := int64(9000000000 - 7 + 1 + 3 + 400*i); sum != want {
					t.Errorf("database %d: sum %d, want %d", i, sum, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func nilness(b sql.RawBytes) string {
	if b == nil {
		return "nil"
	}
	return ""
}

// TestEachGuards: the function called without a read's id is an error, not a crash; and
// no view or trigger of a state file may call it (a state is opened with trusted_schema
// off), while each's own reads still do.
func TestEachGuards(t *testing.T) {
	db := eachDB(t)
	var res any
	if err := db.QueryRow("SELECT " + eachFunction + "()").Scan(&res); err == nil {
		t.Errorf("%s() returned %v", eachFunction, res)
	}

	path := filepath.Join(t.TempDir(), "smsform.db")
	if _, err := Init(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	plain, err := sql.Open("sqlite", fileURI(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Exec("CREATE VIEW sneaky AS SELECT " + eachFunction + "(1, 'x') AS v"); err != nil {
		t.Fatal(err)
	}
	plain.Close()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.db.QueryRow("SELECT v FROM sneaky").Scan(&res); err == nil || !strings.Contains(err.Error(), "unsafe use") {
		t.Errorf("a view calling %s: %v, %v; want it refused as an unsafe use", eachFunction, res, err)
	}
	var k sql.RawBytes
	n := 0
	if err := each(context.Background(), dbQuerier{s.db}, []string{"key"}, "meta", nil, []any{&k}, func() error { n++; return nil }); err != nil || n == 0 {
		t.Errorf("each in a state: %d rows, %v", n, err)
	}
	if k != nil {
		t.Errorf("after the read, a destination still holds %q", k)
	}
}
