package api

import (
	"net"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// connLimiter is a net.Listener that holds at most total connections at
// once, and at most perPeer from one peer (peerOfAddr: an IPv4 address or
// an IPv6 /64). A connection over either cap is closed as soon as it is
// accepted, before a byte of it is read: it costs the server a file
// descriptor for a moment, never a goroutine or a buffer. A slot is freed
// when the connection is closed (by net/http, or by whoever hijacked it).
type connLimiter struct {
	net.Listener
	total, perPeer int
	log            zerolog.Logger
	now            func() time.Time

	mu      sync.Mutex
	n       int            // connections held
	peers   map[string]int // connections held per peer
	refused int            // since the last log line
	logged  time.Time      // when refusals were last logged
}

// refusalLogEvery bounds the log lines about refused connections: a flood
// of them is one line a minute with the count, not one line each.
const refusalLogEvery = time.Minute

func newConnLimiter(ln net.Listener, total, perPeer int, log zerolog.Logger, now func() time.Time) *connLimiter {
	if perPeer > total {
		perPeer = total
	}
	return &connLimiter{Listener: ln, total: total, perPeer: perPeer, log: log, now: now, peers: make(map[string]int)}
}

// Accept returns the next connection within the caps; the others it
// closes and skips.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		peer := peerOfAddr(c.RemoteAddr().String())
		if why := l.acquire(peer); why != "" {
			c.Close()
			l.refuse(peer, why)
			continue
		}
		return &limitedConn{Conn: c, l: l, peer: peer}, nil
	}
}

// acquire takes a slot for peer, or says which cap is full.
func (l *connLimiter) acquire(peer string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.n >= l.total:
		return "max_connections"
	case l.peers[peer] >= l.perPeer:
		return "max_connections_per_peer"
	}
	l.n++
	l.peers[peer]++
	return ""
}

func (l *connLimiter) release(peer string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n--
	if l.peers[peer]--; l.peers[peer] <= 0 {
		delete(l.peers, peer)
	}
}

// refuse logs refusals, at most once every refusalLogEvery.
func (l *connLimiter) refuse(peer, why string) {
	l.mu.Lock()
	l.refused++
	now := l.now()
	if !l.logged.IsZero() && now.Sub(l.logged) < refusalLogEvery {
		l.mu.Unlock()
		return
	}
	n := l.refused
	l.refused, l.logged = 0, now
	l.mu.Unlock()
	l.log.Warn().Str("peer", peer).Str("cap", why).Int("refused", n).
		Int("max_connections", l.total).Int("max_connections_per_peer", l.perPeer).
		Msg("api: connection cap reached: connections over it are closed at once (logged at most once a minute)")
}

// limitedConn frees its slot when it is first closed: just before the
// socket closes, so a client that sees the close may connect again.
type limitedConn struct {
	net.Conn
	l    *connLimiter
	peer string
	once sync.Once
}

func (c *limitedConn) Close() error {
	c.once.Do(func() { c.l.release(c.peer) })
	return c.Conn.Close()
}

// CloseWrite frees the slot too: net/http half-closes a plain connection
// it is done with (the client reads the end) and closes it for good only
// after a short delay, so a client that saw the end may connect again
// before Close. (On TLS, net/http's half-close is the close_notify alert,
// which never reaches this layer: the slot is freed at Close.)
func (c *limitedConn) CloseWrite() error {
	c.once.Do(func() { c.l.release(c.peer) })
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
