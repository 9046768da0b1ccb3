package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/internal/apitest"
	"github.com/latchd/latch/internal/daemontest"
)

// e2eConfig is a door in Card + Code mode all week with a keypad reader, the
// API socket and the database in the test's folder.
const e2eConfig = `[controller]
name      = "e2e"
database  = "latch.db"
key_file  = "device.key"
time_zone = "UTC"

[api]
socket = "api.sock"

[log]
format = "json"

[[reader]]
name    = "front-in"
door    = "front"
d0      = "GPIO17"
d1      = "GPIO27"
formats = ["h10301"]
keypad  = "4bit"

[[door]]
name        = "front"
relay       = "GPIO23"
unlock_time = "2s"

  [[door.schedule]]
  days  = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
  start = "00:00"
  end   = "24:00"
  mode  = "card_and_code"

[[group]]
name  = "staff"
doors = ["front"]
`

// TestEndToEndSim runs latchd --sim and, through the API and latchctl,
// creates a token, a user, a card and an MFA code; badges and types the code
// on the simulated reader and sees access_granted (card_and_code) on the
// event stream; deletes the code with the Verkada-shaped endpoint and sees
// the next attempt denied.
func TestEndToEndSim(t *testing.T) {
	sim := startE2ESim(t)
	ctx, dir, cfg := sim.ctx, sim.dir, sim.cfg
	logs, stderr := sim.Stdout, sim.Stderr
	defer func() {
		sim.stop()
		if strings.Contains(logs.String(), "8642") {
			t.Errorf("the MFA code appears in latchd's log")
		}
		// stderr: the demo banner and the simulator's replies; it echoes
		// no typed key either.
		if strings.Contains(stderr.String(), "8642") {
			t.Errorf("the MFA code appears on latchd's stderr:\n%s", stderr.String())
		}
	}()

	if strings.Contains(logs.String(), "management API not built into this binary") {
		t.Fatal("latchd does not serve the API yet: wire package api into cmd/latchd (docs/api.md, \"In the daemon (cmd/latchd)\")")
	}
	// A token, made by latchctl while latchd holds the database (over the
	// socket, as the daemon's own user).
	var out, errs bytes.Buffer
	if code := run([]string{"token", "create", "--config", cfg, "--name", "e2e", "--role", "access_user_manager"}, &out, &errs); code != 0 {
		t.Fatalf("token create: %d %s", code, errs.String())
	}
	token := strings.TrimSpace(out.String())
	t.Setenv("LATCH_TOKEN", token)

	sock := filepath.Join(dir, "api.sock")
	client := apitest.UnixClient(sock)
	call := func(method, path, body string, want int) []byte {
		t.Helper()
		code, b := apitest.Call(t, ctx, client, method, apitest.Base+path, token, body)
		if code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, code, b, want)
		}
		return []byte(b)
	}
	var user struct {
		UserID string `json:"user_id"`
	}
	json.Unmarshal(call("POST", "/v1/users", `{"external_id":"e2e-1","first_name":"Eve","groups":["staff"]}`, 201), &user)
	call("POST", "/v1/users/"+user.UserID+"/cards", `{"format":"h10301","facility_code":7,"card_number":4242}`, 201)
	if code := run([]string{"mfa", "add", "ext:e2e-1", "--code", "8642", "--config", cfg}, &out, &errs); code != 0 {
		t.Fatalf("mfa add: %s", errs.String())
	}

	// Follow the stream; the subscription exists once the headers are back.
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://latchd/v1/events/stream?door=front", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	events := bufio.NewScanner(resp.Body)
	// next returns the next decision (access_granted or access_denied).
	next := func() map[string]any {
		t.Helper()
		for events.Scan() {
			var ev map[string]any
			if json.Unmarshal(events.Bytes(), &ev) != nil {
				continue
			}
			if e := ev["event"]; e == "access_granted" || e == "access_denied" {
				return ev
			}
		}
		t.Fatalf("stream ended before a decision: %v\nlog: %s", events.Err(), logs.String())
		return nil
	}

	sim.Send("badge h10301 7 4242")
	sim.Send("keys 8642#")
	if ev := next(); ev["event"] != "access_granted" || ev["method"] != "card_and_code" || ev["user_id"] != user.UserID {
		t.Fatalf("after badge and code: %v, want access_granted card_and_code", ev)
	}

	// The door reported the grant's latency to the daemon's metrics (as
	// its observer, before it handed out the event the stream showed).
	if m := string(call("GET", "/metrics", "", 200)); !strings.Contains(m, `latch_decision_latency_seconds_count{result="granted"} 1`+"\n") {
		t.Errorf("/metrics after the grant lacks its latency:\n%s", m)
	}

	// Delete the code the way a Verkada integration does.
	if got := string(bytes.TrimSpace(call("DELETE", "/access/v1/credentials/mfa_code?external_id=e2e-1&code=8642", "", 200))); got != "{}" {
		t.Errorf("Verkada delete replied %s", got)
	}
	sim.Send("badge h10301 7 4242")
	sim.Send("keys 8642#")
	// No MFA code and no entry code left: refused at the badge.
	if ev := next(); ev["event"] != "access_denied" || ev["reason"] != "no_second_factor" {
		t.Fatalf("after the code was deleted: %v, want access_denied no_second_factor", ev)
	}
}

// TestVerkadaEndToEnd runs latchd --sim and drives it as a Verkada
// integration would, with nothing but a Verkada API key: it exchanges the
// key for a session token (POST /token, x-api-key), creates a user, puts it
// in a group and gives it a card and an MFA code through the Verkada
// endpoints; the badge and the code typed on the simulated reader are
// granted; the code deleted with Verkada's DELETE, the next attempt is
// denied. Decisions are read back through GET /events/v1/access.
func TestVerkadaEndToEnd(t *testing.T) {
	sim := startE2ESim(t)
	ctx, dir, cfg := sim.ctx, sim.dir, sim.cfg
	logs, stderr := sim.Stdout, sim.Stderr
	var key, session string
	defer func() {
		sim.stop()
		for _, secret := range []string{"8642", key, session} {
			if secret != "" && (strings.Contains(logs.String(), secret) || strings.Contains(stderr.String(), secret)) {
				t.Errorf("a secret (%d bytes) appears in latchd's output", len(secret))
			}
		}
	}()

	// The key: a token marked as a Verkada API key, made by latchctl
	// over the socket while latchd holds the database.
	var out, errs bytes.Buffer
	if code := run([]string{"token", "create", "--config", cfg, "--verkada-key", "--name", "vk", "--role", "access_user_manager"}, &out, &errs); code != 0 {
		t.Fatalf("token create --verkada-key: %d %s", code, errs.String())
	}
	key = strings.TrimSpace(out.String())

	client := apitest.UnixClient(filepath.Join(dir, "api.sock"))
	// send is one request with Verkada's headers and no other credential.
	send := func(method, path, header, value, body string) (int, map[string]any) {
		t.Helper()
		if body == "" && method != "POST" {
			body = "{}"
		}
		req, err := http.NewRequestWithContext(ctx, method, apitest.Base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(header, value)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: %d %q is not JSON", method, path, resp.StatusCode, raw)
		}
		return resp.StatusCode, m
	}
	code, tok := send("POST", "/token", "x-api-key", key, "")
	if code != 200 {
		t.Fatalf("POST /token: %d %v", code, tok)
	}
	session = tok["token"].(string)
	call := func(method, path, body string) map[string]any {
		t.Helper()
		code, m := send(method, path, "x-verkada-auth", session, body)
		if code != 200 {
			t.Fatalf("%s %s: %d %v", method, path, code, m)
		}
		return m
	}
	uid, _ := call("POST", "/core/v1/user", `{"external_id":"vk-1","first_name":"Vera","email":"vera@example.com"}`)["user_id"].(string)
	var staff string
	for _, g := range call("GET", "/access/v1/access_groups", "")["access_groups"].([]any) {
		if g := g.(map[string]any); g["name"] == "staff" {
			staff = g["group_id"].(string)
		}
	}
	call("PUT", "/access/v1/access_groups/group/user?group_id="+staff, `{"user_id":"`+uid+`"}`)
	call("POST", "/access/v1/credentials/card?user_id="+uid, `{"type":"HID","active":true,"card_number":"4242","facility_code":"7"}`)
	call("POST", "/access/v1/credentials/mfa_code?user_id="+uid, `{"code":"8642"}`)

	// decision waits for the user's next event of type typ on Verkada's
	// events endpoint (latchd is a real process: poll, with the test's
	// deadline).
	seen := 0
	decision := func(typ string) map[string]any {
		t.Helper()
		for ctx.Err() == nil {
			evs := call("GET", "/events/v1/access?page_size=200&user_id="+uid+"&event_type=door_keycard_entered_accepted,door_keycard_entered_rejected", "")["events"].([]any)
			if len(evs) > seen {
				seen++
				ev := evs[seen-1].(map[string]any)
				if ev["event_type"] != typ {
					t.Fatalf("event %v, want %s", ev, typ)
				}
				return ev
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no %s event before the deadline\nlog: %s", typ, logs.String())
		return nil
	}
	sim.Send("badge h10301 7 4242")
	sim.Send("keys 8642#")
	if ev := decision("door_keycard_entered_accepted"); ev["event_info"].(map[string]any)["method"] != "card_and_code" {
		t.Errorf("granted: %v, want method card_and_code", ev)
	}
	if m := call("DELETE", "/access/v1/credentials/mfa_code?user_id="+uid+"&code=8642", ""); len(m) != 0 {
		t.Errorf("DELETE mfa_code replied %v, want {}", m)
	}
	sim.Send("badge h10301 7 4242")
	sim.Send("keys 8642#")
	if ev := decision("door_keycard_entered_rejected"); ev["event_info"].(map[string]any)["reason"] != "no_second_factor" {
		t.Errorf("denied: %v, want reason no_second_factor", ev)
	}
}

// e2eSim is a latchd --sim the end-to-end tests drive: its folder and
// config, the run's context (60 s) and the daemon (its log in Stdout,
// read by Drain, and its Stderr).
type e2eSim struct {
	ctx context.Context
	dir string
	cfg string
	*daemontest.Daemon
}

// startE2ESim writes e2eConfig into a temporary folder and starts latchd
// --sim --config on it (daemontest: built once, skipped in -short),
// waiting for "latchd started".
func startE2ESim(t *testing.T) *e2eSim {
	t.Helper()
	bin := daemontest.Build(t)
	dir, cfg := daemontest.WriteConfig(t, e2eConfig)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	d := daemontest.Start(t, bin, []string{"--sim", "--config", cfg})
	d.Drain()
	return &e2eSim{ctx: ctx, dir: dir, cfg: cfg, Daemon: d}
}

// stop types quit; latchd must close its database and exit 0.
func (s *e2eSim) stop() {
	s.Send("quit")
	s.ExitsCleanly()
}
