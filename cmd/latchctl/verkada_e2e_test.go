package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/internal/apitest"
)

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
