package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/latchd/latch/api/apitype"
)

const fleetUsage = `usage:
  latchctl fleet status [--json]     every door of the site: controller, mode, online (on a manager)`

func runFleet(args []string, stdout, stderr io.Writer) int {
	if args[0] != "status" {
		fmt.Fprintln(stderr, fleetUsage)
		return 2
	}
	fs := newFlags("fleet status", stderr)
	c := addConnFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return 2
	}
	if len(pos) != 0 {
		return fail(stderr, "fleet status", errors.New("takes no arguments"))
	}
	ctx, cancel, err := c.connect(fs)
	if err != nil {
		return fail(stderr, "fleet", err)
	}
	defer cancel()
	var out apitype.DoorList
	if err := c.do(ctx, http.MethodGet, "/v1/doors", nil, &out); err != nil {
		return fail(stderr, "fleet status", err)
	}
	if *asJSON {
		printJSON(stdout, out)
		return 0
	}
	tw := newTable(stdout, "CONTROLLER\tDOOR\tMODE\tONLINE")
	for _, d := range out.Doors {
		ctl, online := d.Controller, "-"
		if ctl == "" {
			ctl = "(this latchd)"
		}
		if d.Online != nil {
			online = map[bool]string{true: "yes", false: "no"}[*d.Online]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ctl, d.Name, d.Mode, online)
	}
	tw.Flush()
	return 0
}
