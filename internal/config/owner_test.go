package config

import (
	"strings"
	"testing"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// TestRulesFromOwners: a rule the loader does not own is worded by the
// package that owns it, so the two cannot drift: the issue's rule is the
// owner's error for the same value (its package prefix left out).
func TestRulesFromOwners(t *testing.T) {
	door := "[[door]]\nname = \"front\"\nrelay = \"GPIO23\"\n"
	rdr := "[[reader]]\nname = \"r1\"\ndoor = \"front\"\nd0 = \"GPIO17\"\nd1 = \"GPIO27\"\n"
	win := func(days, start, end, mode string) string {
		return door + "[[door.schedule]]\ndays = [" + days + "]\nstart = \"" + start + "\"\nend = \"" + end + "\"\nmode = \"" + mode + "\"\n"
	}
	owner := func(err error) string {
		if err == nil {
			return "<accepted>"
		}
		for _, p := range []string{"schedule: ", "reader: "} {
			if s, ok := strings.CutPrefix(err.Error(), p); ok {
				return s
			}
		}
		return err.Error()
	}
	_, dayErr := schedule.ParseDays([]string{"monday"})
	_, timeErr := schedule.ParseTimeOfDay("8:00")
	_, modeErr := schedule.ParseMode("open")
	_, dateErr := schedule.ParseDate("2026-02-30")
	_, fmtErr := reader.ParseFormatSpec("h99999", reader.MSB)
	_, rawErr := reader.ParseFormatSpec("raw65", reader.MSB)
	tests := []struct {
		name, doc, key string
		want           error
	}{
		{"day", win(`"monday"`, "08:00", "18:00", "locked"), "door[0].schedule[0].days", dayErr},
		{"time", win(`"mon"`, "8:00", "18:00", "locked"), "door[0].schedule[0].start", timeErr},
		{"window mode", win(`"mon"`, "08:00", "18:00", "open"), "door[0].schedule[0].mode", modeErr},
		{"default mode", door + "default_mode = \"open\"\n", "door[0].default_mode", modeErr},
		{"date", door + "[[door.exception]]\ndate = \"2026-02-30\"\nmode = \"locked\"\n", "door[0].exception[0].date", dateErr},
		{"format", door + rdr + "formats = [\"h99999\"]\n", "reader[0].formats", fmtErr},
		{"raw length", door + rdr + "formats = [\"raw65\"]\n", "reader[0].formats", rawErr},
		{"keypad", door + rdr + "keypad = \"6bit\"\n", "reader[0].keypad", reader.Keypad{Mode: "6bit"}.Validate()},
		{"keys", door + rdr + "keys = { star = 3 }\n", "reader[0].keys", reader.Keypad{Mode: reader.Keypad4, Star: 3}.Validate()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ce := parseIssues(t, tc.doc, "t.toml")
			want := owner(tc.want)
			for _, is := range ce.Issues {
				if is.Key == tc.key && is.Rule == want {
					return
				}
			}
			t.Errorf("no issue %s: %q in\n%v", tc.key, want, ce)
		})
	}
}
