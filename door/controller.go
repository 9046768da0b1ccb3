package door

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/latchd/latch/schedule"
)

// Target is a door the Controller commands: a *Door run by Run, or a
// *Stepper (the scenario runner, latchd --sim), which carries a command
// out before the call returns.
type Target interface {
	// Preset gives an input's level as read before the door starts.
	Preset(name string, active bool)
	deliver(in input)
	door() *Door
}

// Controller is the one command API over a controller's doors
// (docs/operations.md): unlock, override, lockdown, inputs and the door
// view. Every driver calls it — the API, latchctl through the API, the
// scenario runner, latchd --sim, MQTT, the web page — so every command
// has one set of rules, one set of errors and one event trail. It is safe
// for concurrent use; the doors it was given stay the caller's to run.
//
// Errors: *UnknownError (errors.Is ErrUnknownDoor / ErrUnknownInput: a
// 404), *ValueError (a bad value, naming the field and its rule: a 400),
// ErrLockdown (an unlock of a door in lockdown: a 409), ErrNotRunning,
// or ctx's error when the door does not answer in time.
type Controller struct {
	doors  []Target
	byName map[string]Target
	inputs map[string][]Target // input name → the doors it acts on
	now    func() time.Time
}

// NewController returns the controller of doors (in their config order).
// Door names must be unique.
func NewController(doors ...Target) (*Controller, error) {
	c := &Controller{byName: map[string]Target{}, inputs: map[string][]Target{}}
	for _, t := range doors {
		d := t.door()
		if _, dup := c.byName[d.cfg.Name]; dup {
			return nil, fmt.Errorf("door: controller: door %q named twice", d.cfg.Name)
		}
		c.byName[d.cfg.Name] = t
		c.doors = append(c.doors, t)
		for _, in := range d.cfg.Inputs {
			c.inputs[in.Name] = append(c.inputs[in.Name], t)
		}
		if c.now == nil {
			c.now = d.now
		}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Doors lists the controller's door names in config order.
func (c *Controller) Doors() []string {
	out := make([]string, len(c.doors))
	for i, t := range c.doors {
		out[i] = t.door().cfg.Name
	}
	return out
}

// Inputs lists the names of the inputs that act on some door, sorted.
func (c *Controller) Inputs() []string {
	out := make([]string, 0, len(c.inputs))
	for n := range c.inputs {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Status is door's view (Door.Status).
func (c *Controller) Status(door string) (Status, error) {
	t, err := c.target(door)
	if err != nil {
		return Status{}, err
	}
	return t.door().Status(), nil
}

// UnlockTime is door's configured unlock_time (an unlock's default).
func (c *Controller) UnlockTime(door string) (time.Duration, error) {
	t, err := c.target(door)
	if err != nil {
		return 0, err
	}
	return t.door().cfg.UnlockTime, nil
}

// Location is door's time zone (for showing times door-local).
func (c *Controller) Location(door string) (*time.Location, error) {
	t, err := c.target(door)
	if err != nil {
		return nil, err
	}
	return t.door().cfg.Location, nil
}

// Unlock releases door's strike for d (0: the door's unlock_time; else
// 1 s–60 s): an access_granted with method remote and the actor. Refused
// with ErrLockdown while the door is locked down. It returns the duration
// used.
func (c *Controller) Unlock(ctx context.Context, door string, d time.Duration, by Actor) (time.Duration, error) {
	t, err := c.target(door)
	if err != nil {
		return 0, err
	}
	if d == 0 {
		d = t.door().cfg.UnlockTime
	}
	if l := RemoteUnlockLimit; d < l.Min || d > l.Max {
		return 0, &ValueError{Field: "duration", Rule: fmt.Sprintf("must be %s–%s", l.Min, l.Max)}
	}
	return d, c.command(ctx, t, cmdUnlock{d: d, by: by})
}

// Override is an override to set: Mode for For (1 m–7 d), or until Until
// (1 m–7 d from now). Exactly one of For and Until is set.
type Override struct {
	Mode  schedule.Mode
	For   time.Duration
	Until time.Time
}

// Override holds door in o.Mode until its end (level 3 of the
// precedence); a new override replaces the old. The event is a
// mode_changed with cause override, the actor and until — also when the
// effective mode stays (a lockdown above it). It returns the door view.
func (c *Controller) Override(ctx context.Context, door string, o Override, by Actor) (Status, error) {
	t, err := c.target(door)
	if err != nil {
		return Status{}, err
	}
	m, err := schedule.ParseMode(string(o.Mode))
	if err != nil || m == schedule.Unknown {
		return Status{}, &ValueError{Field: "mode", Rule: "must be locked, unlocked, access_controlled or card_and_code"}
	}
	if m == schedule.CardAndCode {
		if why := t.door().cfg.NoKeypad(); why != "" {
			return Status{}, &ValueError{Field: "mode", Rule: why}
		}
	}
	now := c.now()
	var until time.Time
	switch {
	case o.For != 0 && !o.Until.IsZero():
		return Status{}, &ValueError{Field: "for", Rule: "give for or until, not both"}
	case o.For != 0:
		if l := OverrideLimit; o.For < l.Min || o.For > l.Max {
			return Status{}, &ValueError{Field: "for", Rule: "must be 1m–168h (7 days)"}
		}
		until = now.Add(o.For)
	case !o.Until.IsZero():
		if l := OverrideLimit; o.Until.Sub(now) < l.Min || o.Until.Sub(now) > l.Max {
			return Status{}, &ValueError{Field: "until", Rule: "must be 1 minute to 7 days from now"}
		}
		until = o.Until
	default:
		return Status{}, &ValueError{Field: "for", Rule: "an override needs for (a duration) or until (a time)"}
	}
	if err := c.command(ctx, t, cmdOverride{mode: m, until: until, by: by}); err != nil {
		return Status{}, err
	}
	return t.door().Status(), nil
}

// ClearOverride ends door's override now (mode_changed cause override if
// the mode changes). Clearing a door without one is no error.
func (c *Controller) ClearOverride(ctx context.Context, door string, by Actor) (Status, error) {
	t, err := c.target(door)
	if err != nil {
		return Status{}, err
	}
	if err := c.command(ctx, t, cmdOverride{by: by}); err != nil {
		return Status{}, err
	}
	return t.door().Status(), nil
}

// Lockdown locks doors down (level 2); none = every door of the
// controller. Each door records lockdown_started with the actor, then its
// mode_changed. It returns the doors it acted on.
func (c *Controller) Lockdown(ctx context.Context, doors []string, by Actor) ([]string, error) {
	return c.lockdown(ctx, doors, true, by)
}

// ReleaseLockdown ends the commanded lockdown of doors (none = every door):
// lockdown_ended, then mode_changed. A door also held by a lockdown input
// stays locked down until the input is inactive.
func (c *Controller) ReleaseLockdown(ctx context.Context, doors []string, by Actor) ([]string, error) {
	return c.lockdown(ctx, doors, false, by)
}

func (c *Controller) lockdown(ctx context.Context, doors []string, on bool, by Actor) ([]string, error) {
	ts, err := c.targets(doors)
	if err != nil {
		return nil, err
	}
	var errs []error
	names := make([]string, 0, len(ts))
	for _, t := range ts {
		if err := c.command(ctx, t, cmdLockdown{on: on, by: by}); err != nil {
			errs = append(errs, fmt.Errorf("door %s: %w", t.door().cfg.Name, err))
			continue
		}
		names = append(names, t.door().cfg.Name)
	}
	return names, errors.Join(errs...)
}

// LockedDown lists the doors in lockdown now (by a command or an input).
func (c *Controller) LockedDown() []string {
	out := []string{}
	for _, t := range c.doors {
		if st := t.door().Status(); st.Lockdown {
			out = append(out, st.Door)
		}
	}
	return out
}

// Input reports an [[input]]'s raw level (active or not) to every door it
// acts on; each debounces it like its door position switch.
func (c *Controller) Input(name string, active bool) error {
	return c.eachInputDoor(name, func(t Target) { t.deliver(inInput{name: name, active: active}) })
}

// Preset gives an input's level as read before the doors start (see
// Door.Preset); call it before the doors run.
func (c *Controller) Preset(name string, active bool) error {
	return c.eachInputDoor(name, func(t Target) { t.Preset(name, active) })
}

// eachInputDoor calls f for every door the input acts on; an unknown input
// is an *UnknownError.
func (c *Controller) eachInputDoor(name string, f func(Target)) error {
	ts, ok := c.inputs[name]
	if !ok {
		return &UnknownError{What: "input", Name: name}
	}
	for _, t := range ts {
		f(t)
	}
	return nil
}

func (c *Controller) target(name string) (Target, error) {
	t, ok := c.byName[name]
	if !ok {
		return nil, &UnknownError{What: "door", Name: name}
	}
	return t, nil
}

// targets resolves door names (none: every door), each once, in the order
// given; an unknown name is an *UnknownError and nothing is done.
func (c *Controller) targets(names []string) ([]Target, error) {
	if len(names) == 0 {
		return slices.Clone(c.doors), nil
	}
	var out []Target
	seen := map[string]bool{}
	for _, n := range names {
		t, err := c.target(n)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// command hands cmd to door t and waits for its answer.
func (c *Controller) command(ctx context.Context, t Target, cmd any) error {
	reply := make(chan error, 1)
	d := t.door()
	if d.running.Load() || isStepper(t) {
		t.deliver(inCommand{cmd: cmd, reply: reply})
	} else {
		return ErrNotRunning
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-d.done:
		select {
		case err := <-reply:
			return err
		default:
			return ErrNotRunning
		}
	}
}

func isStepper(t Target) bool {
	_, ok := t.(*Stepper)
	return ok
}
