package schedule

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	// Embed the IANA zone database: a Pi image without /usr/share/zoneinfo
	// must still evaluate schedules in the door's zone.
	_ "time/tzdata"
)

// Mode is a door mode (docs/door.md, "Modes").
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
	return Unknown, fmt.Errorf("schedule: %q is not one of %q, %q, %q, %q", s, Locked, AccessControlled, CardAndCode, Unlocked)
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
// (docs/wiring.md, "On the Pi"); anything before this date means "not set yet".
var PlausibleAfter = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Plausible reports whether t can be a real wall-clock time.
func Plausible(t time.Time) bool { return !t.Before(PlausibleAfter) }

// TimeOfDay is a wall-clock time as minutes after local midnight, 0–1440
// (1440 is "24:00", allowed only as an end).
type TimeOfDay int

// ParseTimeOfDay parses "HH:MM" (24 h; "24:00" allowed).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	if len(s) != 5 || s[2] != ':' || !isDigits(s[:2]) || !isDigits(s[3:]) {
		return 0, fmt.Errorf("schedule: %q is not a time of day HH:MM (24 h, 00:00–23:59; 24:00 as an end)", s)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("schedule: %q is not a time of day HH:MM (24 h, 00:00–23:59; 24:00 as an end)", s)
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
	return 0, fmt.Errorf("schedule: %q is not a day: use \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"", s)
}

// ParseDays parses a non-empty list of day names, each at most once.
func ParseDays(names []string) ([]time.Weekday, error) {
	if len(names) == 0 {
		return nil, errors.New("schedule: is required: a non-empty list of \"mon\" … \"sun\"")
	}
	out := make([]time.Weekday, 0, len(names))
	for _, n := range names {
		d, err := ParseDay(n)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, d) {
			return nil, fmt.Errorf("schedule: %q is listed twice", n)
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
	// FirstPersonIn gates an unlocked window: the door keeps the mode it
	// would have without the window until a member of FirstPersonGroups
	// (empty: anyone) is granted there (docs/operations.md).
	FirstPersonIn     bool
	FirstPersonGroups []string
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
		return Date{}, fmt.Errorf("schedule: %q is not a date YYYY-MM-DD", s)
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

// Error is one broken rule of a schedule. Kind is "schedule" (a weekly
// window), "exception" or "default_mode"; Index is the entry's position in
// its list (0-based, -1 for default_mode), Field the entry's field the rule
// is about ("days", "start", "end", "mode", "date"; "" = the entry), and
// Other the position of the entry it conflicts with, or -1. A config loader
// maps the indexes to file lines and keys (Message names the other entry as
// the loader writes it).
type Error struct {
	Kind  string
	Index int
	Field string
	Other int
	Rule  string
}

// Message is the rule in words; other names the conflicting entry (for an
// overlap) as the caller writes it.
func (e *Error) Message(other string) string {
	if e.Other >= 0 {
		return "overlaps " + other + " " + e.Rule
	}
	return e.Rule
}

// Key is where the rule is broken: "schedule[1].end", "exception[0]",
// "default_mode".
func (e *Error) Key() string {
	if e.Index < 0 {
		return e.Kind
	}
	k := fmt.Sprintf("%s[%d]", e.Kind, e.Index)
	if e.Field != "" {
		k += "." + e.Field
	}
	return k
}

func (e *Error) Error() string {
	return "schedule: " + e.Key() + ": " + e.Message(fmt.Sprintf("%s[%d]", e.Kind, e.Other))
}

// Errors lists the *Error values in err, which New, NewAccess and the
// parsers join when several rules are broken.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var se *Error
		if errors.As(err, &se) {
			out = append(out, se)
		}
	}
	walk(err)
	return out
}

// WindowText is a weekly window as a config file writes it; nil is a key
// left out. Parse reads it.
type WindowText struct {
	Days       []string
	Start, End *string
	Mode       *string // a door's window; an access (group) window has none
	// FirstPersonIn and FirstPersonGroups gate a door's unlocked window
	// (see Window).
	FirstPersonIn     *bool
	FirstPersonGroups []string
}

// ExceptionText is a dated exception as a config file writes it; nil is a
// key left out. Start and End default to the whole day.
type ExceptionText struct {
	Date, Start, End, Mode *string
}

// fieldErr turns a parser's error into the entry's *Error for field.
func fieldErr(kind string, i int, field string, err error) *Error {
	return &Error{Kind: kind, Index: i, Field: field, Other: -1, Rule: strings.TrimPrefix(err.Error(), "schedule: ")}
}

func required(kind string, i int, field, rule string) *Error {
	return &Error{Kind: kind, Index: i, Field: field, Other: -1, Rule: rule}
}

// parseTime reads an entry's start or end; 24:00 only as an end.
func parseTime(kind string, i int, field, v string) (TimeOfDay, *Error) {
	t, err := ParseTimeOfDay(v)
	if err != nil {
		return 0, fieldErr(kind, i, field, err)
	}
	if t == 1440 && field == "start" {
		return 0, required(kind, i, field, "24:00 is allowed only as an end time")
	}
	return t, nil
}

func parseMode(kind string, i int, p *string) (Mode, *Error) {
	if p == nil {
		return Unknown, required(kind, i, "mode", "is required")
	}
	m, err := ParseMode(*p)
	if err != nil {
		return Unknown, fieldErr(kind, i, "mode", err)
	}
	return m, nil
}

// Parse reads the window at position i of its list; withMode is set for a
// door's window (mode required), clear for an access window. Every broken
// rule of the entry is returned, joined.
func (t WindowText) Parse(i int, withMode bool) (Window, error) {
	const kind = "schedule"
	var w Window
	var errs []error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	days, err := ParseDays(t.Days)
	if err != nil {
		add(fieldErr(kind, i, "days", err))
	}
	w.Days = days
	var e *Error
	if t.Start == nil {
		add(required(kind, i, "start", "is required (HH:MM)"))
	} else {
		w.Start, e = parseTime(kind, i, "start", *t.Start)
		add(e)
	}
	if t.End == nil {
		add(required(kind, i, "end", "is required (HH:MM, 24:00 for midnight)"))
	} else {
		w.End, e = parseTime(kind, i, "end", *t.End)
		add(e)
	}
	if withMode {
		w.Mode, e = parseMode(kind, i, t.Mode)
		add(e)
	} else if t.Mode != nil {
		add(required(kind, i, "mode", "an access schedule has no mode"))
	}
	if t.FirstPersonIn != nil {
		w.FirstPersonIn = *t.FirstPersonIn
		if !withMode {
			add(required(kind, i, "first_person_in", "an access schedule has no first_person_in"))
		} else if w.FirstPersonIn && w.Mode != Unlocked && t.Mode != nil && e == nil {
			add(required(kind, i, "first_person_in", "first_person_in needs mode = \"unlocked\""))
		}
	}
	if t.FirstPersonGroups != nil {
		w.FirstPersonGroups = append([]string(nil), t.FirstPersonGroups...)
		if !w.FirstPersonIn {
			add(required(kind, i, "first_person_groups", "only with first_person_in = true"))
		}
	}
	return w, errors.Join(errs...)
}

// Parse reads the exception at position i of its list. Every broken rule of
// the entry is returned, joined.
func (t ExceptionText) Parse(i int) (Exception, error) {
	const kind = "exception"
	x := Exception{Start: 0, End: 1440}
	var errs []error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	if t.Date == nil {
		add(required(kind, i, "date", "is required (YYYY-MM-DD)"))
	} else if d, err := ParseDate(*t.Date); err != nil {
		add(fieldErr(kind, i, "date", err))
	} else {
		x.Date = d
	}
	var e *Error
	if t.Start != nil {
		x.Start, e = parseTime(kind, i, "start", *t.Start)
		add(e)
	}
	if t.End != nil {
		x.End, e = parseTime(kind, i, "end", *t.End)
		add(e)
	}
	x.Mode, e = parseMode(kind, i, t.Mode)
	add(e)
	x.WholeDay = x.Start == 0 && x.End == 1440
	return x, errors.Join(errs...)
}

// Config describes a door's schedule.
type Config struct {
	Location   *time.Location // nil = UTC
	Default    Mode           // mode outside every window; "" = access_controlled
	Windows    []Window
	Exceptions []Exception
	// Keypad says whether the door can ask for a code. Without one,
	// card_and_code anywhere in the schedule is refused.
	Keypad bool
	// NoKeypad is why card_and_code is refused when Keypad is false, in
	// the caller's words (which readers lack a keypad); "" = "card_and_code
	// needs a reader with a keypad on this door".
	NoKeypad string
}

func (c Config) noKeypad() string {
	if c.NoKeypad != "" {
		return c.NoKeypad
	}
	return "card_and_code needs a reader with a keypad on this door"
}

// Schedule answers which mode a door is in at an instant and when that
// changes. It is immutable and safe for concurrent use.
type Schedule struct {
	loc        *time.Location
	def        Mode
	windows    []Window
	exceptions []Exception
}

// New validates c and returns its schedule. Each broken rule is an *Error;
// several are joined (see Errors).
func New(c Config) (*Schedule, error) {
	s := &Schedule{loc: c.Location, def: c.Default}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.def == Unknown {
		s.def = AccessControlled
	}
	var errs []error
	if _, err := ParseMode(string(s.def)); err != nil {
		errs = append(errs, fieldErr("default_mode", -1, "", err))
	} else if s.def == CardAndCode && !c.Keypad {
		errs = append(errs, required("default_mode", -1, "", c.noKeypad()))
	}
	errs = append(errs, validateWindows(c.Windows, true, c.Keypad, c.noKeypad())...)
	var ok []int // exceptions without a broken rule of their own
	for i, e := range c.Exceptions {
		n := len(errs)
		if _, err := ParseMode(string(e.Mode)); err != nil {
			errs = append(errs, fieldErr("exception", i, "mode", err))
		} else if e.Mode == CardAndCode && !c.Keypad {
			errs = append(errs, required("exception", i, "mode", c.noKeypad()))
		}
		if _, err := time.Parse("2006-01-02", e.Date.String()); err != nil {
			errs = append(errs, required("exception", i, "date", fmt.Sprintf("date %s is not a valid date", e.Date)))
		}
		st, en := e.span()
		if rule := checkSpan(st, en, ""); rule != "" {
			errs = append(errs, required("exception", i, "end", rule))
		}
		if len(errs) > n {
			continue
		}
		for _, j := range ok {
			o := c.Exceptions[j]
			if o.Date != e.Date {
				continue
			}
			os, oe := o.span()
			if st < oe && os < en {
				errs = append(errs, &Error{Kind: "exception", Index: i, Other: j,
					Rule: fmt.Sprintf("on %s: %s–%s and %s–%s", e.Date, os, oe, st, en)})
				break
			}
		}
		ok = append(ok, i)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s.windows = append([]Window(nil), c.Windows...)
	s.exceptions = append([]Exception(nil), c.Exceptions...)
	return s, nil
}

// checkSpan is the rule on an entry's start and end: within the day, start
// before end (hint adds how to fix it).
func checkSpan(st, en TimeOfDay, hint string) string {
	if st < 0 || st >= 1440 || en <= 0 || en > 1440 {
		return "start and end must be 00:00–24:00"
	}
	if st >= en {
		return fmt.Sprintf("end %s is not after start %s%s", en, st, hint)
	}
	return ""
}

func validateWindows(ws []Window, withMode, keypad bool, noKeypad string) []error {
	var errs []error
	var ok []int // windows without a broken rule of their own
	for i, w := range ws {
		n := len(errs)
		add := func(field, rule string) { errs = append(errs, required("schedule", i, field, rule)) }
		if len(w.Days) == 0 {
			add("days", "days must name at least one day")
		}
		for _, d := range w.Days {
			if d < time.Sunday || d > time.Saturday {
				add("days", "days must be mon…sun")
				break
			}
		}
		if rule := checkSpan(w.Start, w.End, " (a window may not cross midnight: split it in two)"); rule != "" {
			add("end", rule)
		}
		if withMode {
			if _, err := ParseMode(string(w.Mode)); err != nil {
				errs = append(errs, fieldErr("schedule", i, "mode", err))
			} else if w.Mode == CardAndCode && !keypad {
				add("mode", noKeypad)
			}
		} else if w.Mode != Unknown {
			add("mode", "an access schedule has no mode")
		}
		if w.FirstPersonIn && w.Mode != Unlocked {
			add("first_person_in", "first_person_in needs mode = \"unlocked\"")
		}
		if len(errs) > n {
			continue
		}
	overlap:
		for _, j := range ok {
			o := ws[j]
			for _, d := range w.Days {
				if o.on(d) && w.Start < o.End && o.Start < w.End {
					errs = append(errs, &Error{Kind: "schedule", Index: i, Other: j,
						Rule: fmt.Sprintf("on %s: %s–%s and %s–%s", dayNames[d], o.Start, o.End, w.Start, w.End)})
					break overlap
				}
			}
		}
		ok = append(ok, i)
	}
	return errs
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
	if errs := validateWindows(windows, false, false, ""); len(errs) > 0 {
		return nil, errors.Join(errs...)
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

// WindowAt is the weekly window in force at t and the instant it ends;
// ok is false outside every window, while t is not plausible, or while a
// dated exception decides the mode.
func (s *Schedule) WindowAt(t time.Time) (w Window, end time.Time, ok bool) {
	if _, src := s.ModeSource(t); src != SourceWeekly {
		return Window{}, time.Time{}, false
	}
	lt := t.In(s.loc)
	d := Date{lt.Year(), lt.Month(), lt.Day()}
	for _, w := range s.windows {
		if w.on(lt.Weekday()) && covers(s.loc, d, w.Start, w.End, t) {
			return w, resolve(s.loc, d, w.End), true
		}
	}
	return Window{}, time.Time{}, false
}
