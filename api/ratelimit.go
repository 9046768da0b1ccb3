package api

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/latchd/latch/store"
)

// authenticate checks r's bearer token and, when it is not a valid one,
// counts the failure against the client's bucket; it writes the 401, 429
// or 500 itself and reports false then.
//
// The model: a valid token is checked first and always served — the
// failed-authentication limit never refuses it. Tokens are 256 random
// bits, so no request rate makes guessing one feasible; the limit is a
// brake on failures (and their log lines), not the defence. Were it
// checked first, a flood of bad tokens from one address — a reverse proxy,
// a NAT, every local client on the loopback — would lock out every client
// behind that address. A failure from a client whose bucket is empty is a
// 429 (with Retry-After) instead of a 401, and is not counted again.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (store.Token, bool) {
	if tok, done, ok := s.verkadaSession(w, r); done {
		return tok, ok
	}
	secret, ok := bearer(r)
	if ok {
		tok, err := s.st.VerifyToken(secret)
		if err == nil {
			return tok, true
		}
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error().Err(err).Msg("verify token")
			writeAPIError(w, &apiError{Status: http.StatusInternalServerError, Msg: "api: internal error"})
			return store.Token{}, false
		}
	}
	// A request that fails authentication closes its connection after
	// the reply: an unauthenticated client cannot park idle keep-alive
	// connections in the TCP listener's slots (up to IdleTimeout each)
	// with one cheap request apiece.
	if !s.countAuthFailure(w, r) {
		return store.Token{}, false
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="latch"`)
		writeAPIError(w, &apiError{Status: http.StatusUnauthorized, Msg: "api: missing bearer token: send Authorization: Bearer <token> (create one with latchctl token create)"})
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer realm="latch", error="invalid_token"`)
		writeAPIError(w, &apiError{Status: http.StatusUnauthorized, Msg: "api: unknown or revoked token"})
	}
	return store.Token{}, false
}

// countAuthFailure is the start of every failed authentication's answer
// (authenticate's and the key exchange's): the connection closes after the
// reply, and the failure counts against r's client. When the client's
// bucket is empty it answers 429 with Retry-After and returns false; else
// the caller writes its own answer.
func (s *Server) countAuthFailure(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Connection", "close")
	peer := authPeer(r)
	if allowed, wait := s.authFailures.allow(peer); !allowed {
		secs := int(wait/time.Second) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeAPIError(w, &apiError{Status: http.StatusTooManyRequests, Msg: fmt.Sprintf("api: too many failed authentications from this client; retry in %d s", secs)})
		return false
	}
	s.authFailures.fail(peer)
	return true
}

// authPeer is the failed-authentication bucket of r's client. Over TCP:
// every loopback address (127.0.0.0/8, ::1, and those mapped into IPv6) is
// one client, "loopback" — any local process can bind any of 127/8 and
// would otherwise rotate through 16 million buckets; an IPv6 address is
// its /64 (zone dropped); an IPv4-mapped one is its IPv4 address. On the
// Unix socket it is peerOf's key (the peer's uid).
func authPeer(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err == nil {
		if a, err := netip.ParseAddr(host); err == nil && a.WithZone("").Unmap().IsLoopback() {
			return "loopback"
		}
	}
	return peerOf(r)
}

// limiter is a token bucket per peer for failed authentications. A peer
// starts with burst tokens; each failure takes one; tokens come back at one
// per refill. A request with a valid token is never refused by it (see
// authenticate).
type limiter struct {
	burst  float64
	refill time.Duration
	now    func() time.Time
	max    int // peers tracked; beyond it, full buckets are dropped first

	mu    sync.Mutex
	peers map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, refill time.Duration, now func() time.Time) *limiter {
	return &limiter{burst: float64(burst), refill: refill, now: now, max: 10000, peers: map[string]*bucket{}}
}

// levelLocked brings b's tokens up to now.
func (l *limiter) levelLocked(b *bucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 && l.refill > 0 {
		b.tokens += float64(d) / float64(l.refill)
		if b.tokens > l.burst {
			b.tokens = l.burst
		}
	}
	b.at = now
}

// allow reports whether peer may try to authenticate now, and if not, how
// long until it may.
func (l *limiter) allow(peer string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.peers[peer]
	if !ok {
		return true, 0
	}
	l.levelLocked(b, l.now())
	if b.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) * float64(l.refill))
}

// fail takes one token from peer's bucket.
func (l *limiter) fail(peer string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.peers[peer]
	if !ok {
		if len(l.peers) >= l.max {
			l.pruneLocked(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.peers[peer] = b
	}
	l.levelLocked(b, now)
	b.tokens--
	if b.tokens < 0 {
		b.tokens = 0
	}
}

// pruneLocked forgets peers whose buckets have refilled; if none has, it
// forgets an arbitrary half so memory stays bounded under a spray of peers.
func (l *limiter) pruneLocked(now time.Time) {
	for p, b := range l.peers {
		l.levelLocked(b, now)
		if b.tokens >= l.burst {
			delete(l.peers, p)
		}
	}
	if len(l.peers) < l.max {
		return
	}
	n := len(l.peers) / 2
	for p := range l.peers {
		if n == 0 {
			break
		}
		delete(l.peers, p)
		n--
	}
}
