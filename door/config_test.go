package door

import (
	"strings"
	"testing"

	"github.com/latchd/latch/schedule"
)

// TestNoKeypad: card_and_code needs a keypad on every reader that would ask
// for the code — with entry_only, the "in" readers, whatever the "out"
// readers have. The door refuses what the config loader refuses (one rule,
// Config.NoKeypad); it used to accept a keypad on any reader of the door.
func TestNoKeypad(t *testing.T) {
	for _, tc := range []struct {
		name    string
		factor  string
		in, out bool // keypads
		clock   schedule.Mode
		want    string // "" = accepted
	}{
		{"entry_only, keypad only on the exit reader", SecondFactorEntryOnly, false, true, "", `reader in of door "front" has none`},
		{"always, keypad only on the entry reader", SecondFactorAlways, true, false, "", `reader out of door "front" has none`},
		{"entry_only, keypad on the entry reader", SecondFactorEntryOnly, true, false, "", ""},
		{"clock_unknown_mode too", SecondFactorEntryOnly, false, true, schedule.CardAndCode, `clock_unknown_mode: card_and_code needs a keypad, and reader in`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := testConfig(schedule.CardAndCode)
			if tc.clock != "" {
				c.DefaultMode, c.ClockUnknownMode = schedule.Locked, tc.clock
			}
			c.SecondFactor = tc.factor
			c.Readers[0].Keypad, c.Readers[1].Keypad = tc.in, tc.out
			_, err := New(c, testCreds(), nil)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want ~%q", err, tc.want)
			}
		})
	}
}
