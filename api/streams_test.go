package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/latchd/latch/store"
)

// held is how many live streams token name holds now.
func (s *Server) held(name string) int {
	s.perTok.mu.Lock()
	defer s.perTok.mu.Unlock()
	return s.perTok.n[name]
}

// liveStream is a live event stream served in the background.
type liveStream struct {
	cancel context.CancelFunc
	done   chan int // its status, once it has ended
}

// openStream opens a live event stream as the viewer from peer.
func (e *env) openStream(peer string) liveStream {
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest("GET", "/v1/events/stream", nil).WithContext(ctx)
	req.RemoteAddr = peer
	req.Header.Set("Authorization", "Bearer "+e.tokens[store.RoleViewer])
	s := liveStream{cancel, make(chan int, 1)}
	go func() {
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, req)
		s.done <- w.Code
	}()
	return s
}

// end ends the stream and checks that it was served.
func (s liveStream) end(t *testing.T, what string) {
	t.Helper()
	s.cancel()
	if code := <-s.done; code != 200 {
		t.Errorf("%s: %d", what, code)
	}
}

// TestStreamLimitPerToken: one token holds at most MaxStreamsPerToken live
// streams, whatever room the global cap has; one more is a 429 naming the
// rule, other tokens are unaffected, and a slot comes back when a stream
// ends.
func TestStreamLimitPerToken(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxStreams = 10; o.MaxStreamsPerToken = 2 })
	viewer := "tok-" + store.RoleViewer
	// From two addresses: the cap is the token's, not the client's.
	a, b := e.openStream("192.0.2.1:1"), e.openStream("198.51.100.7:1")
	defer a.cancel()
	defer b.cancel()
	for e.srv.held(viewer) < 2 || len(e.srv.streams) < 2 {
		runtime.Gosched() // wait, without sleeping, until both hold their slots
	}
	// Its context already cancelled: were it served, it would end at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("GET", "/v1/events/stream", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+e.tokens[store.RoleViewer])
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	var body struct{ Error string }
	json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" || !strings.Contains(body.Error, "this token already holds 2 live event streams") {
		t.Errorf("third stream of one token: %d %q %s, want 429 naming the rule", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if n := len(e.srv.streams); n != 2 {
		t.Errorf("a refused stream holds a global slot: %d held", n)
	}
	if got := e.streamStatus("192.0.2.1:4000", store.RoleCredentialManager, "/v1/events/stream"); got != 200 {
		t.Errorf("another token's stream: %d, want 200", got)
	}
	a.end(t, "first stream")
	if got := e.streamStatus("192.0.2.1:4000", store.RoleViewer, "/v1/events/stream"); got != 200 {
		t.Errorf("the token's stream after one ended: %d, want 200", got)
	}
	b.end(t, "second stream")
	if n := e.srv.held(viewer); n != 0 {
		t.Errorf("the token still holds %d streams after all ended", n)
	}
}
