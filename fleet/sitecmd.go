package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
)

// SiteCommands is a manager's door commands (api.DoorCommander): each goes
// to the controller that owns the door, found in the status bucket; a
// lockdown or release of every door is the state bucket's lockdown key
// (docs/fleet.md "Commands").
type SiteCommands struct{ m *Member }

// Commands returns the member's site commands (a manager's).
func (m *Member) Commands() *SiteCommands { return &SiteCommands{m: m} }

// replyWait bounds a manager's wait for a controller's reply: its own
// bound and the round trip.
var replyWait = commandWait + time.Second

// siteDoor is a door of the site: its controller and its name there.
type siteDoor struct{ controller, door string }

func (d siteDoor) name() string {
	return apitype.DoorState{Door: apitype.Door{Name: d.door}, Controller: d.controller}.SiteName()
}

// resolve finds the doors names name, in the order given, each once:
// <controller>.<door> first, else a door's own name when one controller
// has it; a name of an unknown controller is sent to it all the same
// when it has the form <controller>.<door> (its status may have expired
// while it is offline: the send then says it does not answer).
func (c *SiteCommands) resolve(ctx context.Context, names []string) ([]siteDoor, error) {
	sts, err := c.m.SiteStatus(ctx)
	if err != nil {
		return nil, err
	}
	var all []siteDoor
	for _, s := range sts {
		if s.Role == "controller" {
			for _, d := range s.Doors {
				all = append(all, siteDoor{s.Controller, d.Name})
			}
		}
	}
	if len(names) == 0 {
		return all, nil
	}
	var out []siteDoor
	for _, n := range names {
		d, err := resolveOne(all, n)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

func resolveOne(all []siteDoor, name string) (siteDoor, error) {
	if i := slices.IndexFunc(all, func(d siteDoor) bool { return d.name() == name }); i >= 0 {
		return all[i], nil
	}
	var same []string
	var found siteDoor
	for _, d := range all {
		if d.door == name {
			same, found = append(same, d.controller), d
		}
	}
	switch {
	case len(same) == 1:
		return found, nil
	case len(same) > 1:
		return siteDoor{}, &door.ValueError{Field: "door", Rule: fmt.Sprintf("%q is a door of %s: name it as <controller>.<door>", name, strings.Join(same, ", "))}
	}
	if ctl, d, ok := strings.Cut(name, "."); ok && CheckController(ctl) == nil && doorTokens.MatchString(d) {
		return siteDoor{ctl, d}, nil
	}
	return siteDoor{}, &door.UnknownError{What: "door", Name: name}
}

// send sends cmd to d and decodes the reply. The errors say what failed:
// NATS unreachable, no controller answering, a reply not in time.
func (c *SiteCommands) send(ctx context.Context, d siteDoor, cmd Command) (Reply, error) {
	if !c.m.Connected() {
		return Reply{}, fmt.Errorf("%w (%v)", ErrOffline, c.m.cfg.URLs)
	}
	if !doorTokens.MatchString(d.door) {
		return Reply{}, &door.ValueError{Field: "door", Rule: fmt.Sprintf("%q cannot be commanded across the site: a '.' in its name must be between letters or digits", d.name())}
	}
	data, err := json.Marshal(cmd)
	if err != nil {
		return Reply{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, replyWait)
	defer cancel()
	msg, err := c.m.nc.RequestWithContext(ctx, c.m.names.CommandSubject(d.controller, d.door), data)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return Reply{}, fmt.Errorf("fleet: controller %s does not answer (offline, or not connected to NATS)", d.controller)
	case errors.Is(err, context.DeadlineExceeded):
		return Reply{}, fmt.Errorf("fleet: controller %s did not answer within %s", d.controller, replyWait)
	case err != nil:
		return Reply{}, fmt.Errorf("fleet: command to controller %s: %w", d.controller, err)
	}
	r, err := DecodeReply(msg.Data)
	if err != nil {
		return Reply{}, fmt.Errorf("controller %s: %w", d.controller, err)
	}
	if r.Error != "" {
		return Reply{}, replyError(r, d.controller, d.name())
	}
	return r, nil
}

// one resolves name and sends it cmd.
func (c *SiteCommands) one(ctx context.Context, name string, cmd Command) (siteDoor, Reply, error) {
	ds, err := c.resolve(ctx, []string{name})
	if err != nil {
		return siteDoor{}, Reply{}, err
	}
	r, err := c.send(ctx, ds[0], cmd)
	return ds[0], r, err
}

func wireActor(by door.Actor) Actor { return Actor{Name: by.Name, Role: by.Role} }

// Unlock unlocks a door of the site.
func (c *SiteCommands) Unlock(ctx context.Context, name string, d time.Duration, by door.Actor) (time.Duration, error) {
	cmd := Command{Op: OpUnlock, Actor: wireActor(by)}
	if d != 0 {
		cmd.Duration = d.String()
	}
	_, r, err := c.one(ctx, name, cmd)
	if err != nil {
		return 0, err
	}
	got, err := time.ParseDuration(r.Duration)
	if err != nil {
		return 0, fmt.Errorf("fleet: reply: duration %q", r.Duration)
	}
	return got, nil
}

// Override sets a door's override.
func (c *SiteCommands) Override(ctx context.Context, name string, o door.Override, by door.Actor) (apitype.DoorState, error) {
	cmd := Command{Op: OpOverride, Mode: string(o.Mode), Actor: wireActor(by)}
	if o.For != 0 {
		cmd.For = o.For.String()
	}
	if !o.Until.IsZero() {
		cmd.Until = o.Until.Format(time.RFC3339Nano)
	}
	return c.view(c.one(ctx, name, cmd))
}

// ClearOverride ends a door's override.
func (c *SiteCommands) ClearOverride(ctx context.Context, name string, by door.Actor) (apitype.DoorState, error) {
	return c.view(c.one(ctx, name, Command{Op: OpClearOverride, Actor: wireActor(by)}))
}

// view is the door view of a reply, as the manager lists it.
func (c *SiteCommands) view(d siteDoor, r Reply, err error) (apitype.DoorState, error) {
	if err != nil {
		return apitype.DoorState{}, err
	}
	v := apitype.DoorState{Door: apitype.Door{Name: d.door, Readers: []string{}}, Mode: "unknown"}
	if r.Door != nil {
		v = *r.Door
	}
	online := true
	v.Controller, v.Online = d.controller, &online
	return v, nil
}

// Lockdown locks doors down; none: every door of the site, through the
// lockdown key, which every controller applies when it hears of it.
func (c *SiteCommands) Lockdown(ctx context.Context, doors []string, by door.Actor) ([]string, error) {
	return c.lockdown(ctx, doors, true, by)
}

// ReleaseLockdown ends the lockdown of doors; none: of every door of the
// site (the lockdown key, off).
func (c *SiteCommands) ReleaseLockdown(ctx context.Context, doors []string, by door.Actor) ([]string, error) {
	return c.lockdown(ctx, doors, false, by)
}

func (c *SiteCommands) lockdown(ctx context.Context, doors []string, on bool, by door.Actor) ([]string, error) {
	if len(doors) == 0 {
		return c.siteLockdown(ctx, on, by)
	}
	ds, err := c.resolve(ctx, doors)
	if err != nil {
		return nil, err
	}
	op := OpReleaseLockdown
	if on {
		op = OpLockdown
	}
	var errs []error
	names := []string{}
	for _, d := range ds {
		if _, err := c.send(ctx, d, Command{Op: op, Actor: wireActor(by)}); err != nil {
			errs = append(errs, fmt.Errorf("door %s: %w", d.name(), err))
			continue
		}
		names = append(names, d.name())
	}
	return names, errors.Join(errs...)
}

// siteLockdown writes the lockdown key and returns the site's doors (as
// the status bucket lists them; a controller offline now applies it when
// it is back).
func (c *SiteCommands) siteLockdown(ctx context.Context, on bool, by door.Actor) ([]string, error) {
	if !c.m.Connected() {
		return nil, fmt.Errorf("%w (%v)", ErrOffline, c.m.cfg.URLs)
	}
	v, err := json.Marshal(LockdownValue{V: 1, On: on, Doors: "all", Actor: wireActor(by), Since: c.m.cfg.Now().UTC()})
	if err != nil {
		return nil, err
	}
	kv, err := c.m.js.KeyValue(ctx, c.m.names.State())
	if err != nil {
		return nil, fmt.Errorf("fleet: bucket %s: %w", c.m.names.State(), err)
	}
	if _, err := kv.Put(ctx, KeyLockdown, v); err != nil {
		return nil, fmt.Errorf("fleet: write %s: %w", KeyLockdown, err)
	}
	c.m.log.Info().Bool("on", on).Str("actor", by.Name).Msg("fleet: site lockdown written")
	ds, err := c.resolve(ctx, nil)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, d := range ds {
		names = append(names, d.name())
	}
	return names, nil
}

// LockedDown lists the site's doors in lockdown, as their controllers'
// statuses say.
func (c *SiteCommands) LockedDown(ctx context.Context) ([]string, error) {
	sts, err := c.m.SiteStatus(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, s := range sts {
		for _, d := range s.Doors {
			if d.View != nil && d.View.Lockdown != nil {
				out = append(out, siteDoor{s.Controller, d.Name}.name())
			}
		}
	}
	return out, nil
}

// DoorNames lists the site's doors as <controller>.<door>.
func (c *SiteCommands) DoorNames(ctx context.Context) ([]string, error) {
	ds, err := c.resolve(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.name()
	}
	return out, nil
}
