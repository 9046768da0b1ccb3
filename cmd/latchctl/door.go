package main

import (
	"errors"
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
	if args[0] != "status" {
		fmt.Fprintln(stderr, doorUsage)
		return 2
	}
	fs := newFlags("door status", stderr)
	c := addConnFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return 2
	}
	if len(pos) != 0 {
		return fail(stderr, "door status", errors.New("takes no arguments"))
	}
	ctx, cancel, err := c.connect(fs)
	if err != nil {
		return fail(stderr, "door", err)
	}
	defer cancel()
	var out apitype.DoorList
	if err := c.do(ctx, http.MethodGet, "/v1/doors", nil, &out); err != nil {
		return fail(stderr, "door status", err)
	}
	if *asJSON {
		printJSON(stdout, out)
		return 0
	}
	tw := newTable(stdout, "DOOR\tMODE\tNEXT CHANGE\tNEXT MODE")
	for _, d := range out.Doors {
		next, nextMode := d.NextChange, d.NextMode
		if next == "" {
			next, nextMode = "-", "-"
		} else {
			next = doorTime(next, d.TimeZone)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.SiteName(), d.Mode, next, nextMode)
	}
	tw.Flush()
	return 0
}
