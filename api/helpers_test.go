package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/internal/clocktest"

	"github.com/latchd/latch/internal/syncio"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// env is a server on a real store in t.TempDir() with one token per role.
type env struct {
	t      testing.TB
	st     *store.Store
	srv    *Server
	clock  *clocktest.Clock
	log    *syncio.Buffer // the server's and the store's log
	tokens map[string]string
}

var testConfig = Config{
	Groups: []Group{
		{Name: "staff", Doors: []string{"front"}, Schedule: []Window{{Days: []string{"mon", "tue"}, Start: "07:00", End: "20:00"}}},
		{Name: "cleaners", Doors: []string{"front", "back"}},
	},
	Doors: []Door{
		{Name: "front", TimeZone: "Europe/Berlin", DefaultMode: "access_controlled", SecondFactor: "always", Readers: []string{"front-in"},
			Schedule: []Window{{Days: []string{"mon"}, Start: "08:00", End: "18:00", Mode: "card_and_code"}}},
		{Name: "back", TimeZone: "Europe/Berlin", DefaultMode: "locked", SecondFactor: "always"},
	},
}

func newEnv(t testing.TB, mod func(*Options)) *env {
	t.Helper()
	e := &env{t: t, clock: clocktest.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)), log: &syncio.Buffer{}, tokens: map[string]string{}}
	logger := zerolog.New(e.log)
	dir := t.TempDir()
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key"), Logger: logger, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	for _, r := range store.Roles {
		sec, err := st.CreateToken("tok-"+r, r, store.Actor{Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[r] = sec
	}
	next := e.clock.Now().Add(9 * time.Hour)
	o := Options{
		Store:  st,
		Config: testConfig,
		Doors: DoorStatusFunc(func() []DoorStatus {
			return []DoorStatus{{Name: "front", Mode: "card_and_code", NextChange: next, NextMode: "access_controlled"}}
		}),
		Logger: logger,
		Now:    e.clock.Now,
	}
	if mod != nil {
		mod(&o)
	}
	e.srv = New(o)
	return e
}

// do sends a request in-process as role ("" = no token) from peer.
func (e *env) do(role, method, path, body string) *httptest.ResponseRecorder {
	return e.doFrom("192.0.2.1:4000", role, method, path, body)
}

func (e *env) doFrom(peer, role, method, path, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = peer
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

// must sends a request as the system admin and fails the test unless the
// status is want; it decodes the reply into out when non-nil.
func (e *env) must(want int, method, path, body string, out any) {
	e.t.Helper()
	rec := e.do(store.RoleSystemAdmin, method, path, body)
	if rec.Code != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, rec.Code, want, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			e.t.Fatalf("%s %s: reply %q: %v", method, path, rec.Body, err)
		}
	}
}

// newUser creates a user through the API and returns its id.
func (e *env) newUser(ext string) string {
	e.t.Helper()
	var u apitype.User
	e.must(http.StatusCreated, "POST", "/v1/users", `{"external_id":"`+ext+`","first_name":"Ada","last_name":"Lovelace","groups":["staff"]}`, &u)
	return u.UserID
}

// streamStatus opens the event stream with a request whose context is
// already cancelled, so the handler writes its status and returns.
func (e *env) streamStatus(peer, role, path string) int {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("GET", path, nil).WithContext(ctx)
	req.RemoteAddr = peer
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec.Code
}
