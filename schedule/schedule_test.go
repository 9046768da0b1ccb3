package schedule

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func tod(s string) TimeOfDay {
	t, err := ParseTimeOfDay(s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestResolveDST(t *testing.T) {
	tests := []struct {
		zone string
		date Date
		at   string
		want string // UTC
	}{
		{"Europe/Berlin", Date{2026, 6, 1}, "08:00", "2026-06-01T06:00:00Z"},
		{"Europe/Berlin", Date{2026, 6, 1}, "24:00", "2026-06-01T22:00:00Z"},
		// spring forward 2026-03-29 02:00 CET -> 03:00 CEST: 02:30 does not exist -> 03:00 CEST
		{"Europe/Berlin", Date{2026, 3, 29}, "01:30", "2026-03-29T00:30:00Z"},
		{"Europe/Berlin", Date{2026, 3, 29}, "02:00", "2026-03-29T01:00:00Z"},
		{"Europe/Berlin", Date{2026, 3, 29}, "02:30", "2026-03-29T01:00:00Z"},
		{"Europe/Berlin", Date{2026, 3, 29}, "03:00", "2026-03-29T01:00:00Z"},
		// fall back 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice -> first (CEST)
		{"Europe/Berlin", Date{2026, 10, 25}, "02:30", "2026-10-25T00:30:00Z"},
		{"Europe/Berlin", Date{2026, 10, 25}, "03:00", "2026-10-25T02:00:00Z"},
		// New York spring forward 2026-03-08 02:00 EST -> 03:00 EDT
		{"America/New_York", Date{2026, 3, 8}, "02:30", "2026-03-08T07:00:00Z"},
		{"America/New_York", Date{2026, 3, 8}, "01:59", "2026-03-08T06:59:00Z"},
		// fall back 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 twice -> first (EDT)
		{"America/New_York", Date{2026, 11, 1}, "01:30", "2026-11-01T05:30:00Z"},
		{"America/New_York", Date{2026, 11, 1}, "02:00", "2026-11-01T07:00:00Z"},
	}
	for _, tt := range tests {
		got := Resolve(mustLoc(t, tt.zone), tt.date, tod(tt.at))
		if !got.Equal(utc(tt.want)) {
			t.Errorf("%s %s %s = %s, want %s", tt.zone, tt.date, tt.at, got.UTC().Format(time.RFC3339), tt.want)
		}
	}
}

// TestDSTWindows checks the mode over both transitions in two zones: a
// window in the skipped hour is shortened, one in the repeated hour starts at
// the first occurrence.
func TestDSTWindows(t *testing.T) {
	// check: at the instant at, the mode is mode and the next change is at next.
	type check struct {
		at   string
		mode Mode
		next string
	}
	sun := []time.Weekday{time.Sunday}
	tests := []struct {
		name   string
		zone   string
		win    Window
		checks []check
	}{
		{
			name: "berlin spring 01:30-02:30 is 01:30-03:00 wall, 30 real minutes",
			zone: "Europe/Berlin",
			win:  Window{Days: sun, Start: tod("01:30"), End: tod("02:30"), Mode: Locked},
			checks: []check{
				{"2026-03-29T00:00:00Z", AccessControlled, "2026-03-29T00:30:00Z"},
				{"2026-03-29T00:30:00Z", Locked, "2026-03-29T01:00:00Z"},
				{"2026-03-29T00:59:59Z", Locked, "2026-03-29T01:00:00Z"},
				{"2026-03-29T01:00:00Z", AccessControlled, "2026-04-04T23:30:00Z"}, // next Sunday 01:30 CEST,
			},
		},
		{
			name: "berlin fall 02:30-03:30 starts at first 02:30, two real hours",
			zone: "Europe/Berlin",
			win:  Window{Days: sun, Start: tod("02:30"), End: tod("03:30"), Mode: Unlocked},
			checks: []check{
				{"2026-10-25T00:29:00Z", AccessControlled, "2026-10-25T00:30:00Z"},
				{"2026-10-25T00:30:00Z", Unlocked, "2026-10-25T02:30:00Z"},
				{"2026-10-25T01:30:00Z", Unlocked, "2026-10-25T02:30:00Z"}, // second 02:30 (CET)
				{"2026-10-25T02:30:00Z", AccessControlled, "2026-11-01T01:30:00Z"},
			},
		},
		{
			name: "new york spring 01:30-02:30",
			zone: "America/New_York",
			win:  Window{Days: sun, Start: tod("01:30"), End: tod("02:30"), Mode: CardAndCode},
			checks: []check{
				{"2026-03-08T06:29:00Z", AccessControlled, "2026-03-08T06:30:00Z"},
				{"2026-03-08T06:30:00Z", CardAndCode, "2026-03-08T07:00:00Z"},
				{"2026-03-08T07:00:00Z", AccessControlled, "2026-03-15T05:30:00Z"},
			},
		},
		{
			name: "new york fall 01:00-01:30 ends at first 01:30",
			zone: "America/New_York",
			win:  Window{Days: sun, Start: tod("01:00"), End: tod("01:30"), Mode: Locked},
			checks: []check{
				{"2026-11-01T04:59:00Z", AccessControlled, "2026-11-01T05:00:00Z"},
				{"2026-11-01T05:00:00Z", Locked, "2026-11-01T05:30:00Z"},
				{"2026-11-01T06:15:00Z", AccessControlled, "2026-11-08T06:00:00Z"}, // 01:15 EST, second time round
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Config{Location: mustLoc(t, tt.zone), Windows: []Window{tt.win}, Keypad: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.checks {
				at := utc(c.at)
				if got := s.Mode(at); got != c.mode {
					t.Errorf("Mode(%s) = %q, want %q", c.at, got, c.mode)
				}
				if got := s.Next(at); !got.Equal(utc(c.next)) {
					t.Errorf("Next(%s) = %s, want %s", c.at, got.UTC().Format(time.RFC3339), c.next)
				}
			}
		})
	}
}

func TestModeAndNext(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	s, err := New(Config{
		Location: berlin,
		Keypad:   true,
		Windows: []Window{
			{Days: weekdays, Start: tod("08:00"), End: tod("12:00"), Mode: CardAndCode},
			{Days: weekdays, Start: tod("12:00"), End: tod("18:00"), Mode: CardAndCode},
			{Days: []time.Weekday{time.Saturday}, Start: tod("09:00"), End: tod("13:00"), Mode: Unlocked},
		},
		Exceptions: []Exception{
			{Date: Date{2026, 12, 24}, WholeDay: true, Mode: Locked},
			{Date: Date{2026, 12, 23}, Start: tod("10:00"), End: tod("11:00"), Mode: Unlocked},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at   string
		mode Mode
		src  Source
		next string
	}{
		// Monday 2026-12-21 in CET (UTC+1)
		{"2026-12-21T06:59:59Z", AccessControlled, SourceDefault, "2026-12-21T07:00:00Z"},
		{"2026-12-21T07:00:00Z", CardAndCode, SourceWeekly, "2026-12-21T17:00:00Z"}, // 12:00 joins two card_and_code windows: no change
		{"2026-12-21T17:00:00Z", AccessControlled, SourceDefault, "2026-12-22T07:00:00Z"},
		// 23rd: timed exception inside the weekly window
		{"2026-12-23T08:59:00Z", CardAndCode, SourceWeekly, "2026-12-23T09:00:00Z"},
		{"2026-12-23T09:00:00Z", Unlocked, SourceException, "2026-12-23T10:00:00Z"},
		{"2026-12-23T10:00:00Z", CardAndCode, SourceWeekly, "2026-12-23T17:00:00Z"},
		// 24th whole day locked, beats the weekly window
		{"2026-12-23T23:00:00Z", Locked, SourceException, "2026-12-24T23:00:00Z"},
		{"2026-12-24T10:00:00Z", Locked, SourceException, "2026-12-24T23:00:00Z"},
		{"2026-12-24T23:00:00Z", AccessControlled, SourceDefault, "2026-12-25T07:00:00Z"}, // Friday 08:00
		{"2026-12-26T08:00:00Z", Unlocked, SourceWeekly, "2026-12-26T12:00:00Z"},
		// the clock is not set yet
		{"1970-01-01T00:00:05Z", Unknown, SourceUnknown, "0001-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		at := utc(tt.at)
		m, src := s.ModeSource(at)
		if m != tt.mode || src != tt.src {
			t.Errorf("ModeSource(%s) = %q,%d want %q,%d", tt.at, m, src, tt.mode, tt.src)
		}
		if got := s.Next(at); !got.Equal(utc(tt.next)) {
			t.Errorf("Next(%s) = %s, want %s", tt.at, got.UTC().Format(time.RFC3339), tt.next)
		}
	}
}

func TestNextNeverChanges(t *testing.T) {
	s, err := New(Config{Default: Locked})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Next(utc("2026-05-01T00:00:00Z")); !got.IsZero() {
		t.Errorf("Next = %v, want zero", got)
	}
}

func TestValidation(t *testing.T) {
	mon := []time.Weekday{time.Monday}
	tests := []struct {
		name  string
		cfg   Config
		kind  string
		index int
		other int
		rule  string
	}{
		{"overlap", Config{Windows: []Window{
			{Days: mon, Start: tod("08:00"), End: tod("12:00"), Mode: Locked},
			{Days: []time.Weekday{time.Sunday, time.Monday}, Start: tod("11:00"), End: tod("13:00"), Mode: Unlocked},
		}}, "schedule", 1, 0, "on mon: 08:00–12:00 and 11:00–13:00"},
		{"start after end", Config{Windows: []Window{{Days: mon, Start: tod("12:00"), End: tod("08:00"), Mode: Locked}}}, "schedule", 0, -1, "end 08:00 is not after start 12:00"},
		{"start equals end", Config{Windows: []Window{{Days: mon, Start: tod("12:00"), End: tod("12:00"), Mode: Locked}}}, "schedule", 0, -1, "is not after start"},
		{"no days", Config{Windows: []Window{{Start: tod("08:00"), End: tod("12:00"), Mode: Locked}}}, "schedule", 0, -1, "at least one day"},
		{"bad mode", Config{Windows: []Window{{Days: mon, Start: tod("08:00"), End: tod("12:00"), Mode: "open"}}}, "schedule", 0, -1, "is not one of"},
		{"card_and_code without keypad", Config{Windows: []Window{{Days: mon, Start: tod("08:00"), End: tod("12:00"), Mode: CardAndCode}}}, "schedule", 0, -1, "needs a reader with a keypad"},
		{"exception card_and_code without keypad", Config{Exceptions: []Exception{{Date: Date{2026, 1, 1}, WholeDay: true, Mode: CardAndCode}}}, "exception", 0, -1, "needs a reader with a keypad"},
		{"exception overlap", Config{Exceptions: []Exception{
			{Date: Date{2026, 1, 1}, WholeDay: true, Mode: Locked},
			{Date: Date{2026, 1, 1}, Start: tod("10:00"), End: tod("11:00"), Mode: Unlocked},
		}}, "exception", 1, 0, "on 2026-01-01"},
		{"exception bad date", Config{Exceptions: []Exception{{Date: Date{2026, 2, 30}, WholeDay: true, Mode: Locked}}}, "exception", 0, -1, "not a valid date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if se.Kind != tt.kind || se.Index != tt.index || se.Other != tt.other || !strings.Contains(se.Rule, tt.rule) {
				t.Errorf("err = %+v, want %s[%d] other %d rule ~%q", se, tt.kind, tt.index, tt.other, tt.rule)
			}
			if !strings.HasPrefix(err.Error(), "schedule: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := New(Config{Default: CardAndCode}); err == nil {
		t.Error("default card_and_code without keypad accepted")
	}
	if _, err := NewAccess(nil, []Window{{Days: mon, Start: tod("08:00"), End: tod("09:00"), Mode: Locked}}); err == nil {
		t.Error("access schedule with a mode accepted")
	}
}

func TestParsers(t *testing.T) {
	good := map[string]TimeOfDay{"00:00": 0, "08:30": 510, "23:59": 1439, "24:00": 1440}
	for s, want := range good {
		if got, err := ParseTimeOfDay(s); err != nil || got != want {
			t.Errorf("ParseTimeOfDay(%q) = %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "8:00", "24:01", "12:60", "25:00", "aa:bb", "12-00", "１２:００", "+1:00"} {
		if _, err := ParseTimeOfDay(s); err == nil {
			t.Errorf("ParseTimeOfDay(%q) accepted", s)
		}
	}
	if _, err := ParseDays([]string{"mon", "Tue"}); err == nil || !strings.Contains(err.Error(), `"Tue"`) {
		t.Errorf("ParseDays(Tue) = %v", err)
	}
	if d, err := ParseDays([]string{"sun", "sat"}); err != nil || d[0] != time.Sunday || d[1] != time.Saturday {
		t.Errorf("ParseDays = %v, %v", d, err)
	}
	for _, s := range []string{"2026-02-30", "2026-1-01", "20260101", ""} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted", s)
		}
	}
	if _, err := ParseMode("card_and_code"); err != nil {
		t.Error(err)
	}
	if _, err := ParseMode("Locked"); err == nil {
		t.Error("ParseMode(Locked) accepted")
	}
}

func TestAccess(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	a, err := NewAccess(ny, []Window{{Days: []time.Weekday{time.Monday}, Start: tod("07:00"), End: tod("20:00")}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at   string
		want bool
	}{
		{"2026-06-01T10:59:00Z", false}, // Monday 06:59 EDT
		{"2026-06-01T11:00:00Z", true},
		{"2026-06-01T23:59:00Z", true},
		{"2026-06-02T00:00:00Z", false},
		{"1970-01-05T12:00:00Z", false}, // clock not set
	}
	for _, tt := range tests {
		if got := a.Allows(utc(tt.at)); got != tt.want {
			t.Errorf("Allows(%s) = %v", tt.at, got)
		}
	}
	var always *Access
	if !always.Allows(time.Unix(0, 0)) {
		t.Error("nil Access refuses")
	}
}

// FuzzParse feeds the config parsers arbitrary strings: no panic, and a
// value that parses formats back to itself.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"08:00", "24:00", "2026-12-24", "mon", "card_and_code", "99:99", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := ParseTimeOfDay(s); err == nil && v.String() != s {
			t.Errorf("ParseTimeOfDay(%q) round-trips to %q", s, v)
		}
		if v, err := ParseDate(s); err == nil && v.String() != s {
			t.Errorf("ParseDate(%q) round-trips to %q", s, v)
		}
		_, _ = ParseDay(s)
		_, _ = ParseMode(s)
	})
}

// FuzzNext checks on arbitrary windows and instants that Next is a real
// change and the mode holds until it.
func FuzzNext(f *testing.F) {
	f.Add(uint8(0), uint16(90), uint16(150), int64(1774744200), uint8(0))
	f.Add(uint8(0x7f), uint16(0), uint16(1440), int64(1792800000), uint8(1))
	f.Fuzz(func(t *testing.T, days uint8, start, end uint16, unix int64, zone uint8) {
		zones := []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"}
		loc := mustLoc(t, zones[int(zone)%len(zones)])
		var wd []time.Weekday
		for d := 0; d < 7; d++ {
			if days&(1<<d) != 0 {
				wd = append(wd, time.Weekday(d))
			}
		}
		s, err := New(Config{Location: loc, Windows: []Window{{Days: wd, Start: TimeOfDay(start), End: TimeOfDay(end), Mode: Locked}}})
		if err != nil {
			return
		}
		at := time.Unix(unix%(1<<36), 0)
		m := s.Mode(at)
		n := s.Next(at)
		if n.IsZero() {
			return
		}
		if !n.After(at) {
			t.Fatalf("Next(%v) = %v not after", at, n)
		}
		if s.Mode(n) == m {
			t.Fatalf("Next(%v) = %v but mode stays %q", at, n, m)
		}
		if mid := at.Add(n.Sub(at) / 2); s.Mode(mid) != m {
			t.Fatalf("mode changes before Next at %v", mid)
		}
	})
}

// TestTextParse: the file's spelling of windows and exceptions is read
// here, and every broken rule of an entry is reported with its field.
func TestTextParse(t *testing.T) {
	p := func(s string) *string { return &s }
	w, err := WindowText{Days: []string{"mon", "fri"}, Start: p("08:00"), End: p("24:00"), Mode: p("unlocked")}.Parse(0, true)
	if err != nil || len(w.Days) != 2 || w.Start != 480 || w.End != 1440 || w.Mode != Unlocked {
		t.Fatalf("window = %+v, %v", w, err)
	}
	_, err = WindowText{Days: []string{"mon", "mon"}, Start: p("24:00"), Mode: p("open")}.Parse(3, true)
	want := map[string]string{
		"schedule[3].days":  `"mon" is listed twice`,
		"schedule[3].start": "24:00 is allowed only as an end time",
		"schedule[3].end":   "is required (HH:MM, 24:00 for midnight)",
		"schedule[3].mode":  `"open" is not one of "locked", "access_controlled", "card_and_code", "unlocked"`,
	}
	got := map[string]string{}
	for _, e := range Errors(err) {
		got[e.Key()] = e.Message("")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("window errors = %v, want %v", got, want)
	}
	if _, err := (WindowText{Days: []string{"mon"}, Start: p("08:00"), End: p("09:00"), Mode: p("locked")}).Parse(0, false); err == nil {
		t.Error("access window with a mode accepted")
	}
	x, err := ExceptionText{Date: p("2026-12-24"), Mode: p("locked")}.Parse(0)
	if err != nil || !x.WholeDay || x.Date != (Date{2026, time.December, 24}) {
		t.Errorf("exception = %+v, %v", x, err)
	}
	_, err = ExceptionText{Date: p("2026-02-30"), Start: p("8:00")}.Parse(1)
	if es := Errors(err); len(es) != 3 || es[0].Key() != "exception[1].date" || es[1].Key() != "exception[1].start" || es[2].Key() != "exception[1].mode" {
		t.Errorf("exception errors = %v", err)
	}
}

// TestAllErrors: New reports every broken rule, not only the first, and
// an overlap names the entry it overlaps.
func TestAllErrors(t *testing.T) {
	mon := []time.Weekday{time.Monday}
	_, err := New(Config{Default: CardAndCode, NoKeypad: "no keypad here", Windows: []Window{
		{Days: mon, Start: tod("08:00"), End: tod("12:00"), Mode: Locked},
		{Days: mon, Start: tod("11:00"), End: tod("13:00"), Mode: Unlocked},
		{Days: mon, Start: tod("14:00"), End: tod("13:00"), Mode: Locked},
	}})
	es := Errors(err)
	if len(es) != 3 {
		t.Fatalf("errors = %v", err)
	}
	if es[0].Key() != "default_mode" || es[0].Rule != "no keypad here" {
		t.Errorf("first = %+v", es[0])
	}
	if es[1].Key() != "schedule[1]" || es[1].Message("W0") != "overlaps W0 on mon: 08:00–12:00 and 11:00–13:00" {
		t.Errorf("second = %+v", es[1])
	}
	if es[2].Key() != "schedule[2].end" {
		t.Errorf("third = %+v", es[2])
	}
}
