package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// The Verkada-compatible API (docs/verkada.md) authenticates as Verkada's
// does: POST /token with the API key in x-api-key answers a session token,
// valid store.SessionLifetime, that every other call sends raw in
// x-verkada-auth. An expired session gets exactly {"message":"API token
// expired"}, the answer on which Verkada's clients fetch a new one. A
// bearer token works on these paths too. Keys and sessions are the
// store's (store/verkada.go); their role is the key's token's.

const verkadaTokenPath = "/token"

// msgExpired is the message of an expired session's 401: clients compare
// it, byte for byte.
const msgExpired = "API token expired"

// verkadaPrefixes are the path prefixes of Verkada's API that latch
// serves a part of (and verkadaTokenPath). They end in "/v1/": a shorter
// prefix ("/events/") would be a subtree of the mux that redirects the admin
// page's own /events to /events/.
var verkadaPrefixes = []string{"/access/v1/", "/events/v1/", "/core/v1/", verkadaTokenPath}

// isVerkadaPath reports whether p is one of the Verkada-compatible paths.
func isVerkadaPath(p string) bool {
	for _, x := range verkadaPrefixes {
		if p == x || (strings.HasSuffix(x, "/") && strings.HasPrefix(p, x)) {
			return true
		}
	}
	return false
}

// verkadaNotServed answers a Verkada path or method latch does not serve
// in Verkada's error shape, so that a client reports it instead of
// failing to read a text reply.
func verkadaNotServed(w http.ResponseWriter, r *http.Request) {
	writeAPIError(w, &apiError{Status: http.StatusNotFound, Msg: "api: latch does not serve " + r.Method + " " + printable(r.URL.Path) + " (docs/verkada.md lists the Verkada paths it serves)"})
}

// authFailed counts a failed authentication against r's client and
// answers it: 429 when the client's bucket is empty, else status with
// body. It is the key exchange's failure path.
func (s *Server) authFailed(w http.ResponseWriter, r *http.Request, status int, body any) {
	if !s.countAuthFailure(w, r) {
		return
	}
	if e, ok := body.(*apiError); ok {
		writeAPIError(w, e)
		return
	}
	writeJSON(w, status, body)
}

// verkadaSession authenticates a request on a Verkada path that carries
// x-verkada-auth. done is false when there is no such header (the bearer
// token is checked then); else ok says whether tok is the caller, and a
// failure has been answered.
func (s *Server) verkadaSession(w http.ResponseWriter, r *http.Request) (tok store.Token, done, ok bool) {
	v := strings.TrimSpace(r.Header.Get("x-verkada-auth"))
	if v == "" || !isVerkadaPath(r.URL.Path) {
		return store.Token{}, false, false
	}
	tok, err := s.st.VerifyVerkadaSession(v)
	switch {
	case err == nil:
		return tok, true, true
	case errors.Is(err, store.ErrSessionExpired):
		s.authFailed(w, r, http.StatusUnauthorized, apitype.VerkadaMessage{Message: msgExpired})
	case errors.Is(err, store.ErrNotFound):
		s.authFailed(w, r, http.StatusUnauthorized, &apiError{Status: http.StatusUnauthorized, Msg: "api: the API key of this token was revoked"})
	default:
		s.log.Error().Err(err).Msg("verify verkada session")
		writeAPIError(w, &apiError{Status: http.StatusInternalServerError, Msg: "api: internal error"})
	}
	return store.Token{}, true, false
}

// verkadaToken is POST /token: x-api-key → {"token"}.
func (s *Server) verkadaToken(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimSpace(r.Header.Get("x-api-key"))
	if key == "" {
		s.authFailed(w, r, http.StatusUnauthorized, &apiError{Status: http.StatusUnauthorized, Msg: "api: missing x-api-key: send a Verkada API key (latchctl token create --verkada-key)"})
		return
	}
	secret, _, err := s.st.ExchangeVerkadaKey(key)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, apitype.VerkadaToken{Token: secret})
	case errors.Is(err, store.ErrNotVerkadaKey):
		writeAPIError(w, &apiError{Status: http.StatusForbidden, Msg: "api: this token is not a Verkada API key (create one with latchctl token create --verkada-key)"})
	case errors.Is(err, store.ErrNotFound):
		s.authFailed(w, r, http.StatusUnauthorized, &apiError{Status: http.StatusUnauthorized, Msg: "api: unknown or revoked API key"})
	default:
		s.log.Error().Err(err).Msg("verkada key exchange")
		writeAPIError(w, &apiError{Status: http.StatusInternalServerError, Msg: "api: internal error (see the daemon's log)"})
	}
}
