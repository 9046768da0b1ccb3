package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/store"
)

// Defaults for Options' zero values.
const (
	DefaultBodyLimit = 64 << 10 // JSON bodies: far above any real request
	// DefaultBodyTimeout bounds reading a JSON body, and each wait for
	// more of a CSV upload; DefaultImportTimeout bounds a whole upload.
	// A client that sends a body slower than that gets a 400 and loses
	// the connection, instead of holding a handler.
	DefaultBodyTimeout    = 30 * time.Second
	DefaultImportTimeout  = 30 * time.Minute
	DefaultImportLimit    = 1 << 30 // CSV: 1,000,000 rows of ~100 bytes fit with room
	DefaultMaxStreams     = 16      // live event streams at once: a few dashboards and tails
	DefaultAuthFailBurst  = 10      // failed authentications a peer may make at once …
	DefaultAuthFailRefill = 6 * time.Second
	// … then one more every 6 s (10 a minute).

	// On a TCP listener (never the Unix socket, whose peers the kernel
	// names): connections held at once in all and from one peer (an IPv4
	// address or an IPv6 /64), and the time a client has to send a whole
	// request header, before any authentication. One connection more is
	// closed as soon as it is accepted.
	DefaultMaxConns        = 256
	DefaultMaxConnsPerPeer = 16
	DefaultHeaderTimeout   = 10 * time.Second
)

// Options configures a Server. Zero values mean the documented default.
type Options struct {
	Store *store.Store // required
	Doors DoorStatuser // nil: every door reports mode "unknown"
	// Control, when set, is the command API over the running doors (a
	// daemon that reloads its config passes the current one); nil, or a
	// nil result, makes door commands 503.
	Control func() *door.Controller
	// SiteDoors, on a fleet manager, lists the doors of the site's
	// controllers (docs/fleet.md); GET /v1/doors serves them after the
	// local ones. An error is a 503 naming it.
	SiteDoors func(ctx context.Context) ([]apitype.DoorState, error)
	// SiteCommands, on a fleet manager, carries the door commands to the
	// site's controllers (docs/fleet.md "Door commands across the site"); set, it replaces
	// Control for every door command route.
	SiteCommands DoorCommander
	// Config is the configured groups and doors, served read-only.
	Config Config
	// ConfigFunc, when set, is called for the configured groups and doors
	// on every request that needs them (a daemon that reloads its config
	// passes its current one); it wins over Config.
	ConfigFunc func() Config
	// Metrics is served on /metrics; nil = NewMetrics(). The caller feeds it
	// (Metrics.Follow, ObserveDecision).
	Metrics *Metrics
	Logger  zerolog.Logger   // access log and errors; zero value = zerolog.Nop()
	Now     func() time.Time // nil = time.Now

	BodyLimit     int64         // JSON request bodies; 0 = DefaultBodyLimit
	BodyTimeout   time.Duration // 0 = DefaultBodyTimeout
	ImportTimeout time.Duration // 0 = DefaultImportTimeout
	// ImportLimit bounds a CSV import body, and so its spool; 0 =
	// DefaultImportLimit. An upload may also spool at most half the free
	// space on TempDir's filesystem (Linux), or it gets a 507.
	ImportLimit int64
	TempDir     string // where a CSV import is spooled; "" = os.TempDir()

	// MaxStreams bounds the live event streams served at once (each holds
	// a goroutine and a store subscription of 1,024 events); 0 =
	// DefaultMaxStreams. One more is refused with 503.
	MaxStreams int
	// MaxStreamsPerToken bounds the live streams one token holds at once
	// (api/events.go); 0 = DefaultMaxStreamsPerToken. One more is a 429.
	MaxStreamsPerToken int

	AuthFailBurst  int           // 0 = DefaultAuthFailBurst
	AuthFailRefill time.Duration // 0 = DefaultAuthFailRefill

	// MaxConns and MaxConnsPerPeer cap the connections Serve holds at once
	// on a TCP listener, in all and per peer (see DefaultMaxConns); 0 =
	// the default. A per-peer cap above the total is the total.
	MaxConns, MaxConnsPerPeer int
	// HeaderTimeout bounds reading a request's header on every listener
	// (and a TLS handshake); 0 = DefaultHeaderTimeout.
	HeaderTimeout time.Duration

	// LocalOwner lets a client on the Unix socket whose uid is the daemon's
	// own (or root) manage tokens (/v1/tokens) without a bearer token, so that
	// "latchctl token create" works while latchd holds the database. It needs
	// Serve (which records each connection's peer uid) and Linux. Never
	// relay other clients onto the socket from a process running as the
	// daemon's user or root: they would all be the local owner.
	LocalOwner bool

	// Duress is the controller's duress latch (GET and DELETE /v1/duress);
	// nil = the stored state alone, with no output line to drive.
	Duress DuressLatch
}

// Server is the management API. It is an http.Handler.
type Server struct {
	st        *store.Store
	doors     DoorStatuser
	control   func() *door.Controller
	siteDoors func(ctx context.Context) ([]apitype.DoorState, error)
	siteCmds  DoorCommander
	cfg       Config
	cfgFunc   func() Config
	duress    DuressLatch
	metrics   *Metrics
	log       zerolog.Logger
	now       func() time.Time

	bodyLimit     int64         // a JSON body's bytes; see DefaultBodyLimit
	importLimit   int64         // a CSV import body's bytes; see DefaultImportLimit
	bodyTimeout   time.Duration // see DefaultBodyTimeout
	importTimeout time.Duration // see DefaultImportTimeout
	headerTimeout time.Duration // see DefaultHeaderTimeout
	tempDir       string        // where a CSV import is spooled

	authFailures *limiter // failed authentications per peer, api/ratelimit.go
	mux          *http.ServeMux
	localOwner   bool          // Options.LocalOwner
	euid         uint32        // the uid LocalOwner trusts besides root
	streams      chan struct{} // one slot per live event stream
	perTok       tokenStreams  // live streams per token, api/events.go

	maxConns, maxConnsPerPeer int
	// free is the free space on a folder's filesystem (diskFree; tests
	// replace it); known is false where it cannot be told.
	free func(dir string) (free uint64, known bool, err error)
	// importing is held while a CSV import is spooled and written: one at
	// a time, so concurrent uploads cannot fill the database's disk.
	importing sync.Mutex
	// page serves what is not the API's paths (MountPage, api/page.go).
	page http.Handler
}

// New returns a Server for o.
func New(o Options) *Server {
	s := &Server{
		st:        o.Store,
		doors:     o.Doors,
		control:   o.Control,
		siteDoors: o.SiteDoors,
		siteCmds:  o.SiteCommands,
		cfg:       o.Config,
		cfgFunc:   o.ConfigFunc,
		duress:    o.Duress,
		metrics:   o.Metrics,
		log:       o.Logger.With().Str("component", "api").Logger(),
		now:       o.Now,

		bodyLimit:     o.BodyLimit,
		importLimit:   o.ImportLimit,
		bodyTimeout:   o.BodyTimeout,
		importTimeout: o.ImportTimeout,
		headerTimeout: o.HeaderTimeout,
		tempDir:       o.TempDir,

		mux:        http.NewServeMux(),
		localOwner: o.LocalOwner,
		euid:       uint32(os.Geteuid()),

		maxConns:        o.MaxConns,
		maxConnsPerPeer: o.MaxConnsPerPeer,
		free:            diskFree,
	}
	orDefault(&s.maxConns, DefaultMaxConns)
	orDefault(&s.maxConnsPerPeer, DefaultMaxConnsPerPeer)
	orDefault(&s.headerTimeout, DefaultHeaderTimeout)
	orDefault(&s.bodyLimit, DefaultBodyLimit)
	orDefault(&s.importLimit, DefaultImportLimit)
	orDefault(&s.bodyTimeout, DefaultBodyTimeout)
	orDefault(&s.importTimeout, DefaultImportTimeout)
	if s.now == nil {
		s.now = time.Now
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	if s.duress == nil {
		s.duress = storeDuress{o.Store}
	}
	if s.tempDir == "" {
		s.tempDir = os.TempDir()
	}
	burst, refill := o.AuthFailBurst, o.AuthFailRefill
	orDefault(&burst, DefaultAuthFailBurst)
	orDefault(&refill, DefaultAuthFailRefill)
	s.authFailures = newLimiter(burst, refill, s.now)
	orDefault(&o.MaxStreams, DefaultMaxStreams)
	s.streams = make(chan struct{}, o.MaxStreams)
	s.perTok.max = o.MaxStreamsPerToken
	for _, rt := range s.routes() {
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	// The Verkada key exchange authenticates by its key (api/verkada_auth.go).
	s.mux.Handle("POST "+verkadaTokenPath, http.HandlerFunc(s.verkadaToken))
	for _, p := range verkadaPrefixes {
		s.mux.Handle(p, http.HandlerFunc(verkadaNotServed))
	}
	return s
}

// orDefault sets *v to def when it is zero or negative: an Options field
// left unset.
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// config is the configured groups and doors now.
func (s *Server) config() Config {
	if s.cfgFunc != nil {
		return s.cfgFunc()
	}
	return s.cfg
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK, verkada: isVerkadaPath(r.URL.Path)}
	start := s.now()
	if s.page != nil && !s.isAPIPath(r) {
		s.page.ServeHTTP(rec, r)
	} else {
		s.mux.ServeHTTP(rec, r)
	}
	// Access log: never the query string (credential paths carry codes in
	// it), never a body, never the token.
	s.log.Info().
		Str("method", r.Method).
		Str("path", printable(r.URL.Path)).
		Int("status", rec.status).
		Int64("bytes", rec.bytes).
		// The unit in the name: a bare number (zerolog's Dur) reads as
		// seconds to a person and as nothing to a log tool.
		Float64("duration_ms", float64(s.now().Sub(start).Microseconds())/1000).
		Str("peer", peerOf(r)).
		Str("token", rec.token).
		Msg("request")
}

// printable bounds s (a logged path, an id in an error) and keeps it printable.
func printable(p string) string {
	if len(p) > 200 {
		p = p[:200] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, p)
}

// peerOf is r's client as the access log names it: over TCP the IPv4
// address or the IPv6 /64 (the failed-auth bucket, authPeer, also folds
// every loopback address into one); on the Unix socket the peer's uid as the kernel reports
// it (SO_PEERCRED, recorded by ConnContext), so one local account that keeps
// failing cannot lock the others (the daemon's owner, a Prometheus scraper
// on the socket) out. A socket peer whose uid is unknown (not Linux, or a
// server run without ConnContext) falls back to one shared key, "unix".
func peerOf(r *http.Request) string {
	if r.RemoteAddr == "" || r.RemoteAddr == "@" || strings.HasPrefix(r.RemoteAddr, "/") {
		if uid, ok := r.Context().Value(peerKey{}).(uint32); ok {
			return "unix:uid=" + strconv.FormatUint(uint64(uid), 10)
		}
		return "unix"
	}
	return peerOfAddr(r.RemoteAddr)
}

// peerOfAddr is the peer key of a TCP client at addr (HOST:PORT): the IPv4
// address (an IPv4-mapped IPv6 address is its IPv4 one), or the IPv6 /64.
// The per-peer connection cap counts by it, and the failed-authentication
// limit too (authPeer, which also folds every loopback address into one).
func peerOfAddr(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	// An IPv4-mapped IPv6 address is its IPv4 client. One IPv6 client
	// usually holds a whole /64: key it by that, or it could rotate
	// addresses to refill its bucket or open more connections.
	if a = a.WithZone("").Unmap(); a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// recorder remembers the status and size for the access log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
	token  string // the caller's token name, for the log
	// verkada marks a request on the Verkada-compatible paths: its errors
	// carry "message" too (api/verkada.go).
	verkada bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Flush lets streams flush through the recorder.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// caller is an authenticated request's token.
type caller struct {
	store.Token
}

func (c caller) actor() store.Actor { return store.Actor{Name: c.Name, Role: c.Role} }

// handlerFunc is a route's handler; a returned error is mapped to its status.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c caller) error

// wrap authenticates, checks the route's permission, runs the handler and
// maps its error.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The daemon's own user on the socket manages tokens as the owner,
		// whatever token it may also send. The kernel vouches for it, so
		// it never fails authentication and is never rate-limited.
		if rt.Perm == store.PermTokens && s.isLocalOwner(r) {
			if rec, ok := w.(*recorder); ok {
				rec.token = localOwnerName
			}
			s.run(w, r, rt, caller{store.Token{Name: localOwnerName, Role: store.RoleSystemAdmin}})
			return
		}
		tok, ok := pageCaller(r) // the admin page's account (api/page.go)
		if !ok {
			tok, ok = s.authenticate(w, r) // api/ratelimit.go
		}
		if !ok {
			return
		}
		if rec, ok := w.(*recorder); ok {
			rec.token = tok.Name
		}
		if !store.Allowed(tok.Role, rt.Perm) {
			writeAPIError(w, &apiError{Status: http.StatusForbidden, Msg: fmt.Sprintf("api: role %s may not do this (needs %s)", tok.Role, rt.Perm)})
			return
		}
		s.run(w, r, rt, caller{tok})
	})
}

// localOwnerName is the caller's name (access log, audit) for the daemon's
// own user on the socket.
const localOwnerName = "local-owner"

// run bounds the body, runs an authorised handler and maps its error. A
// panic in a handler becomes a 500 and one log line that names the route
// and, for a runtime error, the error (never the panic value otherwise: it
// could hold request data). net/http's own recovery would print the value.
func (s *Server) run(w http.ResponseWriter, r *http.Request, rt route, c caller) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		ev := s.log.Error().Str("route", rt.Method+" "+rt.Path).Str("panic", fmt.Sprintf("%T", v))
		if re, ok := v.(runtime.Error); ok {
			ev = ev.Str("error", re.Error())
		}
		ev.Msg("handler panic")
		if rec, ok := w.(*recorder); !ok || !rec.wrote {
			writeAPIError(w, &apiError{Status: http.StatusInternalServerError, Msg: "api: internal error (see the daemon's log)"})
		}
	}()
	if r.Body != nil && r.Body != http.NoBody {
		total := s.bodyTimeout
		if rt.Perm == store.PermImport {
			total = s.importTimeout
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: s.bodyTimeout, total: total}
		if rt.Perm != store.PermImport {
			r.Body = http.MaxBytesReader(w, r.Body, s.bodyLimit+1)
		}
	}
	if err := rt.h(w, r, c); err != nil {
		s.fail(w, err, rt.what)
	}
}

// deadlineBody bounds reading a request body: each Read must finish
// within idle, and all of them within total of the first. The deadline is
// the connection's (http.ResponseController), set before each Read and
// cleared once the whole body is read, so that it never cuts a reply or
// the next request. It uses the wall clock, like the connection.
type deadlineBody struct {
	io.ReadCloser
	rc          *http.ResponseController
	idle, total time.Duration
	end         time.Time // first Read + total
	done        bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	now := time.Now()
	if b.end.IsZero() {
		b.end = now.Add(b.total)
	}
	// Not every ResponseWriter reaches a connection (httptest's does
	// not): then there is no deadline to set, and nothing to hold.
	dl := now.Add(b.idle)
	if b.end.Before(dl) {
		dl = b.end
	}
	b.rc.SetReadDeadline(dl)
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	}
	// Another error (the deadline passed) leaves the deadline as it is:
	// net/http then fails at once to drain the rest of the body and
	// closes the connection, instead of waiting on the slow client.
	return n, err
}

// fail writes err's reply; unexpected errors are logged once, here.
func (s *Server) fail(w http.ResponseWriter, err error, what string) {
	if ae := toAPIError(err, what); ae != nil {
		writeAPIError(w, ae)
		return
	}
	s.log.Error().Err(err).Msg("request failed")
	writeAPIError(w, &apiError{Status: http.StatusInternalServerError, Msg: "api: internal error (see the daemon's log)"})
}

// peerKey is the context key of a Unix-socket connection's peer uid.
type peerKey struct{}

// isLocalOwner reports whether r came over the Unix socket from the
// daemon's own user or root, and LocalOwner is set.
func (s *Server) isLocalOwner(r *http.Request) bool {
	if !s.localOwner {
		return false
	}
	uid, ok := r.Context().Value(peerKey{}).(uint32)
	return ok && (uid == s.euid || uid == 0)
}

// ConnContext records a Unix-socket peer's uid in the connection's
// context. Serve sets it; a caller running its own http.Server must set
// http.Server.ConnContext = api.ConnContext for LocalOwner to work.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if uc, ok := c.(*net.UnixConn); ok {
		if uid, ok := peerUID(uc); ok {
			return context.WithValue(ctx, peerKey{}, uid)
		}
	}
	return ctx
}

// bearer returns the token in an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const p = "bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	t := strings.TrimSpace(h[len(p):])
	return t, t != ""
}

// Serve serves s on ln until ctx is done, then shuts down, giving requests
// five seconds to finish (live streams end at once, their context is ctx's).
// On a TCP listener it holds at most MaxConns connections, MaxConnsPerPeer
// from one peer, and closes the others at once. Pass a plain listener:
// for TLS use ServeTLS, which caps the connections beneath TLS.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.ServeTLS(ctx, ln, nil)
}

// ServeTLS is Serve with TLS on ln when tc is not nil: the connection caps
// count TCP connections, so one that never finishes its handshake holds a
// slot only until the header timeout, like one that never finishes its
// header.
func (s *Server) ServeTLS(ctx context.Context, ln net.Listener, tc *tls.Config) error {
	if strings.HasPrefix(ln.Addr().Network(), "tcp") {
		ln = newConnLimiter(ln, s.maxConns, s.maxConnsPerPeer, s.log, s.now)
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	hs := &http.Server{
		Handler: s,
		// Before authentication: the header (a TLS handshake too, which
		// net/http bounds by the same time) must come within headerTimeout.
		ReadHeaderTimeout: s.headerTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext:       ConnContext,
		// net/http's own complaints go to the daemon's log as JSON lines,
		// not to stderr in another format.
		ErrorLog: log.New(errorLogWriter{s.log}, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return fmt.Errorf("api: serve: %w", err)
}

// maxHeaderBytes bounds a request's header: a bearer token and a few
// ordinary headers need far less; net/http's default is 1 MiB.
const maxHeaderBytes = 16 << 10

// errorLogWriter turns http.Server.ErrorLog lines into warnings.
type errorLogWriter struct{ log zerolog.Logger }

func (e errorLogWriter) Write(p []byte) (int, error) {
	e.log.Warn().Str("from", "net/http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

// ListenUnix listens on a Unix socket at path with mode 0660, replacing a
// stale socket left by a previous run (but nothing that is not a socket).
func ListenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("api: socket %s: exists and is not a socket; remove it or set [api].socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("api: socket %s: %w", path, err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("api: socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("api: socket %s: %w", path, err)
	}
	return ln, nil
}
