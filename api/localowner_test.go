package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/internal/apitest"
	"github.com/latchd/latch/store"
)

// serveOn serves srv with Serve on a fresh Unix socket or a TCP port on
// the loopback and returns a client and the base URL that reach it. The
// server stops when the test ends.
func serveOn(t *testing.T, srv *Server, network string) (*http.Client, string) {
	t.Helper()
	var ln net.Listener
	var err error
	client, base := &http.Client{}, ""
	switch network {
	case "unix":
		sock := filepath.Join(t.TempDir(), "api.sock")
		ln, err = ListenUnix(sock)
		client, base = apitest.UnixClient(sock), apitest.Base
	case "tcp":
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		client.Transport = &http.Transport{}
		if err == nil {
			base = "http://" + ln.Addr().String()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		client.Transport.(*http.Transport).CloseIdleConnections()
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return client, base
}

// send makes one request and returns its status and body.
func send(t *testing.T, c *http.Client, method, url, token, body string) (int, string) {
	t.Helper()
	return apitest.Call(t, context.Background(), c, method, url, token, body)
}

type ownerCase struct {
	name         string
	c            *http.Client
	base         string
	method, path string
	body         string
	want         int
}

// TestLocalOwner: the bootstrap path. Without a bearer token, a client on
// the Unix socket whose uid is the daemon's (SO_PEERCRED) may use the three
// token endpoints and nothing else; the same client over TCP, a client of
// another uid, or a server without LocalOwner gets 401. The owner's body is
// size-limited like anyone's, and a local owner is never rate-limited.
func TestLocalOwner(t *testing.T) {
	e := newEnv(t, nil)
	mk := func(owner bool, euidShift uint32) *Server {
		s := New(Options{Store: e.st, Config: testConfig, Logger: zerolog.New(e.log), Now: e.clock.Now, LocalOwner: owner})
		s.euid += euidShift
		return s
	}
	ownerUnix, ownerUnixURL := serveOn(t, mk(true, 0), "unix")
	ownerTCP, ownerTCPURL := serveOn(t, mk(true, 0), "tcp")
	plainUnix, plainUnixURL := serveOn(t, mk(false, 0), "unix")
	// The test process is someone other than this server's daemon user
	// (unless it runs as root, which LocalOwner always trusts).
	otherUnix, otherUnixURL := serveOn(t, mk(true, 12345), "unix")

	for _, n := range []string{"spare-1", "spare-2", "spare-3", "spare-4"} {
		if _, err := e.st.CreateToken(n, store.RoleViewer, store.Actor{Name: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	// owner is the status a real owner gets on Linux; elsewhere SO_PEERCRED
	// is unavailable and no one is the owner.
	owner := func(status int) int {
		if PeerCredSupported {
			return status
		}
		return http.StatusUnauthorized
	}
	root := os.Geteuid() == 0
	big := `{"name":"` + strings.Repeat("a", DefaultBodyLimit) + `","role":"viewer"}`
	cases := []ownerCase{
		{"owner lists tokens", ownerUnix, ownerUnixURL, "GET", "/v1/tokens", "", owner(200)},
		{"owner creates a token", ownerUnix, ownerUnixURL, "POST", "/v1/tokens", `{"name":"boot","role":"access_system_admin"}`, owner(201)},
		{"owner revokes a token", ownerUnix, ownerUnixURL, "DELETE", "/v1/tokens/spare-1", "", owner(204)},
		{"owner body over the limit", ownerUnix, ownerUnixURL, "POST", "/v1/tokens", big, owner(413)},
		{"owner bad body", ownerUnix, ownerUnixURL, "POST", "/v1/tokens", `{"name":"x","role":"root"}`, owner(400)},
		{"owner: users need a token", ownerUnix, ownerUnixURL, "GET", "/v1/users", "", 401},
		{"owner: user create needs a token", ownerUnix, ownerUnixURL, "POST", "/v1/users", `{"first_name":"x"}`, 401},
		{"owner: MFA codes need a token", ownerUnix, ownerUnixURL, "POST", "/v1/users/u1/mfa_codes", `{"code":"1234"}`, 401},
		{"owner: Verkada needs a token", ownerUnix, ownerUnixURL, "POST", "/access/v1/credentials/mfa_code?user_id=u1", `{"code":"1234"}`, 401},
		{"owner: events need a token", ownerUnix, ownerUnixURL, "GET", "/v1/events", "", 401},
		{"owner: import needs a token", ownerUnix, ownerUnixURL, "POST", "/v1/import", "externalId\nx\n", 401},
		{"owner: health needs a token", ownerUnix, ownerUnixURL, "GET", "/v1/health", "", 401},
		{"owner: metrics need a token", ownerUnix, ownerUnixURL, "GET", "/metrics", "", 401},
		{"owner's uid over TCP: list", ownerTCP, ownerTCPURL, "GET", "/v1/tokens", "", 401},
		{"owner's uid over TCP: create", ownerTCP, ownerTCPURL, "POST", "/v1/tokens", `{"name":"tcp","role":"viewer"}`, 401},
		{"owner's uid over TCP: revoke", ownerTCP, ownerTCPURL, "DELETE", "/v1/tokens/spare-2", "", 401},
		{"LocalOwner off: list", plainUnix, plainUnixURL, "GET", "/v1/tokens", "", 401},
		{"LocalOwner off: create", plainUnix, plainUnixURL, "POST", "/v1/tokens", `{"name":"off","role":"viewer"}`, 401},
		{"LocalOwner off: revoke", plainUnix, plainUnixURL, "DELETE", "/v1/tokens/spare-3", "", 401},
	}
	if !root {
		cases = append(cases,
			ownerCase{"another uid: create", otherUnix, otherUnixURL, "POST", "/v1/tokens", `{"name":"other","role":"viewer"}`, 401},
			ownerCase{"another uid: revoke", otherUnix, otherUnixURL, "DELETE", "/v1/tokens/spare-4", "", 401},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, body := send(t, c.c, c.method, c.base+c.path, "", c.body)
			if got != c.want {
				t.Errorf("status %d, want %d: %s", got, c.want, body)
			}
		})
	}
	// What the refused calls would have changed is unchanged.
	toks, err := e.st.Tokens()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, tk := range toks {
		have[tk.Name] = true
	}
	for _, n := range []string{"tcp", "off", "other", "x"} {
		if have[n] {
			t.Errorf("a refused create made token %q", n)
		}
	}
	for _, n := range []string{"spare-2", "spare-3", "spare-4"} {
		if !have[n] {
			t.Errorf("a refused revoke removed token %q", n)
		}
	}
	if PeerCredSupported && (!have["boot"] || have["spare-1"]) {
		t.Errorf("the owner's create/revoke did not happen: %v", have)
	}

	if !PeerCredSupported {
		return
	}
	// The owner's calls are logged under its name, with its uid; the
	// token's secret is not.
	logs := e.log.String()
	uid := fmt.Sprintf(`"peer":"unix:uid=%d"`, os.Geteuid())
	if !strings.Contains(logs, `"token":"local-owner"`) || !strings.Contains(logs, uid) ||
		!strings.Contains(logs, `"name":"boot","role":"access_system_admin","by":"local-owner","message":"token created"`) {
		t.Errorf("access/audit log lacks the local owner's calls:\n%s", logs)
	}
	if strings.Contains(logs, "latch_") {
		t.Error("a token secret appears in the log")
	}
	// The owner's token changes are audited as local-owner.
	evs, err := e.st.Events(store.EventQuery{Event: "credential_changed", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var audit []string
	for _, ev := range evs {
		if ev.Actor == localOwnerName {
			audit = append(audit, ev.Action+" "+ev.TokenName+":"+ev.TokenRole+" by "+ev.Role)
		}
	}
	if want := []string{"token_created boot:access_system_admin by access_system_admin", "token_revoked spare-1:viewer by access_system_admin"}; !slices.Equal(audit, want) {
		t.Errorf("the owner's token events %q, want %q", audit, want)
	}

	// A local owner never fails authentication, so a socket client of the
	// same uid that exhausts its bucket with bad tokens does not lock token
	// management out. (A fresh server: the calls above spent some of this
	// uid's bucket already.)
	ownerUnix, ownerUnixURL = serveOn(t, mk(true, 0), "unix")
	for i := 0; i < DefaultAuthFailBurst; i++ {
		if got, _ := send(t, ownerUnix, "GET", ownerUnixURL+"/v1/users", "latch_wrong", ""); got != 401 {
			t.Fatalf("bad token %d: %d, want 401", i, got)
		}
	}
	if got, _ := send(t, ownerUnix, "GET", ownerUnixURL+"/v1/users", "latch_wrong", ""); got != 429 {
		t.Errorf("after %d failures: %d, want 429", DefaultAuthFailBurst, got)
	}
	if got, body := send(t, ownerUnix, "GET", ownerUnixURL+"/v1/tokens", "", ""); got != 200 {
		t.Errorf("owner while its uid is rate-limited: %d %s, want 200", got, body)
	}
}

// TestUnixPeersPerUID: Unix-socket clients are rate-limited per uid, so one
// local account guessing tokens does not lock out another; a socket peer
// whose uid is unknown shares the key "unix".
func TestUnixPeersPerUID(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AuthFailBurst = 2; o.AuthFailRefill = time.Minute })
	req := func(uid int, token string) int {
		r := httptest.NewRequest("GET", "/v1/health", nil)
		r.RemoteAddr = "@" // what net/http reports for a Unix-socket client
		if uid >= 0 {
			r = r.WithContext(context.WithValue(r.Context(), peerKey{}, uint32(uid)))
		}
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, r)
		return w.Code
	}
	good := e.tokens[store.RoleViewer]
	steps := []struct {
		name  string
		uid   int // -1: unknown
		token string
		want  int
	}{
		{"uid 1001 fails", 1001, "latch_bad", 401},
		{"uid 1001 fails again", 1001, "", 401},
		{"uid 1001 is limited", 1001, "latch_bad", 429},
		{"a good token is not", 1001, good, 200},
		{"uid 1002 is not", 1002, good, 200},
		{"uid 1002 fails", 1002, "latch_bad", 401},
		{"uid 1002 still has one", 1002, good, 200},
		{"unknown uid is its own key", -1, good, 200},
		{"unknown uid fails", -1, "latch_bad", 401},
		{"unknown uid fails again", -1, "latch_bad", 401},
		{"unknown uid limited", -1, "", 429},
		{"uid 1002 unaffected", 1002, good, 200},
	}
	for _, s := range steps {
		if got := req(s.uid, s.token); got != s.want {
			t.Fatalf("%s: %d, want %d", s.name, got, s.want)
		}
	}

	for _, c := range []struct {
		remote string
		uid    int
		want   string
	}{
		{"@", 1000, "unix:uid=1000"},
		{"", 0, "unix:uid=0"},
		{"/run/latch/api.sock", -1, "unix"},
		{"192.0.2.7:5555", -1, "192.0.2.7"},
		{"[2001:db8::1]:80", -1, "2001:db8::/64"},
		{"[2001:db8::ffff:1]:80", -1, "2001:db8::/64"}, // same /64, same bucket
		{"[2001:db8:0:1::1]:80", -1, "2001:db8:0:1::/64"},
		{"[::ffff:192.0.2.7]:80", -1, "192.0.2.7"}, // v4-mapped: the v4 address
		{"[fe80::1%eth0]:80", -1, "fe80::/64"},     // the zone does not make a new bucket
		{"192.0.2.7:5555", 1000, "192.0.2.7"},      // TCP: the address, whatever the context says
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.uid >= 0 {
			r = r.WithContext(context.WithValue(r.Context(), peerKey{}, uint32(c.uid)))
		}
		if got := peerOf(r); got != c.want {
			t.Errorf("peerOf(%q, uid %d) = %q, want %q", c.remote, c.uid, got, c.want)
		}
	}
}

// TestHandlerPanic: a panicking handler answers 500 and logs the route, not
// the panic's value (which could hold request data).
func TestHandlerPanic(t *testing.T) {
	e := newEnv(t, nil)
	cases := []struct {
		name   string
		h      handlerFunc
		logged string
	}{
		{"value", func(http.ResponseWriter, *http.Request, caller) error { panic("code 48213957") }, `"panic":"string"`},
		{"runtime error", func(http.ResponseWriter, *http.Request, caller) error {
			var m map[string]int
			//lint:ignore SA5000 the runtime panic is what this case tests
			m["48213957"]++
			return nil
		}, "assignment to entry in nil map"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt := route{Method: "POST", Path: "/v1/test", Perm: store.PermCredentials, h: c.h}
			w := httptest.NewRecorder()
			e.srv.run(w, httptest.NewRequest("POST", "/v1/test", strings.NewReader(`{"code":"48213957"}`)), rt, caller{})
			if w.Code != 500 || strings.Contains(w.Body.String(), "48213957") {
				t.Errorf("reply %d %s, want a 500 without the code", w.Code, w.Body)
			}
			logs := e.log.String()
			if !strings.Contains(logs, `"route":"POST /v1/test"`) || !strings.Contains(logs, c.logged) || strings.Contains(logs, "48213957") {
				t.Errorf("log:\n%s", logs)
			}
		})
	}
}

// TestIsLocalOwner: the decision itself, whatever uid the test runs as
// (as root, TestLocalOwner cannot connect as someone else): only with
// LocalOwner set, only with a peer uid recorded from the socket, and only
// for the daemon's euid or root.
func TestIsLocalOwner(t *testing.T) {
	cases := []struct {
		name  string
		owner bool
		euid  uint32
		peer  int64 // -1: no uid recorded (TCP, or no ConnContext)
		want  bool
	}{
		{"daemon's uid", true, 1000, 1000, true},
		{"root", true, 1000, 0, true},
		{"another uid", true, 1000, 1001, false},
		{"nobody", true, 1000, 65534, false},
		{"no uid recorded", true, 1000, -1, false},
		{"LocalOwner off, daemon's uid", false, 1000, 1000, false},
		{"LocalOwner off, root", false, 1000, 0, false},
		{"daemon runs as root, root", true, 0, 0, true},
		{"daemon runs as root, another uid", true, 0, 1000, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Server{localOwner: c.owner, euid: c.euid}
			r := httptest.NewRequest("GET", "/v1/tokens", nil)
			if c.peer >= 0 {
				r = r.WithContext(context.WithValue(r.Context(), peerKey{}, uint32(c.peer)))
			}
			if got := s.isLocalOwner(r); got != c.want {
				t.Errorf("isLocalOwner = %v, want %v", got, c.want)
			}
		})
	}
}
