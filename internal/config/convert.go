package config

import (
	"reflect"
	"slices"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// GPIOLevel is l as periph's level.
func (l Level) GPIOLevel() gpio.Level { return l == High }

// DecoderConfig is the reader package's decoding configuration of r.
func DecoderConfig(r Reader) reader.Config {
	return reader.Config{
		Name:         r.Name,
		Formats:      append([]string(nil), r.Formats...),
		RawByteOrder: reader.ByteOrder(r.RawByteOrder),
		Keypad:       reader.KeypadMode(r.Keypad),
		Star:         r.Star,
		Hash:         r.Hash,
		MaxFrameGap:  r.MaxFrameGap,
	}
}

// Feedback holds a reader's feedback output lines; each may be nil.
type Feedback struct {
	LEDGreen, LEDRed, Beeper gpio.PinOut
}

// DoorConfig is the door package's configuration of the door named name.
// relay drives the strike; feedback gives each of the door's readers' output
// lines (a reader missing from it has none). It panics if no door has that name.
func (c *Config) DoorConfig(name string, relay gpio.PinOut, feedback map[string]Feedback) door.Config {
	d := c.door(name)
	dc := door.DefaultConfig()
	dc.Name = d.Name
	dc.Location = d.Location
	dc.Relay = relay
	dc.RelayActive = d.RelayActive.GPIOLevel()
	dc.Debounce = d.Debounce
	dc.UnlockTime = d.UnlockTime
	dc.RexUnlocks = d.REXUnlocks
	dc.RexUnlockTime = d.REXUnlockTime
	dc.RelockOnOpen = d.RelockOnOpen
	dc.HeldOpenTime = d.HeldOpenTime
	dc.DefaultMode = schedule.Mode(d.DefaultMode)
	dc.ClockUnknownMode = schedule.Mode(d.ClockUnknownMode)
	dc.SecondFactor = d.SecondFactor
	dc.Schedule = windows(d.Schedule)
	for _, e := range d.Exceptions {
		dc.Exceptions = append(dc.Exceptions, schedule.Exception{
			Date:     schedule.Date{Year: e.Date.Year, Month: e.Date.Month, Day: e.Date.Day},
			WholeDay: e.Start == 0 && e.End == 24*60,
			Start:    schedule.TimeOfDay(e.Start),
			End:      schedule.TimeOfDay(e.End),
			Mode:     schedule.Mode(e.Mode),
		})
	}
	for _, r := range c.Readers {
		if r.Door != name {
			continue
		}
		fb := feedback[r.Name]
		dc.Readers = append(dc.Readers, door.ReaderConfig{
			Name:           r.Name,
			Direction:      r.Direction,
			Keypad:         r.HasKeypad(),
			LEDGreen:       fb.LEDGreen,
			LEDRed:         fb.LEDRed,
			Beeper:         fb.Beeper,
			FeedbackActive: r.FeedbackActive.GPIOLevel(),
		})
	}
	for _, g := range c.Groups {
		dc.Groups = append(dc.Groups, door.Group{Name: g.Name, Doors: append([]string(nil), g.Doors...), Schedule: windows(g.Schedule)})
	}
	dc.MFA = door.MFAConfig{
		EntryCodeFallback: c.MFA.EntryCodeFallback,
		CodeTimeout:       c.MFA.CodeTimeout,
		KeyTimeout:        c.MFA.KeyTimeout,
		MaxCodeAttempts:   c.MFA.MaxCodeAttempts,
		LockoutWindow:     c.MFA.LockoutWindow,
		LockoutTime:       c.MFA.LockoutTime,
	}
	return dc
}

func windows(ws []Window) []schedule.Window {
	var out []schedule.Window
	for _, w := range ws {
		out = append(out, schedule.Window{Days: append([]time.Weekday(nil), w.Days...),
			Start: schedule.TimeOfDay(w.Start), End: schedule.TimeOfDay(w.End), Mode: schedule.Mode(w.Mode)})
	}
	return out
}

func (c *Config) door(name string) Door {
	for _, d := range c.Doors {
		if d.Name == name {
			return d
		}
	}
	panic("config: no door " + name)
}

// doorView is everything a running door depends on, without line numbers.
type doorView struct {
	Door    Door
	Zone    string
	Readers []Reader
	Groups  []Group
	MFA     MFA
}

func (c *Config) view(name string) (doorView, bool) {
	var v doorView
	found := false
	for _, d := range c.Doors {
		if d.Name == name {
			v.Door, found = d, true
		}
	}
	if !found {
		return v, false
	}
	v.Zone = v.Door.Location.String()
	v.Door.Location, v.Door.Line = nil, 0
	v.Door.Schedule = append([]Window(nil), v.Door.Schedule...)
	for i := range v.Door.Schedule {
		v.Door.Schedule[i].Line = 0
	}
	v.Door.Exceptions = append([]Exception(nil), v.Door.Exceptions...)
	for i := range v.Door.Exceptions {
		v.Door.Exceptions[i].Line = 0
	}
	for _, r := range c.Readers {
		if r.Door == name {
			r.Line = 0
			v.Readers = append(v.Readers, r)
		}
	}
	for _, g := range c.Groups {
		if !slices.Contains(g.Doors, name) {
			continue // the door ignores groups that do not name it
		}
		g.Line = 0
		g.Schedule = append([]Window(nil), g.Schedule...)
		for i := range g.Schedule {
			g.Schedule[i].Line = 0
		}
		v.Groups = append(v.Groups, g)
	}
	v.MFA = c.MFA
	return v, true
}

// DoorUnchanged reports whether door name exists in both configs with
// everything it depends on equal: its own settings, its readers, the [mfa]
// section and the groups that name it. A reload keeps such a door running, so a code
// being typed on it is not dropped.
func DoorUnchanged(old, new *Config, name string) bool {
	a, ok1 := old.view(name)
	b, ok2 := new.view(name)
	return ok1 && ok2 && reflect.DeepEqual(a, b)
}
