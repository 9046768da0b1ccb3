package main

import (
	"strings"
	"syscall"
	"testing"

	"github.com/latchd/latch/store"
)

// TestOperateDoorsE2E runs the built latchd --sim: the fire alarm input
// releases the door (mode_changed cause emergency) and lets go; a lockdown
// from the console; an unlock during it is refused on stderr; latchd is
// stopped and started again on the same database and comes back locked
// down; the API's DELETE /v1/lockdown (an access_door_manager token)
// releases it, with the token as actor.
func TestOperateDoorsE2E(t *testing.T) {
	cfg := simConfig + fireInput("GPIO20")
	bin := buildLatchd(t)
	dir, cfgPath := seededDir(t, cfg)
	token := seedToken(t, dir, "guard", store.RoleDoorManager)

	d := startSim(t, bin, cfgPath)
	d.Send("input fire on")
	em := d.WaitFor("emergency", func(m map[string]any) bool { return m["event"] == "mode_changed" && m["cause"] == "emergency" })
	if em["to"] != "unlocked" || em["input"] != "fire" {
		t.Errorf("emergency: %v", em)
	}
	d.Send("input fire off")
	d.WaitFor("emergency over", func(m map[string]any) bool {
		return m["event"] == "mode_changed" && m["cause"] == "emergency" && m["to"] == "access_controlled"
	})
	d.Send("lockdown all")
	ld := d.WaitFor("lockdown_started", event("lockdown_started"))
	if ld["actor"] != "scenario" {
		t.Errorf("lockdown_started: %v", ld)
	}
	d.Send("unlock front")
	for line := range d.ErrLines {
		if strings.Contains(line, "unlock refused: door is in lockdown") {
			break
		}
	}
	d.Cmd.Process.Signal(syscall.SIGTERM)
	if err := d.Wait(); err != nil {
		t.Fatalf("latchd: %v", err)
	}

	d = startSim(t, bin, cfgPath)
	defer func() {
		d.Cmd.Process.Signal(syscall.SIGTERM)
		d.Wait()
	}()
	// The door's start may come before "latchd started", which startSim
	// waited for: look among the lines already read first.
	isStart := func(m map[string]any) bool { return m["event"] == "mode_changed" && m["cause"] == "start" }
	start := d.All.Find(isStart)
	if start == nil {
		start = d.WaitFor("start", isStart)
	}
	if start["to"] != "locked" {
		t.Fatalf("after the restart: %v, want locked (the lockdown survived)", start)
	}
	if code, body := callDir(t, dir, token, "DELETE", "/v1/lockdown", `{}`); code != 200 {
		t.Fatalf("DELETE /v1/lockdown: %d %s", code, body)
	}
	end := d.WaitFor("lockdown_ended", event("lockdown_ended"))
	if end["actor"] != "guard" || end["role"] != store.RoleDoorManager {
		t.Errorf("lockdown_ended: %v, want the token as actor", end)
	}
}
