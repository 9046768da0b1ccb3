package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// minimal is the smallest valid file: one door, one reader.
const minimal = `
[[door]]
name  = "front"
relay = "GPIO23"

[[reader]]
name = "front-in"
door = "front"
d0   = "GPIO17"
d1   = "GPIO27"
`

// loadFile writes doc to path and loads it; an error fails the test.
func loadFile(t *testing.T, path, doc string) *Config {
	t.Helper()
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// writeFile writes data to name in dir with mode, whatever the umask, and
// returns its path.
func writeFile(t *testing.T, dir, name string, data []byte, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// parseIssues parses doc as read from path and returns the *Error it must
// give; anything else fails the test.
func parseIssues(t *testing.T, doc, path string) *Error {
	t.Helper()
	cfg, err := Parse([]byte(doc), path)
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Issues) == 0 {
		t.Fatalf("err = %T %v (config %+v), want a *config.Error with issues", err, err, cfg)
	}
	return ce
}

func TestDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "latch.toml")
	cfg := loadFile(t, path, minimal)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	want := &Config{
		File: path,
		Controller: Controller{Name: "latch", Database: "/var/lib/latch/latch.db", KeyFile: "/var/lib/latch/device.key",
			TimeZone: "Europe/Berlin", Location: berlin, EventRetention: 100000, DuressActive: gpio.High},
		API: API{Socket: "/run/latch/api.sock", MaxConnections: 256, MaxConnectionsPerPeer: 16,
			HeaderTimeout: 10 * time.Second, ImportSpoolMax: 1 << 30},
		Log: Log{Format: "json", Level: "info"},
		MFA: door.MFAConfig{EntryCodeFallback: true, CodeTimeout: 10 * time.Second, KeyTimeout: 5 * time.Second,
			MaxCodeAttempts: 3, LockoutWindow: 5 * time.Minute, LockoutTime: 60 * time.Second},
		Readers: []Reader{{Config: reader.Config{Name: "front-in", Formats: []string{"h10301", "h10304"}, Keypad: "4bit",
			MaxFrameGap: 30 * time.Millisecond, RawByteOrder: "msb"},
			Door: "front", Direction: "in", D0: "GPIO17", D1: "GPIO27", Feedback: reader.FeedbackPins{Active: gpio.Low}, Line: 6}},
		Doors: []Door{{Config: door.Config{Name: "front", Location: berlin, RelayActive: gpio.High,
			Debounce: 50 * time.Millisecond, UnlockTime: 10 * time.Second,
			RexUnlockTime: 3 * time.Second, RelockOnOpen: true, HeldOpenTime: 60 * time.Second,
			DefaultMode: schedule.AccessControlled, ClockUnknownMode: schedule.Locked, SecondFactor: "always",
			DoubleBadgeWindow: 5 * time.Second},
			TimeZone: "Europe/Berlin", Relay: "GPIO23", DPSOpen: gpio.High, REXActive: gpio.Low, Line: 2}},
	}
	if d := cmp.Diff(want, cfg, cmpopts.IgnoreUnexported(time.Location{}), cmpopts.IgnoreFields(door.Config{}, "Logger"), cmp.Comparer(func(a, b *time.Location) bool {
		return a.String() == b.String()
	})); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}
}

func TestExampleFile(t *testing.T) {
	cfg, err := Load("../../deploy/latch.toml")
	if err != nil {
		t.Fatalf("deploy/latch.toml must be valid: %v", err)
	}
	d := cfg.Doors[0]
	if len(d.Schedule) != 2 || d.Schedule[0].Mode != schedule.CardAndCode || d.Schedule[0].Start != 8*60 || d.Schedule[0].End != 18*60 {
		t.Errorf("schedule = %+v", d.Schedule)
	}
	if len(d.Exceptions) != 1 || d.Exceptions[0].Date != (schedule.Date{Year: 2026, Month: time.December, Day: 24}) || d.Exceptions[0].End != 24*60 {
		t.Errorf("exceptions = %+v", d.Exceptions)
	}
	if g := cfg.Groups; len(g) != 1 || g[0].Name != "staff" || len(g[0].Schedule) != 1 || g[0].Schedule[0].Mode != "" {
		t.Errorf("groups = %+v", g)
	}
	if r := cfg.Readers[0]; r.Feedback.Green != "GPIO22" || r.Feedback.Beeper != "GPIO6" {
		t.Errorf("reader = %+v", r)
	}
}

func TestRelativePaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "latch.toml")
	os.MkdirAll(filepath.Dir(path), 0o755)
	doc := "[controller]\ndatabase = \"data/latch.db\"\nkey_file = \"../device.key\"\n[api]\nsocket = \"api.sock\"\n" + minimal
	cfg := loadFile(t, path, doc)
	for _, c := range []struct{ got, want string }{
		{cfg.Controller.Database, filepath.Join(dir, "sub", "data", "latch.db")},
		{cfg.Controller.KeyFile, filepath.Join(dir, "device.key")},
		{cfg.API.Socket, filepath.Join(dir, "sub", "api.sock")},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestErrors checks that each broken rule is refused with the file, line,
// key and rule in the message.
func TestErrors(t *testing.T) {
	door := "[[door]]\nname = \"front\"\nrelay = \"GPIO23\"\n" // lines 1–3
	rdr := func(extra string) string {
		return "[[reader]]\nname = \"r1\"\ndoor = \"front\"\nd0 = \"GPIO17\"\nd1 = \"GPIO27\"\n" + extra // lines 4–8, extra from 9
	}
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the error, each "LINE: KEY: rule…"
	}{
		{"syntax", "[controller\n", []string{"t.toml:1: ", "close table"}},
		{"unknown key", "[controller]\nname = \"x\"\nbogus = 1\n", []string{"t.toml:3: controller.bogus: unknown key"}},
		{"unknown table", "[controllr]\nname = \"x\"\n", []string{"t.toml:1: controllr: unknown table; did you mean \"controller\"?"}},
		{"misspelt key", "[controller]\ntime_zon = \"UTC\"\n", []string{`t.toml:2: controller.time_zon: unknown key; did you mean "time_zone"?`}},
		{"misspelt door key", door + "unlock_tme = \"5s\"\n", []string{`t.toml:4: door[0].unlock_tme: unknown key; did you mean "unlock_time"?`}},
		{"unknown key in door", door + "colour = \"red\"\n", []string{"t.toml:4: door[0].colour: unknown key"}},
		{"unknown key in the second door", door + "[[door]]\nname = \"back\"\nrelay = \"GPIO24\"\n[[door.schedule]]\ndays=[\"mon\"]\nstart=\"08:00\"\nend=\"09:00\"\nmode=\"locked\"\n[[door.schedule]]\nstart=\"10:00\"\nweekday=1\n",
			[]string{"t.toml:14: door[1].schedule[1].weekday: unknown key"}},
		{"wrong type in the second door", door + "[[door]]\nname = \"back\"\nrelay = \"GPIO24\"\nunlock_time = 5\n",
			[]string{"t.toml:7: door[1].unlock_time: wrong type: must be a string, not integer"}},
		{"unknown key in window", door + "[[door.schedule]]\ndays=[\"mon\"]\nstart=\"08:00\"\nend=\"09:00\"\nmode=\"locked\"\nweekday=1\n",
			[]string{"t.toml:9: door[0].schedule[0].weekday: unknown key"}},
		{"mode on group window", door + "[[group]]\nname=\"g\"\ndoors=[\"front\"]\n[[group.schedule]]\ndays=[\"mon\"]\nstart=\"08:00\"\nend=\"09:00\"\nmode=\"locked\"\n",
			[]string{"t.toml:11: group[0].schedule[0].mode: unknown key"}},
		{"wrong type string", "[controller]\nname = 12\n", []string{"t.toml:2: controller.name: wrong type: must be a string, not integer"}},
		{"wrong type int", "[mfa]\nmax_code_attempts = \"3\"\n", []string{"t.toml:2: mfa.max_code_attempts: wrong type: must be an integer, not string"}},
		{"wrong type bool", "[mfa]\nentry_code_fallback = \"yes\"\n", []string{"t.toml:2: mfa.entry_code_fallback: wrong type: must be a boolean"}},
		{"wrong type array", door + rdr("formats = \"h10301\"\n"), []string{"t.toml:9: reader[0].formats: wrong type: must be an array of strings"}},
		{"duplicate key", "[controller]\nname = \"a\"\nname = \"b\"\n", []string{"t.toml:3: controller.name: ", "already defined"}},
		{"bad duration", "[mfa]\ncode_timeout = \"10 seconds\"\n", []string{`t.toml:2: mfa.code_timeout: "10 seconds" is not a Go duration`}},
		{"negative duration", "[mfa]\nkey_timeout = \"-5s\"\n", []string{"t.toml:2: mfa.key_timeout: -5s is outside 1s–5m0s"}},
		{"unlock_time too long", door + "unlock_time = \"61s\"\n", []string{"t.toml:4: door[0].unlock_time: 1m1s is outside 1s–1m0s"}},
		{"unlock_time too short", door + "unlock_time = \"500ms\"\n", []string{"t.toml:4: door[0].unlock_time: 500ms is outside 1s–1m0s"}},
		{"max attempts", "[mfa]\nmax_code_attempts = 0\n", []string{"t.toml:2: mfa.max_code_attempts: 0 is outside 1–100"}},
		{"bad zone", "[controller]\ntime_zone = \"Mars/Olympus\"\n", []string{`t.toml:2: controller.time_zone: "Mars/Olympus" is not an IANA time zone`}},
		{"bad door zone", door + "time_zone = \"CEST+2\"\n", []string{`t.toml:4: door[0].time_zone: "CEST+2" is not an IANA`}},
		{"max_connections 0", "[api]\nmax_connections = 0\n", []string{"t.toml:2: api.max_connections: 0 is outside 1–65536"}},
		{"max_connections_per_peer too big", "[api]\nmax_connections_per_peer = 70000\n", []string{"t.toml:2: api.max_connections_per_peer: 70000 is outside 1–65536"}},
		{"per peer over total", "[api]\nmax_connections = 8\nmax_connections_per_peer = 9\n",
			[]string{"t.toml:3: api.max_connections_per_peer: max_connections_per_peer (9) must not exceed max_connections (8)"}},
		{"total under the default per peer", "[api]\nmax_connections = 8\n",
			[]string{"t.toml:2: api.max_connections: max_connections_per_peer (16) must not exceed max_connections (8)"}},
		{"header_timeout", "[api]\nheader_timeout = \"0s\"\n", []string{"t.toml:2: api.header_timeout: 0s is outside 1s–5m0s"}},
		{"import_spool_max unit", "[api]\nimport_spool_max = \"512MB\"\n", []string{`t.toml:2: api.import_spool_max: "512MB" is not a size: a whole number of bytes with an optional unit B, KiB, MiB, GiB or TiB`}},
		{"import_spool_max small", "[api]\nimport_spool_max = \"64KiB\"\n", []string{"t.toml:2: api.import_spool_max: 64KiB is outside 1MiB–1TiB"}},
		{"import_spool_max huge", "[api]\nimport_spool_max = \"99999999999TiB\"\n", []string{`t.toml:2: api.import_spool_max: "99999999999TiB" is too large`}},
		{"import_spool_max integer", "[api]\nimport_spool_max = 1024\n", []string{"t.toml:2: api.import_spool_max: wrong type: must be a string, not integer"}},
		{"bad log format", "[log]\nformat = \"text\"\n", []string{`t.toml:2: log.format: "text" is not one of "json", "console"`}},
		{"bad level", "[log]\nlevel = \"loud\"\n", []string{`t.toml:2: log.level: "loud" is not one of`}},
		{"missing relay", "[[door]]\nname = \"front\"\n", []string{"t.toml:1: door[0].relay: is required"}},
		{"missing door name", "[[door]]\nrelay = \"GPIO23\"\n", []string{"t.toml:1: door[0].name: is required"}},
		{"bad name", "[[door]]\nname = \"front door\"\nrelay = \"GPIO23\"\n", []string{`t.toml:2: door[0].name: "front door" is not a name`}},
		{"bad pin", "[[door]]\nname = \"front\"\nrelay = \"GPIO99\"\n", []string{`t.toml:3: door[0].relay: "GPIO99" is not a pin name`}},
		{"pin twice", door + rdr("led_red = \"GPIO23\"\n"), []string{"t.toml:9: reader[0].led_red: pin GPIO23 is already used by door[0].relay (line 3)"}},
		// Doors are checked before readers: a reader first in the file and a
		// door after it still get the error on the door's (the second) line.
		{"pin twice, reader first", rdr("") + "[[door]]\nname = \"front\"\nrelay = \"GPIO17\"\n", []string{"t.toml:8: door[0].relay: pin GPIO17 is already used by reader[0].d0 (line 4)"}},
		{"d0 equals d1", door + "[[reader]]\nname=\"r\"\ndoor=\"front\"\nd0=\"GPIO17\"\nd1=\"GPIO17\"\n", []string{"t.toml:8: reader[0].d1: pin GPIO17 is already used by reader[0].d0 (line 7)"}},
		{"reader without door", door + "[[reader]]\nname = \"r1\"\ndoor = \"back\"\nd0 = \"GPIO17\"\nd1 = \"GPIO27\"\n",
			[]string{`t.toml:6: reader[0].door: door "back" does not exist`}},
		{"reader door missing", door + "[[reader]]\nname = \"r1\"\nd0 = \"GPIO17\"\nd1 = \"GPIO27\"\n", []string{"t.toml:4: reader[0].door: is required"}},
		{"two formats one length", door + rdr("formats = [\"h10302\", \"h10304\"]\n"),
			[]string{`t.toml:9: reader[0].formats: formats h10302 and h10304 are both 37 bits`}},
		{"unknown format", door + rdr("formats = [\"h99999\"]\n"), []string{`t.toml:9: reader[0].formats: unknown format "h99999" (known: h10301, h10306, corp1000_35, h10302, h10304, corp1000_48, rawN)`}},
		{"raw without length", door + rdr("formats = [\"raw\"]\n"), []string{`t.toml:9: reader[0].formats: unknown format "raw": a raw format is "raw" and its length in bits`}},
		{"raw too long", door + rdr("formats = [\"raw65\"]\n"), []string{`t.toml:9: reader[0].formats: raw format length 65: must be 4–64 bits`}},
		{"raw same length", door + rdr("formats = [\"raw26\", \"h10301\"]\n"), []string{`t.toml:9: reader[0].formats: formats raw26 and h10301 are both 26 bits`}},
		{"keypad length clash", door + rdr("formats = [\"raw8\"]\nkeypad = \"8bit\"\n"), []string{`t.toml:9: reader[0].formats: keypad 8bit and format raw8 are both 8 bits`}},
		{"pin keypad and raw26", door + rdr("formats = [\"raw26\"]\nkeypad = \"26bit_pin\"\n"), []string{`t.toml:9: reader[0].formats: keypad 26bit_pin and format raw26 are both 26 bits`}},
		{"empty formats", door + rdr("formats = []\n"), []string{"t.toml:9: reader[0].formats: must list at least one"}},
		{"bad keypad", door + rdr("keypad = \"6bit\"\n"), []string{`t.toml:9: reader[0].keypad: keypad mode "6bit": must be "", "4bit", "8bit" or "26bit_pin"`}},
		{"star is a digit", door + rdr("keys = { star = 3, hash = 11 }\n"), []string{"t.toml:9: reader[0].keys: keypad star=3 hash=11: each must be 10–15 (0–9 are digits)"}},
		{"star equals hash", door + rdr("keys = { star = 11, hash = 11 }\n"), []string{"t.toml:9: reader[0].keys: keypad star and hash are both 11"}},
		{"unknown key in keys", door + rdr("keys = { star = 10, pound = 11 }\n"), []string{"t.toml:9: reader[0].keys.pound: unknown key"}},
		{"bad direction", door + rdr("direction = \"up\"\n"), []string{`t.toml:9: reader[0].direction: "up" is not one of "in", "out"`}},
		{"duplicate reader", door + rdr("") + "[[reader]]\nname = \"r1\"\ndoor = \"front\"\nd0 = \"GPIO5\"\nd1 = \"GPIO6\"\n",
			[]string{`t.toml:10: reader[1].name: reader "r1" is already defined at reader[0] (line 4)`}},
		{"duplicate door", door + "[[door]]\nname = \"front\"\nrelay = \"GPIO24\"\n", []string{`t.toml:5: door[1].name: door "front" is already defined at door[0] (line 1)`}},
		{"bad time", door + "[[door.schedule]]\ndays=[\"mon\"]\nstart=\"8:00\"\nend=\"18:00\"\nmode=\"locked\"\n",
			[]string{`t.toml:6: door[0].schedule[0].start: "8:00" is not a time of day HH:MM`}},
		{"24:00 as start", door + "[[door.schedule]]\ndays=[\"mon\"]\nstart=\"24:00\"\nend=\"24:00\"\nmode=\"locked\"\n",
			[]string{"t.toml:6: door[0].schedule[0].start: 24:00 is allowed only as an end time"}},
		{"end before start", door + "[[door.schedule]]\ndays=[\"mon\"]\nstart=\"18:00\"\nend=\"08:00\"\nmode=\"locked\"\n",
			[]string{"t.toml:7: door[0].schedule[0].end: end 08:00 is not after start 18:00"}},
		{"bad day", door + "[[door.schedule]]\ndays=[\"monday\"]\nstart=\"08:00\"\nend=\"18:00\"\nmode=\"locked\"\n",
			[]string{`t.toml:5: door[0].schedule[0].days: "monday" is not a day`}},
		{"no days", door + "[[door.schedule]]\nstart=\"08:00\"\nend=\"18:00\"\nmode=\"locked\"\n",
			[]string{"t.toml:4: door[0].schedule[0].days: is required"}},
		{"window without mode", door + "[[door.schedule]]\ndays=[\"mon\"]\nstart=\"08:00\"\nend=\"18:00\"\n",
			[]string{"t.toml:4: door[0].schedule[0].mode: is required"}},
		{"bad mode", door + "default_mode = \"open\"\n", []string{`t.toml:4: door[0].default_mode: "open" is not one of "locked"`}},
		{"bad clock_unknown_mode", door + "clock_unknown_mode = \"open\"\n", []string{`t.toml:4: door[0].clock_unknown_mode: "open" is not one of "locked"`}},
		{"clock_unknown_mode card_and_code without keypad", door + "clock_unknown_mode = \"card_and_code\"\n" + rdr("keypad = \"\"\n"),
			[]string{`t.toml:4: door[0].clock_unknown_mode: card_and_code needs a keypad`}},
		{"overlap", door + "[[door.schedule]]\ndays=[\"mon\",\"tue\"]\nstart=\"08:00\"\nend=\"18:00\"\nmode=\"locked\"\n" +
			"[[door.schedule]]\ndays=[\"tue\"]\nstart=\"17:00\"\nend=\"19:00\"\nmode=\"unlocked\"\n",
			[]string{"t.toml:9: door[0].schedule[1]: overlaps door[0].schedule[0] (line 4) on tue: 08:00–18:00 and 17:00–19:00"}},
		{"bad date", door + "[[door.exception]]\ndate = \"2026-02-30\"\nmode = \"locked\"\n",
			[]string{`t.toml:5: door[0].exception[0].date: "2026-02-30" is not a date YYYY-MM-DD`}},
		{"exception overlap", door + "[[door.exception]]\ndate = \"2026-12-24\"\nmode = \"locked\"\n" +
			"[[door.exception]]\ndate = \"2026-12-24\"\nstart = \"10:00\"\nend = \"12:00\"\nmode = \"unlocked\"\n",
			[]string{"t.toml:7: door[0].exception[1]: overlaps door[0].exception[0] (line 4) on 2026-12-24"}},
		{"card_and_code without keypad", door + "default_mode = \"card_and_code\"\n" + rdr("keypad = \"\"\n"),
			[]string{`t.toml:4: door[0].default_mode: card_and_code needs a keypad, and reader r1 of door "front" has none`}},
		{"card_and_code window without keypad", door + "[[door.schedule]]\ndays=[\"mon\"]\nstart=\"08:00\"\nend=\"18:00\"\nmode=\"card_and_code\"\n" +
			"[[reader]]\nname = \"r1\"\ndoor = \"front\"\nd0 = \"GPIO17\"\nd1 = \"GPIO27\"\nkeypad = \"\"\n",
			[]string{"t.toml:8: door[0].schedule[0].mode: card_and_code needs a keypad"}},
		{"card_and_code without readers", door + "default_mode = \"card_and_code\"\n",
			[]string{`t.toml:4: door[0].default_mode: card_and_code needs a reader with a keypad, and door "front" has no reader that asks for the code`}},
		{"group windows overlap", door + "[[group]]\nname=\"g\"\ndoors=[\"front\"]\n[[group.schedule]]\ndays=[\"mon\"]\nstart=\"08:00\"\nend=\"12:00\"\n" +
			"[[group.schedule]]\ndays=[\"sun\",\"mon\"]\nstart=\"11:00\"\nend=\"13:00\"\n",
			[]string{"t.toml:11: group[0].schedule[1]: overlaps group[0].schedule[0] (line 7) on mon"}},
		{"group unknown door", door + "[[group]]\nname = \"g\"\ndoors = [\"back\"]\n", []string{`t.toml:6: group[0].doors: door "back" does not exist`}},
		{"group without doors", door + "[[group]]\nname = \"g\"\n", []string{"t.toml:4: group[0].doors: is required"}},
		{"bad retention", "[controller]\nevent_retention = 0\n", []string{"t.toml:2: controller.event_retention: 0 is outside"}},
		{"int overflow", "[controller]\nevent_retention = 99999999999999999999\n", []string{"t.toml:2: controller.event_retention: ", "too large"}},
		{"several issues", "[mfa]\ncode_timeout = \"x\"\nkey_timeout = \"y\"\n",
			[]string{"t.toml:2: mfa.code_timeout", "t.toml:3: mfa.key_timeout"}},
		{"keys are case-sensitive", "[controller]\nName = \"x\"\n", []string{`t.toml:2: controller.Name: unknown key; did you mean "name"?`}},
		{"wrong types and unknown keys together", door + "unlock_time = 5\nbogus = 1\nrelay_active = true\n",
			[]string{"t.toml:4: door[0].unlock_time: wrong type", "t.toml:5: door[0].bogus: unknown key", "t.toml:6: door[0].relay_active: wrong type: must be a string, not boolean"}},
		{"array of tables for a table", "[[controller]]\nname = \"a\"\n", []string{"t.toml:1: controller: wrong type: must be a table, not array"}},
		{"array item type", door + rdr("formats = [\"h10301\", 1]\n"), []string{"t.toml:9: reader[0].formats: wrong type: must be an array of strings, not array (item 2 is integer)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := parseIssues(t, tc.doc, "t.toml")
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestAccepted(t *testing.T) {
	tests := []struct{ name, doc string }{
		{"minimal", minimal},
		{"a lone [door] table is one door", "[door]\nname = \"front\"\nrelay = \"GPIO23\"\n"},
		{"entry_only exit reader without keypad", `
[[door]]
name = "front"
relay = "GPIO23"
default_mode = "card_and_code"
second_factor = "entry_only"
[[reader]]
name = "in"
door = "front"
d0 = "GPIO17"
d1 = "GPIO27"
[[reader]]
name = "out"
door = "front"
direction = "out"
d0 = "GPIO5"
d1 = "GPIO6"
keypad = ""
`},
		{"adjacent windows and 24:00", `
[[door]]
name = "front"
relay = "GPIO23"
[[door.schedule]]
days = ["mon"]
start = "00:00"
end = "08:00"
mode = "locked"
[[door.schedule]]
days = ["mon"]
start = "08:00"
end = "24:00"
mode = "unlocked"
`},
		{"no doors at all", "[controller]\nname = \"x\"\n"},
		{"26bit_pin keypad with h10301 cards", minimal + "keypad = \"26bit_pin\"\n"},
		{"raw and h10306", minimal + "formats = [\"raw32\", \"h10306\", \"h10301\", \"raw56\"]\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse([]byte(tc.doc), "t.toml"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !strings.HasPrefix(err.Error(), "config: ") || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

// TestAPILimits: the [api] connection caps, header timeout and import
// spool limit are read from the file.
func TestAPILimits(t *testing.T) {
	cfg, err := Parse([]byte(minimal+"[api]\nlisten = \"127.0.0.1:8700\"\nmax_connections = 64\nmax_connections_per_peer = 4\nheader_timeout = \"5s\"\nimport_spool_max = \"512MiB\"\n"), "t.toml")
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.API
	if a.MaxConnections != 64 || a.MaxConnectionsPerPeer != 4 || a.HeaderTimeout != 5*time.Second || a.ImportSpoolMax != 512<<20 {
		t.Errorf("api limits: %+v", a)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "512MiB": 512 << 20, "64 KiB": 64 << 10, "2GiB": 2 << 30, "1TiB": 1 << 40, "100B": 100, " 7 ": 7} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1MiB", "1.5GiB", "1 GB", "1e6", "0x10", "9223372036854775808", "8388608TiB"} {
		if n, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, n)
		}
	}
	for n, want := range map[int64]string{1 << 20: "1MiB", 1 << 40: "1TiB", 3 << 10: "3KiB", 1000: "1000B", 0: "0B"} {
		if got := fmtSize(n); got != want {
			t.Errorf("fmtSize(%d) = %q, want %q", n, got, want)
		}
	}
}
