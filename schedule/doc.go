// Package schedule evaluates weekly windows and dated exceptions in a
// door's time zone: which mode a door is in now, and when that changes next.
//
// Windows follow the local wall clock. A wall time inside the hour skipped
// when clocks go forward resolves to the first instant after the gap; a wall
// time inside the hour repeated when clocks go back resolves to its first
// occurrence (see Resolve). The IANA zone database is embedded (time/tzdata)
// so a device without /usr/share/zoneinfo still works.
//
// Until the wall clock is plausible (see Plausible) Mode reports Unknown and
// Next the zero time: a Raspberry Pi boots at 1970 until NTP sets the clock,
// and the door takes its fail-secure mode meanwhile.
package schedule
