package config

import (
	"strings"
	"testing"

	"github.com/latchd/latch/door"
)

// TestOpsErrors: the [[input]], double-badge and first-person-in keys are
// checked with FILE:LINE: key: rule.
func TestOpsErrors(t *testing.T) {
	doorS := "[[door]]\nname = \"front\"\nrelay = \"GPIO23\"\n" // lines 1–3
	input := func(extra string) string {
		return "[[input]]\nname = \"fire\"\npin = \"GPIO16\"\naction = \"emergency_release\"\n" + extra // 4–7, extra from 8
	}
	fpi := "[[door.schedule]]\ndays = [\"mon\"]\nstart = \"08:00\"\nend = \"17:00\"\n" // 4–7
	for _, c := range []struct {
		name, doc string
		want      []string
	}{
		{"pin named twice", doorS + input("") + "[[input]]\nname = \"panic\"\npin = \"GPIO23\"\naction = \"lockdown\"\n",
			[]string{"t.toml:10: input[1].pin: pin GPIO23 is already used by door[0].relay (line 3)"}},
		{"input door missing", doorS + input("doors = [\"back\"]\n"), []string{"t.toml:8: input[0].doors: door \"back\" does not exist"}},
		{"input name twice", doorS + input("") + "[[input]]\nname = \"fire\"\npin = \"GPIO5\"\naction = \"alarm\"\n",
			[]string{"t.toml:9: input[1].name: input \"fire\" is already defined at input[0] (line 4)"}},
		{"bad action", doorS + "[[input]]\nname = \"x\"\npin = \"GPIO16\"\naction = \"sprinkle\"\n",
			[]string{"t.toml:7: input[0].action: \"sprinkle\" is not one of"}},
		{"no action", doorS + "[[input]]\nname = \"x\"\npin = \"GPIO16\"\n", []string{"t.toml:4: input[0].action: is required"}},
		{"empty doors", doorS + input("doors = []\n"), []string{"t.toml:8: input[0].doors: must name at least one door"}},
		{"first_person_in not unlocked", doorS + fpi + "mode = \"locked\"\nfirst_person_in = true\n",
			[]string{"t.toml:9: door[0].schedule[0].first_person_in: first_person_in needs mode = \"unlocked\""}},
		{"first_person_groups alone", doorS + fpi + "mode = \"unlocked\"\nfirst_person_groups = [\"staff\"]\n",
			[]string{"t.toml:9: door[0].schedule[0].first_person_groups: only with first_person_in = true"}},
		{"first person group missing", doorS + fpi + "mode = \"unlocked\"\nfirst_person_in = true\nfirst_person_groups = [\"staff\"]\n",
			[]string{"t.toml:10: door[0].schedule[0].first_person_groups: group \"staff\" does not exist"}},
		{"double badge window range", doorS + "double_badge = true\ndouble_badge_window = \"2m\"\n",
			[]string{"t.toml:5: door[0].double_badge_window: 2m0s is outside 1s–30s"}},
		{"double badge groups without double badge", doorS + "double_badge_groups = [\"x\"]\n",
			[]string{"t.toml:4: door[0].double_badge_groups: only with double_badge = true"}},
		{"double badge group missing", doorS + "double_badge = true\ndouble_badge_groups = [\"x\"]\n",
			[]string{"t.toml:5: door[0].double_badge_groups: group \"x\" does not exist"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc), "t.toml")
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant %q", err, w)
				}
			}
		})
	}
}

// TestInputs: an input's defaults (active low, every door) and the door
// configs it reaches: an alarm is reported by its first door only.
func TestInputs(t *testing.T) {
	doc := "[[door]]\nname = \"front\"\nrelay = \"GPIO23\"\n[[door]]\nname = \"back\"\nrelay = \"GPIO24\"\n" +
		"[[input]]\nname = \"fire\"\npin = \"GPIO16\"\naction = \"emergency_release\"\n" +
		"[[input]]\nname = \"tamper\"\npin = \"GPIO5\"\nactive = \"high\"\naction = \"alarm\"\ndoors = [\"back\"]\n"
	cfg, err := Parse([]byte(doc), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	if in := cfg.Inputs[0]; strings.Join(in.Doors, ",") != "front,back" || in.Active != false || in.Line != 7 {
		t.Errorf("fire: %+v", in)
	}
	front := cfg.DoorConfig("front", nil, nil).Inputs
	back := cfg.DoorConfig("back", nil, nil).Inputs
	if len(front) != 1 || front[0] != (door.InputConfig{Name: "fire", Action: door.InputEmergencyRelease, Report: true}) {
		t.Errorf("front inputs %+v", front)
	}
	if len(back) != 2 || back[0].Report || !back[1].Report || back[1].Action != door.InputAlarm {
		t.Errorf("back inputs %+v", back)
	}
}
