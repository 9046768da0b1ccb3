package api

import (
	"context"
	"net/http"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
)

// DoorCommander runs the door commands of docs/operations.md ("With the API"). A
// latchd with doors runs them through its own door.Controller; a fleet
// manager (Options.SiteCommands) sends each to the controller that owns
// the door and returns its answer (docs/fleet.md "Door commands across the site"). The
// permission check (doors.command) is the API's, before either.
//
// Errors are door's: *door.UnknownError (404), *door.ValueError (400),
// door.ErrLockdown (409), door.ErrNotRunning (503). Any other error is the
// site not answering (NATS down, the controller silent within its bound):
// a 503 naming the cause.
type DoorCommander interface {
	Unlock(ctx context.Context, name string, d time.Duration, by door.Actor) (time.Duration, error)
	// Override and ClearOverride return the door's view after the command.
	Override(ctx context.Context, name string, o door.Override, by door.Actor) (apitype.DoorState, error)
	ClearOverride(ctx context.Context, name string, by door.Actor) (apitype.DoorState, error)
	// Lockdown and ReleaseLockdown act on doors (none: every door) and
	// return the doors acted on.
	Lockdown(ctx context.Context, doors []string, by door.Actor) ([]string, error)
	ReleaseLockdown(ctx context.Context, doors []string, by door.Actor) ([]string, error)
	// LockedDown lists the doors in lockdown now.
	LockedDown(ctx context.Context) ([]string, error)
	// DoorNames lists the names commands take (admin_unlock maps a
	// Verkada door_id to one of them).
	DoorNames(ctx context.Context) ([]string, error)
}

// commander is the door commands' runner: the site's on a fleet manager,
// else the local doors'.
func (s *Server) commander() (DoorCommander, error) {
	if s.siteCmds != nil {
		return siteCommander{s.siteCmds}, nil
	}
	ctl, err := s.controller()
	if err != nil {
		return nil, err
	}
	return localCommander{s: s, ctl: ctl}, nil
}

// localCommander is DoorCommander over this latchd's own doors.
type localCommander struct {
	s   *Server
	ctl *door.Controller
}

func (l localCommander) Unlock(ctx context.Context, name string, d time.Duration, by door.Actor) (time.Duration, error) {
	return l.ctl.Unlock(ctx, name, d, by)
}

func (l localCommander) Override(ctx context.Context, name string, o door.Override, by door.Actor) (apitype.DoorState, error) {
	if _, err := l.ctl.Override(ctx, name, o, by); err != nil {
		return apitype.DoorState{}, err
	}
	return l.view(name)
}

func (l localCommander) ClearOverride(ctx context.Context, name string, by door.Actor) (apitype.DoorState, error) {
	if _, err := l.ctl.ClearOverride(ctx, name, by); err != nil {
		return apitype.DoorState{}, err
	}
	return l.view(name)
}

func (l localCommander) Lockdown(ctx context.Context, doors []string, by door.Actor) ([]string, error) {
	return l.ctl.Lockdown(ctx, doors, by)
}

func (l localCommander) ReleaseLockdown(ctx context.Context, doors []string, by door.Actor) ([]string, error) {
	return l.ctl.ReleaseLockdown(ctx, doors, by)
}

func (l localCommander) LockedDown(context.Context) ([]string, error) { return l.ctl.LockedDown(), nil }

func (l localCommander) DoorNames(context.Context) ([]string, error) { return l.ctl.Doors(), nil }

func (l localCommander) view(name string) (apitype.DoorState, error) {
	for _, d := range l.s.doorsOut() {
		if d.Name == name {
			return d, nil
		}
	}
	return apitype.DoorState{}, notFound("door")
}

// siteCommander is a fleet manager's DoorCommander with its errors
// mapped: door's typed errors as they are, anything else a 503 naming it.
type siteCommander struct{ c DoorCommander }

func siteErr(err error) error {
	if err == nil || doorError(err) != nil {
		return err
	}
	return &apiError{Status: http.StatusServiceUnavailable, Msg: "api: the site did not answer: " + err.Error()}
}

func (c siteCommander) Unlock(ctx context.Context, name string, d time.Duration, by door.Actor) (time.Duration, error) {
	d, err := c.c.Unlock(ctx, name, d, by)
	return d, siteErr(err)
}

func (c siteCommander) Override(ctx context.Context, name string, o door.Override, by door.Actor) (apitype.DoorState, error) {
	v, err := c.c.Override(ctx, name, o, by)
	return v, siteErr(err)
}

func (c siteCommander) ClearOverride(ctx context.Context, name string, by door.Actor) (apitype.DoorState, error) {
	v, err := c.c.ClearOverride(ctx, name, by)
	return v, siteErr(err)
}

func (c siteCommander) Lockdown(ctx context.Context, doors []string, by door.Actor) ([]string, error) {
	names, err := c.c.Lockdown(ctx, doors, by)
	return names, siteErr(err)
}

func (c siteCommander) ReleaseLockdown(ctx context.Context, doors []string, by door.Actor) ([]string, error) {
	names, err := c.c.ReleaseLockdown(ctx, doors, by)
	return names, siteErr(err)
}

func (c siteCommander) LockedDown(ctx context.Context) ([]string, error) {
	names, err := c.c.LockedDown(ctx)
	return names, siteErr(err)
}

func (c siteCommander) DoorNames(ctx context.Context) ([]string, error) {
	names, err := c.c.DoorNames(ctx)
	return names, siteErr(err)
}
