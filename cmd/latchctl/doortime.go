package main

import (
	"time"
	_ "time/tzdata" // the door's zone even where /usr/share/zoneinfo is missing
)

// doorTime shows an RFC 3339 time from latchd in the door's own zone, with
// the zone: "2026-03-02 19:00 CET (Europe/Berlin)". The schedule is the
// door's local time, so its changes read as the schedule says them. A time
// or zone that does not parse is shown as latchd sent it.
func doorTime(rfc, zone string) string {
	t, err := time.Parse(time.RFC3339, rfc)
	if err != nil {
		return rfc
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		return rfc
	}
	t = t.In(loc)
	abbr, _ := t.Zone()
	s := t.Format("2006-01-02 15:04 ") + abbr
	if abbr != zone {
		s += " (" + zone + ")"
	}
	return s
}
