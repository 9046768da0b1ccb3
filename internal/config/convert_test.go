package config

import (
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

const twoDoors = `
[[door]]
name  = "front"
relay = "GPIO23"
[[door]]
name  = "back"
relay = "GPIO24"
[[reader]]
name = "r1"
door = "front"
d0   = "GPIO17"
d1   = "GPIO27"
[[group]]
name  = "front-only"
doors = ["front"]
[[group]]
name  = "back-only"
doors = ["back"]
`

func TestDoorUnchanged(t *testing.T) {
	old, err := Parse([]byte(twoDoors), "a.toml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		edit      func(string) string
		unchanged bool
	}{
		{"same file", func(s string) string { return s }, true},
		{"lines moved", func(s string) string { return "\n\n# comment\n" + s }, true},
		{"other door changed", func(s string) string {
			return strings.Replace(s, `relay = "GPIO24"`, "relay = \"GPIO24\"\nunlock_time = \"3s\"", 1)
		}, true},
		{"group of the other door changed", func(s string) string {
			return s + "[[group.schedule]]\ndays=[\"mon\"]\nstart=\"08:00\"\nend=\"09:00\"\n"
		}, true},
		{"own setting changed", func(s string) string {
			return strings.Replace(s, `relay = "GPIO23"`, "relay = \"GPIO23\"\nunlock_time = \"3s\"", 1)
		}, false},
		{"own reader changed", func(s string) string {
			return strings.Replace(s, `d1   = "GPIO27"`, "d1 = \"GPIO27\"\nkeypad = \"8bit\"", 1)
		}, false},
		{"mfa changed", func(s string) string { return "[mfa]\ncode_timeout = \"20s\"\n" + s }, false},
		{"group naming it changed", func(s string) string {
			return strings.Replace(s, `doors = ["front"]`, "doors = [\"front\"]\n[[group.schedule]]\ndays=[\"mon\"]\nstart=\"08:00\"\nend=\"09:00\"", 1)
		}, false},
		{"zone changed", func(s string) string { return "[controller]\ntime_zone = \"UTC\"\n" + s }, false},
		{"door removed", func(s string) string {
			return strings.ReplaceAll(s, `"front"`, `"side"`)
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, err := Parse([]byte(tc.edit(twoDoors)), "a.toml")
			if err != nil {
				t.Fatal(err)
			}
			if got := DoorUnchanged(old, next, "front"); got != tc.unchanged {
				t.Errorf("DoorUnchanged = %v, want %v", got, tc.unchanged)
			}
		})
	}
}

func TestDoorConfig(t *testing.T) {
	cfg, err := Load("../../deploy/latch.toml")
	if err != nil {
		t.Fatal(err)
	}
	relay := gpio.INVALID
	dc := cfg.DoorConfig("front", relay, map[string]reader.Feedback{})
	if dc.Name != "front" || dc.RelayActive != gpio.High || dc.UnlockTime != 10*time.Second || dc.DefaultMode != schedule.AccessControlled ||
		dc.SecondFactor != door.SecondFactorAlways || !dc.RelockOnOpen || dc.Location.String() != "Europe/Berlin" {
		t.Errorf("door config %+v", dc)
	}
	if len(dc.Schedule) != 2 || dc.Schedule[0].Mode != schedule.CardAndCode || dc.Schedule[0].Start != 8*60 || len(dc.Schedule[0].Days) != 5 {
		t.Errorf("schedule %+v", dc.Schedule)
	}
	if len(dc.Exceptions) != 1 || !dc.Exceptions[0].WholeDay || dc.Exceptions[0].Mode != schedule.Locked || dc.Exceptions[0].Date != (schedule.Date{Year: 2026, Month: time.December, Day: 24}) {
		t.Errorf("exceptions %+v", dc.Exceptions)
	}
	if len(dc.Readers) != 1 || !dc.Readers[0].Keypad || dc.Readers[0].Feedback.Active != gpio.Low || dc.Readers[0].Direction != "in" {
		t.Errorf("readers %+v", dc.Readers)
	}
	if len(dc.Groups) != 1 || len(dc.Groups[0].Schedule) != 1 || dc.Groups[0].Schedule[0].End != 20*60 {
		t.Errorf("groups %+v", dc.Groups)
	}
	if dc.MFA.MaxCodeAttempts != 3 || dc.MFA.LockoutWindow != 5*time.Minute || !dc.MFA.EntryCodeFallback {
		t.Errorf("mfa %+v", dc.MFA)
	}
	rc := cfg.Readers[0].Config
	if rc.Name != "front-in" || len(rc.Formats) != 2 || rc.Keypad != "4bit" || rc.MaxFrameGap != 30*time.Millisecond {
		t.Errorf("decoder config %+v", rc)
	}
}

// TestClockUnknownMode: the door's fail-secure mode while the clock is not
// plausible comes from the file (default locked) and reaches the door.
func TestClockUnknownMode(t *testing.T) {
	for _, tc := range []struct {
		line string
		want schedule.Mode
	}{
		{"", schedule.Locked},
		{"clock_unknown_mode = \"access_controlled\"\n", schedule.AccessControlled},
	} {
		cfg, err := Parse([]byte("[[door]]\nname = \"front\"\nrelay = \"GPIO23\"\n"+tc.line), "t.toml")
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.DoorConfig("front", gpio.INVALID, nil).ClockUnknownMode; got != tc.want {
			t.Errorf("%q: ClockUnknownMode = %q, want %q", tc.line, got, tc.want)
		}
	}
}
