package config

import (
	"reflect"
	"slices"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/reader"
)

// DoorConfig is the door package's configuration of the door named name:
// the door's own settings with relay as the strike's output, its readers
// with their feedback outputs (a reader missing from feedback has none),
// the groups and [mfa]. It panics if no door has that name.
func (c *Config) DoorConfig(name string, relay gpio.PinOut, feedback map[string]reader.Feedback) door.Config {
	d := c.door(name)
	dc := d.Config
	dc.Relay = relay
	for _, r := range c.Readers {
		if r.Door != name {
			continue
		}
		fb, ok := feedback[r.Name]
		if !ok {
			fb.Active = r.Feedback.Active
		}
		dc.Readers = append(dc.Readers, door.ReaderConfig{Name: r.Name, Direction: r.Direction, Keypad: r.HasKeypad(), Feedback: fb})
	}
	for _, g := range c.Groups {
		dc.Groups = append(dc.Groups, g.Group)
	}
	dc.MFA = c.MFA
	dc.Inputs = c.doorInputs(name)
	return dc
}

// doorInputs are the [[input]]s that act on door name; an alarm input is
// reported by the first door it names (one event per edge).
func (c *Config) doorInputs(name string) []door.InputConfig {
	var out []door.InputConfig
	for _, in := range c.Inputs {
		if slices.Contains(in.Doors, name) {
			out = append(out, door.InputConfig{Name: in.Name, Action: in.Action, Report: in.Doors[0] == name})
		}
	}
	return out
}

func (c *Config) door(name string) Door {
	i := slices.IndexFunc(c.Doors, func(d Door) bool { return d.Name == name })
	if i < 0 {
		panic("config: no door " + name)
	}
	return c.Doors[i]
}

// doorView is everything a running door depends on, without line numbers.
type doorView struct {
	Door    Door
	Zone    string
	Readers []Reader
	Groups  []door.Group
	MFA     door.MFAConfig
	Inputs  []door.InputConfig
}

func (c *Config) view(name string) (v doorView, ok bool) {
	i := slices.IndexFunc(c.Doors, func(d Door) bool { return d.Name == name })
	if i < 0 {
		return v, false
	}
	v.Door = c.Doors[i]
	v.Zone = v.Door.Location.String()
	v.Door.Location, v.Door.Line = nil, 0
	for _, r := range c.Readers {
		if r.Door == name {
			r.Line = 0
			v.Readers = append(v.Readers, r)
		}
	}
	for _, g := range c.Groups {
		if slices.Contains(g.Doors, name) { // the door ignores groups that do not name it
			v.Groups = append(v.Groups, g.Group)
		}
	}
	v.MFA = c.MFA
	v.Inputs = c.doorInputs(name)
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
