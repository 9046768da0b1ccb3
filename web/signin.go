package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/store"
)

func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) {
	s.showSignIn(w, r, http.StatusOK, "")
}

// showSignIn renders the form with a fresh pre-session CSRF token (a
// cookie and the form's hidden field must match: a forged cross-site
// sign-in has neither).
func (s *Server) showSignIn(w http.ResponseWriter, r *http.Request, status int, errKey string) {
	tok := randomToken()
	s.setCookie(w, preCookie, tok, 600)
	p := s.newPage(w, r, nil)
	p.CSRF = tok
	p.Form.Set("name", r.PostFormValue("name"))
	p.Form.Set("next", localPath(r.FormValue("next"), "/"))
	if errKey != "" {
		p.Errs["_"] = p.T(errKey)
	}
	w.WriteHeader(status)
	s.render(w, "signin", p.with("signin", nil))
}

// signIn checks the name and password (store.VerifyAdmin: one answer for
// both, the same work for an unknown name), limited per peer and per name.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, formLimit)
	if err := r.ParseForm(); err != nil {
		s.showSignIn(w, r, http.StatusBadRequest, "err.form")
		return
	}
	c, _ := r.Cookie(preCookie)
	if c == nil || !sameToken(r.PostFormValue("_csrf"), c.Value) {
		s.showSignIn(w, r, http.StatusForbidden, "err.csrf")
		return
	}
	name, pw := r.PostFormValue("name"), []byte(r.PostFormValue("password"))
	defer clear(pw)
	peer := api.Peer(r)
	nameKey := "name:" + name
	if len(name) > 64 {
		nameKey = "name:" + name[:64]
	}
	for _, k := range []string{peer, nameKey} {
		lim := s.peers
		if k == nameKey {
			lim = s.names
		}
		if ok, wait := lim.Allow(k); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			s.log.Warn().Str("peer", peer).Msg("sign-in refused: too many failures")
			s.showSignIn(w, r, http.StatusTooManyRequests, "err.toomany")
			return
		}
	}
	a, err := s.st.VerifyAdmin(name, pw)
	if err != nil {
		if !errors.Is(err, store.ErrBadPassword) {
			s.log.Error().Err(err).Msg("sign-in")
			s.showSignIn(w, r, http.StatusInternalServerError, "err.internal")
			return
		}
		s.peers.Fail(peer)
		s.names.Fail(nameKey)
		s.log.Warn().Str("peer", peer).Msg("sign-in failed")
		s.showSignIn(w, r, http.StatusUnauthorized, "err.signin")
		return
	}
	if old, err := r.Cookie(cookieName); err == nil {
		s.ss.end(old.Value) // a new id at every sign-in: a session id planted before it is worth nothing
	}
	id, _ := s.ss.create(a.Name)
	s.setCookie(w, cookieName, id, int(AbsoluteTimeout.Seconds()))
	s.setCookie(w, preCookie, "", -1)
	s.log.Info().Str("account", a.Name).Str("role", a.Role).Str("peer", peer).Msg("signed in")
	http.Redirect(w, r, localPath(r.PostFormValue("next"), "/"), http.StatusSeeOther)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, q *req) {
	s.ss.end(q.id)
	s.setCookie(w, cookieName, "", -1)
	s.log.Info().Str("account", q.account.Name).Msg("signed out")
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
