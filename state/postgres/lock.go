package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/smsform/smsform/state"
)

// lockKey is the advisory lock of the state in the connection's schema: two states in two
// schemas of one database do not block each other.
const lockKey = "hashtext('smsform.state.' || current_schema())"

// Lock is the one-writer lock of a PostgreSQL state: a session-level advisory lock held by
// a connection of its own. It lives exactly as long as that session, so a killed runner's
// lock dies with its connection (the server sees the socket close) and never blocks the
// next run.
type Lock struct {
	conn *pgx.Conn
}

// Lock takes the state's lock for command, waiting up to timeout (0: fail at once) while
// another session holds it, then writes who holds it for the next one to read. From then
// on, the writes that come before a request (MarkSending, MarkSubmitting) check, in their
// own transaction, that the lock's session still holds it: a run whose lock connection
// broke would otherwise go on sending beside the next holder.
func (s *Store) Lock(ctx context.Context, command string, timeout time.Duration) (state.Lock, error) {
	l, err := acquire(ctx, s.cfg, s.name, command, timeout)
	if err != nil {
		return nil, err
	}
	s.lockPID.Store(l.conn.PgConn().PID())
	return l, nil
}

func acquire(ctx context.Context, cfg *pgxpool.Config, name, command string, timeout time.Duration) (*Lock, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("connect to state %s: %w; check the URL, the network and the credentials (PGPASSWORD)", name, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock("+lockKey+")").Scan(&ok); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("lock state %s: %w", name, err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			h, err := readHolder(ctx, conn)
			conn.Close(context.WithoutCancel(ctx))
			if err != nil {
				return nil, fmt.Errorf("lock state %s: %w", name, err)
			}
			return nil, &state.LockedError{Path: name, Holder: h}
		}
		select {
		case <-ctx.Done():
			conn.Close(context.WithoutCancel(ctx))
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	host, _ := os.Hostname()
	_, err = conn.Exec(ctx, `INSERT INTO lock_holder (id, host, pid, command, since) VALUES (1, $1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, command = excluded.command, since = excluded.since`,
		host, os.Getpid(), command, state.FormatTime(time.Now().Truncate(time.Second)))
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("lock state %s: record the holder: %w (did `smsform init` run, and may this role write?)", name, err)
	}
	return &Lock{conn: conn}, nil
}

func readHolder(ctx context.Context, conn *pgx.Conn) (state.Holder, error) {
	var h state.Holder
	var since string
	err := conn.QueryRow(ctx, "SELECT host, pid, command, since FROM lock_holder WHERE id = 1").Scan(&h.Host, &h.PID, &h.Command, &since)
	if errors.Is(err, pgx.ErrNoRows) {
		return state.Holder{}, nil
	}
	h.Since = state.ParseTime(since)
	return h, err
}

// Release clears the holder's details and gives the lock up by closing its session.
func (l *Lock) Release() error {
	if l == nil || l.conn == nil {
		return nil
	}
	ctx := context.Background()
	_, err := l.conn.Exec(ctx, "DELETE FROM lock_holder WHERE id = 1")
	err = errors.Join(err, l.conn.Close(ctx))
	l.conn = nil
	return err
}

// ErrLiveLock is Unlock's answer while a session holds the lock.
var ErrLiveLock = errors.New("a PostgreSQL advisory lock belongs to a live session and is never broken from outside")

// Unlock clears stale holder details. There is no lock to break by hand: the advisory lock
// dies with its session, so a lock that is held belongs to a live process; Unlock then
// refuses, force or not, naming it.
func Unlock(ctx context.Context, raw string) (state.Holder, error) {
	cfg, err := config(raw)
	if err != nil {
		return state.Holder{}, err
	}
	name := Redact(raw)
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return state.Holder{}, fmt.Errorf("connect to state %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	h, err := readHolder(ctx, conn)
	if err != nil {
		return h, err
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock("+lockKey+")").Scan(&ok); err != nil {
		return h, err
	}
	if !ok {
		return h, fmt.Errorf("%w: state %s is locked by %s; it is released when that run ends or its connection closes (an administrator can end the session with pg_terminate_backend)", ErrLiveLock, name, h)
	}
	_, err = conn.Exec(ctx, "DELETE FROM lock_holder WHERE id = 1")
	return state.Holder{}, err
}
