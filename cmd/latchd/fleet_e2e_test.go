package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/latchd/latch/store"
)

// startNATS runs Debian's nats-server with the site's NATS configuration
// from deploy/nats-server.conf (docs/fleet.md), given this test's port,
// storage and passwords (each member's is "pw-" + its name).
func startNATS(t *testing.T, dir string) *serverProc {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/nats-server.conf")
	if err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	conf := strings.NewReplacer(
		"127.0.0.1:4222", addr,
		"/var/lib/nats/jetstream", filepath.Join(dir, "jetstream"),
		"MGR_PASSWORD", "pw-mgr", "CTL1_PASSWORD", "pw-ctl1", "CTL2_PASSWORD", "pw-ctl2", "CTL3_PASSWORD", "pw-ctl3",
	).Replace(string(raw))
	return natsServer(t, dir, addr, conf)
}

// pollUntil polls cond until it holds: the processes under test run on
// their own clocks, so a real deadline bounds the wait.
func pollUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out (%s) waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// member is one latchd of the site; d.All keeps the log lines of its
// last start.
type member struct {
	t    *testing.T
	name string
	dir  string
	bin  string
	cfg  string
	d    *simDaemon
	sock string
}

func (m *member) start() {
	m.t.Helper()
	m.d = startSim(m.t, m.bin, m.cfg)
	m.d.Drain()
}

// seen reports whether a log line since the last start matches.
func (m *member) seen(match func(map[string]any) bool) bool {
	return m.d.All.Find(match) != nil
}

func (m *member) waitLog(what string, within time.Duration, match func(map[string]any) bool) {
	m.t.Helper()
	pollUntil(m.t, m.name+": "+what, within, func() bool { return m.seen(match) })
}

func msg(text string) func(map[string]any) bool {
	return func(l map[string]any) bool { s, _ := l["message"].(string); return strings.Contains(s, text) }
}

// badge badges card n at the member's reader once and returns the door's
// decision, the event (access_granted or access_denied) and its reason;
// "" when none came within half a second.
func (m *member) badge(n int) (ev, reason string) {
	before := m.d.All.Len()
	m.d.Send(fmt.Sprintf("badge h10301 1 %d", n))
	for range 50 {
		if l := m.d.All.FindFrom(before, func(l map[string]any) bool { return l["event"] == "access_granted" || l["event"] == "access_denied" }); l != nil {
			ev, _ = l["event"].(string)
			reason, _ = l["reason"].(string)
			return ev, reason
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "", ""
}

// granted badges card n at the member's reader until the door grants it.
func (m *member) granted(n int, within time.Duration) {
	m.t.Helper()
	pollUntil(m.t, fmt.Sprintf("%s granting card %d", m.name, n), within, func() bool {
		ev, _ := m.badge(n)
		return ev == "access_granted"
	})
}

func (m *member) kill() {
	m.d.Cmd.Process.Kill()
	m.d.Wait()
}

// newMember writes a member's config: a controller with one door
// ("front", as in testdata/sim.toml) or, without doors, a manager.
func newMember(t *testing.T, root, bin, name, natsURL string, key []byte, controller bool) *member {
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "nats.pw"), []byte("pw-"+name+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fleet := fmt.Sprintf("[fleet]\nurl = %q\nsite = \"hq\"\ncontroller = %q\nuser = %q\npassword_file = \"nats.pw\"\nsite_key_file = \"site.key\"\n", natsURL, name, name)
	cfg := "[controller]\ndatabase = \"data/latch.db\"\ntime_zone = \"UTC\"\n[api]\nsocket = \"api.sock\"\n[[group]]\nname = \"staff\"\n" + fleet
	if controller {
		cfg = simConfig + fleet
	}
	path := filepath.Join(dir, "latch.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return &member{t: t, name: name, dir: dir, bin: bin, cfg: path, sock: filepath.Join(dir, "api.sock")}
}

// TestFleetEndToEnd runs a site as an installer would (docs/fleet.md):
// Debian's nats-server with the documented account configuration, a
// manager and three latchd --sim controllers, and the faults a site
// must survive.
func TestFleetEndToEnd(t *testing.T) {
	bin := buildLatchd(t)
	// The manager's API token (tokens are each member's own).
	s, tokens := startFleetSite(t, bin, map[string]string{"admin": store.RoleSystemAdmin})
	ns, mgr, ctls, api, token := s.ns, s.mgr, s.ctls, s.api, tokens["admin"]
	call := func(method, path, body string) (int, string) { return s.call(t, token, method, path, body) }

	// A user made on the manager opens the door of every controller.
	s.addUser(t, token, "alice", 1001)
	for _, c := range ctls {
		c.granted(1001, 20*time.Second)
	}

	// Status: the manager lists every door of the site, with its
	// controller, mode and whether it is online; latchctl prints it.
	pollUntil(t, "the site's doors on the manager", 20*time.Second, func() bool {
		code, body := call("GET", "/v1/doors", "")
		return code == 200 && strings.Count(body, `"online":true`) == 3 &&
			strings.Contains(body, `"controller":"ctl1"`) && strings.Contains(body, `"controller":"ctl3"`)
	})
	out, err := latchctl(bin, mgr.sock, token, "fleet", "status").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ctl2") || !strings.Contains(string(out), "front") || !strings.Contains(string(out), "yes") {
		t.Errorf("latchctl fleet status: %v\n%s", err, out)
	}

	// Security: a controller may not write the creds bucket, nor hear
	// another controller's commands.
	checkControllerPermissions(t, ns.url())

	// Fault: the server stops. Writes answer 503 naming the cause; the
	// doors go on deciding from their replicas; after the restart the
	// members reconnect by themselves.
	ns.stop()
	pollUntil(t, "the manager's 503", 20*time.Second, func() bool {
		code, body := call("POST", "/v1/users", `{"external_id":"bob","groups":["staff"]}`)
		return code == http.StatusServiceUnavailable && strings.Contains(body, "NATS is unreachable")
	})
	ctls[0].granted(1001, 10*time.Second)
	ns.start()
	var bob struct {
		UserID string `json:"user_id"`
	}
	attempt := 0
	pollUntil(t, "a write after the restart", 30*time.Second, func() bool {
		attempt++ // a write the outage interrupted may have reached the site: a new name each time
		code, body := call("POST", "/v1/users", fmt.Sprintf(`{"external_id":"carol%d","groups":["staff"]}`, attempt))
		if code == http.StatusCreated || code == http.StatusOK {
			json.Unmarshal([]byte(body), &bob)
			return true
		}
		return false
	})
	if code, body := call("POST", "/v1/users/"+bob.UserID+"/cards", `{"format":"h10301","facility_code":1,"card_number":1002}`); code >= 300 {
		t.Fatalf("add card after the restart: %d %s", code, body)
	}
	for _, c := range ctls {
		c.granted(1002, 30*time.Second)
	}

	// Fault: a controller killed in the middle of a large catch-up. ctl3
	// stops, the site gets 4000 users, ctl3 starts on an empty database
	// (a rebuild) and is SIGKILLed during it; it starts again and ends
	// with every user.
	ctls[2].kill()
	var csv strings.Builder
	csv.WriteString("externalId,groups,cardFormat,facilityCode,cardNumber\n")
	for i := range 4000 {
		fmt.Fprintf(&csv, "bulk%d,staff,h10301,1,%d\n", i, 20000+i)
	}
	req, _ := http.NewRequest("POST", "http://latchd/v1/import", strings.NewReader(csv.String()))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := api.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ib, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("import: %d %s", resp.StatusCode, ib)
	}
	os.Remove(filepath.Join(ctls[2].dir, "data", "latch.db"))
	ctls[2].start()
	ctls[2].waitLog("the rebuild's start", 20*time.Second, msg("rebuilding the replica"))
	ctls[2].kill()
	ctls[2].start()
	ctls[2].waitLog("the rebuild", 60*time.Second, func(l map[string]any) bool {
		n, _ := l["users"].(float64)
		return l["message"] == "fleet: replica rebuilt" && n >= 4002 // alice, bob or carol, the 4000
	})
	ctls[2].granted(20000+3999, 10*time.Second)
	ctls[0].granted(20000+1234, 30*time.Second)

	// Fault: a member with another site key refuses to sync and says so.
	other := make([]byte, 32)
	rand.Read(other)
	ctls[1].kill()
	os.Remove(filepath.Join(ctls[1].dir, "data", "latch.db"))
	os.WriteFile(filepath.Join(ctls[1].dir, "site.key"), other, 0o600)
	ctls[1].start()
	// Its status says so (the log line may come before "latchd started",
	// which startSim reads; TestSyncWrongKey counts that line).
	pollUntil(t, "ctl2's status of the refusal", 30*time.Second, func() bool {
		return statusOf(t, ns.url(), "ctl2")["key_state"] == "mismatch"
	})
	if ctls[1].seen(msg("replica rebuilt")) {
		t.Error("a member with another key synced")
	}
}

// checkControllerPermissions connects as ctl1 and tries what the account
// configuration forbids: writing a user, hearing ctl2's commands, sending
// ctl2 a command.
func checkControllerPermissions(t *testing.T, url string) {
	t.Helper()
	errs := make(chan error, 8)
	c := dialSite(t, url, "ctl1", nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	defer c.close()
	nc := c.nc
	kv, err := c.js.KeyValue(c.ctx, "latch_hq_creds")
	if err != nil {
		t.Fatalf("ctl1 cannot bind the creds bucket: %v", err)
	}
	if _, err := kv.Put(c.ctx, "user.u00000000000000aa", []byte("{}")); err == nil {
		t.Error("ctl1 wrote to the creds bucket")
	}
	// The server answers a forbidden subscribe or publish with an
	// asynchronous permissions violation.
	refused := func(what string) {
		t.Helper()
		nc.Flush()
		select {
		case err := <-errs:
			if !errors.Is(err, nats.ErrPermissionViolation) && !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
				t.Errorf("%s: %v", what, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("ctl1 may go on with %s", what)
		}
	}
	if _, err := nc.SubscribeSync("latch.hq.cmd.ctl2.front"); err == nil {
		refused("subscribing to ctl2's commands")
	}
	// Nor send another controller a command.
	nc.Publish("latch.hq.cmd.ctl2.front", []byte(`{"op":"unlock","actor":{"name":"x","role":"access_system_admin"}}`))
	refused("sending ctl2 a command")
}

// siteConn is a connection to the site's server as one of its members,
// and 5 s for what the test asks of it.
type siteConn struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	ctx    context.Context
	cancel context.CancelFunc
}

// dialSite connects to the server at url as member user, with the password
// and inbox prefix deploy/nats-server.conf gives it (startNATS: "pw-" + its
// name), and opts.
func dialSite(t *testing.T, url, user string, opts ...nats.Option) *siteConn {
	t.Helper()
	nc, err := nats.Connect(url, append([]nats.Option{nats.UserInfo(user, "pw-"+user), nats.CustomInboxPrefix("_INBOX_hq_" + user)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	c := &siteConn{nc: nc}
	c.js, _ = jetstream.New(nc)
	c.ctx, c.cancel = context.WithTimeout(context.Background(), 5*time.Second)
	return c
}

func (c *siteConn) close() {
	c.cancel()
	c.nc.Close()
}

// statusOf reads a member's status from the status bucket, as the manager.
func statusOf(t *testing.T, url, name string) map[string]any {
	t.Helper()
	c := dialSite(t, url, "mgr")
	defer c.close()
	kv, err := c.js.KeyValue(c.ctx, "latch_hq_status")
	if err != nil {
		return nil
	}
	e, err := kv.Get(c.ctx, name)
	if err != nil {
		return nil
	}
	var m map[string]any
	json.Unmarshal(e.Value(), &m)
	return m
}
