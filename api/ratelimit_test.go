package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/latchd/latch/store"
)

// badFrom sends a request with a wrong token from peer.
func (e *env) badFrom(peer string) int {
	req := httptest.NewRequest("GET", "/v1/health", nil)
	req.RemoteAddr = peer
	req.Header.Set("Authorization", "Bearer latch_wrong")
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec.Code
}

// TestAuthLimitRotatingLoopback: a local process that rotates its source
// address through 127.0.0.0/8 and ::1 (any of them can be bound) stays in
// one bucket; so does one that rotates through an IPv6 /64.
func TestAuthLimitRotatingLoopback(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AuthFailBurst = 3; o.AuthFailRefill = time.Minute })
	for i, peer := range []string{"127.0.0.1:1", "127.0.0.2:1", "127.1.2.3:1"} {
		if got := e.badFrom(peer); got != 401 {
			t.Fatalf("failure %d from %s: %d, want 401", i+1, peer, got)
		}
	}
	for _, peer := range []string{"127.0.0.4:1", "127.255.255.254:9", "[::1]:1", "[::ffff:127.0.0.9]:1"} {
		if got := e.badFrom(peer); got != 429 {
			t.Errorf("a 4th failure from the loopback, as %s: %d, want 429", peer, got)
		}
	}
	for i := 1; i <= 3; i++ {
		e.badFrom(fmt.Sprintf("[2001:db8::%x]:1", i))
	}
	if got := e.badFrom("[2001:db8::ffff:1%eth0]:1"); got != 429 {
		t.Errorf("a 4th failure from the same /64: %d, want 429", got)
	}
	if got := e.badFrom("192.0.2.50:1"); got != 401 {
		t.Errorf("another client: %d, want 401", got)
	}
}

// TestValidTokenNeverLimited: behind a proxy every client has the proxy's
// address; a flood of bad tokens from it fills that bucket, yet a valid
// token from the same address is served, every time; the bad ones get 429.
func TestValidTokenNeverLimited(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AuthFailBurst = 5; o.AuthFailRefill = time.Hour })
	for _, proxy := range []string{"10.0.0.1:4000", "127.0.0.1:4000"} {
		for i := 0; i < 100; i++ {
			e.badFrom(proxy)
		}
		if got := e.badFrom(proxy); got != 429 {
			t.Errorf("%s: bad token after the flood: %d, want 429", proxy, got)
		}
		for i := 0; i < 3; i++ {
			if rec := e.doFrom(proxy, store.RoleViewer, "GET", "/v1/health", ""); rec.Code != 200 {
				t.Errorf("%s: valid token after the flood: %d %s, want 200", proxy, rec.Code, rec.Body)
			}
		}
		if got := e.badFrom(proxy); got != 429 {
			t.Errorf("%s: a good token refilled the bucket: %d, want 429", proxy, got)
		}
	}
}

// TestAuthPeer: the bucket keys.
func TestAuthPeer(t *testing.T) {
	for _, c := range []struct {
		remote string
		uid    int
		want   string
	}{
		{"127.0.0.1:1", -1, "loopback"},
		{"127.200.0.1:1", -1, "loopback"},
		{"[::1]:1", -1, "loopback"},
		{"[::ffff:127.0.0.1]:1", -1, "loopback"},
		{"192.0.2.7:5555", -1, "192.0.2.7"},
		{"[::ffff:192.0.2.7]:80", -1, "192.0.2.7"}, // the same client as its IPv4 form
		{"[2001:db8::1]:80", -1, "2001:db8::/64"},
		{"[2001:db8::ffff:1]:80", -1, "2001:db8::/64"},
		{"[fe80::1%eth0]:80", -1, "fe80::/64"},
		{"@", 1000, "unix:uid=1000"},
		{"", -1, "unix"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.uid >= 0 {
			r = r.WithContext(context.WithValue(r.Context(), peerKey{}, uint32(c.uid)))
		}
		if got := authPeer(r); got != c.want {
			t.Errorf("authPeer(%q) = %q, want %q", c.remote, got, c.want)
		}
	}
}
