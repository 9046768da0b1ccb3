package api

import (
	"bufio"
	"context"
	"encoding/json"
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

	"github.com/google/go-cmp/cmp"

	"github.com/latchd/latch/store"
)

// TestAuthRateLimit: a peer that fails authentication burst times is
// refused with 429 (even with a good token) until its bucket refills on
// the injected clock; other peers are not affected.
func TestAuthRateLimit(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.AuthFailBurst = 3; o.AuthFailRefill = 10 * time.Second })
	const bad, other = "203.0.113.9:1000", "203.0.113.10:1000"
	badReq := func() int {
		req := httptest.NewRequest("GET", "/v1/health", nil)
		req.RemoteAddr = bad
		req.Header.Set("Authorization", "Bearer latch_wrong")
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		return rec.Code
	}
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
		{"limited even with a good token", 0, func() int { return e.doFrom(bad, RoleViewer, "GET", "/v1/health", "").Code }, 429},
		{"other peer unaffected", 0, func() int { return e.doFrom(other, RoleViewer, "GET", "/v1/health", "").Code }, 200},
		{"still limited after 9s", 9 * time.Second, badReq, 429},
		{"one token back after 10s", time.Second, func() int { return e.doFrom(bad, RoleViewer, "GET", "/v1/health", "").Code }, 200},
		{"a success costs nothing", 0, func() int { return e.doFrom(bad, RoleViewer, "GET", "/v1/health", "").Code }, 200},
		{"that token spent on a failure", 0, badReq, 401},
		{"limited again", 0, badReq, 429},
	}
	for _, s := range steps {
		e.clock.Add(s.advance)
		if got := s.do(); got != s.want {
			t.Fatalf("%s: status %d, want %d", s.name, got, s.want)
		}
	}
	rec := e.doFrom(bad, RoleViewer, "GET", "/v1/health", "")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

// TestLimiterBounded: a spray of peers does not grow the table without bound.
func TestLimiterBounded(t *testing.T) {
	c := &fakeClock{t: time.Unix(0, 0)}
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
	var doors struct{ Doors []doorOut }
	e.must(200, "GET", "/v1/doors", "", &doors)
	want := []doorOut{
		{Door: testConfig.Doors[0], Mode: "card_and_code", NextChange: "2026-03-02T18:00:00Z", NextMode: "access_controlled"},
		{Door: Door{Name: "back", TimeZone: "Europe/Berlin", DefaultMode: "locked", SecondFactor: "always", Readers: []string{}}, Mode: "unknown"},
	}
	if d := cmp.Diff(want, doors.Doors); d != "" {
		t.Errorf("doors (-want +got):\n%s", d)
	}
	var one doorOut
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
	var u userOut
	e.must(201, "POST", "/v1/users", `{"external_id":"E1","first_name":"Grace","last_name":"Hopper","email":"grace@example.com","start":"2026-01-01T00:00:00Z","groups":["staff","staff"]}`, &u)
	if u.ExternalID != "E1" || u.Start != "2026-01-01T00:00:00Z" || len(u.Groups) != 1 || u.Cards == nil || u.MFACodes == nil {
		t.Errorf("created %+v", u)
	}
	for i := 0; i < 4; i++ {
		e.newUser("page-" + string(rune('a'+i)))
	}
	id := u.UserID
	u = userOut{}
	e.must(200, "PATCH", "/v1/users/"+id, `{"last_name":"Murray Hopper","start":null}`, &u)
	if u.LastName != "Murray Hopper" || u.Start != "" || u.FirstName != "Grace" || u.Email != "grace@example.com" {
		t.Errorf("patched %+v", u)
	}
	e.must(200, "POST", "/v1/users/"+u.UserID+"/suspend", "", &u)
	if !u.Suspended {
		t.Error("suspend did not suspend")
	}
	// A viewer reads users without their credentials.
	rec := e.do(RoleViewer, "GET", "/v1/users/"+u.UserID, "")
	if rec.Code != 200 || strings.Contains(rec.Body.String(), "cards") || strings.Contains(rec.Body.String(), "mfa_codes") {
		t.Errorf("viewer sees %d %s", rec.Code, rec.Body)
	}
	// Paging: 5 users, 2 a page.
	var all []string
	after := ""
	for i := 0; i < 5; i++ {
		var page struct {
			Users []userOut
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
	var found struct{ Users []userOut }
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
	var info mfaOut
	e.must(201, "POST", "/v1/users/"+uid+"/mfa_codes", `{"code":"0042"}`, &info)
	if info.Length != 4 || info.CreatedBy != "tok-access_system_admin" || info.ID == "" || info.Created != "2026-03-02T09:00:00Z" {
		t.Errorf("added %+v", info)
	}
	var replaced mfaOut
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

	var c cardOut
	e.must(201, "POST", "/v1/users/"+uid+"/cards", `{"format":"h10301","facility_code":212,"card_number":7041,"active":false}`, &c)
	if c.Active {
		t.Error("card added active despite active:false")
	}
	e.must(200, "POST", "/v1/users/"+uid+"/cards/h10301/212/7041/activate", "", &c)
	_, active, err := e.st.LookupCard(store.CardKey{Format: "h10301", FacilityCode: 212, CardNumber: 7041})
	if err != nil || !active || !c.Active {
		t.Errorf("card not active after activate: %v %v", active, err)
	}
	var cards struct{ Cards []cardOut }
	e.must(200, "GET", "/v1/users/"+uid+"/cards", "", &cards)
	if len(cards.Cards) != 1 {
		t.Errorf("cards %+v", cards)
	}
	// Verkada-shaped add by external_id, delete by user_id.
	var v map[string]string
	e.must(200, "POST", "/access/v1/credentials/mfa_code?external_id=m1", `{"code":"13579"}`, &v)
	if v["code"] != "13579" {
		t.Errorf("Verkada reply %v", v)
	}
	var empty map[string]any
	e.must(200, "DELETE", "/access/v1/credentials/mfa_code?user_id="+uid+"&code=13579", "", &empty)
	if len(empty) != 0 {
		t.Errorf("Verkada delete reply %v, want {}", empty)
	}
	if ms, _ := e.st.MFACodes(uid); len(ms) != 0 {
		t.Errorf("codes left: %v", ms)
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
			path := "/v1/events/stream?door=front&after=1"
			if format == "sse" {
				path = "/v1/events/stream?door=front"
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+e.tokens[RoleViewer])
			if format == "sse" {
				req.Header.Set("Accept", "text/event-stream")
				req.Header.Set("Last-Event-ID", "1")
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

// TestUnixSocketAndLocalOwner: the socket is mode 0660; its owner may
// manage tokens without a token, nothing else; TCP clients never may.
func TestUnixSocketAndLocalOwner(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.LocalOwner = true })
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode %v, %v; want 0660", fi.Mode().Perm(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	post := func(path, body string) int {
		resp, err := client.Post("http://latchd"+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if runtimeLinux {
		if got := post("/v1/tokens", `{"name":"boot","role":"access_system_admin"}`); got != 201 {
			t.Errorf("owner token create over the socket: %d, want 201", got)
		}
	}
	if got := post("/v1/users", `{"first_name":"x"}`); got != 401 {
		t.Errorf("owner without token on /v1/users: %d, want 401", got)
	}
	e.srv.euid = e.srv.euid + 12345 // now the test process is someone else (unless root)
	if os.Geteuid() != 0 {
		if got := post("/v1/tokens", `{"name":"boot2","role":"viewer"}`); got != 401 {
			t.Errorf("other user token create over the socket: %d, want 401", got)
		}
	}
	// Over TCP no one is the local owner.
	rec := e.do("", "POST", "/v1/tokens", `{"name":"boot3","role":"viewer"}`)
	if rec.Code != 401 {
		t.Errorf("token create over TCP without token: %d, want 401", rec.Code)
	}
	// A stale socket is replaced; a regular file is not.
	cancel()
	<-served
	served <- nil
	if ln2, err := ListenUnix(sock); err != nil {
		t.Errorf("relisten over stale socket: %v", err)
	} else {
		ln2.Close()
	}
	plain := filepath.Join(t.TempDir(), "file")
	os.WriteFile(plain, nil, 0o600)
	if _, err := ListenUnix(plain); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("ListenUnix over a regular file: %v", err)
	}
}
