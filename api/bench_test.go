package api

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

// BenchmarkVerkadaEventsFullLog measures the worst GET /events/v1/access:
// a log of 100,000 events (the default retention) and a filter that only
// the last event, or none, passes, so the page reads the whole log.
// Verkada's clients wait 5 s for an answer.
func BenchmarkVerkadaEventsFullLog(b *testing.B) {
	e := newEnv(b, nil)
	uid := e.newUser("bench")
	t0 := e.clock.Now()
	evs := make([]store.Event, 0, 1000)
	for i := 0; i < 100000; i++ {
		evs = append(evs, store.Event{Time: t0.Add(time.Duration(i) * time.Second), Event: "access_granted", Door: "front",
			Reader: "front-in", UserID: uid, ExternalID: "bench", Method: "card", Card: &store.EventCard{Format: "h10301", FacilityCode: 1, CardNumber: 1}})
		if len(evs) == cap(evs) {
			if err := e.st.AppendEvents(evs); err != nil {
				b.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	other := e.newUser("nobody")
	tok := "Bearer " + e.tokens[store.RoleViewer]
	for _, c := range []struct{ name, query, want string }{
		{"last-second", fmt.Sprintf("start_time=%d", t0.Unix()+99999), `"event_id"`},
		{"user-without-events", "user_id=" + other, `"events":[]`},
		{"type-without-events", "event_type=door_forced_open", `"events":[]`},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("GET", "/events/v1/access?page_size=200&"+c.query, nil)
				req.Header.Set("Authorization", tok)
				rec := httptest.NewRecorder()
				e.srv.ServeHTTP(rec, req)
				if rec.Code != 200 || !strings.Contains(rec.Body.String(), c.want) {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}
