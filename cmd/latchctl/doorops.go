package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchd/latch/api/apitype"
)

// latchctl door unlock|override|lockdown (docs/operations.md): each is one
// API call; the rules (durations, modes, lockdown) are the daemon's, and
// its refusals are printed as it words them. Times are shown in the door's
// own zone, with the zone's name.

const doorOpsUsage = `  latchctl door unlock DOOR [DURATION]
  latchctl door override DOOR MODE for DURATION | DOOR MODE until TIME | DOOR clear
  latchctl door lockdown all | DOOR... | release all | release DOOR... | status`

func runDoorOp(args []string, stdout, stderr io.Writer) int {
	name := "door " + args[0]
	fs, c, asJSON, pos, ok := doorFlags(name, args, stderr)
	if !ok {
		return 2
	}
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "latchctl %s: %s\nusage:\n%s\n", name, msg, doorOpsUsage)
		return 2
	}
	var method, path string
	var body any
	var out any
	switch args[0] {
	case "unlock":
		if len(pos) < 1 || len(pos) > 2 {
			return usage("give the door and, optionally, a duration (e.g. 5s)")
		}
		in := apitype.UnlockRequest{}
		if len(pos) == 2 {
			in.Duration = pos[1]
		}
		method, path, body, out = http.MethodPost, "/v1/doors/"+url.PathEscape(pos[0])+"/unlock", in, &apitype.UnlockReply{}
	case "override":
		switch {
		case len(pos) == 2 && pos[1] == "clear":
			method, path, out = http.MethodDelete, "/v1/doors/"+url.PathEscape(pos[0])+"/override", &apitype.DoorState{}
		case len(pos) == 4 && pos[2] == "for":
			method, body = http.MethodPut, apitype.OverrideRequest{Mode: pos[1], For: pos[3]}
		case len(pos) == 4 && pos[2] == "until":
			method, body = http.MethodPut, apitype.OverrideRequest{Mode: pos[1], Until: pos[3]}
		default:
			return usage("override DOOR MODE for DURATION, DOOR MODE until TIME (RFC 3339), or DOOR clear")
		}
		if method == http.MethodPut {
			path, out = "/v1/doors/"+url.PathEscape(pos[0])+"/override", &apitype.DoorState{}
		}
	case "lockdown":
		release := len(pos) > 0 && pos[0] == "release"
		if release {
			pos = pos[1:]
		}
		switch {
		case !release && len(pos) == 1 && pos[0] == "status":
			method, path, out = http.MethodGet, "/v1/lockdown", &apitype.LockdownReply{}
		case len(pos) == 0:
			return usage("name the doors, or all")
		default:
			in := apitype.LockdownRequest{}
			if !(len(pos) == 1 && pos[0] == "all") {
				for _, d := range pos {
					if d == "all" {
						return usage("all stands alone")
					}
				}
				in.Doors = pos
			}
			method, path, body, out = http.MethodPost, "/v1/lockdown", in, &apitype.LockdownReply{}
			if release {
				method = http.MethodDelete
			}
		}
	default:
		return usage("unknown action")
	}
	ctx, cancel, err := c.connect(fs)
	if err != nil {
		return fail(stderr, name, err)
	}
	defer cancel()
	if err := c.do(ctx, method, path, body, out); err != nil {
		return fail(stderr, name, err)
	}
	if asJSON {
		printJSON(stdout, out)
		return 0
	}
	switch o := out.(type) {
	case *apitype.UnlockReply:
		fmt.Fprintf(stdout, "%s unlocked for %s\n", o.Door, o.Duration)
	case *apitype.LockdownReply:
		verb := "in lockdown"
		switch {
		case method == http.MethodPost:
			verb = "locked down"
		case method == http.MethodDelete:
			verb = "released"
		}
		if len(o.Doors) == 0 {
			fmt.Fprintf(stdout, "no door %s\n", verb)
		} else {
			fmt.Fprintf(stdout, "%s: %s\n", verb, strings.Join(o.Doors, ", "))
		}
	case *apitype.DoorState:
		fmt.Fprintln(stdout, describeDoor(*o))
	}
	return 0
}

// describeDoor is a door view in one line, its times in the door's zone.
func describeDoor(d apitype.DoorState) string {
	s := fmt.Sprintf("%s: %s", d.SiteName(), d.Mode)
	if d.Level != "" {
		s += " (" + d.Level
		if d.LevelEnd != "" {
			s += " until " + doorTime(d.LevelEnd, d.TimeZone)
		}
		s += ")"
	}
	if o := d.Override; o != nil {
		s += fmt.Sprintf("; override %s until %s", o.Mode, doorTime(o.Until, d.TimeZone))
		if o.Actor != "" {
			s += " by " + o.Actor
		}
	}
	if d.Lockdown != nil {
		s += "; in lockdown"
	}
	if d.Strike != "" {
		s += "; strike " + d.Strike
	}
	return s
}
