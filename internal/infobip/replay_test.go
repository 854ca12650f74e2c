package infobip

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// h2RefusingServer is a minimal HTTP/2 server over TLS that reads each request whole and
// then resets its stream with REFUSED_STREAM: the one error after which Go's HTTP/2
// transport resends a request by itself whenever it can rewind the body. It counts the
// requests it saw (HEADERS frames).
type h2RefusingServer struct {
	ln       net.Listener
	attempts atomic.Int32
	roots    *tls.Config
}

func startH2Refusing(t *testing.T) *h2RefusingServer {
	t.Helper()
	// httptest makes the certificate and a client config that trusts it.
	cert := httptest.NewUnstartedServer(http.NotFoundHandler())
	cert.EnableHTTP2 = true
	cert.StartTLS()
	certs := cert.TLS.Certificates
	roots := cert.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	cert.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: certs, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	s := &h2RefusingServer{ln: ln, roots: roots}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *h2RefusingServer) serve(conn net.Conn) {
	defer conn.Close()
	preface := make([]byte, 24)
	if _, err := io.ReadFull(conn, preface); err != nil || !bytes.HasPrefix(preface, []byte("PRI * HTTP/2.0")) {
		return
	}
	const (
		frameData, frameHeaders, frameRST, frameSettings, framePing = 0x0, 0x1, 0x3, 0x4, 0x6
		flagEndStream, flagAck                                      = 0x1, 0x1
		errRefusedStream                                            = 0x7
	)
	write := func(typ, flags byte, stream uint32, payload []byte) error {
		h := make([]byte, 9, 9+len(payload))
		h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
		h[3], h[4] = typ, flags
		binary.BigEndian.PutUint32(h[5:], stream)
		_, err := conn.Write(append(h, payload...))
		return err
	}
	if write(frameSettings, 0, 0, nil) != nil {
		return
	}
	hdr := make([]byte, 9)
	for {
		if _, err := io.ReadFull(conn, hdr); err != nil {
			return
		}
		n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
		typ, flags := hdr[3], hdr[4]
		stream := binary.BigEndian.Uint32(hdr[5:]) & 0x7fffffff
		payload := make([]byte, n)
		if _, err := io.ReadFull(conn, payload); err != nil {
			return
		}
		var err error
		switch typ {
		case frameSettings:
			if flags&flagAck == 0 {
				err = write(frameSettings, flagAck, 0, nil)
			}
		case framePing:
			if flags&flagAck == 0 {
				err = write(framePing, flagAck, 0, payload)
			}
		case frameHeaders:
			s.attempts.Add(1)
		case frameData:
			if flags&flagEndStream != 0 { // the whole body has arrived: refuse the stream
				err = write(frameRST, 0, stream, binary.BigEndian.AppendUint32(nil, errRefusedStream))
			}
		}
		if err != nil {
			return
		}
	}
}

// TestNoHTTP2ReplayOfPost: a stream reset after the request body was read must come back as
// an unknown outcome after exactly one try. With a rewindable body (GetBody set, as for a
// *bytes.Reader) Go's HTTP/2 transport would have sent the POST again on its own.
func TestNoHTTP2ReplayOfPost(t *testing.T) {
	srv := startH2Refusing(t)
	c, _ := client(t, Config{BaseURL: "https://" + srv.ln.Addr().String(), APIKey: "K", MaxRetries: 3})
	// The server speaks only HTTP/2, so one attempt seen proves the request went over it.
	c.http.Transport.(*http.Transport).TLSClientConfig = srv.roots
	_, err := c.Send(context.Background(), sendReq())
	if err == nil {
		t.Fatal("Send succeeded against a server that refuses every stream")
	}
	if n := srv.attempts.Load(); n != 1 {
		t.Errorf("the server saw %d requests, want exactly 1 (the transport replayed the POST)", n)
	}
	if !OutcomeUnknown(err) || NothingDone(err) {
		t.Errorf("error %v: want an unknown outcome (the body was written), got OutcomeUnknown=%v NothingDone=%v", err, OutcomeUnknown(err), NothingDone(err))
	}
	var te *TransportError
	if !errors.As(err, &te) || !te.Written {
		t.Errorf("error %#v: want a TransportError with Written", err)
	}
}

// TestHTTP2ReplayHappensWithRewindableBody shows the server above does provoke the replay
// that TestNoHTTP2ReplayOfPost guards against, so that test can fail.
func TestHTTP2ReplayHappensWithRewindableBody(t *testing.T) {
	srv := startH2Refusing(t)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = srv.roots
	defer tr.CloseIdleConnections()
	// The transport waits about a second before its first replay; bound the whole exchange.
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+srv.ln.Addr().String()+PathMessages, bytes.NewReader([]byte(`{"messages":[]}`)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("RoundTrip succeeded against a server that refuses every stream")
	}
	if n := srv.attempts.Load(); n < 2 {
		t.Errorf("the server saw %d requests; want the transport to have replayed the rewindable POST", n)
	}
}
