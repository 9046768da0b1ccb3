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

// Door commands across a site (docs/fleet.md "Commands"): a manager sends
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
// subscription outlives reconnects (nats.go renews it).
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
