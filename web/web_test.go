package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/door/doortest"
	"github.com/latchd/latch/store"
	"github.com/latchd/latch/store/storetest"
)

const testPassword = "a long test password"

// fixture is a store, the API and the page on one httptest server.
type fixture struct {
	t    testing.TB
	page *Server
	st   *store.Store
	srv  *httptest.Server
	uid  string
	now  time.Time
}

func newFixture(t *testing.T) *fixture { return newFixtureTB(t) }

func newFixtureTB(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, st: storetest.Temp(t), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	now := func() time.Time { return f.now }
	o := api.Options{Store: f.st, Now: now, Config: api.Config{Groups: []api.Group{{Name: "staff", Doors: []string{"front"}}},
		Doors: []api.Door{{Name: "front", TimeZone: "Asia/Seoul", DefaultMode: "access_controlled", SecondFactor: "none", Readers: []string{}}}}}
	withDoor(t, &o)
	a := api.New(o)
	p, err := New(Options{Store: f.st, API: a, Now: now, DoorZone: func(string) *time.Location { return seoul }})
	if err != nil {
		t.Fatal(err)
	}
	a.MountPage(p)
	f.page = p
	f.srv = httptest.NewServer(a)
	t.Cleanup(f.srv.Close)
	for _, r := range store.Roles {
		if err := f.st.CreateAdmin("a-"+strings.ReplaceAll(r, "_", "-"), r, []byte(testPassword), store.Actor{Name: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	u, err := f.st.CreateUser(store.UserFields{ExternalID: "E-1", FirstName: "Min", LastName: "Kim"}, store.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	f.uid = u.UserID
	return f
}

var seoul, _ = time.LoadLocation("Asia/Seoul")

// withDoor runs door "front" on a stepper at o's clock, storing its events
// at once, and gives the API its Controller and status.
func withDoor(t testing.TB, o *api.Options) {
	c := door.DefaultConfig()
	c.Name = "front"
	c.Location = seoul
	c.Now = o.Now
	d, err := doortest.New(c, o.Store)
	if err != nil {
		t.Fatal(err)
	}
	st := d.Stepper()
	st.Start()
	ctl, err := door.NewController(st)
	if err != nil {
		t.Fatal(err)
	}
	o.Control = func() *door.Controller { return ctl }
	o.Doors = api.DoorStatusFunc(func() []api.DoorStatus {
		s, _ := ctl.Status("front")
		return []api.DoorStatus{{Name: "front", Mode: string(s.Mode), NextChange: s.Next, NextMode: string(s.NextMode), State: s}}
	})
}

// client is a browser: a cookie jar, no redirects followed.
type client struct {
	f       *fixture
	account string
	c       *http.Client
	csrf    string
}

func (f *fixture) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{f: f, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (c *client) get(path string) (int, string) {
	c.f.t.Helper()
	resp, err := c.c.Get(c.f.srv.URL + path)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, string(b)
}

func (c *client) post(path string, v url.Values) (int, string, string) {
	c.f.t.Helper()
	if v == nil {
		v = url.Values{}
	}
	if c.csrf != "" && !v.Has("_csrf") {
		v.Set("_csrf", c.csrf)
	}
	resp, err := c.c.PostForm(c.f.srv.URL+path, v)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

func (f *fixture) signIn(name string) *client {
	f.t.Helper()
	c := f.client()
	c.get("/signin")
	if code, body, loc := c.post("/signin", url.Values{"name": {name}, "password": {testPassword}}); code != http.StatusSeeOther {
		f.t.Fatalf("sign in %s: %d %s", name, code, body)
	} else if loc != "/" {
		f.t.Fatalf("sign in goes to %q", loc)
	}
	c.get("/users") // the session's CSRF token
	c.account = name
	return c
}

func TestSignIn(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	if code, _ := c.get("/users"); code != http.StatusSeeOther {
		t.Fatalf("signed out /users: %d, want a redirect to sign in", code)
	}
	code, body := c.get("/signin")
	if code != 200 || !strings.Contains(body, `autocomplete="current-password"`) {
		t.Fatalf("sign-in form: %d", code)
	}
	// Wrong password and unknown name: the same answer.
	_, wrongPw, _ := c.post("/signin", url.Values{"name": {"a-viewer"}, "password": {"not the password"}})
	c.get("/signin")
	_, wrongName, _ := c.post("/signin", url.Values{"name": {"nobody"}, "password": {testPassword}})
	strip := func(s string) string { return csrfField.ReplaceAllString(s, "") }
	if strip(wrongPw) != strings.Replace(strip(wrongName), `value="nobody"`, `value="a-viewer"`, 1) {
		t.Error("a wrong password and an unknown name answer differently")
	}
	// A sign-in without the form's token (a cross-site form) is refused.
	c2 := f.client()
	if code, _, _ := c2.post("/signin", url.Values{"name": {"a-viewer"}, "password": {testPassword}}); code != http.StatusForbidden {
		t.Errorf("sign-in without the pre-session token: %d, want 403", code)
	}
	// The name's limit: 5 failures, then refused even with the right password.
	c3 := f.client()
	for i := range 6 {
		c3.get("/signin")
		code, _, _ := c3.post("/signin", url.Values{"name": {"a-access-user-admin"}, "password": {"wrong password!"}})
		if i < 5 && code != http.StatusUnauthorized || i == 5 && code != http.StatusTooManyRequests {
			t.Fatalf("failure %d: %d", i+1, code)
		}
	}
	c3.get("/signin")
	if code, _, _ := c3.post("/signin", url.Values{"name": {"a-access-user-admin"}, "password": {testPassword}}); code != http.StatusTooManyRequests {
		t.Errorf("right password after the limit: %d, want 429", code)
	}
	f.now = f.now.Add(time.Minute) // 5 refills
	c3.get("/signin")
	if code, _, _ := c3.post("/signin", url.Values{"name": {"a-access-user-admin"}, "password": {testPassword}}); code != http.StatusSeeOther {
		t.Errorf("after the refill: %d", code)
	}
}

func TestSessionCookieAndTimeouts(t *testing.T) {
	f := newFixture(t)
	c := f.client()
	c.get("/signin")
	resp, err := c.c.PostForm(f.srv.URL+"/signin", url.Values{"name": {"a-viewer"}, "password": {testPassword}, "_csrf": {c.csrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sc string
	for _, h := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, cookieName+"=") {
			sc = h
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers: %v", resp.Header)
	}
	// Idle: 29 minutes is fine, 30 more ends it.
	f.now = f.now.Add(29 * time.Minute)
	if code, _ := c.get("/users"); code != 200 {
		t.Fatalf("after 29 min idle: %d", code)
	}
	f.now = f.now.Add(IdleTimeout)
	if code, _ := c.get("/users"); code != http.StatusSeeOther {
		t.Fatalf("after 30 min idle: %d, want signed out", code)
	}
	// Absolute: active every 20 minutes, still ended at 12 h.
	c = f.signIn("a-viewer")
	for i := 0; i < 36; i++ {
		f.now = f.now.Add(20 * time.Minute)
		code, _ := c.get("/users")
		if want := 200; i < 35 && code != want {
			t.Fatalf("at %d min: %d", (i+1)*20, code)
		} else if i == 35 && code != http.StatusSeeOther {
			t.Fatalf("at 12 h: %d, want signed out", code)
		}
	}
	// Sign-out ends it.
	c = f.signIn("a-viewer")
	if code, _, _ := c.post("/signout", nil); code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", code)
	}
	if code, _ := c.get("/users"); code != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", code)
	}
	// A live stream does not keep a session from going idle.
	c = f.signIn("a-viewer")
	u0, _ := url.Parse(f.srv.URL)
	var sid string
	for _, k := range c.c.Jar.Cookies(u0) {
		if k.Name == cookieName {
			sid = k.Value
		}
	}
	p := f.page
	if !p.ss.alive(sid) {
		t.Fatal("a fresh session is not alive")
	}
	f.now = f.now.Add(IdleTimeout - time.Minute)
	p.ss.alive(sid) // what the stream's keep-alive asks
	f.now = f.now.Add(2 * time.Minute)
	if p.ss.alive(sid) {
		t.Error("asking alive kept the session from going idle")
	}
	// Signing in again gives a new id and ends the old one.
	c = f.signIn("a-viewer")
	u, _ := url.Parse(f.srv.URL)
	sessionID := func() string {
		for _, k := range c.c.Jar.Cookies(u) {
			if k.Name == cookieName {
				return k.Value
			}
		}
		return ""
	}
	oldID := sessionID()
	c.get("/signin")
	c.post("/signin", url.Values{"name": {"a-viewer"}, "password": {testPassword}})
	if newID := sessionID(); newID == oldID || newID == "" {
		t.Error("the session id did not change at sign-in")
	}
	stale := f.client()
	stale.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: oldID}})
	if code, _ := stale.get("/users"); code != http.StatusSeeOther {
		t.Errorf("the id from before the sign-in still works: %d", code)
	}
	// A deleted account's session ends at once.
	c = f.signIn("a-viewer")
	f.st.DeleteAdmin("a-viewer", store.Actor{Name: "test"})
	if code, _ := c.get("/users"); code != http.StatusSeeOther {
		t.Errorf("deleted account: %d", code)
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t)
	c := f.signIn("a-access-system-admin")
	for _, tok := range []string{"", "forged"} {
		code, _, _ := c.post("/users/"+f.uid+"/mfa", url.Values{"_csrf": {tok}, "action": {"save"}, "code": {"482913"}})
		if code != http.StatusForbidden {
			t.Errorf("POST with token %q: %d, want 403", tok, code)
		}
	}
	if ms, _ := f.st.MFACodes(f.uid); len(ms) != 0 {
		t.Errorf("a forged POST added %d codes", len(ms))
	}
}

// TestMFAForms: type a code, generate one; each shown once, then only
// its id, length, created and creator; Edit replaces; Delete confirms.
func TestMFAForms(t *testing.T) {
	f := newFixture(t)
	c := f.signIn("a-access-credential-manager")
	code, body := c.get("/users/" + f.uid + "/mfa/new")
	if code != 200 || !strings.Contains(body, "Add MFA code") || !strings.Contains(body, "Generate") || !strings.Contains(body, ">Save<") {
		t.Fatalf("form: %d", code)
	}
	code, body, _ = c.post("/users/"+f.uid+"/mfa", url.Values{"action": {"save"}, "code": {"12"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "must be 4–16") || strings.Contains(body, `value="12"`) {
		t.Errorf("bad code: %d, rule shown next to the field, code not echoed", code)
	}
	code, body, _ = c.post("/users/"+f.uid+"/mfa", url.Values{"action": {"save"}, "code": {"90817263"}})
	if code != http.StatusCreated || !strings.Contains(body, "90817263") || !strings.Contains(body, "will not be shown again") {
		t.Fatalf("typed code: %d", code)
	}
	code, body, _ = c.post("/users/"+f.uid+"/mfa", url.Values{"action": {"generate"}, "length": {"9"}})
	if code != http.StatusCreated {
		t.Fatalf("generate: %d", code)
	}
	gen := regexp.MustCompile(`id="code-once" class="mono">(\d{9})<`).FindStringSubmatch(body)
	if gen == nil {
		t.Fatalf("no generated 9-digit code shown")
	}
	if code, body, _ = c.post("/users/"+f.uid+"/mfa", url.Values{"action": {"generate"}, "length": {"17"}}); code != http.StatusBadRequest || !strings.Contains(body, "4–16") {
		t.Errorf("length 17: %d", code)
	}
	_, page := c.get("/users/" + f.uid)
	for _, digits := range []string{"90817263", gen[1]} {
		if strings.Contains(page, digits) {
			t.Errorf("user page shows %s", digits)
		}
	}
	ms, _ := f.st.MFACodes(f.uid)
	if len(ms) != 2 || !strings.Contains(page, ms[0].ID) || !strings.Contains(page, "web/a-access-credential-manager") {
		t.Fatalf("list: %d codes, ids shown: %v", len(ms), strings.Contains(page, ms[0].ID))
	}
	// Edit replaces.
	if code, _, _ = c.post("/users/"+f.uid+"/mfa/"+ms[0].ID, url.Values{"code": {"55554444"}}); code != http.StatusCreated {
		t.Errorf("replace: %d", code)
	}
	if ok, _ := f.st.VerifySecondFactor(f.uid, []byte("90817263"), false); ok {
		t.Error("the replaced code still verifies")
	}
	// Delete asks first, then deletes.
	if code, body = c.get("/users/" + f.uid + "/mfa/" + ms[1].ID + "/delete"); code != 200 || !strings.Contains(body, "confirm-delete") {
		t.Errorf("confirm page: %d", code)
	}
	if code, _, _ = c.post("/users/"+f.uid+"/mfa/"+ms[1].ID+"/delete", nil); code != http.StatusSeeOther {
		t.Errorf("delete: %d", code)
	}
	if ms, _ = f.st.MFACodes(f.uid); len(ms) != 1 {
		t.Errorf("%d codes after delete", len(ms))
	}
	// Nothing but the one showing holds the digits.
	evs, _ := f.st.Events(store.EventQuery{Limit: 1000})
	for _, e := range evs {
		b, _ := e.MarshalJSON()
		for _, d := range []string{"90817263", gen[1], "55554444"} {
			if strings.Contains(string(b), d) {
				t.Errorf("event holds a code: %s", b)
			}
		}
	}
}

func TestUserForms(t *testing.T) {
	f := newFixture(t)
	c := f.signIn("a-access-user-admin")
	code, _, loc := c.post("/users", url.Values{"first_name": {"Ji"}, "last_name": {"Park"}, "external_id": {"E-2"}, "email": {"ji@example.com"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/users/") {
		t.Fatalf("add user: %d %q", code, loc)
	}
	code, body, _ := c.post("/users", url.Values{"first_name": {"X"}, "external_id": {"E-2"}})
	if code != http.StatusConflict && code != http.StatusBadRequest || !strings.Contains(body, "already used") {
		t.Errorf("duplicate external id: %d", code)
	}
	code, body, _ = c.post("/users", url.Values{"first_name": {"X"}, "email": {"not-an-email"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "must be an email address") {
		t.Errorf("bad email: %d", code)
	}
	base := "/users/" + f.uid
	if code, _, _ = c.post(base, url.Values{"first_name": {"Min"}, "last_name": {"Kim"}, "external_id": {"E-1"}, "start": {"2026-01-01"}, "end": {"2026-12-31"}, "groups": {"staff"}}); code != http.StatusSeeOther {
		t.Fatalf("update: %d", code)
	}
	u, _ := f.st.User(f.uid)
	if len(u.Groups) != 1 || u.End.Format("2006-01-02") != "2027-01-01" {
		t.Errorf("update stored %+v", u.UserFields)
	}
	if code, body, _ = c.post(base, url.Values{"first_name": {"Min"}, "groups": {"nope"}}); code != http.StatusBadRequest || !strings.Contains(body, "must name groups") {
		t.Errorf("unknown group: %d", code)
	}
	if code, body, _ = c.post(base, url.Values{"start": {"yesterday"}}); code != http.StatusBadRequest || !strings.Contains(body, "YYYY-MM-DD") {
		t.Errorf("bad date: %d", code)
	}
	if code, _, _ = c.post(base+"/suspend", nil); code != http.StatusSeeOther {
		t.Errorf("suspend: %d", code)
	}
	if _, body = c.get("/users?q=E-1"); !strings.Contains(body, "suspended") {
		t.Error("list does not show the suspension")
	}
	// Cards: decimal, hex, errors next to their field, activate, delete.
	if code, _, _ = c.post(base+"/cards", url.Values{"format": {"h10301"}, "facility_code": {"7"}, "card_number": {"4242"}}); code != http.StatusSeeOther {
		t.Errorf("add card: %d", code)
	}
	if code, _, _ = c.post(base+"/cards", url.Values{"format": {"h10301"}, "facility_code": {"7"}, "card_hex": {"0x10"}}); code != http.StatusSeeOther {
		t.Errorf("add card by hex: %d", code)
	}
	if code, body, _ = c.post(base+"/cards", url.Values{"format": {"h10301"}, "facility_code": {"300"}, "card_number": {"1"}}); code != http.StatusBadRequest || !strings.Contains(body, "facility") {
		t.Errorf("facility 300: %d", code)
	}
	if _, body = c.get("/users?q=4242"); !strings.Contains(body, "Min") {
		t.Error("search by card number does not find the user")
	}
	card := url.Values{"format": {"h10301"}, "facility_code": {"7"}, "card_number": {"16"}}
	for _, a := range []string{"deactivate", "activate", "delete"} {
		if code, _, _ = c.post(base+"/cards/"+a, card); code != http.StatusSeeOther {
			t.Errorf("%s: %d", a, code)
		}
	}
	if u, _ = f.st.User(f.uid); len(u.Cards) != 1 {
		t.Errorf("%d cards", len(u.Cards))
	}
	// Entry code: set shows only that one is set.
	if code, _, _ = c.post(base+"/entry", url.Values{"code": {"73910"}}); code != http.StatusSeeOther {
		t.Errorf("entry: %d", code)
	}
	if _, body = c.get(base); strings.Contains(body, "73910") || !strings.Contains(body, "An entry code is set.") {
		t.Error("entry code shown, or its state not")
	}
	if code, _, _ = c.post(base+"/entry/delete", nil); code != http.StatusSeeOther {
		t.Errorf("entry delete: %d", code)
	}
	// Duress code: like the entry code, never shown; a clash with the
	// user's entry code is refused next to the duress field.
	if code, _, _ = c.post(base+"/duress", url.Values{"code": {"64820"}}); code != http.StatusSeeOther {
		t.Errorf("duress: %d", code)
	}
	if _, body = c.get(base); strings.Contains(body, "64820") || !strings.Contains(body, "A duress code is set.") {
		t.Error("duress code shown, or its state not")
	}
	if u, _ = f.st.User(f.uid); !u.HasDuressCode {
		t.Error("the duress code was not stored")
	}
	if code, _, _ = c.post(base+"/duress", url.Values{"code": {"1"}}); code != http.StatusBadRequest {
		t.Errorf("a one-digit duress code: %d, want 400", code)
	}
	if code, _, _ = c.post(base+"/duress/delete", nil); code != http.StatusSeeOther {
		t.Errorf("duress delete: %d", code)
	}
	if u, _ = f.st.User(f.uid); u.HasDuressCode {
		t.Error("the duress code was not removed")
	}
	// Events filtered by the user's external id: their changes, no one else's.
	_, body = c.get("/events?user=E-1")
	if !strings.Contains(body, "entry_code_deleted") || strings.Contains(body, "E-2") {
		t.Error("events by external id: missing the user's change, or another user's shown")
	}
}

// TestRoleTable: every page action against every role — refused (403)
// exactly when store.Allowed says the role lacks the route's permission.
func TestRoleTable(t *testing.T) {
	f := newFixture(t)
	p, _ := New(Options{Store: f.st, API: api.New(api.Options{Store: f.st})})
	for _, role := range store.Roles {
		c := f.signIn("a-" + strings.ReplaceAll(role, "_", "-"))
		for _, rt := range p.Routes() {
			if rt.Path == "/signout" {
				continue
			}
			path := strings.NewReplacer("{user_id}", f.uid, "{id}", "m1", "{name}", "front", "{$}", "").Replace(rt.Path)
			var code int
			if rt.Method == http.MethodGet {
				ctx, cancel := context.WithCancel(context.Background())
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+path, nil)
				resp, err := c.c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				code = resp.StatusCode
				cancel()
				resp.Body.Close()
			} else {
				code, _, _ = c.post(path, url.Values{"code": {"1234"}})
			}
			want := rt.Perm == "" || store.Allowed(role, rt.Perm)
			if (code != http.StatusForbidden) != want {
				t.Errorf("%s %s as %s: %d (allowed: %v)", rt.Method, rt.Path, role, code, want)
			}
		}
	}
}

func TestKorean(t *testing.T) {
	f := newFixture(t)
	c := f.signIn("a-access-system-admin")
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/users/"+f.uid, nil)
	req.Header.Set("Accept-Language", "ko-KR,ko;q=0.9,en;q=0.5")
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"MFA 코드", "MFA 코드 추가", "저장", `lang="ko"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("Korean page lacks %q", want)
		}
	}
	// The switch sets the language whatever the browser asks.
	if code, _ := c.get("/lang?to=ko&back=/users"); code != http.StatusSeeOther {
		t.Fatal("switch")
	}
	if _, body := c.get("/users"); !strings.Contains(body, "사용자 추가") {
		t.Error("switch to Korean did not take")
	}
	if _, body := c.get("/lang?to=en&back=//evil.example"); strings.Contains(body, "evil") {
		t.Error("the switch redirects off the site")
	}
}

func TestCatalogs(t *testing.T) {
	// One table holds both languages; no row may leave one of them out.
	for k, m := range messages {
		if m.en == "" {
			t.Errorf("en lacks %s", k)
		}
		if m.ko == "" {
			t.Errorf("ko lacks %s", k)
		}
	}
	if len(catalogs["en"]) != len(messages) || len(catalogs["ko"]) != len(messages) {
		t.Errorf("catalogs hold %d en and %d ko strings, want %d each", len(catalogs["en"]), len(catalogs["ko"]), len(messages))
	}
	// Every key a template or handler names is in the catalog, and no
	// template holds words of its own.
	keyRe := regexp.MustCompile(`\.T "([^"]+)"`)
	words := regexp.MustCompile(`>[^<{]*\pL[^<{]*<`)
	entries, _ := templateFS.ReadDir("templates")
	for _, e := range entries {
		b, _ := templateFS.ReadFile("templates/" + e.Name())
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			if _, ok := messages[m[1]]; !ok {
				t.Errorf("%s: key %s not in the catalog", e.Name(), m[1])
			}
		}
		if w := words.FindAllString(string(b), -1); len(w) > 0 {
			t.Errorf("%s: text outside the catalog: %q", e.Name(), w)
		}
	}
}

// TestFirstPageWeight: the first page a browser loads (the Users page with
// its style sheet and script) stays under 150 KB.
func TestFirstPageWeight(t *testing.T) {
	f := newFixture(t)
	c := f.signIn("a-access-system-admin")
	weight := 0
	for _, p := range []string{"/users", "/static/app.css", "/static/app.js"} {
		code, body := c.get(p)
		if code != 200 {
			t.Fatalf("%s: %d", p, code)
		}
		weight += len(body)
	}
	t.Logf("first page: %d bytes", weight)
	if weight >= 150<<10 {
		t.Errorf("first page weighs %d bytes, over 150 KB", weight)
	}
}

// TestDoorForms: a door manager overrides, locks down and releases
// through the page; the API's refusals come back in its words.
func TestDoorForms(t *testing.T) {
	f := newFixture(t)
	c := f.signIn("a-access-door-manager")
	code, body := c.get("/doors")
	if code != 200 || !strings.Contains(body, `id="unlock-front"`) || !strings.Contains(body, `id="lockdown-all"`) {
		t.Fatalf("doors: %d, no commands", code)
	}
	if code, body = c.get("/doors/front/unlock"); code != 200 || !strings.Contains(body, `id="confirm"`) {
		t.Fatalf("unlock confirmation: %d", code)
	}
	if code, _, loc := c.post("/doors/front/unlock", nil); code != http.StatusSeeOther || loc != "/doors?ok=unlock" {
		t.Fatalf("unlock: %d %q", code, loc)
	}
	code, body, _ = c.post("/doors/front/override", url.Values{"mode": {"unlocked"}, "for": {"-2h"}})
	if code != http.StatusBadRequest || !strings.Contains(body, "1m–168h") {
		t.Errorf("bad duration: %d", code)
	}
	if code, _, _ = c.post("/doors/front/override", url.Values{"mode": {"unlocked"}, "until": {"2026-03-01T23:30"}}); code != http.StatusSeeOther {
		t.Fatalf("override: %d", code)
	}
	_, body = c.get("/doors")
	if !strings.Contains(body, "override") || !strings.Contains(body, "2026-03-01 23:30:00 Asia/Seoul") || !strings.Contains(body, `id="clear-front"`) {
		t.Errorf("doors after override: no level, local end or End override button")
	}
	if code, _, _ = c.post("/doors/*/lockdown", nil); code != http.StatusSeeOther {
		t.Fatalf("lockdown: %d", code)
	}
	if code, body, _ = c.post("/doors/front/unlock", nil); code != http.StatusConflict || !strings.Contains(body, "lockdown") {
		t.Errorf("unlock during lockdown: %d, want 409 in words", code)
	}
	if code, _, _ = c.post("/doors/front/release", nil); code != http.StatusSeeOther {
		t.Errorf("release: %d", code)
	}
	evs, _ := f.st.Events(store.EventQuery{Limit: 1000})
	var by []string
	for _, e := range evs {
		if e.Event == "mode_changed" && e.Actor != "" {
			by = append(by, e.Cause+" "+e.Actor)
		}
	}
	if len(by) == 0 || !strings.Contains(strings.Join(by, ","), "web/a-access-door-manager") {
		t.Errorf("mode changes by the page's account: %q", by)
	}
	// The start page of a role without users.read is Doors.
	if code, _ := c.get("/"); code != http.StatusSeeOther {
		t.Errorf("/: %d", code)
	}
	resp, _ := c.c.Get(f.srv.URL + "/")
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/doors" {
		t.Errorf("a door manager starts at %q, want /doors", loc)
	}
	// A viewer sees the doors, not the commands.
	v := f.signIn("a-viewer")
	if _, body = v.get("/doors"); strings.Contains(body, `id="unlock-front"`) || !strings.Contains(body, "front") {
		t.Error("a viewer sees Unlock")
	}
}

// TestPathsShared: the API keeps its paths on the page's listener.
func TestPathsShared(t *testing.T) {
	f := newFixture(t)
	for path, want := range map[string]string{"/v1/users": `"error"`, "/v1/nothing": "404 page not found", "/metrics": `"error"`, "/users": "/signin"} {
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b)+resp.Header.Get("Location"), want) {
			t.Errorf("%s: %d %q, want %q", path, resp.StatusCode, b, want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for p, want := range map[string]string{"/users?q=a": "/users?q=a", "//evil.example": "/", "/\\evil.example": "/",
		"/\t/evil.example": "/", "https://evil.example": "/", "": "/", "users": "/", "/a\nb": "/"} {
		if got := localPath(p, "/"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", p, got, want)
		}
	}
}

// upload posts a CSV to /import as a browser's form does, then waits for
// the import to end and returns its status page.
func (c *client) upload(name, csv string) (int, string) {
	c.f.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("_csrf", c.csrf)
	fw, _ := mw.CreateFormFile("file", name)
	io.WriteString(fw, csv)
	mw.Close()
	resp, err := c.c.Post(c.f.srv.URL+"/import", mw.FormDataContentType(), &b)
	if err != nil {
		c.f.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return resp.StatusCode, ""
	}
	c.f.page.jobsMu.Lock()
	job := c.f.page.jobs[c.account]
	c.f.page.jobsMu.Unlock()
	<-job.finished
	_, body := c.get("/import/status")
	return http.StatusSeeOther, body
}

// TestImportForm: a good users file is written; a bad row refuses the
// whole file, shown as line, column, rule; a role may import only what its
// other permissions allow (the API's rule).
func TestImportForm(t *testing.T) {
	f := newFixture(t)
	c := f.signIn("a-access-user-manager")
	_, body := c.upload("users.csv", "externalId,firstName,lastName,email,groups\nE-7,Ha,Na,ha@example.com,staff\n")
	if !strings.Contains(body, `id="import-done"`) {
		t.Fatalf("good file not imported: %s", body)
	}
	if _, err := f.st.UserByExternalID("E-7"); err != nil {
		t.Errorf("imported user: %v", err)
	}
	_, body = c.upload("bad.csv", "externalId,firstName,lastName,email,groups\nE-8,A,B,,staff\nE-9,C,D,,nosuch\n")
	if !strings.Contains(body, `id="badrows"`) || !strings.Contains(body, "<td>3</td><td>groups</td>") {
		t.Fatalf("bad file: no bad-row table naming line 3, groups: %s", body)
	}
	if _, err := f.st.UserByExternalID("E-8"); err == nil {
		t.Error("a refused file wrote its good row")
	}
	cm := f.signIn("a-access-credential-manager")
	_, body = cm.upload("users.csv", "externalId,firstName,lastName,email,groups\nE-10,X,Y,,\n")
	if !strings.Contains(body, "may not import a users file") {
		t.Errorf("a credential manager's users file: %s", body)
	}
}
