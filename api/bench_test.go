package api

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchd/latch/store"
)

// BenchmarkGetUser measures one authenticated read through the whole
// handler (token check, route, store read, JSON) on a real store.
func BenchmarkGetUser(b *testing.B) {
	e := newEnv(b, nil)
	uid := e.newUser("bench")
	tok := "Bearer " + e.tokens[store.RoleViewer]
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/v1/users/"+uid, nil)
		req.Header.Set("Authorization", tok)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkVerkadaAddDelete measures an MFA code added and deleted through
// the Verkada-shaped endpoints (two store write transactions).
func BenchmarkVerkadaAddDelete(b *testing.B) {
	e := newEnv(b, nil)
	e.newUser("bench")
	tok := "Bearer " + e.tokens[store.RoleCredentialManager]
	do := func(method, path, body string) {
		req := httptest.NewRequest(method, path, nil)
		if body != "" {
			req = httptest.NewRequest(method, path, stringsReader(body))
		}
		req.Header.Set("Authorization", tok)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(method, rec.Code, rec.Body)
		}
	}
	for b.Loop() {
		do("POST", "/access/v1/credentials/mfa_code?external_id=bench", `{"code":"482913"}`)
		do("DELETE", "/access/v1/credentials/mfa_code?external_id=bench&code=482913", "")
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
