package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Session limits (docs/web.md, "Signing in, sessions, and what the server refuses").
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	maxSessions     = 1000 // the oldest goes first beyond it
	cookieName      = "latch_session"
	preCookie       = "latch_pre" // the sign-in form's CSRF token, before a session exists
	langCookie      = "latch_lang"
)

// session is a signed-in browser. The store keeps only the hash of its id.
type session struct {
	account string
	csrf    string
	created time.Time
	seen    time.Time
}

type sessions struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[[32]byte]*session
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashID(id string) [32]byte { return sha256.Sum256([]byte(id)) }

// create starts a session for account and returns its id (the cookie's
// value; it is kept nowhere else).
func (ss *sessions) create(account string) (string, *session) {
	id := randomToken()
	now := ss.now()
	s := &session{account: account, csrf: randomToken(), created: now, seen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		var oldest [32]byte
		var at time.Time
		for k, v := range ss.m {
			if ss.expiredLocked(v, now) {
				delete(ss.m, k)
				continue
			}
			if at.IsZero() || v.seen.Before(at) {
				oldest, at = k, v.seen
			}
		}
		if len(ss.m) >= maxSessions {
			delete(ss.m, oldest)
		}
	}
	ss.m[hashID(id)] = s
	return id, s
}

func (ss *sessions) expiredLocked(s *session, now time.Time) bool {
	return now.Sub(s.seen) >= IdleTimeout || now.Sub(s.created) >= AbsoluteTimeout
}

// get returns the live session of id, and marks it seen; an expired one is
// ended.
func (ss *sessions) get(id string) (*session, bool) {
	if id == "" || len(id) > 100 {
		return nil, false
	}
	h := hashID(id)
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[h]
	if !ok {
		return nil, false
	}
	if ss.expiredLocked(s, now) {
		delete(ss.m, h)
		return nil, false
	}
	s.seen = now
	cp := *s
	return &cp, true
}

// alive reports whether id's session is live, without marking it seen: a
// live stream left open does not keep its session from going idle.
func (ss *sessions) alive(id string) bool {
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[hashID(id)]
	return ok && !ss.expiredLocked(s, now)
}

func (ss *sessions) end(id string) {
	ss.mu.Lock()
	delete(ss.m, hashID(id))
	ss.mu.Unlock()
}

// endAccount ends every session of account (it was deleted).
func (ss *sessions) endAccount(account string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, v := range ss.m {
		if v.account == account {
			delete(ss.m, k)
		}
	}
}

// sameToken compares a CSRF token in constant time.
func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.tls, SameSite: http.SameSiteStrictMode})
}
