package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// DefaultAddr is where `smsform sandbox` listens unless told otherwise.
const DefaultAddr = "127.0.0.1:9300"

// ErrNotLoopback is returned by ListenAndServe for an address that is not loopback.
var ErrNotLoopback = errors.New("sandbox: only a loopback address (127.0.0.1, ::1 or localhost) may be used, since the sandbox accepts any credentials over plain http")

// shutdownGrace bounds how long ListenAndServe waits for requests in flight once ctx is done.
const shutdownGrace = 5 * time.Second

// ListenAndServe serves a new Server with opts on addr (DefaultAddr if empty; port 0 picks a
// free port) until ctx is done, then shuts down gracefully. Only loopback hosts are allowed.
// Once listening, it calls ready (if not nil) with the base URL, "http://HOST:PORT".
func ListenAndServe(ctx context.Context, addr string, opts Options, ready func(url string)) error {
	if addr == "" {
		addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen address %q: %w", addr, err)
	}
	if !loopbackHost(host) {
		return fmt.Errorf("%w: got %q", ErrNotLoopback, addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	tcp, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() {
		ln.Close()
		return fmt.Errorf("%w: %q resolved to %s", ErrNotLoopback, addr, ln.Addr())
	}
	srv := &http.Server{
		Handler:           New(opts),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready("http://" + net.JoinHostPort(tcp.IP.String(), strconv.Itoa(tcp.Port)))
	}
	select {
	case err := <-errc:
		return fmt.Errorf("sandbox: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sandbox: %w", err)
	}
	return nil
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
