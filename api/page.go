package api

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/latchd/latch/store"
)

// The admin page (package web, docs/web.md) shares the API's listener and
// takes every change through the API's own routes, in-process: the same
// permission check (store.Allowed), the same validation and the same audit
// as a token's request. Nothing here is reachable from the network: the
// account rides in a context key only Call sets.

// MountPage serves h for every path that is not the API's (/v1/…,
// /access/v1/… and any other path a route serves). Call it before serving.
func (s *Server) MountPage(h http.Handler) { s.page = h }

// isAPIPath reports whether r belongs to the API rather than the page:
// under /v1/ or /access/v1/ (so an unknown API path is the API's 404 or
// 405), or matched by one of its routes (/metrics, and any route outside
// those prefixes).
func (s *Server) isAPIPath(r *http.Request) bool {
	p := r.URL.Path
	if strings.HasPrefix(p, "/v1/") || p == "/v1" || strings.HasPrefix(p, "/access/v1/") {
		return true
	}
	_, pattern := s.mux.Handler(r)
	return pattern != ""
}

// accountKey is the context key of an in-process caller (Call).
type accountKey struct{}

// PageName is how an account of the admin page is named as an actor (the
// audit log's actor, an MFA code's creator): "web/NAME". A token name
// cannot hold a '/', so the two never collide.
func PageName(account string) string { return "web/" + account }

// Reply is an in-process call's answer.
type Reply struct {
	Status int
	Header http.Header
	Body   bytes.Buffer
}

func (r *Reply) WriteHeader(code int) {
	if r.Status == 0 {
		r.Status = code
	}
}
func (r *Reply) Write(b []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	return r.Body.Write(b)
}

type replyWriter struct{ *Reply }

func (w replyWriter) Header() http.Header { return w.Reply.Header }

// Call serves an API request in-process as the admin-page account with
// role, and returns the reply: the route's permission is checked against
// role with store.Allowed, exactly as for a token.
func (s *Server) Call(ctx context.Context, method, path string, body []byte, account, role string) *Reply {
	r, _ := http.NewRequestWithContext(context.WithValue(ctx, accountKey{}, store.Token{Name: PageName(account), Role: role}), method, path, bytes.NewReader(body))
	rep := &Reply{Header: http.Header{}}
	if r == nil {
		rep.Status = http.StatusBadRequest
		return rep
	}
	r.RemoteAddr = "page"
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	s.mux.ServeHTTP(replyWriter{rep}, r)
	if rep.Status == 0 {
		rep.Status = http.StatusOK
	}
	return rep
}

// pageCaller is the in-process account of r, set only by Call.
func pageCaller(r *http.Request) (store.Token, bool) {
	t, ok := r.Context().Value(accountKey{}).(store.Token)
	return t, ok
}

// ImportOptions are the options a CSV import of role takes through the
// API: the config's groups, and what the role may change (importAllowed).
// The admin page imports with them, adding its progress.
func (s *Server) ImportOptions(role string) store.ImportOptions {
	return store.ImportOptions{
		KnownGroup: s.groupKnown,
		Allow:      func(h store.ImportHeader) error { return importAllowed(role, h) },
	}
}

// ErrorOf is the field, rule and message of an error an ImportOptions.Allow
// or a store call returned, as the API would answer it (status 0 for an
// error it does not know).
func ErrorOf(err error, what string) (status int, field, rule, msg string) {
	ae := toAPIError(err, what)
	if ae == nil {
		return 0, "", "", ""
	}
	return ae.Status, ae.Field, ae.Rule, ae.Msg
}

// FailLimiter is the API's failed-authentication limiter (a token bucket
// per key) for the admin page's sign-in, which limits per peer and per
// account name.
type FailLimiter struct{ l *limiter }

// NewFailLimiter allows burst failures per key, then one per refill.
func NewFailLimiter(burst int, refill time.Duration, now func() time.Time) *FailLimiter {
	return &FailLimiter{newLimiter(burst, refill, now)}
}

// Allow reports whether key may try now, and if not, how long until it may.
func (f *FailLimiter) Allow(key string) (bool, time.Duration) { return f.l.allow(key) }

// Fail counts one failure of key.
func (f *FailLimiter) Fail(key string) { f.l.fail(key) }

// Peer is the key of r's client for FailLimiter, as the API's own
// failed-authentication limit keys it (every loopback address one client,
// an IPv6 client its /64).
func Peer(r *http.Request) string { return authPeer(r) }
