package sim

import (
	"errors"
	"strings"
	"testing"
)

// FuzzOpLine: the operating lines (unlock, override, lockdown, input,
// restart) parse into a step that says what to do, or fail with a line
// number; never a panic.
func FuzzOpLine(f *testing.F) {
	for _, s := range []string{
		"unlock front", "unlock front 5s", "unlock front -1s", "unlock",
		"override front locked for 2h", "override front unlocked until 2026-12-24T18:00:00+01:00",
		"override front clear", "override front open for 1h", "override front locked for", "override front locked until x",
		"lockdown all", "lockdown front back", "lockdown release all", "lockdown release front", "lockdown", "lockdown release",
		"lockdown all front", "input fire on", "input fire off", "input fire maybe", "restart", "restart 2h", "restart -1s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		st, ok, err := ParseLine(line, 7)
		if err != nil {
			var se *ScriptError
			if !errors.As(err, &se) || se.Line != 7 || se.Msg == "" {
				t.Fatalf("%q: bad error %v", line, err)
			}
			return
		}
		if !ok {
			return
		}
		switch st.Kind {
		case StepUnlock:
			if st.Door == "" || st.Duration < 0 {
				t.Fatalf("%q: %+v", line, st)
			}
		case StepOverride:
			set := 0
			for _, b := range []bool{st.Clear, st.For != 0, !st.Until.IsZero()} {
				if b {
					set++
				}
			}
			if st.Door == "" || set != 1 || (st.Clear != (st.Mode == "")) {
				t.Fatalf("%q: %+v", line, st)
			}
		case StepLockdown:
			for _, d := range st.Doors {
				if d == "" || d == "all" || strings.ContainsAny(d, " \t") {
					t.Fatalf("%q: door %q", line, d)
				}
			}
		case StepInput:
			if st.Input == "" {
				t.Fatalf("%q: %+v", line, st)
			}
		case StepRestart:
			if st.Duration < 0 || st.Duration > maxWait {
				t.Fatalf("%q: %+v", line, st)
			}
		}
	})
}
