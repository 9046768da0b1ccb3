package main

import (
	"fmt"
	"io"

	"github.com/latchd/latch/api/apitype"
)

const fleetUsage = `usage:
  latchctl fleet status [--json]     every door of the site: controller, mode, online (on a manager)`

func runFleet(args []string, stdout, stderr io.Writer) int {
	return runDoorList("fleet", fleetUsage, args, stdout, stderr, "CONTROLLER\tDOOR\tMODE\tONLINE", func(w io.Writer, d apitype.DoorState) {
		ctl, online := d.Controller, "-"
		if ctl == "" {
			ctl = "(this latchd)"
		}
		if d.Online != nil {
			online = map[bool]string{true: "yes", false: "no"}[*d.Online]
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", ctl, d.Name, d.Mode, online)
	})
}
