package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// crossCheck runs the validators of the packages that will use the config —
// reader.NewDecoder for each reader, schedule.New and schedule.NewAccess for
// each door's schedule and each group's — so that a file Load accepts is one
// they accept too. The builder's own rules are at least as strict and give
// better messages; an issue from here means the two disagree, and names the
// package's rule.
func (b *builder) crossCheck(cfg *Config) {
	for i, r := range cfg.Readers {
		if _, err := reader.NewDecoder(DecoderConfig(r)); err != nil {
			b.fail(idx("reader", i), "%s", strings.TrimPrefix(err.Error(), "reader: "))
		}
	}
	for i, d := range cfg.Doors {
		keypad := false
		for _, r := range cfg.Readers {
			keypad = keypad || (r.Door == d.Name && r.HasKeypad())
		}
		dc := cfg.DoorConfig(d.Name, nil, nil)
		_, err := schedule.New(schedule.Config{Location: d.Location, Default: dc.DefaultMode,
			Windows: dc.Schedule, Exceptions: dc.Exceptions, Keypad: keypad})
		b.scheduleIssue(idx("door", i), err)
	}
	for i, g := range cfg.Groups {
		_, err := schedule.NewAccess(cfg.Controller.Location, windows(g.Schedule))
		b.scheduleIssue(idx("group", i), err)
	}
}

func (b *builder) scheduleIssue(key string, err error) {
	if err == nil {
		return
	}
	var se *schedule.Error
	if errors.As(err, &se) {
		k := fmt.Sprintf("%s.%s[%d]", key, se.Kind, se.Index)
		if se.Other >= 0 {
			other := fmt.Sprintf("%s.%s[%d]", key, se.Kind, se.Other)
			b.fail(k, "%s (with %s, line %d)", se.Rule, other, b.pos.lineOf(other))
			return
		}
		b.fail(k, "%s", se.Rule)
		return
	}
	b.fail(key, "%s", strings.TrimPrefix(err.Error(), "schedule: "))
}
