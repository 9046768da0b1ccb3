package fleet

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/door/doortest"
	"github.com/latchd/latch/store"
)

// doorRig is a controller's doors, run by door.Run on their own
// goroutines (the site's commands arrive on NATS's), on st.
type doorRig struct {
	t      *testing.T
	st     *store.Store
	ctl    *door.Controller
	cancel context.CancelFunc
	done   chan struct{}
}

func runDoors(t *testing.T, st *store.Store, names ...string) *doorRig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &doorRig{t: t, st: st, cancel: cancel, done: make(chan struct{})}
	var ts []door.Target
	var ds []*door.Door
	for _, n := range names {
		c := door.DefaultConfig()
		c.Name = n
		c.Location = time.UTC
		d, err := doortest.New(c, st)
		if err != nil {
			t.Fatal(err)
		}
		ts, ds = append(ts, d), append(ds, d)
	}
	ctl, err := door.NewController(ts...)
	if err != nil {
		t.Fatal(err)
	}
	r.ctl = ctl
	left := len(ds)
	finished := make(chan struct{}, len(ds))
	for _, d := range ds {
		go func() {
			_ = d.Run(ctx)
			finished <- struct{}{}
		}()
	}
	go func() {
		for range left {
			<-finished
		}
		close(r.done)
	}()
	waitFor(t, "the doors running", func() bool {
		for _, n := range names {
			if st, _ := ctl.Status(n); st.Level == 0 {
				return false
			}
		}
		return true
	})
	t.Cleanup(r.stop)
	return r
}

func (r *doorRig) stop() {
	r.cancel()
	<-r.done
}

// reports is the rig's doors as a controller's status reports them.
func (r *doorRig) reports() []DoorReport {
	var out []DoorReport
	for _, n := range r.ctl.Doors() {
		st, _ := r.ctl.Status(n)
		v := apitype.DoorState{Door: apitype.Door{Name: n, Readers: []string{}}, Mode: string(st.Mode), Strike: "locked"}
		if st.Lockdown {
			v.Lockdown = &apitype.DoorLockdown{Actor: st.LockdownBy.Name, Role: st.LockdownBy.Role}
		}
		if st.StrikeReleased {
			v.Strike = "released"
		}
		if st.Override != "" {
			v.Override = &apitype.DoorOverride{Mode: string(st.Override)}
		}
		out = append(out, DoorReport{Name: n, Mode: string(st.Mode), View: &v})
	}
	return out
}

// controller starts a controller member named name over rig.
func (s *site) controller(rig *doorRig, name string) *Member {
	s.t.Helper()
	m, err := New(Config{URLs: []string{s.url}, Site: "hq", Controller: name, SiteKey: s.key, Store: rig.st,
		Doors: rig.reports, Control: func() *door.Controller { return rig.ctl }})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		s.t.Fatal(err)
	}
	return m
}

// events lists the events named name in st's log.
func eventsNamed(t *testing.T, st *store.Store, name string) []store.Event {
	t.Helper()
	evs, err := st.Events(store.EventQuery{Event: name, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Event
	for _, e := range evs {
		if e.Event == name {
			out = append(out, e)
		}
	}
	return out
}

// keyedManager starts the manager "mgr" of the command tests on a store
// of its own and waits for its key check.
func (s *site) keyedManager() *Member {
	s.t.Helper()
	mgr := s.member(storeIn(s.t, s.t.TempDir(), s.key), "mgr", true, nil, nil)
	waitFor(s.t, "the manager's key check", func() bool { return mgr.Sync().KeyState == "ok" })
	return mgr
}

var guard = door.Actor{Name: "guard", Role: store.RoleDoorManager}

// TestSiteCommands: a manager commands doors on two controllers over
// NATS, by <controller>.<door> or a name only one controller has; the
// controllers' refusals come back as door's typed errors (so the API
// answers 404, 400, 409 as for a local door); a lockdown of every door is
// the lockdown key, which both controllers apply.
func TestSiteCommands(t *testing.T) {
	srv := runServer(t, "", 0)
	s := newSite(t, srv.ClientURL())
	mgr := s.keyedManager()
	defer mgr.Close()
	r1 := runDoors(t, storeIn(t, t.TempDir(), s.key), "front", "back")
	r2 := runDoors(t, storeIn(t, t.TempDir(), s.key), "front")
	c1, c2 := s.controller(r1, "ctl1"), s.controller(r2, "ctl2")
	defer c1.Close()
	defer c2.Close()
	cmds := mgr.Commands()
	ctx := context.Background()
	waitFor(t, "the site's doors", func() bool {
		names, err := cmds.DoorNames(ctx)
		return err == nil && len(names) == 3
	})

	d, err := cmds.Unlock(ctx, "ctl1.front", 5*time.Second, guard)
	if err != nil || d != 5*time.Second {
		t.Fatalf("unlock ctl1.front: %v %v", d, err)
	}
	if st, _ := r1.ctl.Status("front"); !st.StrikeReleased {
		t.Error("ctl1's front strike not released")
	}
	g := eventsNamed(t, r1.st, "access_granted")
	if len(g) != 1 || g[0].Method != "remote" || g[0].Actor != "guard" || g[0].Role != store.RoleDoorManager {
		t.Errorf("ctl1's access_granted: %+v", g)
	}
	if _, err := cmds.Unlock(ctx, "back", 0, guard); err != nil {
		t.Errorf("unlock back (only ctl1 has it): %v", err)
	}
	var ve *door.ValueError
	if _, err := cmds.Unlock(ctx, "front", 0, guard); !errors.As(err, &ve) || !strings.Contains(ve.Rule, "ctl1, ctl2") {
		t.Errorf("unlock front (two controllers have it): %v", err)
	}
	if _, err := cmds.Unlock(ctx, "ctl2.side", 0, guard); !errors.Is(err, door.ErrUnknownDoor) {
		t.Errorf("unlock ctl2.side: %v, want the controller's unknown door", err)
	}
	if _, err := cmds.Unlock(ctx, "nowhere", 0, guard); !errors.Is(err, door.ErrUnknownDoor) {
		t.Errorf("unlock nowhere: %v", err)
	}
	if _, err := cmds.Unlock(ctx, "ctl1.front", time.Hour, guard); !errors.As(err, &ve) || ve.Field != "duration" {
		t.Errorf("unlock for 1h: %v, want the door's duration rule", err)
	}
	// A controller that is not there: no responders, said at once.
	if _, err := cmds.Unlock(ctx, "ctl9.front", 0, guard); err == nil || !strings.Contains(err.Error(), "ctl9 does not answer") {
		t.Errorf("unlock on a controller that is not there: %v", err)
	}
	// A role without doors.command is refused by the controller too.
	if _, err := cmds.Unlock(ctx, "ctl1.front", 0, door.Actor{Name: "eve", Role: store.RoleViewer}); !errors.As(err, &ve) || ve.Field != "actor.role" {
		t.Errorf("unlock by a viewer: %v", err)
	}

	v, err := cmds.Override(ctx, "ctl2.front", door.Override{Mode: "unlocked", For: 2 * time.Hour}, guard)
	if err != nil || v.Controller != "ctl2" || v.Name != "front" {
		t.Fatalf("override: %+v %v", v, err)
	}
	if st, _ := r2.ctl.Status("front"); st.Override != "unlocked" || st.OverrideBy != guard {
		t.Errorf("ctl2's front after the override: %+v", st)
	}
	if _, err := cmds.Override(ctx, "ctl2.front", door.Override{Mode: "unlocked", For: 10 * time.Second}, guard); !errors.As(err, &ve) || ve.Field != "for" {
		t.Errorf("override for 10s: %v, want the door's for rule", err)
	}
	if _, err := cmds.ClearOverride(ctx, "ctl2.front", guard); err != nil {
		t.Error(err)
	}
	if st, _ := r2.ctl.Status("front"); st.Override != "" {
		t.Errorf("override not cleared: %+v", st)
	}

	// One door's lockdown is a command; every door's is the key.
	if names, err := cmds.Lockdown(ctx, []string{"ctl1.back"}, guard); err != nil || len(names) != 1 || names[0] != "ctl1.back" {
		t.Errorf("lockdown ctl1.back: %v %v", names, err)
	}
	if _, err := cmds.Unlock(ctx, "ctl1.back", 0, guard); !errors.Is(err, door.ErrLockdown) {
		t.Errorf("unlock during lockdown: %v", err)
	}
	if _, err := cmds.ReleaseLockdown(ctx, []string{"ctl1.back"}, guard); err != nil {
		t.Error(err)
	}
	names, err := cmds.Lockdown(ctx, nil, guard)
	if err != nil || strings.Join(names, ",") != "ctl1.back,ctl1.front,ctl2.front" && strings.Join(names, ",") != "ctl1.front,ctl1.back,ctl2.front" {
		t.Fatalf("lockdown all: %v %v", names, err)
	}
	allLocked := func(want bool) func() bool {
		return func() bool {
			for _, r := range []*doorRig{r1, r2} {
				for _, n := range r.ctl.Doors() {
					if st, _ := r.ctl.Status(n); st.Lockdown != want {
						return false
					}
				}
			}
			return true
		}
	}
	waitFor(t, "every door of the site in lockdown", allLocked(true))
	waitFor(t, "the manager's view of the lockdown", func() bool {
		l, err := cmds.LockedDown(ctx)
		return err == nil && len(l) == 3
	})
	if ls := eventsNamed(t, r2.st, "lockdown_started"); len(ls) != 1 || ls[0].Actor != "guard" {
		t.Errorf("ctl2's lockdown_started: %+v", ls)
	}
	if _, err := cmds.ReleaseLockdown(ctx, nil, guard); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every door released", allLocked(false))
}

// TestSiteLockdownWhileOffline: a controller that is away when the site's
// lockdown begins applies it when it comes back, keeps it across a
// restart (its doors load it from the store before NATS answers), and
// does not apply a revision twice: a door released locally stays
// released after the next restart.
func TestSiteLockdownWhileOffline(t *testing.T) {
	srv := runServer(t, "", 0)
	s := newSite(t, srv.ClientURL())
	mgr := s.keyedManager()
	defer mgr.Close()
	dir := t.TempDir()
	st := storeIn(t, dir, s.key)
	rig := runDoors(t, st, "front", "back")
	c := s.controller(rig, "ctl3")
	waitFor(t, "ctl3 in the status", func() bool {
		n, err := mgr.Commands().DoorNames(context.Background())
		return err == nil && len(n) == 2
	})
	c.Close() // ctl3 goes away

	ctx := context.Background()
	if _, err := mgr.Commands().Lockdown(ctx, nil, guard); err != nil {
		t.Fatal(err)
	}
	if st, _ := rig.ctl.Status("front"); st.Lockdown {
		t.Fatal("an offline controller in lockdown")
	}
	c = s.controller(rig, "ctl3") // back
	locked := func(r *doorRig, n string) func() bool {
		return func() bool { st, _ := r.ctl.Status(n); return st.Lockdown }
	}
	waitFor(t, "ctl3 applying the lockdown", locked(rig, "front"))
	waitFor(t, "ctl3 applying the lockdown", locked(rig, "back"))
	waitFor(t, "ctl3's record of it", func() bool { l, _ := st.SiteLockdown(); return l.On && l.Actor == "guard" })
	c.Close()
	rig.stop()

	// A restart: the doors come up locked down from the store, with
	// nothing from NATS yet; the member then sees the same revision and
	// does not start it again.
	rig = runDoors(t, st, "front", "back")
	if s1, _ := rig.ctl.Status("front"); !s1.Lockdown || s1.Mode != "locked" {
		t.Fatalf("after a restart without NATS: %+v", s1)
	}
	c = s.controller(rig, "ctl3")
	waitFor(t, "ctl3 connected", c.Connected)
	if _, err := rig.ctl.ReleaseLockdown(ctx, []string{"back"}, door.Actor{Name: "local", Role: store.RoleDoorManager}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	rig.stop()
	rig = runDoors(t, st, "front", "back")
	c = s.controller(rig, "ctl3")
	defer c.Close()
	waitFor(t, "ctl3 connected", c.Connected)
	// The watch delivered the key's current value; a second member
	// command proves the watch is past it.
	if _, err := mgr.Commands().Unlock(ctx, "ctl3.back", 0, guard); err != nil {
		t.Fatalf("unlock the released door: %v", err)
	}
	if s2, _ := rig.ctl.Status("back"); s2.Lockdown {
		t.Error("a door released locally was locked down again by the same revision")
	}
	if n := len(eventsNamed(t, st, "lockdown_started")); n != 2 {
		t.Errorf("%d lockdown_started events, want 2 (one a door, once)", n)
	}
	if _, err := mgr.Commands().ReleaseLockdown(ctx, nil, guard); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ctl3 releasing", func() bool { st, _ := rig.ctl.Status("front"); return !st.Lockdown })
}

// TestCommandsOffline: with the server stopped a manager's command says
// NATS is unreachable, the doors go on, and after the restart commands
// work again and a lockdown written then reaches the controller.
func TestCommandsOffline(t *testing.T) {
	dir := t.TempDir()
	srv := runServer(t, dir, 0)
	port := srv.Addr().(*net.TCPAddr).Port
	s := newSite(t, srv.ClientURL())
	mgr := s.keyedManager()
	defer mgr.Close()
	rig := runDoors(t, storeIn(t, t.TempDir(), s.key), "front")
	c := s.controller(rig, "ctl1")
	defer c.Close()
	ctx := context.Background()
	waitFor(t, "ctl1 in the status", func() bool { n, err := mgr.Commands().DoorNames(ctx); return err == nil && len(n) == 1 })

	srv.Shutdown()
	waitFor(t, "the manager offline", func() bool { return !mgr.Connected() })
	if _, err := mgr.Commands().Unlock(ctx, "ctl1.front", 0, guard); !errors.Is(err, ErrOffline) {
		t.Errorf("unlock with NATS down: %v", err)
	}
	if _, err := mgr.Commands().Lockdown(ctx, nil, guard); !errors.Is(err, ErrOffline) {
		t.Errorf("lockdown with NATS down: %v", err)
	}
	if _, err := rig.ctl.Unlock(ctx, "front", 0, guard); err != nil {
		t.Errorf("the door's own command with NATS down: %v", err)
	}
	runServer(t, dir, port)
	waitFor(t, "both back", func() bool { return mgr.Connected() && c.Connected() })
	waitFor(t, "a command after the restart", func() bool {
		_, err := mgr.Commands().Unlock(ctx, "ctl1.front", 0, guard)
		return err == nil
	})
	if _, err := mgr.Commands().Lockdown(ctx, nil, guard); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the lockdown after the restart", func() bool { st, _ := rig.ctl.Status("front"); return st.Lockdown })
}
