package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
)

// Door commands (docs/operations.md, "With the API"): every one goes through the
// door package's Controller, which owns their rules and limits; this file
// maps its errors to statuses and its results to apitype's shapes.

// commandTimeout bounds the wait for a door to answer a command (a door
// loop answers within a step; this only guards a stuck one).
const commandTimeout = 5 * time.Second

func (s *Server) controller() (*door.Controller, error) {
	if s.control != nil {
		if c := s.control(); c != nil {
			return c, nil
		}
	}
	return nil, &apiError{Status: http.StatusServiceUnavailable, Msg: "api: door commands are not available (no doors running)"}
}

// cmdActor is the caller as a door command's actor.
func (c caller) cmdActor() door.Actor { return door.Actor{Name: c.Name, Role: c.Role} }

// commandError maps the Controller's errors.
func commandError(err error) error {
	if e := doorError(err); e != nil {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &apiError{Status: http.StatusServiceUnavailable, Msg: "api: the door did not answer: " + err.Error()}
	}
	return err
}

// doorError is the status and message of one of door's typed errors
// (DoorCommander lists them), nil for any other error.
func doorError(err error) *apiError {
	var ue *door.UnknownError
	var ve *door.ValueError
	switch {
	case errors.As(err, &ue):
		return &apiError{Status: http.StatusNotFound, Msg: "api: " + ue.What + " not found: " + printable(ue.Name)}
	case errors.As(err, &ve):
		return badField(ve.Field, ve.Rule)
	case errors.Is(err, door.ErrLockdown):
		return &apiError{Status: http.StatusConflict, Msg: door.ErrLockdown.Error()}
	case errors.Is(err, door.ErrNotRunning):
		return &apiError{Status: http.StatusServiceUnavailable, Msg: "api: the door did not answer: " + err.Error()}
	}
	return nil
}

// ruleDuration is the rule of a duration field.
const ruleDuration = "must be a Go duration such as 5s, 90m or 2h"

// command serves a door command: it finds the commander (a 503 when there
// is none), decodes the body into in (nil: the command takes none;
// allowEmpty: an empty body is the defaults), bounds the wait by
// commandTimeout, and writes run's reply or maps its error (commandError).
func (s *Server) command(w http.ResponseWriter, r *http.Request, in any, allowEmpty bool, run func(context.Context, DoorCommander) (any, error)) error {
	ctl, err := s.commander()
	if err != nil {
		return err
	}
	if in != nil {
		if err := decodeJSON(r.Body, s.bodyLimit, in, allowEmpty); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), commandTimeout)
	defer cancel()
	out, err := run(ctx, ctl)
	if err != nil {
		return commandError(err)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) unlockDoor(w http.ResponseWriter, r *http.Request, c caller) error {
	var in apitype.UnlockRequest
	return s.command(w, r, &in, true, func(ctx context.Context, ctl DoorCommander) (any, error) {
		var d time.Duration
		var err error
		if in.Duration != "" {
			if d, err = time.ParseDuration(in.Duration); err != nil || d <= 0 {
				return nil, badField("duration", ruleDuration+", 1s–60s")
			}
		}
		name := r.PathValue("name")
		d, err = ctl.Unlock(ctx, name, d, c.cmdActor())
		if err != nil {
			return nil, err
		}
		return apitype.UnlockReply{Door: name, Duration: d.String()}, nil
	})
}

func (s *Server) adminUnlock(w http.ResponseWriter, r *http.Request, c caller) error {
	var in apitype.AdminUnlockRequest
	return s.command(w, r, &in, false, func(ctx context.Context, ctl DoorCommander) (any, error) {
		if in.DoorID == "" {
			return nil, badField("door_id", "is required: the door's name or its Verkada id")
		}
		// A Verkada client sends the door_id GET /access/v1/doors gave it (the
		// door's NameUUID); latch's own callers send the name.
		name := in.DoorID
		names, err := ctl.DoorNames(ctx)
		if err != nil {
			return nil, err
		}
		for _, dn := range names {
			if NameUUID("door", s.site(), dn) == in.DoorID {
				name = dn
				break
			}
		}
		d, err := ctl.Unlock(ctx, name, 0, c.cmdActor())
		if err != nil {
			return nil, err
		}
		return apitype.AdminUnlockReply{DoorID: in.DoorID, Duration: int(d / time.Second)}, nil
	})
}

func (s *Server) putOverride(w http.ResponseWriter, r *http.Request, c caller) error {
	var in apitype.OverrideRequest
	return s.command(w, r, &in, false, func(ctx context.Context, ctl DoorCommander) (any, error) {
		o, err := parseOverride(in)
		if err != nil {
			return nil, err
		}
		return ctl.Override(ctx, r.PathValue("name"), o, c.cmdActor())
	})
}

// parseOverride reads an override body's fields (their ranges are the
// Controller's).
func parseOverride(in apitype.OverrideRequest) (door.Override, error) {
	o := door.Override{}
	if in.Mode == "" {
		return o, badField("mode", "is required: locked, unlocked, access_controlled or card_and_code")
	}
	o.Mode = door.Mode(in.Mode)
	if in.For != "" {
		d, err := time.ParseDuration(in.For)
		if err != nil || d <= 0 {
			return o, badField("for", ruleDuration+", 1m–168h")
		}
		o.For = d
	}
	if in.Until != "" {
		t, err := time.Parse(time.RFC3339, in.Until)
		if err != nil {
			return o, badField("until", "must be an RFC 3339 time such as 2026-12-24T18:00:00+01:00")
		}
		o.Until = t
	}
	return o, nil
}

func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request, c caller) error {
	return s.command(w, r, nil, false, func(ctx context.Context, ctl DoorCommander) (any, error) {
		return ctl.ClearOverride(ctx, r.PathValue("name"), c.cmdActor())
	})
}

func (s *Server) lockdown(on bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		var in apitype.LockdownRequest
		return s.command(w, r, &in, true, func(ctx context.Context, ctl DoorCommander) (any, error) {
			for _, d := range in.Doors {
				if d == "" {
					return nil, badField("doors", "door names must not be empty")
				}
			}
			act := ctl.ReleaseLockdown
			if on {
				act = ctl.Lockdown
			}
			names, err := act(ctx, in.Doors, c.cmdActor())
			if err != nil {
				return nil, err
			}
			return apitype.LockdownReply{Doors: names}, nil
		})
	}
}

func (s *Server) getLockdown(w http.ResponseWriter, r *http.Request, c caller) error {
	return s.command(w, r, nil, false, func(ctx context.Context, ctl DoorCommander) (any, error) {
		names, err := ctl.LockedDown(ctx)
		if err != nil {
			return nil, err
		}
		return apitype.LockdownReply{Doors: names}, nil
	})
}

// doorView fills the operating part of a door's view from the loop's status.
func doorView(o *apitype.DoorState, st DoorStatus, loc *time.Location) {
	ds := st.State
	if ds.Level == 0 {
		return // not running
	}
	o.Level = ds.Level.String()
	o.LevelEnd = fmtTime(ds.LevelEnd)
	if ds.Override != "" {
		o.Override = &apitype.DoorOverride{Mode: string(ds.Override), Until: fmtTime(ds.OverrideUntil),
			UntilLocal: ds.OverrideUntil.In(loc).Format(time.RFC3339), Actor: ds.OverrideBy.Name, Role: ds.OverrideBy.Role}
	}
	if ds.Lockdown {
		o.Lockdown = &apitype.DoorLockdown{Actor: ds.LockdownBy.Name, Role: ds.LockdownBy.Role}
	}
	o.Emergency = ds.Emergency
	o.Strike = "locked"
	if ds.StrikeReleased {
		o.Strike = "released"
	}
	switch {
	case !st.HasDPS:
		o.Position = "unknown"
	case ds.DoorOpen:
		o.Position = "open"
	default:
		o.Position = "closed"
	}
}
