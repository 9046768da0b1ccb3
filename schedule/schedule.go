package schedule

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	// Embed the IANA zone database: a Pi image without /usr/share/zoneinfo
	// must still evaluate schedules in the door's zone.
	_ "time/tzdata"
)

// Mode is a door mode (product.md §3).
type Mode string

// The door modes. Unknown is what a schedule reports while the wall clock is
// not plausible; the door then takes its configured fail-secure mode.
const (
	Unknown          Mode = ""
	Locked           Mode = "locked"
	AccessControlled Mode = "access_controlled"
	CardAndCode      Mode = "card_and_code"
	Unlocked         Mode = "unlocked"
)

// ParseMode parses a mode name as the config spells it.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Locked, AccessControlled, CardAndCode, Unlocked:
		return m, nil
	}
	return Unknown, fmt.Errorf("schedule: mode %q: must be one of locked, access_controlled, card_and_code, unlocked", s)
}

// Source says which rule decided a mode.
type Source uint8

// Sources of a mode.
const (
	SourceUnknown   Source = iota // the clock is not plausible
	SourceDefault                 // outside every window
	SourceWeekly                  // a weekly window
	SourceException               // a dated exception
)

// PlausibleAfter is the earliest wall-clock time latch trusts. A Raspberry Pi
// has no real-time clock and boots at 1970 until NTP sets the time
// (hardware.md "On the Pi"); anything before this date means "not set yet".
var PlausibleAfter = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Plausible reports whether t can be a real wall-clock time.
func Plausible(t time.Time) bool { return !t.Before(PlausibleAfter) }

// TimeOfDay is a wall-clock time as minutes after local midnight, 0–1440
// (1440 is "24:00", allowed only as an end).
type TimeOfDay int

// ParseTimeOfDay parses "HH:MM" (24 h; "24:00" allowed).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	if len(s) != 5 || s[2] != ':' || !isDigits(s[:2]) || !isDigits(s[3:]) {
		return 0, fmt.Errorf("schedule: time %q: must be HH:MM (24 h)", s)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("schedule: time %q: must be 00:00–23:59 or 24:00", s)
	}
	return TimeOfDay(h*60 + m), nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

var dayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseDay parses a day name mon…sun.
func ParseDay(s string) (time.Weekday, error) {
	for i, n := range dayNames {
		if s == n {
			return time.Weekday(i), nil
		}
	}
	return 0, fmt.Errorf("schedule: day %q: must be one of mon, tue, wed, thu, fri, sat, sun", s)
}

// ParseDays parses a list of day names.
func ParseDays(names []string) ([]time.Weekday, error) {
	out := make([]time.Weekday, 0, len(names))
	for _, n := range names {
		d, err := ParseDay(n)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Window is a weekly window: on each of Days, from Start to End in the door's
// local wall time. Mode is empty in an access (group) schedule.
type Window struct {
	Days       []time.Weekday
	Start, End TimeOfDay
	Mode       Mode
}

func (w Window) String() string {
	var days []string
	for _, d := range w.Days {
		if d >= 0 && int(d) < len(dayNames) {
			days = append(days, dayNames[d])
		}
	}
	return fmt.Sprintf("%s %s–%s", strings.Join(days, ","), w.Start, w.End)
}

func (w Window) on(d time.Weekday) bool {
	for _, x := range w.Days {
		if x == d {
			return true
		}
	}
	return false
}

// Date is a calendar date in the door's zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil || len(s) != 10 {
		return Date{}, fmt.Errorf("schedule: date %q: must be a valid YYYY-MM-DD", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

func (d Date) before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// Exception is a dated override of the weekly schedule: the whole Date when
// WholeDay is set, else Start–End on Date.
type Exception struct {
	Date       Date
	WholeDay   bool
	Start, End TimeOfDay
	Mode       Mode
}

func (e Exception) span() (TimeOfDay, TimeOfDay) {
	if e.WholeDay {
		return 0, 1440
	}
	return e.Start, e.End
}

// Error is a validation error. Kind is "schedule" (a weekly window) or
// "exception"; Index is the entry's position in its list (0-based) and Other
// the position of the entry it conflicts with, or -1. A config loader maps
// the indexes to file lines.
type Error struct {
	Kind  string
	Index int
	Other int
	Rule  string
}

func (e *Error) Error() string {
	if e.Other >= 0 {
		return fmt.Sprintf("schedule: %s[%d]: %s (with %s[%d])", e.Kind, e.Index, e.Rule, e.Kind, e.Other)
	}
	return fmt.Sprintf("schedule: %s[%d]: %s", e.Kind, e.Index, e.Rule)
}

// Config describes a door's schedule.
type Config struct {
	Location   *time.Location // nil = UTC
	Default    Mode           // mode outside every window; "" = access_controlled
	Windows    []Window
	Exceptions []Exception
	// Keypad says whether some reader of the door has a keypad. Without one,
	// card_and_code anywhere in the schedule is refused.
	Keypad bool
}

// Schedule answers which mode a door is in at an instant and when that
// changes. It is immutable and safe for concurrent use.
type Schedule struct {
	loc        *time.Location
	def        Mode
	windows    []Window
	exceptions []Exception
}

// New validates c and returns its schedule. Errors are *Error (for an entry)
// or a plain error naming the rule.
func New(c Config) (*Schedule, error) {
	s := &Schedule{loc: c.Location, def: c.Default}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.def == Unknown {
		s.def = AccessControlled
	}
	if _, err := ParseMode(string(s.def)); err != nil {
		return nil, fmt.Errorf("schedule: default_mode: %w", err)
	}
	if s.def == CardAndCode && !c.Keypad {
		return nil, errors.New("schedule: default_mode: card_and_code needs a reader with a keypad on this door")
	}
	if err := validateWindows(c.Windows, true, c.Keypad); err != nil {
		return nil, err
	}
	for i, e := range c.Exceptions {
		if _, err := ParseMode(string(e.Mode)); err != nil {
			return nil, &Error{Kind: "exception", Index: i, Other: -1, Rule: err.Error()[len("schedule: "):]}
		}
		if e.Mode == CardAndCode && !c.Keypad {
			return nil, &Error{Kind: "exception", Index: i, Other: -1, Rule: "card_and_code needs a reader with a keypad on this door"}
		}
		if _, err := time.Parse("2006-01-02", e.Date.String()); err != nil {
			return nil, &Error{Kind: "exception", Index: i, Other: -1, Rule: fmt.Sprintf("date %s is not a valid date", e.Date)}
		}
		st, en := e.span()
		if err := checkSpan(st, en); err != "" {
			return nil, &Error{Kind: "exception", Index: i, Other: -1, Rule: err}
		}
		for j := 0; j < i; j++ {
			o := c.Exceptions[j]
			if o.Date != e.Date {
				continue
			}
			os, oe := o.span()
			if st < oe && os < en {
				return nil, &Error{Kind: "exception", Index: i, Other: j, Rule: fmt.Sprintf("overlaps on %s (%s–%s and %s–%s)", e.Date, st, en, os, oe)}
			}
		}
	}
	s.windows = append([]Window(nil), c.Windows...)
	s.exceptions = append([]Exception(nil), c.Exceptions...)
	return s, nil
}

func checkSpan(st, en TimeOfDay) string {
	if st < 0 || st >= 1440 || en <= 0 || en > 1440 {
		return "start and end must be 00:00–24:00"
	}
	if st >= en {
		return fmt.Sprintf("start %s must be before end %s", st, en)
	}
	return ""
}

func validateWindows(ws []Window, withMode, keypad bool) error {
	for i, w := range ws {
		if len(w.Days) == 0 {
			return &Error{Kind: "schedule", Index: i, Other: -1, Rule: "days must name at least one day"}
		}
		for _, d := range w.Days {
			if d < time.Sunday || d > time.Saturday {
				return &Error{Kind: "schedule", Index: i, Other: -1, Rule: "days must be mon…sun"}
			}
		}
		if err := checkSpan(w.Start, w.End); err != "" {
			return &Error{Kind: "schedule", Index: i, Other: -1, Rule: err}
		}
		if withMode {
			if _, err := ParseMode(string(w.Mode)); err != nil {
				return &Error{Kind: "schedule", Index: i, Other: -1, Rule: err.Error()[len("schedule: "):]}
			}
			if w.Mode == CardAndCode && !keypad {
				return &Error{Kind: "schedule", Index: i, Other: -1, Rule: "card_and_code needs a reader with a keypad on this door"}
			}
		} else if w.Mode != Unknown {
			return &Error{Kind: "schedule", Index: i, Other: -1, Rule: "an access schedule has no mode"}
		}
		for j := 0; j < i; j++ {
			o := ws[j]
			for _, d := range w.Days {
				if o.on(d) && w.Start < o.End && o.Start < w.End {
					return &Error{Kind: "schedule", Index: i, Other: j, Rule: fmt.Sprintf("overlaps on %s (%s and %s)", dayNames[d], w, o)}
				}
			}
		}
	}
	return nil
}

// Location is the schedule's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// Default is the mode outside every window.
func (s *Schedule) Default() Mode { return s.def }

// Modes lists every mode the schedule can put the door in.
func (s *Schedule) Modes() []Mode {
	seen := map[Mode]bool{s.def: true}
	out := []Mode{s.def}
	add := func(m Mode) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	for _, w := range s.windows {
		add(w.Mode)
	}
	for _, e := range s.exceptions {
		add(e.Mode)
	}
	return out
}

// Mode is the door's mode at t; Unknown while t is not plausible.
func (s *Schedule) Mode(t time.Time) Mode {
	m, _ := s.ModeSource(t)
	return m
}

// ModeSource is Mode and the rule that decided it.
func (s *Schedule) ModeSource(t time.Time) (Mode, Source) {
	if !Plausible(t) {
		return Unknown, SourceUnknown
	}
	lt := t.In(s.loc)
	d := Date{lt.Year(), lt.Month(), lt.Day()}
	for _, e := range s.exceptions {
		if e.Date != d {
			continue
		}
		st, en := e.span()
		if covers(s.loc, d, st, en, t) {
			return e.Mode, SourceException
		}
	}
	wd := lt.Weekday()
	for _, w := range s.windows {
		if w.on(wd) && covers(s.loc, d, w.Start, w.End, t) {
			return w.Mode, SourceWeekly
		}
	}
	return s.def, SourceDefault
}

// horizon is how far ahead Next looks for a change: a week and a day covers
// every weekly window; exceptions are looked up by date beyond it.
const horizonDays = 8

// Next is the first instant after t at which the mode differs from Mode(t).
// It is the zero Time when t is not plausible (the caller polls until the
// clock is set) or when nothing changes within the next eight days (the
// caller re-asks later).
func (s *Schedule) Next(t time.Time) time.Time {
	if !Plausible(t) {
		return time.Time{}
	}
	cur := s.Mode(t)
	for _, b := range s.boundaries(t) {
		if s.Mode(b) != cur {
			return b
		}
	}
	return time.Time{}
}

// boundaries lists the instants after t, in order, at which some window or
// exception starts or ends, from t's local date for horizonDays.
func (s *Schedule) boundaries(t time.Time) []time.Time {
	lt := t.In(s.loc)
	var out []time.Time
	add := func(x time.Time) {
		if x.After(t) {
			out = append(out, x)
		}
	}
	first := Date{lt.Year(), lt.Month(), lt.Day()}
	last := addDays(first, horizonDays)
	for i := 0; i <= horizonDays; i++ {
		d := addDays(first, i)
		wd := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
		for _, w := range s.windows {
			if w.on(wd) {
				add(resolve(s.loc, d, w.Start))
				add(resolve(s.loc, d, w.End))
			}
		}
	}
	for _, e := range s.exceptions {
		if e.Date.before(first) || last.before(e.Date) {
			continue
		}
		st, en := e.span()
		add(resolve(s.loc, e.Date, st))
		add(resolve(s.loc, e.Date, en))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

func addDays(d Date, n int) Date {
	t := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC)
	return Date{t.Year(), t.Month(), t.Day()}
}

func covers(loc *time.Location, d Date, st, en TimeOfDay, t time.Time) bool {
	return !t.Before(resolve(loc, d, st)) && t.Before(resolve(loc, d, en))
}

// Resolve is the instant at which wall time tod on date d happens in loc, by
// latch's daylight-saving rule:
//   - a wall time that happens once is that instant;
//   - a wall time that happens twice (the repeated hour when clocks go back)
//     is its first occurrence;
//   - a wall time that never happens (the hour skipped when clocks go
//     forward) is the first instant after the gap, i.e. the transition
//     itself (02:30 on a day that jumps from 02:00 to 03:00 is 03:00).
//
// 24:00 is 00:00 of the next day.
func Resolve(loc *time.Location, d Date, tod TimeOfDay) time.Time { return resolve(loc, d, tod) }

func resolve(loc *time.Location, d Date, tod TimeOfDay) time.Time {
	// naive is the wall time read as if it were UTC.
	naive := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Add(time.Duration(tod) * time.Minute)
	// The real instant is naive minus the zone offset in force then. Offsets
	// are within ±14 h, so the offsets in force 14 h either side cover both
	// sides of any one transition.
	_, offA := naive.Add(-14 * time.Hour).In(loc).Zone()
	_, offB := naive.Add(14 * time.Hour).In(loc).Zone()
	var best time.Time
	var cands [2]time.Time
	for i, off := range [2]int{offA, offB} {
		c := naive.Add(-time.Duration(off) * time.Second)
		cands[i] = c
		if sameWall(c.In(loc), naive) && (best.IsZero() || c.Before(best)) {
			best = c
		}
	}
	if !best.IsZero() {
		return best
	}
	// In a gap: the earlier candidate lies before the transition, in the old
	// zone; the transition is where that zone ends.
	early := cands[0]
	if cands[1].Before(early) {
		early = cands[1]
	}
	if _, end := early.In(loc).ZoneBounds(); !end.IsZero() && end.After(early) {
		return end
	}
	return early
}

func sameWall(lt, naive time.Time) bool {
	y, m, d := lt.Date()
	ny, nm, nd := naive.Date()
	return y == ny && m == nm && d == nd && lt.Hour() == naive.Hour() && lt.Minute() == naive.Minute() && lt.Second() == naive.Second()
}

// Access is a group's access schedule: weekly windows without modes. A nil
// *Access allows always.
type Access struct {
	loc     *time.Location
	windows []Window
}

// NewAccess validates windows (no overlaps, start < end, no mode) for an
// access schedule in loc (nil = UTC).
func NewAccess(loc *time.Location, windows []Window) (*Access, error) {
	if loc == nil {
		loc = time.UTC
	}
	if err := validateWindows(windows, false, false); err != nil {
		return nil, err
	}
	return &Access{loc: loc, windows: append([]Window(nil), windows...)}, nil
}

// Allows reports whether t falls in one of the windows. A nil Access allows
// always; a non-nil one allows nothing while the clock is not plausible.
func (a *Access) Allows(t time.Time) bool {
	if a == nil {
		return true
	}
	if !Plausible(t) {
		return false
	}
	lt := t.In(a.loc)
	d := Date{lt.Year(), lt.Month(), lt.Day()}
	wd := lt.Weekday()
	for _, w := range a.windows {
		if w.on(wd) && covers(a.loc, d, w.Start, w.End, t) {
			return true
		}
	}
	return false
}
