package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/latchd/latch/store"
)

// TestDuressEndToEnd runs the built latchd --sim: a duress code typed at
// the keypad grants as the entry code does and drives [controller]
// duress_output active; after a crash and a restart on the same database
// the line is active again from the start; DELETE /v1/duress over the
// socket clears it, with a duress_cleared event naming the token.
func TestDuressEndToEnd(t *testing.T) {
	bin := buildLatchd(t)
	dir, cfgPath := seededDir(t, strings.Replace(simConfig, "[controller]\n", "[controller]\nduress_output = \"GPIO21\"\n", 1))
	tok := seedToken(t, dir, "ops", store.RoleSystemAdmin)
	line := func(level string) func(map[string]any) bool {
		return func(m map[string]any) bool {
			return m["message"] == "output changed" && m["line"] == "duress output" && m["to"] == level
		}
	}
	debug := []string{"--sim", "--config", cfgPath, "--log-format", "json", "--log-level", "debug"}
	d := startDaemon(t, bin, debug)
	d.Send("entry alice 1357")
	d.Send("duress alice 86420975")
	d.Send("keys 86420975#")
	// The duress event is stored by the latch's own writer once the
	// event writer has stored the grant: it follows the grant.
	got := map[string]map[string]any{}
	for _, want := range []string{"access_granted", "duress"} {
		m := d.WaitFor(want, func(m map[string]any) bool { return m["event"] == "access_granted" || m["event"] == "duress" })
		if m["event"] != want {
			t.Errorf("%v, want %s first", m, want)
		}
		got[fmt.Sprint(m["event"])] = m
	}
	if s1, s2 := got["access_granted"]["seq"].(float64), got["duress"]["seq"].(float64); s2 <= s1 {
		t.Errorf("duress seq %v before the grant's %v", s2, s1)
	}
	if g := got["access_granted"]; g["method"] != "entry_code" || g["external_id"] != "alice" {
		t.Errorf("duress code typed alone: %v, want an entry_code grant", g)
	}
	if ev := got["duress"]; ev["door"] != "front" || ev["reader"] != "r1" || ev["external_id"] != "alice" || ev["time"] != got["access_granted"]["time"] {
		t.Errorf("duress event %v (grant %v)", ev, got["access_granted"])
	}
	// The line went active in the grant's step (logged before its events).
	if d.All.Find(line("High")) == nil {
		t.Error("the duress line was not driven active")
	}
	// A crash, then a start on the same database: the line is requested
	// active from the stored state (no pulse: no change is logged).
	d.Cmd.Process.Kill()
	d.Wait()
	first := d
	d = startDaemon(t, bin, debug)
	if m := d.All.Find(func(m map[string]any) bool { return m["line"] == "duress output" }); m != nil {
		t.Errorf("the duress line changed at the restart: %v", m)
	}
	if d.All.Find(func(m map[string]any) bool {
		return strings.HasPrefix(fmt.Sprint(m["message"]), "duress output active")
	}) == nil {
		t.Error("no warning that the duress output is active after the restart")
	}
	// Cleared over the API: the line goes inactive, duress_cleared names the token.
	call := func(method string) map[string]any {
		code, body := callDir(t, dir, tok, method, "/v1/duress", "")
		var out map[string]any
		if err := json.Unmarshal([]byte(body), &out); err != nil || code != http.StatusOK {
			t.Fatalf("%s /v1/duress: %d %s %v", method, code, body, err)
		}
		return out
	}
	if st := call(http.MethodGet); st["active"] != true {
		t.Errorf("GET /v1/duress after the restart: %v", st)
	}
	if st := call(http.MethodDelete); st["active"] != false || st["cleared"] != true {
		t.Errorf("DELETE /v1/duress: %v", st)
	}
	if ev := d.WaitFor("duress_cleared", event("duress_cleared")); ev["actor"] != "ops" || ev["role"] != store.RoleSystemAdmin {
		t.Errorf("duress_cleared %v", ev)
	}
	// A change to low is logged only from high: the line was active until now.
	if d.All.Find(line("Low")) == nil {
		t.Error("the duress line was not driven from active to inactive by the clear")
	}
	d.Cmd.Process.Signal(syscall.SIGTERM)
	d.ExitsCleanly()
	// The digits are in no log line of either run (the first run's lines
	// are in first.All), nor on stderr.
	for _, run := range []*simDaemon{first, d} {
		if m := run.All.Find(func(m map[string]any) bool {
			b, _ := json.Marshal(m)
			return strings.Contains(string(b), "86420975")
		}); m != nil {
			t.Errorf("a log line holds the duress code: %v", m)
		}
		if strings.Contains(run.Stderr.String(), "86420975") {
			t.Error("stderr holds the duress code")
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "data", "latch.db"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "86420975") {
		t.Error("the database file holds the duress code's digits")
	}
}
