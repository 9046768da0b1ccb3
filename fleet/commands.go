package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/store"
)

// Door commands across a site (docs/fleet.md "Door commands across the site"): a manager sends
// each command to latch.<site>.cmd.<controller>.<door>; the controller
// that owns the door runs it through its door.Controller, with the actor
// the manager names, and replies. The permission check is the manager's
// API's (doors.command); the site's NATS account lets only a manager send
// commands and each controller receive only its own.

// Command ops.
const (
	OpUnlock          = "unlock"
	OpOverride        = "override"
	OpClearOverride   = "clear_override"
	OpLockdown        = "lockdown"
	OpReleaseLockdown = "release_lockdown"
)

// Ops lists the command ops.
func Ops() []string {
	return []string{OpUnlock, OpOverride, OpClearOverride, OpLockdown, OpReleaseLockdown}
}

// Reply codes: what kind of refusal a Reply's error is.
const (
	CodeUnknownDoor = "unknown_door" // no such door on the controller (404)
	CodeValue       = "value"        // a bad value: Field and Rule (400)
	CodeLockdown    = "lockdown"     // unlock of a door in lockdown (409)
	CodeNotRunning  = "not_running"  // the door is not running (503)
	CodeFailed      = "failed"       // anything else (503)
)

var replyCodes = []string{CodeUnknownDoor, CodeValue, CodeLockdown, CodeNotRunning, CodeFailed}

// Actor is a command's actor on the wire: the API token's (or admin
// account's) name and role on the manager.
type Actor struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Command is a door command's request, the one wire type of every op.
// Duration is unlock's (a Go duration; "" = the door's unlock_time); Mode
// and For (a Go duration) or Until (RFC 3339) are override's.
type Command struct {
	Op       string `json:"op"`
	Duration string `json:"duration,omitempty"`
	Mode     string `json:"mode,omitempty"`
	For      string `json:"for,omitempty"`
	Until    string `json:"until,omitempty"`
	Actor    Actor  `json:"actor"`
}

// Reply is a controller's answer: OK with the op's result (unlock:
// Duration; override, clear_override: Door, the door's view; lockdown,
// release_lockdown: Doors), or Error with its Code (and for CodeValue the
// Field and Rule).
type Reply struct {
	OK       bool               `json:"ok,omitempty"`
	Duration string             `json:"duration,omitempty"`
	Door     *apitype.DoorState `json:"door,omitempty"`
	Doors    []string           `json:"doors,omitempty"`
	Error    string             `json:"error,omitempty"`
	Code     string             `json:"code,omitempty"`
	Field    string             `json:"field,omitempty"`
	Rule     string             `json:"rule,omitempty"`
}

// Size bounds of the wire forms.
const (
	maxCommandBytes = 4 << 10
	maxReplyBytes   = 64 << 10
	maxActorName    = 128
)

// decodeStrict decodes one JSON object of v's shape, refusing unknown
// fields and trailing data; the error names the field or the rule.
func decodeStrict(what string, data []byte, limit int, v any) error {
	if len(data) > limit {
		return fmt.Errorf("fleet: %s: %d bytes: at most %d", what, len(data), limit)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("fleet: %s: unknown field %s", what, f)
		}
		return fmt.Errorf("fleet: %s: must be one JSON object of its shape", what)
	}
	if dec.More() {
		return fmt.Errorf("fleet: %s: must be one JSON object of its shape (data after it)", what)
	}
	return nil
}

// DecodeCommand decodes and checks a command read from NATS. A refusal is
// a *door.ValueError naming the field and its rule.
func DecodeCommand(data []byte) (Command, error) {
	var c Command
	if err := decodeStrict("command", data, maxCommandBytes, &c); err != nil {
		field := "command"
		if f, ok := strings.CutPrefix(err.Error(), "fleet: command: unknown field "); ok && strings.Trim(f, `"`) != "" {
			field = strings.Trim(f, `"`)
		}
		return Command{}, &door.ValueError{Field: field, Rule: strings.TrimPrefix(err.Error(), "fleet: command: ")}
	}
	if !slices.Contains(Ops(), c.Op) {
		return Command{}, &door.ValueError{Field: "op", Rule: "must be one of " + strings.Join(Ops(), ", ")}
	}
	rule := ""
	switch {
	case c.Op == OpUnlock && c.Mode+c.For+c.Until != "":
		rule = "unlock takes only duration besides op and actor"
	case c.Op == OpOverride && c.Duration != "":
		rule = "override takes only mode and for or until besides op and actor"
	case c.Op != OpUnlock && c.Op != OpOverride && c.Duration+c.Mode+c.For+c.Until != "":
		rule = c.Op + " takes only op and actor"
	}
	if rule != "" {
		return Command{}, &door.ValueError{Field: "op", Rule: rule}
	}
	if err := checkActor(c.Actor); err != nil {
		return Command{}, err
	}
	return c, nil
}

// checkActor: a name of 1–128 bytes of printable UTF-8, and a role that
// may command doors (the manager's API checked it; a controller checks
// again rather than run a command no role could give).
func checkActor(a Actor) error {
	if a.Name == "" || len(a.Name) > maxActorName || !utf8.ValidString(a.Name) || strings.ContainsFunc(a.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return &door.ValueError{Field: "actor.name", Rule: "must be 1–128 bytes of printable UTF-8"}
	}
	if !store.Allowed(a.Role, store.PermDoorsCommand) {
		return &door.ValueError{Field: "actor.role", Rule: "must be a role with " + string(store.PermDoorsCommand)}
	}
	return nil
}

// DecodeReply decodes a controller's reply read from NATS.
func DecodeReply(data []byte) (Reply, error) {
	var r Reply
	if err := decodeStrict("reply", data, maxReplyBytes, &r); err != nil {
		return Reply{}, err
	}
	if r.OK == (r.Error != "") {
		return Reply{}, errors.New("fleet: reply: must have ok or error, not both")
	}
	if r.Error != "" && !slices.Contains(replyCodes, r.Code) {
		return Reply{}, errors.New("fleet: reply: code must be one of " + strings.Join(replyCodes, ", "))
	}
	if len(r.Doors) > 1024 {
		return Reply{}, errors.New("fleet: reply: too many doors")
	}
	return r, nil
}

// CommandSubject is the subject of door's commands on controller.
func (n Names) CommandSubject(controller, door string) string {
	return "latch." + n.Site + ".cmd." + controller + "." + door
}

// commandsOf is the subject a controller subscribes to for its commands.
func (n Names) commandsOf(controller string) string {
	return "latch." + n.Site + ".cmd." + controller + ".>"
}

// doorTokens: a door name as the tail of a subject (the config's name
// rule allows '.', which splits it into tokens, but no empty token).
var doorTokens = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$`)

// ---- the controller's side ----

// commandWait bounds a controller's run of one command (the door answers
// within a step); a manager waits a little longer for the reply.
var commandWait = 3 * time.Second

// serveCommands subscribes to this controller's command subjects. The
// subscription outlives reconnects (nats.go renews it). When connected it
// waits for the server to hold it (a flush's round trip, at most a
// second), so that a command sent once Start returned finds the
// controller; a manager's command could otherwise reach the server
// before the subscription and be told no one answers.
func (m *Member) serveCommands() error {
	prefix := strings.TrimSuffix(m.names.commandsOf(m.cfg.Controller), ">")
	_, err := m.nc.Subscribe(m.names.commandsOf(m.cfg.Controller), func(msg *nats.Msg) {
		rep := m.runCommand(strings.TrimPrefix(msg.Subject, prefix), msg.Data)
		b, err := json.Marshal(rep)
		if err == nil && len(b) > maxReplyBytes {
			b, _ = json.Marshal(Reply{Error: "fleet: the reply is too large", Code: CodeFailed})
		}
		if err := msg.Respond(b); err != nil {
			m.log.Warn().Err(err).Str("subject", msg.Subject).Msg("fleet: command reply not sent")
		}
	})
	if err != nil {
		return fmt.Errorf("fleet: subscribe to the commands: %w", err)
	}
	if m.nc.IsConnected() {
		_ = m.nc.FlushTimeout(time.Second) // not flushed: disconnected; renewed on reconnect
	}
	return nil
}

// runCommand runs one command on doorName and says how it went.
func (m *Member) runCommand(doorName string, data []byte) Reply {
	c, err := DecodeCommand(data)
	if err == nil && m.cfg.Control == nil {
		err = door.ErrNotRunning
	}
	var ctl *door.Controller
	if err == nil {
		if ctl = m.cfg.Control(); ctl == nil {
			err = door.ErrNotRunning
		}
	}
	if err != nil {
		return errorReply(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandWait)
	defer cancel()
	by := door.Actor{Name: c.Actor.Name, Role: c.Actor.Role}
	rep := Reply{OK: true}
	switch c.Op {
	case OpUnlock:
		var d time.Duration
		if c.Duration != "" {
			if d, err = time.ParseDuration(c.Duration); err != nil || d <= 0 {
				return errorReply(&door.ValueError{Field: "duration", Rule: "must be a Go duration such as 5s"})
			}
		}
		d, err = ctl.Unlock(ctx, doorName, d, by)
		rep.Duration = d.String()
	case OpOverride, OpClearOverride:
		if c.Op == OpOverride {
			var o door.Override
			if o, err = c.override(); err == nil {
				_, err = ctl.Override(ctx, doorName, o, by)
			}
		} else {
			_, err = ctl.ClearOverride(ctx, doorName, by)
		}
		rep.Door = m.doorView(doorName)
	case OpLockdown:
		rep.Doors, err = ctl.Lockdown(ctx, []string{doorName}, by)
	case OpReleaseLockdown:
		rep.Doors, err = ctl.ReleaseLockdown(ctx, []string{doorName}, by)
	}
	if err != nil {
		return errorReply(err)
	}
	m.log.Info().Str("op", c.Op).Str("door", doorName).Str("actor", by.Name).Str("role", by.Role).Msg("fleet: door command run")
	m.kickStatus()
	return rep
}

// override is an override command's door.Override (its ranges are the
// door.Controller's).
func (c Command) override() (door.Override, error) {
	o := door.Override{Mode: door.Mode(c.Mode)}
	if c.For != "" {
		d, err := time.ParseDuration(c.For)
		if err != nil || d <= 0 {
			return o, &door.ValueError{Field: "for", Rule: "must be a Go duration such as 2h"}
		}
		o.For = d
	}
	if c.Until != "" {
		t, err := time.Parse(time.RFC3339Nano, c.Until)
		if err != nil {
			return o, &door.ValueError{Field: "until", Rule: "must be an RFC 3339 time"}
		}
		o.Until = t
	}
	return o, nil
}

// doorView is the door's view as this controller's API serves it.
func (m *Member) doorView(name string) *apitype.DoorState {
	if m.cfg.Doors == nil {
		return nil
	}
	for _, d := range m.cfg.Doors() {
		if d.Name == name && d.View != nil {
			return d.View
		}
	}
	return nil
}

// errorReply is the Reply of a command's error.
func errorReply(err error) Reply {
	var ue *door.UnknownError
	var ve *door.ValueError
	r := Reply{Error: err.Error(), Code: CodeFailed}
	switch {
	case errors.As(err, &ue):
		r.Code = CodeUnknownDoor
	case errors.As(err, &ve):
		r.Code, r.Field, r.Rule = CodeValue, ve.Field, ve.Rule
	case errors.Is(err, door.ErrLockdown):
		r.Code = CodeLockdown
	case errors.Is(err, door.ErrNotRunning):
		r.Code = CodeNotRunning
	}
	return r
}

// replyError is the error a Reply carries, as door's typed errors, so a
// manager's API answers as it would for a local door. name is the door
// as the manager's caller named it.
func replyError(r Reply, controller, name string) error {
	switch r.Code {
	case CodeUnknownDoor:
		return &door.UnknownError{What: "door", Name: name}
	case CodeValue:
		return &door.ValueError{Field: r.Field, Rule: r.Rule}
	case CodeLockdown:
		return door.ErrLockdown
	case CodeNotRunning:
		return fmt.Errorf("controller %s: %w", controller, door.ErrNotRunning)
	}
	return fmt.Errorf("fleet: controller %s: %s", controller, r.Error)
}

// SiteCommands is a manager's door commands (api.DoorCommander): each goes
// to the controller that owns the door, found in the status bucket; a
// lockdown or release of every door is the state bucket's lockdown key
// (docs/fleet.md "Door commands across the site").
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
