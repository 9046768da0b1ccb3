package api

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/store"
)

// siteDoors is a DoorCommander standing for a fleet manager's site: it
// records what it was asked and answers with err (nil: done).
type siteDoors struct {
	err   error
	calls []string
	by    door.Actor
}

func (s *siteDoors) note(what string, by door.Actor) { s.calls, s.by = append(s.calls, what), by }

func (s *siteDoors) Unlock(_ context.Context, name string, d time.Duration, by door.Actor) (time.Duration, error) {
	s.note("unlock "+name+" "+d.String(), by)
	return 7 * time.Second, s.err
}

func (s *siteDoors) Override(_ context.Context, name string, o door.Override, by door.Actor) (apitype.DoorState, error) {
	s.note("override "+name+" "+string(o.Mode)+" "+o.For.String(), by)
	return apitype.DoorState{Door: apitype.Door{Name: "front"}, Controller: "ctl1", Mode: string(o.Mode)}, s.err
}

func (s *siteDoors) ClearOverride(_ context.Context, name string, by door.Actor) (apitype.DoorState, error) {
	s.note("clear "+name, by)
	return apitype.DoorState{Door: apitype.Door{Name: "front"}, Controller: "ctl1"}, s.err
}

func (s *siteDoors) Lockdown(_ context.Context, doors []string, by door.Actor) ([]string, error) {
	s.note("lockdown "+strings.Join(doors, ","), by)
	return []string{"ctl1.front", "ctl2.front"}, s.err
}

func (s *siteDoors) ReleaseLockdown(_ context.Context, doors []string, by door.Actor) ([]string, error) {
	s.note("release "+strings.Join(doors, ","), by)
	return []string{"ctl1.front"}, s.err
}

func (s *siteDoors) LockedDown(context.Context) ([]string, error) {
	return []string{"ctl2.front"}, s.err
}

func (s *siteDoors) DoorNames(context.Context) ([]string, error) {
	return []string{"ctl1.front"}, s.err
}

// TestSiteCommandRoutes: on a fleet manager the door-command routes go to
// Options.SiteCommands with the caller as actor, after the API's own
// permission check, and its errors get the statuses a local door's get;
// any other error (NATS, a silent controller) is a 503 naming it.
func TestSiteCommandRoutes(t *testing.T) {
	site := &siteDoors{}
	e := newEnv(t, func(o *Options) { o.SiteCommands = site })
	var ur apitype.UnlockReply
	e.must(200, "POST", "/v1/doors/ctl1.front/unlock", `{"duration":"5s"}`, &ur)
	if ur != (apitype.UnlockReply{Door: "ctl1.front", Duration: "7s"}) || site.calls[0] != "unlock ctl1.front 5s" || site.by.Role != store.RoleSystemAdmin {
		t.Errorf("unlock: %+v %v %+v", ur, site.calls, site.by)
	}
	var v apitype.DoorState
	e.must(200, "PUT", "/v1/doors/ctl1.front/override", `{"mode":"unlocked","for":"2h"}`, &v)
	if v.Controller != "ctl1" || v.Mode != "unlocked" {
		t.Errorf("override view: %+v", v)
	}
	e.must(200, "DELETE", "/v1/doors/ctl1.front/override", "", &v)
	var lr apitype.LockdownReply
	e.must(200, "POST", "/v1/lockdown", `{}`, &lr)
	if len(lr.Doors) != 2 || site.calls[len(site.calls)-1] != "lockdown " {
		t.Errorf("lockdown all: %+v %v", lr, site.calls)
	}
	e.must(200, "GET", "/v1/lockdown", "", &lr)
	if len(lr.Doors) != 1 || lr.Doors[0] != "ctl2.front" {
		t.Errorf("GET /v1/lockdown: %+v", lr)
	}
	var au apitype.AdminUnlockReply
	e.must(200, "POST", "/access/v1/door/admin_unlock", `{"door_id":"ctl1.front"}`, &au)
	// The permission check stays here: a viewer never reaches the site.
	n := len(site.calls)
	if rec := e.do(store.RoleViewer, "POST", "/v1/doors/ctl1.front/unlock", ""); rec.Code != 403 || len(site.calls) != n {
		t.Errorf("a viewer's unlock: %d, %d calls", rec.Code, len(site.calls)-n)
	}
	for _, tc := range []struct {
		err  error
		code int
		says string
	}{
		{&door.UnknownError{What: "door", Name: "ctl1.side"}, 404, "not found"},
		{&door.ValueError{Field: "duration", Rule: "must be 1s–1m0s"}, 400, "must be 1s–1m0s"},
		{door.ErrLockdown, 409, "door is in lockdown"},
		{errors.New("fleet: NATS is unreachable ([nats://127.0.0.1:4222])"), 503, "NATS is unreachable"},
		{errors.New("fleet: controller ctl3 does not answer (offline, or not connected to NATS)"), 503, "ctl3 does not answer"},
	} {
		site.err = tc.err
		for _, r := range [][2]string{{"POST", "/v1/doors/ctl1.front/unlock"}, {"DELETE", "/v1/doors/ctl1.front/override"}, {"POST", "/v1/lockdown"}} {
			body := ""
			if r[1] == "/v1/lockdown" {
				body = "{}"
			}
			rec := e.do(store.RoleDoorManager, r[0], r[1], body)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.says) {
				t.Errorf("%s %s with %v: %d %s, want %d", r[0], r[1], tc.err, rec.Code, rec.Body, tc.code)
			}
		}
	}
}
