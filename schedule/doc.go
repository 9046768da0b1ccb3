// Package schedule evaluates weekly windows and dated exceptions in a
// door's time zone: which mode a door is in now, and when that changes next.
//
// It owns the rules of a schedule: the spelling of door modes (ParseMode),
// times of day (ParseTimeOfDay: HH:MM, 24:00 only as an end), days
// (ParseDays) and dates (ParseDate); a window or exception as a config file
// writes it (WindowText, ExceptionText and their Parse); and the rules
// between entries — start before end, no window crossing midnight, no two
// windows or exceptions overlapping, an access (group) window without a
// mode, card_and_code only where a keypad can take the code — checked by New
// and NewAccess. Every broken rule is an *Error naming its entry and field,
// all of them are reported (Errors lists them), and the config loader maps
// them to file lines; it keeps no copy of these rules.
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
