package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Sign-in limits: failures a peer, or an account name, may make at once,
// then one more every signInRefill.
const (
	signInBurst  = 5
	signInRefill = 12 * time.Second
	formLimit    = 64 << 10 // a form body; the import's file has its own limit
	// ImportLimit bounds a CSV uploaded through the page, which is held in
	// memory (never on disk: it may carry codes). Larger files go through
	// latchctl import or POST /v1/import, which spool encrypted.
	ImportLimit = 32 << 20
	maxStreams  = 8 // live event streams of the page at once
)

// Options configures the page.
type Options struct {
	Store *store.Store // required
	API   *api.Server  // required: every change goes through its routes
	// Location is the controller's time zone (docs/config.md
	// [controller] time_zone); nil = UTC. Doors have their own.
	Location func() *time.Location
	Now      func() time.Time // nil = time.Now
	Logger   zerolog.Logger
	// DoorZone is a door's time zone (its own, else the controller's);
	// nil or a nil answer = Location.
	DoorZone func(door string) *time.Location
	// TLS marks the listener as TLS: cookies get Secure.
	TLS bool
}

// Server is the admin page, an http.Handler.
type Server struct {
	st      *store.Store
	api     *api.Server
	loc     func() *time.Location
	zone    func(string) *time.Location
	now     func() time.Time
	log     zerolog.Logger
	tls     bool
	pages   map[string]*template.Template
	static  http.Handler
	mux     *http.ServeMux
	ss      sessions
	peers   *api.FailLimiter
	names   *api.FailLimiter
	streams chan struct{}

	jobsMu sync.Mutex
	jobs   map[string]*importJob // by session account; one import per account
}

// New returns the page's handler.
func New(o Options) (*Server, error) {
	s := &Server{st: o.Store, api: o.API, loc: o.Location, zone: o.DoorZone, now: o.Now, tls: o.TLS,
		log: o.Logger.With().Str("component", "web").Logger(), mux: http.NewServeMux(),
		streams: make(chan struct{}, maxStreams), jobs: map[string]*importJob{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.loc == nil {
		s.loc = func() *time.Location { return time.UTC }
	}
	s.ss = sessions{now: s.now, m: map[[32]byte]*session{}}
	s.peers = api.NewFailLimiter(2*signInBurst, signInRefill, s.now) // a peer may hold a few names
	s.names = api.NewFailLimiter(signInBurst, signInRefill, s.now)
	if err := s.parse(); err != nil {
		return nil, err
	}
	sub, _ := fs.Sub(staticFS, "static")
	s.static = http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	for _, rt := range s.routes() {
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	s.mux.HandleFunc("GET /static/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		s.static.ServeHTTP(w, r)
	})
	s.mux.HandleFunc("GET /signin", s.signInForm)
	s.mux.HandleFunc("POST /signin", s.signIn)
	s.mux.HandleFunc("GET /lang", s.setLang)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p := s.newPage(w, r, nil)
		w.WriteHeader(http.StatusNotFound)
		s.render(w, "error", p.with("", map[string]string{"Message": p.T("err.notfound")}))
	})
	return s, nil
}

func (s *Server) parse() error {
	funcs := template.FuncMap{}
	layout, err := templateFS.ReadFile("templates/layout.html")
	if err != nil {
		return err
	}
	entries, _ := templateFS.ReadDir("templates")
	s.pages = map[string]*template.Template{}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name == "layout" {
			continue
		}
		body, _ := templateFS.ReadFile("templates/" + e.Name())
		t, err := template.New(name).Funcs(funcs).Parse(string(layout))
		if err == nil {
			_, err = t.Parse(string(body))
		}
		if err != nil {
			return fmt.Errorf("web: template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

// headers are the security headers of every reply (docs/web.md).
func headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// ServeHTTP serves the page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	headers(w)
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		w.Header().Set("Cache-Control", "no-store")
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			ev := s.log.Error().Str("path", r.URL.Path).Str("panic", fmt.Sprintf("%T", v))
			if re, ok := v.(runtime.Error); ok {
				ev = ev.Str("error", re.Error())
			}
			ev.Msg("page handler panic")
			http.Error(w, "internal error (see the daemon's log)", http.StatusInternalServerError)
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// req is a signed-in request: its session and account.
type req struct {
	id      string // the session id (cookie)
	sess    *session
	account store.Admin
}

func (q *req) can(p store.Permission) bool { return store.Allowed(q.account.Role, p) }

// wrap signs the request in, checks the CSRF token of a POST and the
// route's permission (store.Allowed: the API's table), then runs h.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie(cookieName)
		var q req
		ok := false
		if c != nil {
			q.id = c.Value
			q.sess, ok = s.ss.get(c.Value)
		}
		if ok {
			a, err := s.st.Admin(q.sess.account) // the role now: a changed or deleted account counts at once
			if err != nil {
				s.ss.endAccount(q.sess.account)
				ok = false
			}
			q.account = a
		}
		if !ok {
			if r.Method == http.MethodGet && rt.Path != "/events/stream" {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.refuse(w, r, nil, http.StatusUnauthorized, "err.signedout")
			return
		}
		if r.Method == http.MethodPost {
			limit := int64(formLimit)
			if rt.Path == "/import" {
				limit = ImportLimit + 64<<10
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			tok := r.Header.Get("X-CSRF-Token")
			if tok == "" {
				if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
					// All in memory (the body is bounded above): an
					// uploaded CSV may carry codes and must not touch the
					// disk, where a larger limit would spool it.
					if err := r.ParseMultipartForm(limit); err != nil {
						s.refuse(w, r, &q, http.StatusBadRequest, "err.form")
						return
					}
				}
				tok = r.PostFormValue("_csrf")
			}
			if !sameToken(tok, q.sess.csrf) {
				s.refuse(w, r, &q, http.StatusForbidden, "err.csrf")
				return
			}
		}
		if rt.Perm != "" && !q.can(rt.Perm) {
			s.refuse(w, r, &q, http.StatusForbidden, "err.forbidden")
			return
		}
		rt.h(w, r, &q)
	})
}

// refuse answers an error page with status.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, q *req, status int, key string) {
	p := s.newPage(w, r, q)
	w.WriteHeader(status)
	s.render(w, "error", p.with("", map[string]string{"Message": p.T(key)}))
}

// render writes the page; a template error is logged (the page is ours, so
// it is a bug) and answered 500.
func (s *Server) render(w http.ResponseWriter, name string, p *page) {
	var b bytes.Buffer
	t := s.pages[name]
	if t == nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		s.log.Error().Err(err).Str("template", name).Msg("page render")
		http.Error(w, "internal error (see the daemon's log)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

// call takes a change through the API's route as the account (the same
// permission check, validation and audit as a token's request). v, when
// not nil, receives a 2xx reply's JSON; an error reply comes back as
// *apiErr.
func (s *Server) call(ctx context.Context, q *req, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
		defer clear(body)
	}
	rep := s.api.Call(ctx, method, path, body, q.account.Name, q.account.Role)
	defer clear(rep.Body.Bytes())
	if rep.Status >= 300 {
		e := &apiErr{Status: rep.Status}
		json.Unmarshal(rep.Body.Bytes(), &e.E)
		return e
	}
	if out != nil {
		return json.Unmarshal(rep.Body.Bytes(), out)
	}
	return nil
}

// apiErr is an error reply of the API: its status, field and rule.
type apiErr struct {
	Status int
	E      apitype.Error
}

func (e *apiErr) Error() string { return e.E.Error }
