package config

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// builder turns the raw file into a Config, collecting every issue.
type builder struct {
	file     string
	dir      string
	pos      positions
	issues   []Issue
	warnings []Issue
}

func (b *builder) warn(key, format string, args ...any) {
	b.warnings = append(b.warnings, Issue{File: b.file, Line: b.pos.lineOf(key), Key: key, Rule: fmt.Sprintf(format, args...)})
}

func (b *builder) fail(key, format string, args ...any) {
	b.issues = append(b.issues, Issue{File: b.file, Line: b.pos.lineOf(key), Key: key, Rule: fmt.Sprintf(format, args...)})
}

func sortIssues(is []Issue) {
	sort.SliceStable(is, func(i, j int) bool { return is[i].Line < is[j].Line })
}

func idx(base string, i int) string { return base + "[" + strconv.Itoa(i) + "]" }

// str returns *p or def.
func str(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func boolean(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// oneOf checks that v is one of allowed.
func (b *builder) oneOf(key, v string, allowed ...string) string {
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = strconv.Quote(a)
	}
	b.fail(key, "%q is not one of %s", v, strings.Join(quoted, ", "))
	return v
}

// duration parses a Go duration within l.
func (b *builder) duration(key string, p *string, def time.Duration, l door.Limit) time.Duration {
	lo, hi := l.Min, l.Max
	if p == nil {
		return def
	}
	d, err := time.ParseDuration(*p)
	if err != nil {
		b.fail(key, "%q is not a Go duration (e.g. \"500ms\", \"10s\", \"5m\")", *p)
		return def
	}
	if d < lo || d > hi {
		b.fail(key, "%s is outside %s–%s", d, fmtDur(lo), fmtDur(hi))
	}
	return d
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return d.String()
}

// level reads "high" or "low".
func (b *builder) level(key string, p *string, def gpio.Level) gpio.Level {
	name := map[gpio.Level]string{gpio.High: "high", gpio.Low: "low"}
	return b.oneOf(key, str(p, name[def]), "high", "low") == "high"
}

// mode reads a door mode (schedule.ParseMode's rule).
func (b *builder) mode(key string, p *string, def schedule.Mode) schedule.Mode {
	if p == nil {
		return def
	}
	m, err := schedule.ParseMode(*p)
	if err != nil {
		b.fail(key, "%s", strings.TrimPrefix(err.Error(), "schedule: "))
	}
	return m
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// name checks a required name: 1–64 letters, digits, '_', '.', '-' (no
// spaces, so a scenario line can name it).
func (b *builder) name(key string, p *string) string {
	if p == nil {
		b.fail(key, "is required")
		return ""
	}
	if !nameRE.MatchString(*p) {
		b.fail(key, "%q is not a name: 1–64 letters, digits, '_', '.', '-', starting with a letter or digit", *p)
	}
	return *p
}

// pinRE matches a Broadcom GPIO line as periph names it on a Pi. The BCM283x
// has 54 lines, GPIO0–GPIO53 (BCM2835 datasheet §6); only 0–27 reach the header.
var pinRE = regexp.MustCompile(`^GPIO([0-9]|[1-4][0-9]|5[0-3])$`)

// headerMaxGPIO is the highest BCM line on the Raspberry Pi's 40-pin header
// (docs/wiring.md): GPIO28–GPIO53 exist on the chip but are not wired out.
const headerMaxGPIO = 27

// pin checks a pin name and that no other key uses it.
func (b *builder) pin(key string, p *string, required bool, used map[string]string) string {
	if p == nil || *p == "" {
		if required {
			b.fail(key, "is required (a pin name such as \"GPIO17\")")
		}
		return ""
	}
	if !pinRE.MatchString(*p) {
		b.fail(key, "%q is not a pin name: GPIO0–GPIO53 as periph names them (e.g. \"GPIO17\")", *p)
		return *p
	}
	if n, _ := strconv.Atoi(strings.TrimPrefix(*p, "GPIO")); n > headerMaxGPIO {
		b.warn(key, "%s is not on the Pi's 40-pin header (GPIO0–GPIO%d are): check the pin", *p, headerMaxGPIO)
	}
	if other, ok := used[*p]; ok {
		// Report it on the later of the two lines, naming the earlier:
		// sections are checked doors first, so the key checked second
		// may stand first in the file.
		first, second := other, key
		if b.pos.lineOf(key) < b.pos.lineOf(other) {
			first, second = key, other
		}
		b.fail(second, "pin %s is already used by %s (line %d)", *p, first, b.pos.lineOf(first))
		return *p
	}
	used[*p] = key
	return *p
}

// path resolves a file path against the config file's folder.
func (b *builder) path(key string, p *string, def string) string {
	v := str(p, def)
	if v == "" {
		b.fail(key, "must not be empty")
		return v
	}
	if !filepath.IsAbs(v) {
		v = filepath.Join(b.dir, v)
	}
	return filepath.Clean(v)
}

func (b *builder) zone(key string, name string) *time.Location {
	if name == "" {
		b.fail(key, "must not be empty")
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		b.fail(key, "%q is not an IANA time zone name (e.g. \"Europe/Berlin\", \"UTC\")", name)
		return nil
	}
	return loc
}

func (b *builder) build(raw *rawFile) *Config {
	cfg := &Config{}
	used := map[string]string{} // pin → key that uses it

	// [controller]
	rc := raw.Controller
	if rc == nil {
		rc = &rawController{}
	}
	cfg.Controller.Name = DefaultName
	if rc.Name != nil {
		cfg.Controller.Name = b.name("controller.name", rc.Name)
	}
	cfg.Controller.Database = b.path("controller.database", rc.Database, DefaultDatabase)
	cfg.Controller.KeyFile = b.path("controller.key_file", rc.KeyFile, DefaultKeyFile)
	cfg.Controller.TimeZone = str(rc.TimeZone, DefaultTimeZone)
	cfg.Controller.Location = b.zone("controller.time_zone", cfg.Controller.TimeZone)
	// Bounded so a typo cannot make the database grow without limit.
	cfg.Controller.EventRetention = b.integer("controller.event_retention", rc.EventRetention, DefaultEventRetention, 1, 100_000_000)
	cfg.Controller.DuressOutput = b.pin("controller.duress_output", rc.DuressOutput, false, used)
	cfg.Controller.DuressActive = b.level("controller.duress_output_active", rc.DuressOutputActive, gpio.High)
	if rc.DuressOutputActive != nil && cfg.Controller.DuressOutput == "" {
		b.fail("controller.duress_output_active", "only with duress_output")
	}

	// [api]
	ra := raw.API
	if ra == nil {
		ra = &rawAPI{}
	}
	cfg.API.Socket = b.path("api.socket", ra.Socket, DefaultSocket)
	cfg.API.Listen = str(ra.Listen, "")
	if l := cfg.API.Listen; l != "" {
		if host, port, err := net.SplitHostPort(l); err != nil || port == "" || strings.ContainsAny(host, " /") {
			b.fail("api.listen", "must be HOST:PORT, e.g. \"127.0.0.1:8700\"")
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			b.fail("api.listen", "the port must be a number 0–65535")
		}
	}
	switch {
	case ra.TLSCert == nil && ra.TLSKey == nil:
	case ra.TLSCert == nil:
		b.fail("api.tls_key", "set tls_cert too (or neither)")
	case ra.TLSKey == nil:
		b.fail("api.tls_cert", "set tls_key too (or neither)")
	case cfg.API.Listen == "":
		b.fail("api.tls_cert", "only with listen: the Unix socket needs no TLS")
	default:
		cfg.API.TLSCert = b.path("api.tls_cert", ra.TLSCert, "")
		cfg.API.TLSKey = b.path("api.tls_key", ra.TLSKey, "")
		if cfg.API.TLSCert != "" && cfg.API.TLSKey != "" {
			if err := CheckKeyPair(cfg.API.TLSCert, cfg.API.TLSKey); err != nil {
				b.fail("api.tls_cert", "%v", err)
			}
		}
	}

	// Bounds on what hostile clients can make the API hold (docs/api.md).
	cfg.API.MaxConnections = b.integer("api.max_connections", ra.MaxConnections, api.DefaultMaxConns, 1, 65536)
	cfg.API.MaxConnectionsPerPeer = b.integer("api.max_connections_per_peer", ra.MaxConnectionsPerPeer, api.DefaultMaxConnsPerPeer, 1, 65536)
	if cfg.API.MaxConnectionsPerPeer > cfg.API.MaxConnections {
		key := "api.max_connections_per_peer"
		if ra.MaxConnectionsPerPeer == nil {
			key = "api.max_connections"
		}
		b.fail(key, "max_connections_per_peer (%d) must not exceed max_connections (%d)", cfg.API.MaxConnectionsPerPeer, cfg.API.MaxConnections)
	}
	cfg.API.HeaderTimeout = b.duration("api.header_timeout", ra.HeaderTimeout, api.DefaultHeaderTimeout, door.Limit{Min: time.Second, Max: 5 * time.Minute})
	cfg.API.ImportSpoolMax = b.size("api.import_spool_max", ra.ImportSpoolMax, api.DefaultImportLimit, 1<<20, 1<<40)

	// [log]
	rl := raw.Log
	if rl == nil {
		rl = &rawLog{}
	}
	cfg.Log.Format = b.oneOf("log.format", str(rl.Format, "json"), "json", "console")
	cfg.Log.Level = b.oneOf("log.level", str(rl.Level, "info"), "trace", "debug", "info", "warn", "error")

	// [mfa]: defaults are the door's.
	rm := raw.MFA
	if rm == nil {
		rm = &rawMFA{}
	}
	def := door.DefaultConfig().MFA
	cfg.MFA.EntryCodeFallback = boolean(rm.EntryCodeFallback, def.EntryCodeFallback)
	cfg.MFA.CodeTimeout = b.duration("mfa.code_timeout", rm.CodeTimeout, def.CodeTimeout, door.CodeTimeoutLimit)
	cfg.MFA.KeyTimeout = b.duration("mfa.key_timeout", rm.KeyTimeout, def.KeyTimeout, door.KeyTimeoutLimit)
	cfg.MFA.MaxCodeAttempts = b.integer("mfa.max_code_attempts", rm.MaxCodeAttempts, def.MaxCodeAttempts, door.MaxCodeAttemptsMin, door.MaxCodeAttemptsMax)
	cfg.MFA.LockoutWindow = b.duration("mfa.lockout_window", rm.LockoutWindow, def.LockoutWindow, door.LockoutWindowLimit)
	cfg.MFA.LockoutTime = b.duration("mfa.lockout_time", rm.LockoutTime, def.LockoutTime, door.LockoutTimeLimit)

	// [[door]] first: readers refer to doors.
	doorNames := map[string]string{}
	var entries []doorEntries
	for i := range raw.Door {
		d, e := b.door(idx("door", i), &raw.Door[i], cfg.Controller, used, doorNames)
		cfg.Doors = append(cfg.Doors, d)
		entries = append(entries, e)
	}

	// [[reader]]
	readerNames := map[string]string{}
	for i := range raw.Reader {
		key := idx("reader", i)
		r := b.reader(key, &raw.Reader[i], used, readerNames)
		if raw.Reader[i].Door == nil {
			b.fail(key+".door", "is required: the name of a [[door]]")
		} else if _, ok := doorNames[r.Door]; !ok {
			b.fail(key+".door", "door %q does not exist (no [[door]] has that name)", r.Door)
		}
		cfg.Readers = append(cfg.Readers, r)
	}

	// Each door's schedule, once its readers are known: card_and_code
	// needs a keypad on every reader that would ask for a code.
	for i, d := range cfg.Doors {
		key := idx("door", i)
		why := cfg.DoorConfig(d.Name, nil, nil).NoKeypad()
		if why != "" && d.ClockUnknownMode == schedule.CardAndCode {
			b.fail(key+".clock_unknown_mode", "%s", why)
		}
		if entries[i].ok {
			_, err := schedule.New(schedule.Config{Location: d.Location, Default: d.DefaultMode,
				Windows: d.Schedule, Exceptions: d.Exceptions, Keypad: why == "", NoKeypad: why})
			b.scheduleIssues(key, err)
		}
	}

	// [[group]]
	groupNames := map[string]string{}
	for i := range raw.Group {
		cfg.Groups = append(cfg.Groups, b.group(idx("group", i), &raw.Group[i], cfg.Controller, groupNames, doorNames, fleetGroupDoors(raw)))
	}

	// Group names a door rule refers to.
	for i, d := range cfg.Doors {
		key := idx("door", i)
		for _, g := range d.DoubleBadgeGroups {
			if _, ok := groupNames[g]; !ok {
				b.fail(key+".double_badge_groups", "group %q does not exist (no [[group]] has that name)", g)
			}
		}
		for j, w := range d.Schedule {
			for _, g := range w.FirstPersonGroups {
				if _, ok := groupNames[g]; !ok {
					b.fail(fmt.Sprintf("%s.schedule[%d].first_person_groups", key, j), "group %q does not exist (no [[group]] has that name)", g)
				}
			}
		}
	}

	// [[input]]
	inputNames := map[string]string{}
	for i := range raw.Input {
		cfg.Inputs = append(cfg.Inputs, b.input(idx("input", i), &raw.Input[i], cfg.Doors, used, inputNames, doorNames))
	}

	// [mqtt] and [[webhook]] (integrations.go)
	b.integrations(raw, cfg)
	// [fleet]
	cfg.Fleet = b.fleet(raw.Fleet, cfg.Controller)
	return cfg
}

// uniqueName reads the required name of section key ("door[0]") and checks
// that no earlier section of kind has it (names: name → section key).
func (b *builder) uniqueName(key, kind string, p *string, names map[string]string) string {
	name := b.name(key+".name", p)
	if name == "" {
		return name
	}
	if other, ok := names[name]; ok {
		b.fail(key+".name", "%s %q is already defined at %s (line %d)", kind, name, other, b.pos.lineOf(other))
		return name
	}
	names[name] = key
	return name
}

// doorList checks the door names of key (a group's or an input's doors):
// each names a [[door]] (unless skipMissing: a fleet manager's groups name
// its controllers' doors) and none is listed twice.
func (b *builder) doorList(key string, list []string, doors map[string]string, skipMissing bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, dn := range list {
		if _, ok := doors[dn]; !ok && skipMissing {
			continue
		} else if !ok {
			b.fail(key, "door %q does not exist (no [[door]] has that name)", dn)
		} else if seen[dn] {
			b.fail(key, "door %q is listed twice", dn)
		}
		seen[dn] = true
		out = append(out, dn)
	}
	return out
}

// group reads a [[group]]; manager: this file is a fleet manager's, whose
// groups may leave doors out.
func (b *builder) group(key string, rg *rawGroup, ctl Controller, names, doors map[string]string, manager bool) Group {
	g := Group{Line: b.pos.lineOf(key)}
	g.Name = b.uniqueName(key, "group", rg.Name, names)
	if rg.Doors == nil && !manager {
		b.fail(key+".doors", "is required: a list of door names")
	}
	g.Doors = b.doorList(key+".doors", rg.Doors, doors, manager)
	ok := true
	for j, rw := range rg.Schedule {
		w, err := schedule.WindowText{Days: rw.Days, Start: rw.Start, End: rw.End}.Parse(j, false)
		g.Schedule = append(g.Schedule, w)
		ok = b.scheduleIssues(key, err) && ok
	}
	if ok {
		_, err := schedule.NewAccess(ctl.Location, g.Schedule)
		b.scheduleIssues(key, err)
	}
	return g
}

// input reads an [[input]]; it acts on every door (all) when its doors
// key is left out.
func (b *builder) input(key string, ri *rawInput, all []Door, used, names, doors map[string]string) Input {
	in := Input{Line: b.pos.lineOf(key)}
	in.Name = b.uniqueName(key, "input", ri.Name, names)
	in.Pin = b.pin(key+".pin", ri.Pin, true, used)
	in.Active = b.level(key+".active", ri.Active, gpio.Low)
	if ri.Action == nil {
		b.fail(key+".action", "is required: %q, %q or %q", door.InputEmergencyRelease, door.InputLockdown, door.InputAlarm)
	} else {
		in.Action = b.oneOf(key+".action", *ri.Action, door.InputEmergencyRelease, door.InputLockdown, door.InputAlarm)
	}
	if ri.Doors == nil {
		for _, d := range all {
			in.Doors = append(in.Doors, d.Name)
		}
	} else if len(ri.Doors) == 0 {
		b.fail(key+".doors", "must name at least one door (leave doors out for every door)")
	}
	in.Doors = append(in.Doors, b.doorList(key+".doors", ri.Doors, doors, false)...)
	return in
}

// scheduleIssues maps the schedule package's errors to issues under the
// section key ("door[0]", "group[1]"); it reports whether there were none.
func (b *builder) scheduleIssues(key string, err error) bool {
	if err == nil {
		return true
	}
	es := schedule.Errors(err)
	if len(es) == 0 {
		b.fail(key, "%s", strings.TrimPrefix(err.Error(), "schedule: "))
	}
	for _, se := range es {
		other := ""
		if se.Other >= 0 {
			ok := fmt.Sprintf("%s.%s[%d]", key, se.Kind, se.Other)
			other = fmt.Sprintf("%s (line %d)", ok, b.pos.lineOf(ok))
		}
		b.fail(key+"."+se.Key(), "%s", se.Message(other))
	}
	return false
}

// doorEntries says whether a door's windows and exceptions all parsed, so
// that their schedule as a whole can be checked.
type doorEntries struct{ ok bool }

func (b *builder) door(key string, rd *rawDoor, ctl Controller, used, names map[string]string) (Door, doorEntries) {
	d := Door{Config: door.DefaultConfig(), Line: b.pos.lineOf(key)}
	d.MFA = door.MFAConfig{} // [mfa] is the file's: DoorConfig sets it
	d.Name = b.uniqueName(key, "door", rd.Name, names)
	d.TimeZone = str(rd.TimeZone, "")
	if d.TimeZone == "" {
		d.TimeZone, d.Location = ctl.TimeZone, ctl.Location
	} else {
		d.Location = b.zone(key+".time_zone", d.TimeZone)
	}
	d.Relay = b.pin(key+".relay", rd.Relay, true, used)
	d.RelayActive = b.level(key+".relay_active", rd.RelayActive, d.RelayActive)
	d.DPS = b.pin(key+".dps", rd.DPS, false, used)
	d.DPSOpen = b.level(key+".dps_open", rd.DPSOpen, gpio.High)
	d.REX = b.pin(key+".rex", rd.REX, false, used)
	d.REXActive = b.level(key+".rex_active", rd.REXActive, gpio.Low)
	d.Debounce = b.duration(key+".debounce", rd.Debounce, d.Debounce, door.DebounceLimit)
	d.UnlockTime = b.duration(key+".unlock_time", rd.UnlockTime, d.UnlockTime, door.UnlockTimeLimit)
	d.RexUnlocks = boolean(rd.REXUnlocks, d.RexUnlocks)
	d.RexUnlockTime = b.duration(key+".rex_unlock_time", rd.REXUnlockTime, d.RexUnlockTime, door.RexUnlockTimeLimit)
	d.RelockOnOpen = boolean(rd.RelockOnOpen, d.RelockOnOpen)
	d.HeldOpenTime = b.duration(key+".held_open_time", rd.HeldOpenTime, d.HeldOpenTime, door.HeldOpenTimeLimit)
	d.DefaultMode = b.mode(key+".default_mode", rd.DefaultMode, d.DefaultMode)
	d.ClockUnknownMode = b.mode(key+".clock_unknown_mode", rd.ClockUnknown, d.ClockUnknownMode)
	d.SecondFactor = b.oneOf(key+".second_factor", str(rd.SecondFactor, d.SecondFactor), door.SecondFactorAlways, door.SecondFactorEntryOnly)
	d.DoubleBadge = boolean(rd.DoubleBadge, false)
	d.DoubleBadgeWindow = b.duration(key+".double_badge_window", rd.DoubleBadgeWindow, d.DoubleBadgeWindow, door.DoubleBadgeWindowLimit)
	d.DoubleBadgeGroups = append([]string(nil), rd.DoubleBadgeGroups...)
	if !d.DoubleBadge && (rd.DoubleBadgeGroups != nil || rd.DoubleBadgeWindow != nil) {
		key2 := key + ".double_badge_groups"
		if rd.DoubleBadgeGroups == nil {
			key2 = key + ".double_badge_window"
		}
		b.fail(key2, "only with double_badge = true")
	}

	ok := true
	for j, rw := range rd.Schedule {
		w, err := rw.Parse(j, true)
		d.Schedule = append(d.Schedule, w)
		ok = b.scheduleIssues(key, err) && ok
	}
	for j, re := range rd.Exception {
		e, err := re.Parse(j)
		d.Exceptions = append(d.Exceptions, e)
		ok = b.scheduleIssues(key, err) && ok
	}
	return d, doorEntries{ok: ok}
}

// defaultFormats are the card formats of a reader whose formats key is left out.
var defaultFormats = []string{string(reader.H10301), string(reader.H10304)}

func (b *builder) reader(key string, rr *rawReader, used, names map[string]string) Reader {
	r := Reader{Line: b.pos.lineOf(key)}
	r.Name = b.uniqueName(key, "reader", rr.Name, names)
	r.Door = str(rr.Door, "")
	r.Direction = b.oneOf(key+".direction", str(rr.Direction, door.DirectionIn), door.DirectionIn, door.DirectionOut)
	r.D0 = b.pin(key+".d0", rr.D0, true, used)
	r.D1 = b.pin(key+".d1", rr.D1, true, used)
	n := len(b.issues)
	r.Formats = rr.Formats
	if r.Formats == nil {
		r.Formats = defaultFormats
	}
	r.Formats = append([]string(nil), r.Formats...)
	if len(r.Formats) == 0 {
		b.fail(key+".formats", "must list at least one card format")
	}
	r.RawByteOrder = reader.ByteOrder(b.oneOf(key+".raw_byte_order", str(rr.RawByteOrder, string(reader.MSB)), string(reader.MSB), string(reader.LSB)))
	for _, f := range r.Formats {
		if _, err := reader.ParseFormatSpec(f, r.RawByteOrder); err != nil {
			b.readerIssue(key+".formats", err)
		}
	}
	r.Keypad = reader.KeypadMode(str(rr.Keypad, string(reader.Keypad4)))
	if err := (reader.Keypad{Mode: r.Keypad}).Validate(); err != nil {
		b.readerIssue(key+".keypad", err)
	}
	if rr.Keys != nil {
		// Read as a byte; the reader says which values are keys.
		byteOf := func(k string, p *int64) uint8 {
			if p == nil {
				return 0 // the reader's default
			}
			if *p < 1 || *p > 255 { // 0 is the reader's "default"
				b.fail(key+".keys."+k, "%d is not a key value 1–255", *p)
				return 0
			}
			return uint8(*p)
		}
		r.Star, r.Hash = byteOf("star", rr.Keys.Star), byteOf("hash", rr.Keys.Hash)
		if err := (reader.Keypad{Mode: r.Keypad, Star: r.Star, Hash: r.Hash}).Validate(); err != nil && len(b.issues) == n {
			b.readerIssue(key+".keys", err)
		}
	}
	// Upper bound on end-of-frame silence; 1 ms–1 s keeps it meaningful.
	r.MaxFrameGap = b.duration(key+".max_frame_gap", rr.MaxFrameGap, reader.DefaultMaxFrameGap, door.Limit{Min: time.Millisecond, Max: time.Second})
	if len(b.issues) == n {
		// The rules between formats and keypad (one format per bit length,
		// a key frame told from a card by its length) are the decoder's.
		c := r.Config
		c.Name = ""
		if _, err := reader.NewDecoder(c); err != nil {
			b.readerIssue(key+".formats", err)
		}
	}
	r.Feedback.Green = b.pin(key+".led_green", rr.LEDGreen, false, used)
	r.Feedback.Red = b.pin(key+".led_red", rr.LEDRed, false, used)
	r.Feedback.Beeper = b.pin(key+".beeper", rr.Beeper, false, used)
	r.Feedback.Active = b.level(key+".feedback_active", rr.FeedbackActive, gpio.Low)
	return r
}

func (b *builder) readerIssue(key string, err error) {
	b.fail(key, "%s", strings.TrimPrefix(err.Error(), "reader: "))
}
