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

// builder turns the decoded file into a Config, collecting every issue.
type builder struct {
	file     string
	dir      string
	pos      positions
	issues   []Issue
	warnings []Issue
	// The tables read, and the keys of the wrong TOML type or unknown
	// (table.go): when there are any, they are the file's issues.
	tables     []*table
	typeIssues []Issue
	typed      map[string]bool
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

// choice reads key name of t, one of allowed (def when left out).
func (b *builder) choice(t *table, name, def string, allowed ...string) string {
	return b.oneOf(t.key(name), str(b.str(t, name), def), allowed...)
}

// duration parses key name of t, a Go duration within l.
func (b *builder) duration(t *table, name string, def time.Duration, l door.Limit) time.Duration {
	lo, hi := l.Min, l.Max
	key, p := t.key(name), b.str(t, name)
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

// level reads key name of t: "high" or "low".
func (b *builder) level(t *table, name string, def gpio.Level) gpio.Level {
	levels := map[gpio.Level]string{gpio.High: "high", gpio.Low: "low"}
	return b.choice(t, name, levels[def], "high", "low") == "high"
}

// mode reads key name of t, a door mode (schedule.ParseMode's rule).
func (b *builder) mode(t *table, name string, def schedule.Mode) schedule.Mode {
	p := b.str(t, name)
	if p == nil {
		return def
	}
	m, err := schedule.ParseMode(*p)
	if err != nil {
		b.fail(t.key(name), "%s", strings.TrimPrefix(err.Error(), "schedule: "))
	}
	return m
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// name checks key name of t, a required name: 1–64 letters, digits, '_', '.', '-' (no
// spaces, so a scenario line can name it).
func (b *builder) name(t *table, name string) string {
	key, p := t.key(name), b.str(t, name)
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

// pin checks key name of t, a pin name, and that no other key uses it.
func (b *builder) pin(t *table, name string, required bool, used map[string]string) string {
	key, p := t.key(name), b.str(t, name)
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

// path reads key name of t, a file path, and resolves it against the
// config file's folder.
func (b *builder) path(t *table, name string, def string) string {
	key, v := t.key(name), str(b.str(t, name), def)
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

func (b *builder) build(root *table) *Config {
	cfg := &Config{}
	used := map[string]string{} // pin → key that uses it

	// [controller]
	rc := b.sub(root, "controller")
	cfg.Controller.Name = DefaultName
	if b.str(rc, "name") != nil {
		cfg.Controller.Name = b.name(rc, "name")
	}
	cfg.Controller.Database = b.path(rc, "database", DefaultDatabase)
	cfg.Controller.KeyFile = b.path(rc, "key_file", DefaultKeyFile)
	cfg.Controller.TimeZone = str(b.str(rc, "time_zone"), DefaultTimeZone)
	cfg.Controller.Location = b.zone(rc.key("time_zone"), cfg.Controller.TimeZone)
	// Bounded so a typo cannot make the database grow without limit.
	cfg.Controller.EventRetention = b.integer(rc, "event_retention", DefaultEventRetention, 1, 100_000_000)
	cfg.Controller.DuressOutput = b.pin(rc, "duress_output", false, used)
	cfg.Controller.DuressActive = b.level(rc, "duress_output_active", gpio.High)
	if b.str(rc, "duress_output_active") != nil && cfg.Controller.DuressOutput == "" {
		b.fail("controller.duress_output_active", "only with duress_output")
	}

	// [api]
	ra := b.sub(root, "api")
	cfg.API.Socket = b.path(ra, "socket", DefaultSocket)
	cfg.API.Listen = str(b.str(ra, "listen"), "")
	if l := cfg.API.Listen; l != "" {
		if host, port, err := net.SplitHostPort(l); err != nil || port == "" || strings.ContainsAny(host, " /") {
			b.fail("api.listen", "must be HOST:PORT, e.g. \"127.0.0.1:8700\"")
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			b.fail("api.listen", "the port must be a number 0–65535")
		}
	}
	switch cert, key := b.str(ra, "tls_cert"), b.str(ra, "tls_key"); {
	case cert == nil && key == nil:
	case cert == nil:
		b.fail("api.tls_key", "set tls_cert too (or neither)")
	case key == nil:
		b.fail("api.tls_cert", "set tls_key too (or neither)")
	case cfg.API.Listen == "":
		b.fail("api.tls_cert", "only with listen: the Unix socket needs no TLS")
	default:
		cfg.API.TLSCert = b.path(ra, "tls_cert", "")
		cfg.API.TLSKey = b.path(ra, "tls_key", "")
		if cfg.API.TLSCert != "" && cfg.API.TLSKey != "" {
			if err := CheckKeyPair(cfg.API.TLSCert, cfg.API.TLSKey); err != nil {
				b.fail("api.tls_cert", "%v", err)
			}
		}
	}

	// Bounds on what hostile clients can make the API hold (docs/api.md).
	cfg.API.MaxConnections = b.integer(ra, "max_connections", api.DefaultMaxConns, 1, 65536)
	cfg.API.MaxConnectionsPerPeer = b.integer(ra, "max_connections_per_peer", api.DefaultMaxConnsPerPeer, 1, 65536)
	if cfg.API.MaxConnectionsPerPeer > cfg.API.MaxConnections {
		key := "api.max_connections_per_peer"
		if b.int(ra, "max_connections_per_peer") == nil {
			key = "api.max_connections"
		}
		b.fail(key, "max_connections_per_peer (%d) must not exceed max_connections (%d)", cfg.API.MaxConnectionsPerPeer, cfg.API.MaxConnections)
	}
	cfg.API.HeaderTimeout = b.duration(ra, "header_timeout", api.DefaultHeaderTimeout, door.Limit{Min: time.Second, Max: 5 * time.Minute})
	cfg.API.ImportSpoolMax = b.size(ra, "import_spool_max", api.DefaultImportLimit, 1<<20, 1<<40)

	// [log]
	rl := b.sub(root, "log")
	cfg.Log.Format = b.choice(rl, "format", "json", "json", "console")
	cfg.Log.Level = b.choice(rl, "level", "info", "trace", "debug", "info", "warn", "error")

	// [mfa]: defaults are the door's.
	rm := b.sub(root, "mfa")
	def := door.DefaultConfig().MFA
	cfg.MFA.EntryCodeFallback = boolean(b.flag(rm, "entry_code_fallback"), def.EntryCodeFallback)
	cfg.MFA.CodeTimeout = b.duration(rm, "code_timeout", def.CodeTimeout, door.CodeTimeoutLimit)
	cfg.MFA.KeyTimeout = b.duration(rm, "key_timeout", def.KeyTimeout, door.KeyTimeoutLimit)
	cfg.MFA.MaxCodeAttempts = b.integer(rm, "max_code_attempts", def.MaxCodeAttempts, door.MaxCodeAttemptsMin, door.MaxCodeAttemptsMax)
	cfg.MFA.LockoutWindow = b.duration(rm, "lockout_window", def.LockoutWindow, door.LockoutWindowLimit)
	cfg.MFA.LockoutTime = b.duration(rm, "lockout_time", def.LockoutTime, door.LockoutTimeLimit)

	// [[door]] first: readers refer to doors.
	doorNames := map[string]string{}
	var entries []doorEntries
	doorTables := b.subs(root, "door")
	for _, rd := range doorTables {
		d, e := b.door(rd, cfg.Controller, used, doorNames)
		cfg.Doors = append(cfg.Doors, d)
		entries = append(entries, e)
	}

	// [[reader]]
	readerNames := map[string]string{}
	for _, rr := range b.subs(root, "reader") {
		r := b.reader(rr, used, readerNames)
		if b.str(rr, "door") == nil {
			b.fail(rr.key("door"), "is required: the name of a [[door]]")
		} else if _, ok := doorNames[r.Door]; !ok {
			b.fail(rr.key("door"), "door %q does not exist (no [[door]] has that name)", r.Door)
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

	// [[group]]; a fleet manager's groups may leave doors out: the doors
	// are its controllers'.
	manager := b.sub(root, "fleet").present() && len(doorTables) == 0
	groupNames := map[string]string{}
	for _, rg := range b.subs(root, "group") {
		cfg.Groups = append(cfg.Groups, b.group(rg, cfg.Controller, groupNames, doorNames, manager))
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
	for _, ri := range b.subs(root, "input") {
		cfg.Inputs = append(cfg.Inputs, b.input(ri, cfg.Doors, used, inputNames, doorNames))
	}

	// [mqtt] and [[webhook]] (integrations.go)
	b.integrations(root, cfg)
	// [fleet]
	cfg.Fleet = b.fleet(b.sub(root, "fleet"), cfg.Controller)
	return cfg
}

// uniqueName reads the required name of section t ("door[0]") and checks
// that no earlier section of kind has it (names: name → section key).
func (b *builder) uniqueName(t *table, kind string, names map[string]string) string {
	key := t.path
	name := b.name(t, "name")
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
func (b *builder) group(rg *table, ctl Controller, names, doors map[string]string, manager bool) Group {
	key := rg.path
	g := Group{Line: b.pos.lineOf(key)}
	g.Name = b.uniqueName(rg, "group", names)
	list := b.strs(rg, "doors")
	if list == nil && !manager {
		b.fail(key+".doors", "is required: a list of door names")
	}
	g.Doors = b.doorList(key+".doors", list, doors, manager)
	ok := true
	// A group's access window has no mode.
	for j, rw := range b.subs(rg, "schedule") {
		w, err := schedule.WindowText{Days: b.strs(rw, "days"), Start: b.str(rw, "start"), End: b.str(rw, "end")}.Parse(j, false)
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
func (b *builder) input(ri *table, all []Door, used, names, doors map[string]string) Input {
	key := ri.path
	in := Input{Line: b.pos.lineOf(key)}
	in.Name = b.uniqueName(ri, "input", names)
	in.Pin = b.pin(ri, "pin", true, used)
	in.Active = b.level(ri, "active", gpio.Low)
	if action := b.str(ri, "action"); action == nil {
		b.fail(key+".action", "is required: %q, %q or %q", door.InputEmergencyRelease, door.InputLockdown, door.InputAlarm)
	} else {
		in.Action = b.oneOf(key+".action", *action, door.InputEmergencyRelease, door.InputLockdown, door.InputAlarm)
	}
	list := b.strs(ri, "doors")
	if list == nil {
		for _, d := range all {
			in.Doors = append(in.Doors, d.Name)
		}
	} else if len(list) == 0 {
		b.fail(key+".doors", "must name at least one door (leave doors out for every door)")
	}
	in.Doors = append(in.Doors, b.doorList(key+".doors", list, doors, false)...)
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

func (b *builder) door(rd *table, ctl Controller, used, names map[string]string) (Door, doorEntries) {
	key := rd.path
	d := Door{Config: door.DefaultConfig(), Line: b.pos.lineOf(key)}
	d.MFA = door.MFAConfig{} // [mfa] is the file's: DoorConfig sets it
	d.Name = b.uniqueName(rd, "door", names)
	d.TimeZone = str(b.str(rd, "time_zone"), "")
	if d.TimeZone == "" {
		d.TimeZone, d.Location = ctl.TimeZone, ctl.Location
	} else {
		d.Location = b.zone(key+".time_zone", d.TimeZone)
	}
	d.Relay = b.pin(rd, "relay", true, used)
	d.RelayActive = b.level(rd, "relay_active", d.RelayActive)
	d.DPS = b.pin(rd, "dps", false, used)
	d.DPSOpen = b.level(rd, "dps_open", gpio.High)
	d.REX = b.pin(rd, "rex", false, used)
	d.REXActive = b.level(rd, "rex_active", gpio.Low)
	d.Debounce = b.duration(rd, "debounce", d.Debounce, door.DebounceLimit)
	d.UnlockTime = b.duration(rd, "unlock_time", d.UnlockTime, door.UnlockTimeLimit)
	d.RexUnlocks = boolean(b.flag(rd, "rex_unlocks"), d.RexUnlocks)
	d.RexUnlockTime = b.duration(rd, "rex_unlock_time", d.RexUnlockTime, door.RexUnlockTimeLimit)
	d.RelockOnOpen = boolean(b.flag(rd, "relock_on_open"), d.RelockOnOpen)
	d.HeldOpenTime = b.duration(rd, "held_open_time", d.HeldOpenTime, door.HeldOpenTimeLimit)
	d.DefaultMode = b.mode(rd, "default_mode", d.DefaultMode)
	d.ClockUnknownMode = b.mode(rd, "clock_unknown_mode", d.ClockUnknownMode)
	d.SecondFactor = b.choice(rd, "second_factor", d.SecondFactor, door.SecondFactorAlways, door.SecondFactorEntryOnly)
	// Double badge (docs/operations.md).
	d.DoubleBadge = boolean(b.flag(rd, "double_badge"), false)
	d.DoubleBadgeWindow = b.duration(rd, "double_badge_window", d.DoubleBadgeWindow, door.DoubleBadgeWindowLimit)
	groups := b.strs(rd, "double_badge_groups")
	d.DoubleBadgeGroups = append([]string(nil), groups...)
	if !d.DoubleBadge && (groups != nil || b.str(rd, "double_badge_window") != nil) {
		key2 := key + ".double_badge_groups"
		if groups == nil {
			key2 = key + ".double_badge_window"
		}
		b.fail(key2, "only with double_badge = true")
	}

	// A door's windows and exceptions, in the schedule package's spelling
	// of them.
	ok := true
	for j, rw := range b.subs(rd, "schedule") {
		w, err := schedule.WindowText{Days: b.strs(rw, "days"), Start: b.str(rw, "start"), End: b.str(rw, "end"),
			Mode: b.str(rw, "mode"), FirstPersonIn: b.flag(rw, "first_person_in"),
			FirstPersonGroups: b.strs(rw, "first_person_groups")}.Parse(j, true)
		d.Schedule = append(d.Schedule, w)
		ok = b.scheduleIssues(key, err) && ok
	}
	for j, re := range b.subs(rd, "exception") {
		e, err := schedule.ExceptionText{Date: b.str(re, "date"), Start: b.str(re, "start"), End: b.str(re, "end"),
			Mode: b.str(re, "mode")}.Parse(j)
		d.Exceptions = append(d.Exceptions, e)
		ok = b.scheduleIssues(key, err) && ok
	}
	return d, doorEntries{ok: ok}
}

// defaultFormats are the card formats of a reader whose formats key is left out.
var defaultFormats = []string{string(reader.H10301), string(reader.H10304)}

func (b *builder) reader(rr *table, used, names map[string]string) Reader {
	key := rr.path
	r := Reader{Line: b.pos.lineOf(key)}
	r.Name = b.uniqueName(rr, "reader", names)
	r.Door = str(b.str(rr, "door"), "")
	r.Direction = b.choice(rr, "direction", door.DirectionIn, door.DirectionIn, door.DirectionOut)
	r.D0 = b.pin(rr, "d0", true, used)
	r.D1 = b.pin(rr, "d1", true, used)
	n := len(b.issues)
	r.Formats = b.strs(rr, "formats")
	if r.Formats == nil {
		r.Formats = defaultFormats
	}
	r.Formats = append([]string(nil), r.Formats...)
	if len(r.Formats) == 0 {
		b.fail(key+".formats", "must list at least one card format")
	}
	r.RawByteOrder = reader.ByteOrder(b.choice(rr, "raw_byte_order", string(reader.MSB), string(reader.MSB), string(reader.LSB)))
	for _, f := range r.Formats {
		if _, err := reader.ParseFormatSpec(f, r.RawByteOrder); err != nil {
			b.readerIssue(key+".formats", err)
		}
	}
	r.Keypad = reader.KeypadMode(str(b.str(rr, "keypad"), string(reader.Keypad4)))
	if err := (reader.Keypad{Mode: r.Keypad}).Validate(); err != nil {
		b.readerIssue(key+".keypad", err)
	}
	if keys := b.sub(rr, "keys"); keys.present() {
		// Read as a byte; the reader says which values are keys.
		byteOf := func(k string) uint8 {
			p := b.int(keys, k)
			if p == nil {
				return 0 // the reader's default
			}
			if *p < 1 || *p > 255 { // 0 is the reader's "default"
				b.fail(keys.key(k), "%d is not a key value 1–255", *p)
				return 0
			}
			return uint8(*p)
		}
		r.Star, r.Hash = byteOf("star"), byteOf("hash")
		if err := (reader.Keypad{Mode: r.Keypad, Star: r.Star, Hash: r.Hash}).Validate(); err != nil && len(b.issues) == n {
			b.readerIssue(key+".keys", err)
		}
	}
	// Upper bound on end-of-frame silence; 1 ms–1 s keeps it meaningful.
	r.MaxFrameGap = b.duration(rr, "max_frame_gap", reader.DefaultMaxFrameGap, door.Limit{Min: time.Millisecond, Max: time.Second})
	if len(b.issues) == n {
		// The rules between formats and keypad (one format per bit length,
		// a key frame told from a card by its length) are the decoder's.
		c := r.Config
		c.Name = ""
		if _, err := reader.NewDecoder(c); err != nil {
			b.readerIssue(key+".formats", err)
		}
	}
	r.Feedback.Green = b.pin(rr, "led_green", false, used)
	r.Feedback.Red = b.pin(rr, "led_red", false, used)
	r.Feedback.Beeper = b.pin(rr, "beeper", false, used)
	r.Feedback.Active = b.level(rr, "feedback_active", gpio.Low)
	return r
}

func (b *builder) readerIssue(key string, err error) {
	b.fail(key, "%s", strings.TrimPrefix(err.Error(), "reader: "))
}
