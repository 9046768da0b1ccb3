package eventfmt

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/latchd/latch/door"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		color bool
		want  string
	}{
		{"grant", `{"time":"2026-03-02T08:00:01.250Z","seq":7,"event":"access_granted","door":"front","reader":"front-in","user_id":"u1","external_id":"alice","card":{"format":"h10301","facility_code":1,"card_number":1001},"method":"card_and_code"}`,
			false, "2026-03-02 08:00:01.250 front        access_granted   method=card_and_code user=alice (u1) reader=front-in card=h10301/1/1001"},
		{"deny", `{"time":"2026-03-02T08:00:01.250Z","event":"access_denied","door":"front","reason":"wrong_code","reader":"front-in"}`,
			false, "2026-03-02 08:00:01.250 front        access_denied    reason=wrong_code reader=front-in"},
		{"user id alone", `{"time":"2026-03-02T09:00:00Z","event":"access_granted","door":"front","method":"card_and_code","user_id":"u1"}`,
			false, "2026-03-02 09:00:00.000 front        access_granted   method=card_and_code user=u1"},
		{"mode", `{"time":"2026-03-02T08:00:00.000Z","event":"mode_changed","door":"front","from":"access_controlled","to":"card_and_code","cause":"schedule"}`,
			false, "2026-03-02 08:00:00.000 front        mode_changed     cause=schedule from=access_controlled to=card_and_code"},
		{"event logged by latchd: level and message left out", `{"level":"info","time":"2026-03-02T08:00:00Z","seq":3,"event":"rex","door":"front","mode":"locked"}`,
			false, "2026-03-02 08:00:00.000 front        rex              mode=locked"},
		{"credential change without a door", `{"time":"2026-03-02T08:00:00Z","event":"credential_changed","user_id":"u1","action":"mfa_code_added","actor":"integrator 1"}`,
			false, `2026-03-02 08:00:00.000              credential_changed user=u1 action=mfa_code_added actor="integrator 1"`},
		{"coloured deny", `{"time":"2026-03-02T08:00:01.250Z","event":"access_denied","door":"front","reason":"bad_read"}`,
			true, Grey + "2026-03-02 08:00:01.250" + Reset + " " + Bold + "front       " + Reset + " " + Red + "access_denied   " + Reset + " reason=bad_read"},
		{"coloured grant", `{"time":"2026-03-02T08:00:01.250Z","event":"access_granted","door":"front","method":"card"}`,
			true, Grey + "2026-03-02 08:00:01.250" + Reset + " " + Bold + "front       " + Reset + " " + Green + "access_granted  " + Reset + " method=card"},
		{"plain", `{"level":"warn","component":"door","time":"2026-03-02T08:00:00Z","message":"dps input is noisy","door":"front"}`,
			false, "2026-03-02 08:00:00.000 WARN  door: dps input is noisy door=front"},
		{"coloured error", `{"level":"error","time":"2026-03-02T08:00:00Z","message":"relay write failed"}`,
			true, Grey + "2026-03-02 08:00:00.000" + Reset + " " + Red + "ERROR" + Reset + " relay write failed"},
		{"secrets dropped from a plain line", `{"level":"info","time":"2026-03-02T08:00:00Z","message":"x","code":"123456","keys":"99#","Token":"abc"}`,
			false, "2026-03-02 08:00:00.000 INFO  x"},
		{"secrets dropped from an event", `{"time":"2026-03-02T08:00:00Z","event":"access_denied","door":"front","reason":"wrong_code","code":"123456","pin":"1"}`,
			false, "2026-03-02 08:00:00.000 front        access_denied    reason=wrong_code"},
		{"a value with a newline stays on the line", `{"level":"info","time":"2026-03-02T08:00:00Z","message":"m","err":"a\nb"}`,
			false, `2026-03-02 08:00:00.000 INFO  m err="a\nb"`},
		{"not a time", `{"time":"soon","event":"rex","door":"front"}`,
			false, "soon                    front        rex             "},
		{"terminal escapes in drawn values are shown, not acted on", `{"time":"2026-03-02T08:00:00Z","event":"access_granted","door":"fr\u001b[2Jont","external_id":"\u001b]0;pwned\u0007al","user_id":"u\u009b1","reader":"r\u202eni"}`,
			false, `2026-03-02 08:00:00.000 fr\x1b[2Jont access_granted   user=\x1b]0;pwned\aal (u\u009b1) reader=r\u202eni`},
		{"terminal escapes in keys and other values", `{"level":"info","component":"a\u001bpi","time":"2026-03-02T08:00:00Z","message":"m\u001b[31m","x\u001by":"v\u009bw","ok":"é"}`,
			false, `2026-03-02 08:00:00.000 INFO  a\x1bpi: m\x1b[31m ok=é x\x1by="v\u009bw"`},
		{"a message with a newline stays on the line", `{"level":"info","time":"2026-03-02T08:00:00Z","message":"a\r\nb"}`,
			false, `2026-03-02 08:00:00.000 INFO  a\r\nb`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode([]byte(tc.line))
			if err != nil {
				t.Fatal(err)
			}
			got := Style{Color: tc.color, Loc: time.UTC}.Line(m)
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, in := range []string{"", "hello", "[1,2]", "null", `{"a":`} {
		if _, err := Decode([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "eventfmt: ") {
			t.Errorf("Decode(%q) = %v, want an eventfmt error", in, err)
		}
	}
}

// FuzzLine: any input either fails to decode or draws one line without a
// panic, and a secret-named field never shows.
func FuzzLine(f *testing.F) {
	f.Add([]byte(`{"time":"2026-03-02T08:00:01.250Z","event":"access_granted","door":"front","card":{"format":"h10301","facility_code":1,"card_number":1001}}`))
	f.Add([]byte(`{"level":"warn","component":"door","message":"x\ny","err":"a b"}`))
	f.Add([]byte(`{"event":null,"card":"x","user_id":7}`))
	f.Add([]byte(`not json`))
	const secret = "zq9SECRETzq9"
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, color := range []bool{false, true} {
			m, err := Decode(b)
			if err != nil {
				return
			}
			m["code"], m["Keys"] = secret, secret
			line := Style{Color: color, Loc: time.UTC}.Line(m)
			if strings.ContainsAny(line, "\n\r") {
				t.Errorf("line %q spans lines", line)
			}
			if !color && strings.ContainsFunc(line, func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }) {
				t.Errorf("line %q holds a character a terminal would act on", line)
			}
			if strings.Contains(line, secret) && !strings.Contains(string(b), secret) {
				t.Errorf("line %q shows a secret field", line)
			}
		}
	})
}

// TestEveryDoorEventColoured: every event the door writes has a colour
// chosen for it, not the fallback for kinds the formatter does not know.
func TestEveryDoorEventColoured(t *testing.T) {
	for _, ev := range door.Events() {
		if _, ok := eventColors[ev]; !ok {
			t.Errorf("door event %s has no colour in eventColors", ev)
		}
	}
}
