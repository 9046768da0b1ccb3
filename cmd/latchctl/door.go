package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"

	"github.com/latchd/latch/api/apitype"
)

const doorUsage = `usage:
  latchctl door status [--json]
` + doorOpsUsage

func runDoor(args []string, stdout, stderr io.Writer) int {
	switch args[0] {
	case "unlock", "override", "lockdown":
		return runDoorOp(args, stdout, stderr)
	}
	return runDoorList("door", doorUsage, args, stdout, stderr, "DOOR\tMODE\tNEXT CHANGE\tNEXT MODE", func(w io.Writer, d apitype.DoorState) {
		next, nextMode := d.NextChange, d.NextMode
		if next == "" {
			next, nextMode = "-", "-"
		} else {
			next = doorTime(next, d.TimeZone)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", d.SiteName(), d.Mode, next, nextMode)
	})
}

// doorFlags parses the flags of a door command (args[1:]): the
// connection's and --json; ok is false on a bad flag (the flag set has
// said why on stderr).
func doorFlags(name string, args []string, stderr io.Writer) (fs *flag.FlagSet, c *conn, asJSON bool, pos []string, ok bool) {
	fs = newFlags(name, stderr)
	c = addConnFlags(fs)
	j := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(fs, args[1:])
	return fs, c, *j, pos, err == nil
}

// runDoorList runs "latchctl CMD status [--json]" (door and fleet): GET
// /v1/doors, printed as JSON or as a table under header, a row a door.
func runDoorList(cmd, usage string, args []string, stdout, stderr io.Writer, header string, row func(w io.Writer, d apitype.DoorState)) int {
	if args[0] != "status" {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	name := cmd + " status"
	fs, c, asJSON, pos, ok := doorFlags(name, args, stderr)
	if !ok {
		return 2
	}
	if len(pos) != 0 {
		return fail(stderr, name, errors.New("takes no arguments"))
	}
	ctx, cancel, err := c.connect(fs)
	if err != nil {
		return fail(stderr, cmd, err)
	}
	defer cancel()
	var out apitype.DoorList
	if err := c.do(ctx, http.MethodGet, "/v1/doors", nil, &out); err != nil {
		return fail(stderr, name, err)
	}
	if asJSON {
		printJSON(stdout, out)
		return 0
	}
	tw := newTable(stdout, header)
	for _, d := range out.Doors {
		row(tw, d)
	}
	tw.Flush()
	return 0
}
