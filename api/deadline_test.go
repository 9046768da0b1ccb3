package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/latchd/latch/store"
)

// pipeListener hands out the server ends of net.Pipe connections, so
// that a real http.Server runs inside a synctest bubble on its fake clock.
type pipeListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial() net.Conn {
	client, server := net.Pipe()
	l.conns <- server
	return client
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// TestBodyTimeout: a client that sends a body too slowly gets a 400 when
// the body timeout (JSON) or the import timeout (CSV, in total) is up; an
// upload that keeps making progress may take longer than the body timeout.
// The server is the real http.Server on pipes, in a synctest bubble: the
// waits are on the fake clock.
func TestBodyTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, func(o *Options) {
			o.BodyTimeout = 30 * time.Second
			o.ImportTimeout = 2 * time.Minute
		})
		ln := newPipeListener()
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- e.srv.Serve(ctx, ln) }()
		defer func() {
			cancel() // Serve's shutdown closes ln
			if err := <-served; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}()
		tok := e.tokens[store.RoleSystemAdmin]

		// send writes the request head, then the body in pieces with a
		// pause before each, and returns the reply and when it came.
		send := func(path, ctype string, length int, pieces []string, pause time.Duration) (int, string, time.Duration) {
			c := ln.dial()
			defer c.Close()
			replies := make(chan *http.Response, 1)
			start := time.Now()
			var took time.Duration // when the reply came
			go func() {
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				took = time.Since(start)
				if err != nil {
					replies <- nil
					return
				}
				resp.Body = io.NopCloser(strings.NewReader(readAll(resp.Body)))
				replies <- resp
			}()
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: latchd\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", path, tok, ctype, length)
			for _, p := range pieces {
				time.Sleep(pause)
				if _, err := io.WriteString(c, p); err != nil {
					break // the server gave up and closed
				}
			}
			resp := <-replies
			if resp == nil {
				return 0, "", took
			}
			return resp.StatusCode, readAll(resp.Body), took
		}

		// A JSON body that stops halfway: refused at 30 s.
		body := `{"external_id":"slow","first_name":"S"}`
		code, reply, took := send("/v1/users", "application/json", len(body), []string{body[:10]}, 0)
		if code != http.StatusBadRequest || !strings.Contains(reply, "could not be read") || took != 30*time.Second {
			t.Errorf("stalled JSON body: %d %q after %v; want 400 at 30s", code, reply, took)
		}
		// The same body in two pieces 10 s apart is accepted.
		code, reply, _ = send("/v1/users", "application/json", len(body), []string{body[:10], body[10:]}, 10*time.Second)
		if code != http.StatusCreated {
			t.Errorf("JSON body in two pieces: %d %s", code, reply)
		}
		// A JSON body trickled in over more than 30 s is cut at 30 s.
		var pieces []string
		for i := range body {
			pieces = append(pieces, body[i:i+1])
		}
		code, _, took = send("/v1/users", "application/json", len(body), pieces, 2*time.Second)
		if code != http.StatusBadRequest || took > 32*time.Second {
			t.Errorf("trickled JSON body: %d after %v; want 400 at 30s", code, took)
		}
		// A CSV upload that keeps coming every 20 s takes 80 s: accepted.
		csv := "externalId,firstName\nslow1,A\nslow2,B\nslow3,C\n"
		code, reply, took = send("/v1/import", "text/csv", len(csv), []string{csv[:21], csv[21:29], csv[29:37], csv[37:]}, 20*time.Second)
		if code != http.StatusOK || took != 80*time.Second {
			t.Errorf("CSV upload with 20 s pauses: %d %s after %v", code, reply, took)
		}
		// One whose pauses stay under 30 s but whose whole upload passes
		// the 2 min import timeout is refused then.
		pieces = nil
		for i := 0; i < 10; i++ {
			pieces = append(pieces, fmt.Sprintf("late%d,X\n", i))
		}
		head := "externalId,firstName\n"
		n := len(head)
		for _, p := range pieces {
			n += len(p)
		}
		code, _, took = send("/v1/import", "text/csv", n, append([]string{head}, pieces...), 25*time.Second)
		if code != http.StatusBadRequest || took != 2*time.Minute {
			t.Errorf("CSV upload over the import timeout: %d after %v; want 400 at 2m", code, took)
		}
		if _, err := e.st.UserByExternalID("late0"); err == nil {
			t.Error("the refused upload created users")
		}
	})
}

func readAll(r io.Reader) string {
	b, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return ""
	}
	return string(b)
}
