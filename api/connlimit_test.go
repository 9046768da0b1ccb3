package api

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/latchd/latch/store"
)

// halfHeader is the start of a request whose header never ends.
const halfHeader = "GET /v1/health HTTP/1.1\r\nHost: latchd\r\nX-Half: "

// restOfHeader finishes halfHeader; the server closes after replying.
const restOfHeader = "1\r\nConnection: close\r\n\r\n"

// served reports whether c, a connection that has sent a whole request,
// gets a reply (the server served it) or is closed without one (refused).
func served(t *testing.T, c net.Conn) bool {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// TestConnCapTCP: on a real TCP listener on loopback, connections that
// hold a half-sent header fill the per-peer cap, then the total cap; a
// connection past either is closed at once (its whole request gets no
// reply) while the held ones are still served when they finish their
// header; closing one frees its slot. The header timeout is an hour here,
// so nothing is closed by it: every refusal is the cap's.
func TestConnCapTCP(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxConns, o.MaxConnsPerPeer, o.HeaderTimeout = 5, 3, time.Hour })
	ln := e.serveTCP()
	// dial connects from 127.0.0.<from> (all of 127/8 is loopback on
	// Linux) and sends s.
	dial := func(from byte, s string) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, from)}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Skipf("cannot connect from 127.0.0.%d: %v", from, err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, s); err != nil {
			t.Fatal(err)
		}
		return c
	}
	// The server accepts in the order the connections were made, so each
	// dial below is counted after the ones before it.
	var held []net.Conn
	for i := 0; i < 3; i++ {
		held = append(held, dial(1, halfHeader))
	}
	if served(t, dial(1, halfHeader+restOfHeader)) {
		t.Error("a 4th connection from one peer (cap 3) was served")
	}
	for i := 0; i < 2; i++ {
		held = append(held, dial(2, halfHeader))
	}
	if served(t, dial(3, halfHeader+restOfHeader)) {
		t.Error("a 6th connection in all (cap 5) was served")
	}
	// The held connections are served once their header is whole.
	for i, c := range held[:4] {
		io.WriteString(c, restOfHeader)
		if !served(t, c) {
			t.Errorf("held connection %d was not served", i)
		}
	}
	// Their slots are free again: peers 1 and 3 get in.
	if !served(t, dial(3, halfHeader+restOfHeader)) {
		t.Error("a connection after others closed was refused")
	}
	if !served(t, dial(1, halfHeader+restOfHeader)) {
		t.Error("peer 1 was refused after its connections closed")
	}
}

// fakeTCPListener is a pipeListener whose connections look like TCP ones
// from given peers, so that Serve caps them, in a synctest bubble.
type fakeTCPListener struct{ *pipeListener }

func (fakeTCPListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 100), Port: 8700} }

type fromConn struct {
	net.Conn
	from net.Addr
}

func (c fromConn) RemoteAddr() net.Addr { return c.from }

func (l fakeTCPListener) dialFrom(addr string) net.Conn {
	client, server := net.Pipe()
	l.conns <- fromConn{server, net.TCPAddrFromAddrPort(netip.MustParseAddrPort(addr))}
	return client
}

// TestHeaderTimeoutFreesSlot: a connection that never finishes its header
// is closed by the server when the header timeout is up, not a moment
// before, and its slot is then free; the per-peer cap counts an IPv6 /64
// as one peer. The real http.Server runs on pipes in a synctest bubble:
// the 10 s are on the fake clock.
func TestHeaderTimeoutFreesSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.MaxConnsPerPeer, o.HeaderTimeout = 2, 10*time.Second })
		ln := fakeTCPListener{newPipeListener()}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.srv.Serve(ctx, ln) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}()
		// open sends a half header from addr; the returned channel is
		// closed when the server closes the connection. The client ends
		// are closed when the test ends.
		var opened []net.Conn
		defer func() {
			for i := len(opened) - 1; i >= 0; i-- {
				opened[i].Close()
			}
		}()
		open := func(addr string) chan struct{} {
			c := ln.dialFrom(addr)
			opened = append(opened, c)
			closed := make(chan struct{})
			go func() {
				io.Copy(io.Discard, c) // until the server closes
				close(closed)
			}()
			go io.WriteString(c, halfHeader)
			return closed
		}
		isClosed := func(ch chan struct{}) bool {
			synctest.Wait()
			select {
			case <-ch:
				return true
			default:
				return false
			}
		}
		start := time.Now()
		a1closed := open("192.0.2.1:1000")
		a2closed := open("192.0.2.1:1001")
		a3closed := open("192.0.2.1:1002")
		if !isClosed(a3closed) || isClosed(a1closed) || isClosed(a2closed) {
			t.Fatal("a 3rd connection from one peer (cap 2) was not closed at once, or a held one was")
		}
		// Two addresses of one IPv6 /64 are one peer; another /64 is not.
		open("[2001:db8::1]:1000")
		open("[2001:db8::2]:1000")
		b3closed := open("[2001:db8::3]:1000")
		c1closed := open("[2001:db8:0:1::1]:1000")
		if !isClosed(b3closed) || isClosed(c1closed) {
			t.Error("the per-peer cap does not count an IPv6 /64 as one peer")
		}
		if time.Since(start) != 0 {
			t.Fatalf("time moved: %v", time.Since(start))
		}
		time.Sleep(10*time.Second - time.Millisecond)
		if isClosed(a1closed) || isClosed(a2closed) {
			t.Fatal("a half-sent header was closed before the header timeout")
		}
		time.Sleep(time.Millisecond)
		if !isClosed(a1closed) || !isClosed(a2closed) {
			t.Fatal("a half-sent header was still held after the header timeout")
		}
		// The slots are free: the peer is served again.
		c := ln.dialFrom("192.0.2.1:1003")
		defer c.Close()
		go io.WriteString(c, halfHeader+restOfHeader)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("after the timeout freed the slots: %v", err)
		}
		resp.Body.Close()
		if !strings.Contains(e.log.String(), "connection cap reached") {
			t.Error("the refusals were not logged")
		}
	})
}

// TestAuthFailureClosesConn: a request without a token, or with a wrong
// one, gets its 401 with "Connection: close" and the connection closes,
// so an unauthenticated client cannot keep idle connections in the caps'
// slots; an authenticated one stays open for the next request.
func TestAuthFailureClosesConn(t *testing.T) {
	e := newEnv(t, nil)
	ln := e.serveTCP()
	for _, auth := range []string{"", "Authorization: Bearer wrong\r\n", "Authorization: Bearer " + e.tokens[store.RoleViewer] + "\r\n"} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, "GET /v1/health HTTP/1.1\r\nHost: latchd\r\n"+auth+"\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			if resp.Close {
				t.Error("an authenticated request closed its connection")
			}
			continue
		}
		if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
			t.Fatalf("%q: %d, close %v; want 401 and Connection: close", auth, resp.StatusCode, resp.Close)
		}
		if n, err := br.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("%q: after the 401 the connection gave %d, %v; want EOF", auth, n, err)
		}
	}
}

// serveTCP serves e on a loopback TCP port until the test ends. It stops
// in a cleanup, so that it runs after the clients' (registered later) have
// closed their connections, and shutting down waits for none.
func (e *env) serveTCP() net.Listener {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("Serve: %v", err)
		}
	})
	return ln
}
