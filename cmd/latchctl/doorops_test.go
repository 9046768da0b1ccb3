package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/door/doortest"
	"github.com/latchd/latch/store"
	"github.com/latchd/latch/store/storetest"
)

// TestDoorOps: latchctl door unlock, override (shown in the door's zone,
// with its name), lockdown and its status, and a refused unlock that says
// why, against the API on a running door.
func TestDoorOps(t *testing.T) {
	dir := t.TempDir()
	st := storetest.Open(t, dir)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	c := door.DefaultConfig()
	c.Name, c.Location = "front", berlin
	d, err := doortest.New(c, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	ctl, err := door.NewController(d)
	if err != nil {
		t.Fatal(err)
	}
	s := api.New(api.Options{
		Store:   st,
		Config:  api.Config{Doors: []api.Door{{Name: "front", TimeZone: "Europe/Berlin", DefaultMode: "access_controlled"}}},
		Control: func() *door.Controller { return ctl },
		Doors: api.DoorStatusFunc(func() []api.DoorStatus {
			s, _ := ctl.Status("front")
			return []api.DoorStatus{{Name: "front", Mode: string(s.Mode), State: s}}
		}),
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	tok, err := st.CreateToken("ops", store.RoleDoorManager, store.Actor{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("LATCH_TOKEN", tok)
	e := &ctlEnv{t: t, st: st, srv: srv, dir: dir}

	if out := e.ok("door", "unlock", "front", "3s"); out != "front unlocked for 3s\n" {
		t.Errorf("unlock: %q", out)
	}
	until := time.Now().Add(2 * time.Hour).In(berlin).Truncate(time.Second)
	out := e.ok("door", "override", "front", "locked", "until", until.Format(time.RFC3339))
	// doorTime's form (doortime.go): minutes, the zone's abbreviation and name.
	at := until.Format("2006-01-02 15:04 MST") + " (Europe/Berlin)"
	want := "front: locked (override until " + at + "); override locked until " + at + " by ops; strike " // released still, by the 3 s unlock
	if !strings.HasPrefix(out, want) {
		t.Errorf("override:\n%q\nwant\n%q", out, want)
	}
	if out := e.ok("door", "lockdown", "all"); out != "locked down: front\n" {
		t.Errorf("lockdown: %q", out)
	}
	if out := e.ok("door", "lockdown", "status"); out != "in lockdown: front\n" {
		t.Errorf("lockdown status: %q", out)
	}
	code, _, errs := e.run("door", "unlock", "front")
	if code != 1 || !strings.Contains(errs, "door is in lockdown") {
		t.Errorf("unlock in lockdown: exit %d, %q", code, errs)
	}
	if out := e.ok("door", "lockdown", "release", "front"); out != "released: front\n" {
		t.Errorf("release: %q", out)
	}
	if out := e.ok("door", "override", "front", "clear"); !strings.HasPrefix(out, "front: access_controlled (default") {
		t.Errorf("clear: %q", out)
	}
	code, _, errs = e.run("door", "override", "front", "locked", "for", "30s")
	if code != 1 || !strings.Contains(errs, "for") {
		t.Errorf("override for 30s: exit %d, %q", code, errs)
	}
	if code, _, _ := e.run("door", "lockdown"); code != 2 {
		t.Errorf("lockdown without doors: exit %d, want 2", code)
	}
}
