package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/internal/apitest"
	"github.com/latchd/latch/internal/daemontest"
	"github.com/latchd/latch/store"
)

// outage is how long TestFleetCommandsEndToEnd keeps the server stopped.
const outage = 30 * time.Second

// TestFleetCommandsEndToEnd runs door commands across a site as an
// installer's would go (docs/fleet.md "Door commands across the site"): Debian's nats-server
// with the documented account configuration, a manager and three
// latchd --sim controllers. The manager unlocks a door on each
// controller; its lockdown of every door reaches every controller; a
// controller that is down when the lockdown begins applies it when it is
// back and keeps it across a restart; with the server stopped for 30 s
// the doors go on deciding, commands answer 503 naming the cause, and
// afterwards everything resumes.
func TestFleetCommandsEndToEnd(t *testing.T) {
	bin := buildLatchd(t)
	s, tokens := startFleetSite(t, bin, map[string]string{"guard": store.RoleDoorManager, "admin": store.RoleSystemAdmin})
	ns, mgr, ctls, token := s.ns, s.mgr, s.ctls, tokens["guard"]
	call := func(method, path, body string) (int, string) { return s.call(t, token, method, path, body) }
	mustCall := func(want int, method, path, body string) string {
		t.Helper()
		code, b := call(method, path, body)
		if code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
		}
		return b
	}
	// A user to badge with, on every controller.
	s.addUser(t, tokens["admin"], "alice", 1001)
	for _, c := range ctls {
		c.granted(1001, 20*time.Second)
	}
	pollUntil(t, "the site's doors on the manager", 20*time.Second, func() bool {
		code, body := call("GET", "/v1/doors", "")
		return code == 200 && strings.Count(body, `"online":true`) == 3
	})

	// The manager unlocks the door of each controller: the controller
	// records access_granted method remote with the manager's token as
	// actor, and its strike is released (for the door's unlock_time, 60 s).
	for _, c := range ctls {
		var ur struct{ Door, Duration string }
		json.Unmarshal([]byte(mustCall(200, "POST", "/v1/doors/"+c.name+".front/unlock", "")), &ur)
		if ur.Door != c.name+".front" || ur.Duration != "1m0s" {
			t.Errorf("unlock %s: %+v", c.name, ur)
		}
		c.waitLog("the remote unlock", 10*time.Second, func(l map[string]any) bool {
			return l["event"] == "access_granted" && l["method"] == "remote" && l["actor"] == "guard" && l["role"] == store.RoleDoorManager
		})
		pollUntil(t, c.name+"'s strike released, as the manager shows it", 10*time.Second, func() bool {
			code, body := call("GET", "/v1/doors/"+c.name+".front", "")
			return code == 200 && strings.Contains(body, `"strike":"released"`)
		})
	}
	// The refusals a local door gives, with the same statuses.
	if code, body := call("POST", "/v1/doors/front/unlock", ""); code != http.StatusBadRequest || !strings.Contains(body, "a door of ctl1, ctl2, ctl3: name it as") {
		t.Errorf("unlock front (three controllers have it): %d %s", code, body)
	}
	if code, body := call("POST", "/v1/doors/ctl1.side/unlock", ""); code != http.StatusNotFound {
		t.Errorf("unlock ctl1.side: %d %s", code, body)
	}
	if code, body := call("POST", "/v1/doors/ctl1.front/unlock", `{"duration":"2m"}`); code != http.StatusBadRequest || !strings.Contains(body, "duration") {
		t.Errorf("unlock for 2m: %d %s", code, body)
	}
	// latchctl door … goes through the manager's API too.
	ctl := latchctl(bin, mgr.sock, token, "door", "override", "ctl2.front", "unlocked", "for", "1h")
	if out, err := ctl.CombinedOutput(); err != nil {
		t.Errorf("latchctl door override: %v\n%s", err, out)
	}
	ctls[1].waitLog("the override", 10*time.Second, func(l map[string]any) bool {
		return l["event"] == "mode_changed" && l["cause"] == "override" && l["to"] == "unlocked" && l["actor"] == "guard"
	})
	mustCall(200, "DELETE", "/v1/doors/ctl2.front/override", "")
	ctls[1].waitLog("the override's end", 10*time.Second, func(l map[string]any) bool {
		return l["event"] == "mode_changed" && l["cause"] == "override" && l["to"] == "access_controlled"
	})

	// Security: a controller may not send another its commands (nor
	// hear them, nor write users).
	checkControllerPermissions(t, ns.url())

	// Lockdown of every door reaches every controller; an unlock is then
	// refused with 409 by the controller that owns the door.
	lockdowns := func(c *member) int {
		return c.d.All.Count(func(l map[string]any) bool { return l["event"] == "lockdown_started" && l["actor"] == "guard" })
	}
	var lr struct{ Doors []string }
	json.Unmarshal([]byte(mustCall(200, "POST", "/v1/lockdown", `{}`)), &lr)
	if strings.Join(lr.Doors, ",") != "ctl1.front,ctl2.front,ctl3.front" {
		t.Errorf("lockdown reply: %v", lr.Doors)
	}
	for _, c := range ctls {
		pollUntil(t, c.name+"'s lockdown", 10*time.Second, func() bool { return lockdowns(c) == 1 })
	}
	pollUntil(t, "the manager's lockdown list", 10*time.Second, func() bool {
		return strings.Contains(mustCall(200, "GET", "/v1/lockdown", ""), `"ctl1.front","ctl2.front","ctl3.front"`)
	})
	if code, body := call("POST", "/v1/doors/ctl2.front/unlock", ""); code != http.StatusConflict || !strings.Contains(body, "door is in lockdown") {
		t.Errorf("unlock during lockdown: %d %s", code, body)
	}
	mustCall(200, "DELETE", "/v1/lockdown", `{}`)
	for _, c := range ctls {
		c.waitLog("the lockdown's end", 10*time.Second, event("lockdown_ended"))
	}

	// Fault: a controller is down when a lockdown begins. ctl3 is killed;
	// the lockdown reaches ctl1 and ctl2; ctl3 applies it once it is back.
	ctls[2].kill()
	mustCall(200, "POST", "/v1/lockdown", `{}`)
	for _, c := range ctls[:2] {
		pollUntil(t, c.name+"'s second lockdown", 10*time.Second, func() bool { return lockdowns(c) == 2 })
	}
	ctls[2].start()
	ctls[2].waitLog("the lockdown it missed", 20*time.Second, func(l map[string]any) bool {
		return l["event"] == "lockdown_started" && l["actor"] == "guard"
	})
	ctls[2].denied(1001, "lockdown", 10*time.Second)

	// Fault: the server stops for 30 s. Commands answer 503 naming the
	// cause; the doors go on deciding (in lockdown: denied as such); ctl3,
	// restarted meanwhile, comes up locked down from its own database.
	ns.stop()
	down := time.Now()
	pollUntil(t, "the manager's 503", 20*time.Second, func() bool {
		code, body := call("POST", "/v1/doors/ctl1.front/unlock", "")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "NATS is unreachable")
	})
	if code, body := call("DELETE", "/v1/lockdown", `{}`); code != http.StatusServiceUnavailable || !strings.Contains(body, "NATS is unreachable") {
		t.Errorf("release with NATS down: %d %s", code, body)
	}
	ctls[0].denied(1001, "lockdown", 10*time.Second)
	ctls[2].kill()
	ctls[2].start()
	var start map[string]any
	pollUntil(t, "ctl3's start", 10*time.Second, func() bool {
		start = ctls[2].d.All.Find(func(l map[string]any) bool { return l["event"] == "mode_changed" && l["cause"] == "start" })
		return start != nil
	})
	if start["to"] != "locked" {
		t.Errorf("ctl3's start with NATS down: %v, want locked", start)
	}
	ctls[2].denied(1001, "lockdown", 10*time.Second)
	// Wait the outage out (the members' reconnects run on their clocks).
	pollUntil(t, "the end of the outage", outage+5*time.Second, func() bool { return time.Since(down) >= outage })
	ns.start()

	// Everything resumes: the controllers answer (an unlock in lockdown:
	// 409), the release reaches all three, and the doors grant again.
	pollUntil(t, "ctl1 answering after the restart", 40*time.Second, func() bool {
		code, _ := call("POST", "/v1/doors/ctl1.front/unlock", "")
		return code == http.StatusConflict
	})
	pollUntil(t, "the release after the restart", 20*time.Second, func() bool {
		code, _ := call("DELETE", "/v1/lockdown", `{}`)
		return code == 200
	})
	for _, c := range ctls {
		c.waitLog("the release after the outage", 30*time.Second, event("lockdown_ended"))
		pollUntil(t, c.name+" answering", 30*time.Second, func() bool {
			code, _ := call("POST", "/v1/doors/"+c.name+".front/unlock", `{"duration":"1s"}`)
			return code == 200
		})
		c.granted(1001, 20*time.Second)
	}
}

// fleetSite is a running site for an end-to-end test (docs/fleet.md's
// walkthrough): Debian's nats-server with deploy/nats-server.conf, a
// manager "mgr" and three latchd --sim controllers ctl1–ctl3 that have
// built their replicas.
type fleetSite struct {
	ns   *serverProc
	key  []byte
	mgr  *member
	ctls []*member
	api  *http.Client
}

// startFleetSite starts a site; the manager gets an API token per entry
// of tokens (name → role), whose secrets it returns by name.
func startFleetSite(t *testing.T, bin string, tokens map[string]string) (*fleetSite, map[string]string) {
	t.Helper()
	root := t.TempDir()
	s := &fleetSite{ns: startNATS(t, root), key: make([]byte, 32)}
	rand.Read(s.key)
	s.mgr = newMember(t, root, bin, "mgr", s.ns.url(), s.key, false)
	st, err := store.Open(store.Options{Path: filepath.Join(s.mgr.dir, "data", "latch.db"), KeyFile: filepath.Join(s.mgr.dir, "site.key")})
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{}
	for name, role := range tokens {
		if secrets[name], err = st.CreateToken(name, role, store.Actor{Name: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	s.mgr.start()
	s.mgr.waitLog("the replica", 20*time.Second, msg("replica rebuilt"))
	s.api = apitest.UnixClient(s.mgr.sock)
	for _, n := range []string{"ctl1", "ctl2", "ctl3"} {
		c := newMember(t, root, bin, n, s.ns.url(), s.key, true)
		c.start()
		s.ctls = append(s.ctls, c)
	}
	for _, c := range s.ctls {
		c.waitLog("the replica", 20*time.Second, msg("replica rebuilt"))
	}
	return s, secrets
}

// call calls the manager's API with token.
func (s *fleetSite) call(t *testing.T, token, method, path, body string) (int, string) {
	return apitest.Call(t, context.Background(), s.api, method, "http://latchd"+path, token, body)
}

// addUser makes a user of group staff with an h10301 card (facility 1)
// on the manager and returns its id.
func (s *fleetSite) addUser(t *testing.T, token, ext string, card int) string {
	t.Helper()
	code, body := s.call(t, token, "POST", "/v1/users", fmt.Sprintf(`{"external_id":%q,"groups":["staff"]}`, ext))
	if code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("create user: %d %s", code, body)
	}
	var u struct {
		UserID string `json:"user_id"`
	}
	json.Unmarshal([]byte(body), &u)
	if code, body := s.call(t, token, "POST", "/v1/users/"+u.UserID+"/cards", fmt.Sprintf(`{"format":"h10301","facility_code":1,"card_number":%d}`, card)); code >= 300 {
		t.Fatalf("add card: %d %s", code, body)
	}
	return u.UserID
}

// latchctl is the built latchctl on the manager's socket with a token.
func latchctl(bin, sock, token string, args ...string) *exec.Cmd {
	c := exec.Command(daemontest.Latchctl(bin), append(args, "--socket", sock)...)
	c.Env = append(os.Environ(), "LATCH_TOKEN="+token)
	return c
}

// denied badges card n until the door denies it for reason.
func (m *member) denied(n int, reason string, within time.Duration) {
	m.t.Helper()
	pollUntil(m.t, fmt.Sprintf("%s denying card %d (%s)", m.name, n, reason), within, func() bool {
		ev, r := m.badge(n)
		return ev == "access_denied" && r == reason
	})
}
