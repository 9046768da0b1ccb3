package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/internal/clocktest"

	"github.com/google/go-cmp/cmp"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// TestAuthRateLimit: a peer that fails authentication burst times gets
// 429 for a bad token until its bucket refills on the injected clock; a
// good token is always served; other peers are not affected.
func TestAuthRateLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AuthFailBurst = 3; o.AuthFailRefill = 10 * time.Second })
	const bad, other = "203.0.113.9:1000", "203.0.113.10:1000"
	badReq := func() int { return e.badFrom(bad) }
	steps := []struct {
		name    string
		advance time.Duration
		do      func() int
		want    int
	}{
		{"fail 1", 0, badReq, 401},
		{"fail 2", 0, badReq, 401},
		{"fail 3 (no token)", 0, func() int { return e.doFrom(bad, "", "GET", "/v1/health", "").Code }, 401},
		{"limited", 0, badReq, 429},
		{"a good token is served all the same", 0, func() int { return e.doFrom(bad, store.RoleViewer, "GET", "/v1/health", "").Code }, 200},
		{"other peer unaffected", 0, func() int { return e.doFrom(other, store.RoleViewer, "GET", "/v1/health", "").Code }, 200},
		{"still limited after 9s", 9 * time.Second, badReq, 429},
		{"one token back after 10s, spent on a failure", time.Second, badReq, 401},
		{"limited again", 0, badReq, 429},
	}
	for _, s := range steps {
		e.clock.Add(s.advance)
		if got := s.do(); got != s.want {
			t.Fatalf("%s: status %d, want %d", s.name, got, s.want)
		}
	}
	rec := e.doFrom(bad, "", "GET", "/v1/health", "")
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

// TestLimiterBounded: a spray of peers does not grow the table without bound.
func TestLimiterBounded(t *testing.T) {
	c := clocktest.New(time.Unix(0, 0))
	l := newLimiter(2, time.Second, c.Now)
	l.max = 100
	for i := 0; i < 1000; i++ {
		l.fail(net.IPv4(10, 0, byte(i>>8), byte(i)).String())
	}
	if n := len(l.peers); n > 100 {
		t.Errorf("%d peers tracked, want ≤ 100", n)
	}
}

// TestDoorsAndGroups: read-only config with each door's live mode.
func TestDoorsAndGroups(t *testing.T) {
	e := newEnv(t, nil)
	var doors struct{ Doors []apitype.DoorState }
	e.must(200, "GET", "/v1/doors", "", &doors)
	want := []apitype.DoorState{
		{Door: testConfig.Doors[0], Mode: "card_and_code", NextChange: "2026-03-02T18:00:00Z", NextMode: "access_controlled"},
		{Door: Door{Name: "back", TimeZone: "Europe/Berlin", DefaultMode: "locked", SecondFactor: "always", Readers: []string{}}, Mode: "unknown"},
	}
	if d := cmp.Diff(want, doors.Doors); d != "" {
		t.Errorf("doors (-want +got):\n%s", d)
	}
	var one apitype.DoorState
	e.must(200, "GET", "/v1/doors/front", "", &one)
	if one.Mode != "card_and_code" {
		t.Errorf("front: %+v", one)
	}
	var groups struct{ Groups []Group }
	e.must(200, "GET", "/v1/groups", "", &groups)
	if d := cmp.Diff(testConfig.Groups, groups.Groups); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
}

// TestUsersLifecycle: create, read, patch, suspend, page, search, delete.
func TestUsersLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	var u apitype.User
	e.must(201, "POST", "/v1/users", `{"external_id":"E1","first_name":"Grace","last_name":"Hopper","email":"grace@example.com","start":"2026-01-01T00:00:00Z","groups":["staff","staff"]}`, &u)
	if u.ExternalID != "E1" || u.Start != "2026-01-01T00:00:00Z" || len(u.Groups) != 1 || u.Cards == nil || u.MFACodes == nil {
		t.Errorf("created %+v", u)
	}
	for i := 0; i < 4; i++ {
		e.newUser("page-" + string(rune('a'+i)))
	}
	id := u.UserID
	u = apitype.User{}
	e.must(200, "PATCH", "/v1/users/"+id, `{"last_name":"Murray Hopper","start":null}`, &u)
	if u.LastName != "Murray Hopper" || u.Start != "" || u.FirstName != "Grace" || u.Email != "grace@example.com" {
		t.Errorf("patched %+v", u)
	}
	e.must(200, "POST", "/v1/users/"+u.UserID+"/suspend", "", &u)
	if !u.Suspended {
		t.Error("suspend did not suspend")
	}
	// A viewer reads users without their credentials.
	rec := e.do(store.RoleViewer, "GET", "/v1/users/"+u.UserID, "")
	if rec.Code != 200 || strings.Contains(rec.Body.String(), "cards") || strings.Contains(rec.Body.String(), "mfa_codes") {
		t.Errorf("viewer sees %d %s", rec.Code, rec.Body)
	}
	// Paging: 5 users, 2 a page.
	var all []string
	after := ""
	for i := 0; i < 5; i++ {
		var page struct {
			Users []apitype.User
			Next  string
		}
		e.must(200, "GET", "/v1/users?limit=2&after="+after, "", &page)
		for _, x := range page.Users {
			all = append(all, x.ExternalID)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if d := cmp.Diff([]string{"E1", "page-a", "page-b", "page-c", "page-d"}, all); d != "" {
		t.Errorf("paged users (-want +got):\n%s", d)
	}
	var found struct{ Users []apitype.User }
	e.must(200, "GET", "/v1/users?search=HOPPER", "", &found)
	if len(found.Users) != 1 || found.Users[0].UserID != u.UserID {
		t.Errorf("search found %+v", found.Users)
	}
	e.must(204, "DELETE", "/v1/users/"+u.UserID, "", nil)
	e.must(404, "GET", "/v1/users/"+u.UserID, "", nil)
}

// TestMFAAndCards exercises the credential endpoints' replies.
func TestMFAAndCards(t *testing.T) {
	e := newEnv(t, nil)
	uid := e.newUser("m1")
	var info apitype.MFACode
	e.must(201, "POST", "/v1/users/"+uid+"/mfa_codes", `{"code":"0042"}`, &info)
	if info.Length != 4 || info.CreatedBy != "tok-access_system_admin" || info.ID == "" || info.Created != "2026-03-02T09:00:00Z" {
		t.Errorf("added %+v", info)
	}
	var replaced apitype.MFACode
	e.must(200, "PUT", "/v1/users/"+uid+"/mfa_codes/"+info.ID, `{"code":"987654321"}`, &replaced)
	if replaced.ID != info.ID || replaced.Length != 9 {
		t.Errorf("replaced %+v", replaced)
	}
	ok, err := e.st.VerifySecondFactor(uid, []byte("987654321"), false)
	if err != nil || !ok {
		t.Errorf("replaced code does not verify: %v %v", ok, err)
	}
	e.must(204, "DELETE", "/v1/users/"+uid+"/mfa_codes/"+info.ID, "", nil)
	e.must(404, "DELETE", "/v1/users/"+uid+"/mfa_codes/"+info.ID, "", nil)

	var c apitype.Card
	e.must(201, "POST", "/v1/users/"+uid+"/cards", `{"format":"h10301","facility_code":212,"card_number":7041,"active":false}`, &c)
	if c.Active {
		t.Error("card added active despite active:false")
	}
	e.must(200, "POST", "/v1/users/"+uid+"/cards/h10301/212/7041/activate", "", &c)
	_, active, err := e.st.LookupCard(store.CardKey{Format: "h10301", FacilityCode: 212, CardNumber: 7041})
	if err != nil || !active || !c.Active {
		t.Errorf("card not active after activate: %v %v", active, err)
	}
	var cards struct{ Cards []apitype.Card }
	e.must(200, "GET", "/v1/users/"+uid+"/cards", "", &cards)
	if len(cards.Cards) != 1 {
		t.Errorf("cards %+v", cards)
	}
	// Verkada-shaped add by external_id, delete by user_id.
	// Both replies exactly as Verkada's: 200 {"code":"…"} and 200 {}.
	for _, c := range []struct{ method, path, body, want string }{
		{"POST", "/access/v1/credentials/mfa_code?external_id=m1", `{"code":"13579"}`, `{"code":"13579"}`},
		{"DELETE", "/access/v1/credentials/mfa_code?user_id=" + uid + "&code=13579", "", `{}`},
	} {
		rec := e.do(store.RoleCredentialManager, c.method, c.path, c.body)
		if got := strings.TrimSpace(rec.Body.String()); rec.Code != 200 || got != c.want || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %s (%s), want 200 %s", c.method, c.path, rec.Code, got, rec.Header().Get("Content-Type"), c.want)
		}
	}
	if ms, _ := e.st.MFACodes(uid); len(ms) != 0 {
		t.Errorf("codes left: %v", ms)
	}
	// At most 100 MFA codes a user: the 101st is a 400 naming the rule.
	for i := 0; i < 100; i++ {
		e.must(201, "POST", "/v1/users/"+uid+"/mfa_codes", fmt.Sprintf(`{"code":"%06d"}`, i), nil)
	}
	for _, c := range []struct{ path, body string }{
		{"/v1/users/" + uid + "/mfa_codes", `{"code":"777777"}`},
		{"/v1/users/" + uid + "/mfa_codes/generate", `{"length":8}`},
		{"/access/v1/credentials/mfa_code?user_id=" + uid, `{"code":"777777"}`},
	} {
		rec := e.do(store.RoleSystemAdmin, "POST", c.path, c.body)
		var body struct{ Error, Field, Rule string }
		json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != 400 || body.Field != "code" || body.Rule != "a user has at most 100 MFA codes" || strings.Contains(rec.Body.String(), "777777") {
			t.Errorf("POST %s over the limit: %d %s", c.path, rec.Code, rec.Body)
		}
	}
}

// TestEventsPaged: filters and paging by sequence.
func TestEventsPaged(t *testing.T) {
	e := newEnv(t, nil)
	evs := []store.Event{
		{Event: "access_granted", Door: "front", UserID: "u1", Method: "card"},
		{Event: "access_denied", Door: "back", Reason: "unknown_card"},
		{Event: "access_granted", Door: "front", UserID: "u2", Method: "card_and_code"},
		{Event: "door_opened", Door: "front"},
	}
	if err := e.st.AppendEvents(evs); err != nil {
		t.Fatal(err)
	}
	type page struct {
		Events []store.Event
		Next   uint64
	}
	var p page
	e.must(200, "GET", "/v1/events?door=front&event=access_granted", "", &p)
	if len(p.Events) != 2 || p.Events[1].UserID != "u2" {
		t.Errorf("filtered %+v", p.Events)
	}
	e.must(200, "GET", "/v1/events?user_id=u2", "", &p)
	if len(p.Events) != 1 || p.Events[0].Method != "card_and_code" {
		t.Errorf("by user_id %+v", p.Events)
	}
	e.must(200, "GET", "/v1/events?door=back&event=access_granted", "", &p)
	if len(p.Events) != 0 {
		t.Errorf("filters combine with AND: %+v", p.Events)
	}
	e.must(200, "GET", "/v1/events?limit=2", "", &p)
	if len(p.Events) != 2 || p.Next != p.Events[1].Seq {
		t.Fatalf("page 1 %+v", p)
	}
	next := p.Next
	e.must(200, "GET", "/v1/events?limit=2&after="+itoa(next), "", &p)
	if len(p.Events) != 2 || p.Events[0].Seq <= next {
		t.Errorf("page 2 %+v", p)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// TestEventStream follows the live stream over a real connection in both
// formats: replay after a sequence number, then live events, filtered.
func TestEventStream(t *testing.T) {
	e := newEnv(t, nil)
	before, err := e.st.Events(store.EventQuery{Limit: 1000}) // the setup's token events
	if err != nil {
		t.Fatal(err)
	}
	opened := itoa(uint64(len(before) + 1)) // door_opened's seq
	if err := e.st.AppendEvents([]store.Event{{Event: "door_opened", Door: "front"}, {Event: "door_closed", Door: "front"}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.srv)
	defer srv.Close()
	for _, format := range []string{"ndjson", "sse"} {
		t.Run(format, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// NDJSON replays with after=; SSE with Last-Event-ID.
			path := "/v1/events/stream?door=front&after=" + opened
			if format == "sse" {
				path = "/v1/events/stream?door=front"
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+e.tokens[store.RoleViewer])
			if format == "sse" {
				req.Header.Set("Accept", "text/event-stream")
				req.Header.Set("Last-Event-ID", opened)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			// The subscription exists once the headers are back.
			if err := e.st.AppendEvents([]store.Event{{Event: "rex", Door: "back"}, {Event: "rex", Door: "front"}}); err != nil {
				t.Fatal(err)
			}
			got := readEvents(t, resp.Body, format, 2)
			var seen []string
			for _, ev := range got {
				seen = append(seen, ev.Event+"@"+ev.Door)
			}
			if d := cmp.Diff([]string{"door_closed@front", "rex@front"}, seen); d != "" {
				t.Errorf("streamed (-want +got):\n%s", d)
			}
		})
	}
}

// readEvents reads n events from a stream body.
func readEvents(t *testing.T, body io.Reader, format string, n int) []store.Event {
	t.Helper()
	sc := bufio.NewScanner(body)
	var out []store.Event
	for len(out) < n && sc.Scan() {
		line := sc.Text()
		if format == "sse" {
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok {
				continue
			}
			line = data
		}
		if line == "" {
			continue
		}
		var ev store.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, ev)
	}
	if len(out) < n {
		t.Fatalf("stream ended after %d events: %v", len(out), sc.Err())
	}
	return out
}

// TestListenUnix: the socket is mode 0660; a stale socket is replaced, a
// regular file is not.
func TestListenUnix(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode %v, %v; want 0660", fi.Mode().Perm(), err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // leaves the socket file behind, as a crash would
	if ln2, err := ListenUnix(sock); err != nil {
		t.Errorf("relisten over stale socket: %v", err)
	} else {
		ln2.Close()
	}
	plain := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(plain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ListenUnix(plain); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("ListenUnix over a regular file: %v", err)
	}
}

// TestAuthHeader: what counts as a bearer token, and a revoked token's 401.
func TestAuthHeader(t *testing.T) {
	e := newEnv(t, nil)
	revoked, err := e.st.CreateToken("gone", store.RoleSystemAdmin, store.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	good := e.tokens[store.RoleViewer]
	if rec := e.doAuth("Bearer "+revoked, "/v1/health"); rec.Code != 200 {
		t.Fatalf("token before revoking: %d", rec.Code)
	}
	if err := e.st.RevokeToken("gone", store.Actor{Name: "test"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, header string
		want         int
	}{
		{"no header", "", 401},
		{"basic auth", "Basic dXNlcjpwYXNz", 401},
		{"bearer without a token", "Bearer ", 401},
		{"bearer with spaces only", "Bearer    ", 401},
		{"unknown token", "Bearer latch_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401},
		{"revoked token", "Bearer " + revoked, 401},
		{"token without the scheme", good, 401},
		{"good token", "Bearer " + good, 200},
		{"scheme in lower case", "bearer " + good, 200},
		{"token with trailing space", "Bearer " + good + " ", 200},
		{"token with a suffix", "Bearer " + good + "x", 401},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A fresh peer each time: the limiter is not what is tested.
			req := httptest.NewRequest("GET", "/v1/health", nil)
			req.RemoteAddr = "198.51.100." + strconv.Itoa(i+1) + ":1"
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.want, rec.Body)
			}
			if c.want == 401 && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
		})
	}
}

// doAuth sends GET path with the given Authorization header.
func (e *env) doAuth(header, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", header)
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}
