package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchd/latch/internal/syncio"
)

// TestFollowReconnects: when latchd ends the stream (a restart), events
// --follow connects again by itself with after = the last seq it printed,
// and says so on stderr; no event is lost or printed twice.
func TestFollowReconnects(t *testing.T) {
	reconnectWait, reconnectMax = time.Millisecond, time.Millisecond
	defer func() { reconnectWait, reconnectMax = time.Second, 10*time.Second }()
	var mu sync.Mutex
	var afters []string
	release := make(chan struct{})
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		call := n
		afters = append(afters, r.URL.Query().Get("after"))
		mu.Unlock()
		switch call {
		case 1: // two events, then latchd "restarts"
			fmt.Fprintln(w, `{"seq":4,"event":"rex","door":"front","time":"2026-03-02T09:00:00Z"}`)
			fmt.Fprintln(w, `{"seq":5,"event":"rex","door":"front","time":"2026-03-02T09:00:01Z"}`)
		case 2: // refused while latchd starts
			http.Error(w, `{"error":"starting"}`, http.StatusServiceUnavailable)
		default:
			fmt.Fprintln(w, `{"seq":6,"event":"door_opened","door":"front","time":"2026-03-02T09:00:02Z"}`)
			w.(http.Flusher).Flush()
			<-release
		}
	}))
	defer srv.Close()
	defer close(release)
	c := &conn{url: srv.URL, token: "latch_test"}
	if err := c.setup(newFlags("x", io.Discard)); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	stderr := &syncio.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- followEvents(ctx, c, url.Values{"after": {"3"}}, newEventPrinter(pw, true), stderr)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var seqs []string
	for len(seqs) < 3 && sc.Scan() {
		seqs = append(seqs, strings.SplitN(strings.TrimPrefix(sc.Text(), `{"seq":`), ",", 2)[0])
	}
	go io.Copy(io.Discard, pr)
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d, want 0 after the interrupt", code)
	}
	if strings.Join(seqs, " ") != "4 5 6" {
		t.Errorf("printed seqs %v, want 4 5 6", seqs)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(afters) < 3 || afters[0] != "3" || afters[1] != "5" || afters[2] != "5" {
		t.Errorf("after on each connection: %q, want 3, then 5 and 5", afters)
	}
	if s := stderr.String(); !strings.Contains(s, "latchd closed the stream; reconnecting") || !strings.Contains(s, "after seq 5") {
		t.Errorf("stderr %q: want the reconnect said", s)
	}
}

// TestFollowFirstConnectFails: a latchd that cannot be reached at all is
// an error at once, not a retry loop.
func TestFollowFirstConnectFails(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	c := &conn{url: u, token: "latch_test"}
	if err := c.setup(newFlags("x", io.Discard)); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	if code := followEvents(context.Background(), c, url.Values{}, newEventPrinter(io.Discard, true), &stderr); code != 1 || !strings.Contains(stderr.String(), "cannot reach latchd") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
