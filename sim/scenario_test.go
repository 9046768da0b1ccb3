package sim

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchd/latch/reader"
)

func TestParseScript(t *testing.T) {
	src := `# a comment line
config   door.toml                 # relative to the script
clock    2026-03-29T00:59:00+01:00

user     alice groups=staff;night start=2026-01-01T00:00:00Z end=2027-01-01T00:00:00Z
user     bob suspended=true
card     alice h10301 1 1001
card     bob h10306 7 99 active=false
entry    alice 1234
mfa      alice 987654
badge    h10301 1 1001
badge    back-in h10304 65535 524287
badgeraw 1011
badgeraw front-in 11101010000011011100000010
keys     1234#
keys     front-in *#   # clear then submit
keys #
wait     1m30s
open
close back
rex
`
	s, err := ParseScript(strings.NewReader(src), "x.scn")
	if err != nil {
		t.Fatal(err)
	}
	ts := func(v string) time.Time { t, _ := time.Parse(time.RFC3339, v); return t }
	want := []Step{
		{Line: 2, Kind: StepConfig, Path: "door.toml"},
		{Line: 3, Kind: StepClock, Time: ts("2026-03-29T00:59:00+01:00")},
		{Line: 5, Kind: StepUser, Name: "alice", Groups: []string{"staff", "night"}, Start: ts("2026-01-01T00:00:00Z"), End: ts("2027-01-01T00:00:00Z")},
		{Line: 6, Kind: StepUser, Name: "bob", Suspended: true},
		{Line: 7, Kind: StepCard, Name: "alice", Format: reader.H10301, FacilityCode: 1, CardNumber: 1001},
		{Line: 8, Kind: StepCard, Name: "bob", Format: reader.H10306, FacilityCode: 7, CardNumber: 99, Inactive: true},
		{Line: 9, Kind: StepEntry, Name: "alice", Code: []byte("1234")},
		{Line: 10, Kind: StepMFA, Name: "alice", Code: []byte("987654")},
		{Line: 11, Kind: StepBadge, Format: reader.H10301, FacilityCode: 1, CardNumber: 1001},
		{Line: 12, Kind: StepBadge, Reader: "back-in", Format: reader.H10304, FacilityCode: 65535, CardNumber: 524287},
		{Line: 13, Kind: StepBadgeRaw, Bits: "1011"},
		{Line: 14, Kind: StepBadgeRaw, Reader: "front-in", Bits: "11101010000011011100000010"},
		{Line: 15, Kind: StepKeys, Keys: []byte("1234#")},
		{Line: 16, Kind: StepKeys, Reader: "front-in", Keys: []byte("*#")},
		{Line: 17, Kind: StepKeys, Keys: []byte("#")},
		{Line: 18, Kind: StepWait, Wait: 90 * time.Second},
		{Line: 19, Kind: StepOpen},
		{Line: 20, Kind: StepClose, Door: "back"},
		{Line: 21, Kind: StepREX},
	}
	if d := cmp.Diff(want, s.Steps); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown command", "jump 3\n", "s.scn:1: unknown command \"jump\""},
		{"config twice", "config a.toml\nconfig b.toml\n", "s.scn:2: config is already set on line 1"},
		{"clock late", "user a\nclock 2026-01-01T00:00:00Z\n", "s.scn:2: clock must come before"},
		{"bad clock", "clock yesterday\n", "s.scn:1: clock: \"yesterday\" is not an RFC 3339 time"},
		{"clock without zone", "clock 2026-01-01T00:00:00\n", "s.scn:1: clock:"},
		{"user no name", "user\n", "s.scn:1: usage: user NAME"},
		{"user bad key", "user a colour=red\n", "s.scn:1: user: unknown key \"colour\""},
		{"user not kv", "user a staff\n", "s.scn:1: user: \"staff\" is not key=value"},
		{"user bad start", "user a start=monday\n", "s.scn:1: user: start: \"monday\" is not an RFC 3339 time"},
		{"user end before start", "user a start=2026-02-01T00:00:00Z end=2026-01-01T00:00:00Z\n", "s.scn:1: user: end is not after start"},
		{"user bad suspended", "user a suspended=maybe\n", "s.scn:1: user: suspended: \"maybe\" is not true or false"},
		{"user empty group", "user a groups=staff;;x\n", "s.scn:1: user: groups: group name must be"},
		{"card args", "card a h10301 1\n", "s.scn:1: usage: card NAME FORMAT FC CN"},
		{"card option", "card a h10301 1 2 active=no\n", "s.scn:1: card: \"active=no\": the only option is active=false"},
		{"card format", "card a h999 1 2\n", "s.scn:1: card: \"h999\" is not a card format"},
		{"card fc range", "card a h10301 256 1\n", "s.scn:1: card: facility code \"256\" is not a number 0–255 (8 bits in h10301)"},
		{"card cn range", "card a h10301 1 65536\n", "s.scn:1: card: card number \"65536\" is not a number 0–65535"},
		{"card negative", "card a h10301 -1 1\n", "s.scn:1: card: facility code \"-1\""},
		{"h10302 facility", "badge h10302 5 1\n", "s.scn:1: badge: h10302 has no facility code: FC must be 0"},
		{"entry short", "entry a 123\n", "s.scn:1: entry: the code must be 4–16 ASCII digits 0-9"},
		{"mfa letters", "mfa a 12ab\n", "s.scn:1: mfa: the code must be 4–16 ASCII digits 0-9"},
		{"mfa unicode digits", "mfa a ١٢٣٤\n", "s.scn:1: mfa: the code must be"},
		{"duress short", "duress a 123\n", "s.scn:1: duress: the code must be 4–16 ASCII digits 0-9"},
		{"duress args", "duress a\n", "s.scn:1: usage: duress NAME CODE"},
		{"badge args", "badge\n", "s.scn:1: usage: badge [READER] FORMAT FC CN"},
		{"badgeraw bits", "badgeraw 10201\n", "s.scn:1: badgeraw: bits must be 1–128 characters 0 or 1"},
		{"keys none", "keys\n", "s.scn:1: usage: keys [READER] KEYS"},
		{"keys bad", "keys r1 12a4\n", "s.scn:1: keys: after the reader name come the keys"},
		{"keys trailing", "keys 1234# extra\n", "s.scn:1: keys: unexpected text after the keys"},
		{"wait bad", "wait 10 seconds\n", "s.scn:1: usage: wait DURATION"},
		{"wait unit", "wait 10\n", "s.scn:1: wait: \"10\" is not a Go duration"},
		{"wait negative", "wait -1s\n", "s.scn:1: wait: -1s is outside"},
		{"open two doors", "open a b\n", "s.scn:1: usage: open [DOOR]"},
		{"line number", "\n\n# c\nwait 1s\nwat\n", "s.scn:5: unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScript(strings.NewReader(tc.src), "s.scn")
			var se *ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want a *ScriptError", err, err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %q, want prefix %q", err, tc.want)
			}
		})
	}
}

// TestParseErrorsHideCodes: a malformed line never echoes a code or keys.
func TestParseErrorsHideCodes(t *testing.T) {
	for _, src := range []string{"entry a 12345678901234567\n", "mfa a 99x9\n", "duress a 12345678901234567\n", "keys r1 12345 678\n", "keys 12345 678\n"} {
		_, err := ParseScript(strings.NewReader(src), "s.scn")
		if err == nil {
			t.Fatalf("%q accepted", src)
		}
		for _, secret := range []string{"1234567890", "99x9", "12345", "678"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q reveals %q", err, secret)
			}
		}
	}
}

func TestParseLongLine(t *testing.T) {
	_, err := ParseScript(strings.NewReader("wait 1s\n"+strings.Repeat("x", 5000)+"\n"), "s.scn")
	if err == nil || !strings.HasPrefix(err.Error(), "s.scn:2: line is longer") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParseScript(f *testing.F) {
	for _, s := range []string{
		"config a.toml\nclock 2026-03-29T00:59:00+01:00\nuser a groups=x;y\ncard a h10301 1 2\nbadge h10301 1 2\nkeys 1234#\n",
		"badgeraw r 0101\nwait 5s\nopen\nclose d\nrex\n",
		"keys # \nkeys r *#  # c\nentry a 0000\nmfa b 1234567890123456\n",
		"user a start=2026-01-01T00:00:00Z end=2026-01-02T00:00:00Z suspended=true\n",
		"user a\nduress a 9876\nduress b 12x4\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := ParseScript(strings.NewReader(src), "f.scn")
		if err != nil {
			var se *ScriptError
			if errors.As(err, &se) && (se.Line < 1 || se.File != "f.scn") {
				t.Fatalf("bad position in %v", err)
			}
			return
		}
		for _, st := range s.Steps {
			if st.Line < 1 || st.Kind == "" {
				t.Fatalf("bad step %+v", st)
			}
			if st.Kind == StepKeys && len(st.Keys) == 0 {
				t.Fatalf("keys step without keys: %+v", st)
			}
		}
	})
}

// TestCommandsAreParsed: every command Commands lists is one the parser
// knows (a bare line is at most a usage error, never "unknown command"),
// and a made-up one is refused with the whole list.
func TestCommandsAreParsed(t *testing.T) {
	for _, c := range Commands() {
		_, _, err := ParseLine(string(c), 1)
		if err != nil && strings.Contains(err.Error(), "unknown command") {
			t.Errorf("%s: %v", c, err)
		}
	}
	_, _, err := ParseLine("teleport front", 1)
	if err == nil || !strings.Contains(err.Error(), "duress") || !strings.Contains(err.Error(), "or restart") {
		t.Errorf("unknown command: %v", err)
	}
}
