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

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/reader"
)

// builder turns the raw file into a Config, collecting every issue.
type builder struct {
	file   string
	dir    string
	pos    positions
	issues []Issue
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

// duration parses a Go duration within [lo, hi].
func (b *builder) duration(key string, p *string, def, lo, hi time.Duration) time.Duration {
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

func (b *builder) level(key string, p *string, def Level) Level {
	v := str(p, string(def))
	b.oneOf(key, v, "high", "low")
	return Level(v)
}

func (b *builder) mode(key string, p *string, def Mode) Mode {
	if p == nil && def == "" {
		b.fail(key, "is required")
		return ""
	}
	v := str(p, string(def))
	b.oneOf(key, v, string(Locked), string(AccessControlled), string(CardAndCode), string(Unlocked))
	return Mode(v)
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
	if other, ok := used[*p]; ok {
		b.fail(key, "pin %s is already used by %s (line %d)", *p, other, b.pos.lineOf(other))
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

// clock parses HH:MM (24 h); 24:00 only when asEnd.
func (b *builder) clock(key string, v string, asEnd bool) (Clock, bool) {
	c, ok := parseClock(v)
	if !ok || (c == 24*60 && !asEnd) {
		if v == "24:00" {
			b.fail(key, "24:00 is allowed only as an end time")
		} else {
			b.fail(key, "%q is not a time of day HH:MM (24 h, 00:00–23:59; 24:00 as an end)", v)
		}
		return 0, false
	}
	return c, true
}

func parseClock(v string) (Clock, bool) {
	if len(v) != 5 || v[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	h := int(v[0]-'0')*10 + int(v[1]-'0')
	m := int(v[3]-'0')*10 + int(v[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return Clock(h*60 + m), true
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func (b *builder) days(key string, vs []string) []time.Weekday {
	if len(vs) == 0 {
		b.fail(key, "is required: a non-empty list of \"mon\" … \"sun\"")
		return nil
	}
	var out []time.Weekday
	seen := map[time.Weekday]bool{}
	for _, v := range vs {
		d, ok := weekdays[v]
		if !ok {
			b.fail(key, "%q is not a day: use \"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"", v)
			continue
		}
		if seen[d] {
			b.fail(key, "%q is listed twice", v)
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return out
}

// window checks a weekly window; mode is nil for group windows.
func (b *builder) window(key string, days []string, start, end *string, mode *string, withMode bool) (Window, bool) {
	w := Window{Line: b.pos.lineOf(key)}
	n := len(b.issues)
	w.Days = b.days(key+".days", days)
	if start == nil {
		b.fail(key+".start", "is required (HH:MM)")
	} else {
		w.Start, _ = b.clock(key+".start", *start, false)
	}
	if end == nil {
		b.fail(key+".end", "is required (HH:MM, 24:00 for midnight)")
	} else {
		w.End, _ = b.clock(key+".end", *end, true)
	}
	if withMode {
		w.Mode = b.mode(key+".mode", mode, "")
	}
	if len(b.issues) == n && w.Start >= w.End {
		b.fail(key+".end", "end %s is not after start %s (a window may not cross midnight: split it in two)", w.End, w.Start)
	}
	return w, len(b.issues) == n
}

// overlaps reports the first pair of windows sharing a day and a time.
func (b *builder) checkOverlaps(key string, ws []Window, keys []string) {
	for i := range ws {
		for j := i + 1; j < len(ws); j++ {
			d, ok := sharedDay(ws[i].Days, ws[j].Days)
			if !ok || ws[i].End <= ws[j].Start || ws[j].End <= ws[i].Start {
				continue
			}
			b.fail(keys[j], "overlaps %s (line %d) on %s: %s–%s and %s–%s", keys[i], ws[i].Line,
				strings.ToLower(d.String()[:3]), ws[i].Start, ws[i].End, ws[j].Start, ws[j].End)
		}
	}
}

func sharedDay(a, b []time.Weekday) (time.Weekday, bool) {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return x, true
			}
		}
	}
	return 0, false
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
	cfg.Controller.EventRetention = DefaultEventRetention
	if rc.EventRetention != nil {
		// Bounded so a typo cannot make the database grow without limit.
		if *rc.EventRetention < 1 || *rc.EventRetention > 100_000_000 {
			b.fail("controller.event_retention", "%d is outside 1–100000000", *rc.EventRetention)
		} else {
			cfg.Controller.EventRetention = int(*rc.EventRetention)
		}
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
	cfg.API.HeaderTimeout = b.duration("api.header_timeout", ra.HeaderTimeout, api.DefaultHeaderTimeout, time.Second, 5*time.Minute)
	cfg.API.ImportSpoolMax = b.size("api.import_spool_max", ra.ImportSpoolMax, api.DefaultImportLimit, 1<<20, 1<<40)

	// [log]
	rl := raw.Log
	if rl == nil {
		rl = &rawLog{}
	}
	cfg.Log.Format = b.oneOf("log.format", str(rl.Format, "json"), "json", "console")
	cfg.Log.Level = b.oneOf("log.level", str(rl.Level, "info"), "trace", "debug", "info", "warn", "error")

	// [mfa]
	rm := raw.MFA
	if rm == nil {
		rm = &rawMFA{}
	}
	cfg.MFA.EntryCodeFallback = boolean(rm.EntryCodeFallback, true)
	cfg.MFA.CodeTimeout = b.duration("mfa.code_timeout", rm.CodeTimeout, 10*time.Second, time.Second, 5*time.Minute)
	cfg.MFA.KeyTimeout = b.duration("mfa.key_timeout", rm.KeyTimeout, 5*time.Second, time.Second, 5*time.Minute)
	cfg.MFA.MaxCodeAttempts = 3
	if rm.MaxCodeAttempts != nil {
		if *rm.MaxCodeAttempts < 1 || *rm.MaxCodeAttempts > 100 {
			b.fail("mfa.max_code_attempts", "%d is outside 1–100", *rm.MaxCodeAttempts)
		} else {
			cfg.MFA.MaxCodeAttempts = int(*rm.MaxCodeAttempts)
		}
	}
	cfg.MFA.LockoutWindow = b.duration("mfa.lockout_window", rm.LockoutWindow, 5*time.Minute, time.Second, 24*time.Hour)
	cfg.MFA.LockoutTime = b.duration("mfa.lockout_time", rm.LockoutTime, 60*time.Second, time.Second, 24*time.Hour)

	// [[door]] first: readers refer to doors.
	doorIndex := map[string]int{}
	for i := range raw.Door {
		cfg.Doors = append(cfg.Doors, b.door(idx("door", i), &raw.Door[i], cfg.Controller, used, doorIndex, i))
	}

	// [[reader]]
	readerNames := map[string]string{}
	for i := range raw.Reader {
		key := idx("reader", i)
		r := b.reader(key, &raw.Reader[i], used)
		if r.Name != "" {
			if other, ok := readerNames[r.Name]; ok {
				b.fail(key+".name", "reader %q is already defined at %s (line %d)", r.Name, other, b.pos.lineOf(other))
			}
			readerNames[r.Name] = key
		}
		if raw.Reader[i].Door == nil {
			b.fail(key+".door", "is required: the name of a [[door]]")
		} else if _, ok := doorIndex[r.Door]; !ok {
			b.fail(key+".door", "door %q does not exist (no [[door]] has that name)", r.Door)
		}
		cfg.Readers = append(cfg.Readers, r)
	}

	// card_and_code needs a keypad on every reader that would ask for a code.
	for i, d := range cfg.Doors {
		b.checkKeypads(idx("door", i), d, cfg.Readers)
	}

	// [[group]]
	groupNames := map[string]string{}
	for i := range raw.Group {
		key := idx("group", i)
		rg := &raw.Group[i]
		g := Group{Name: b.name(key+".name", rg.Name), Line: b.pos.lineOf(key)}
		if g.Name != "" {
			if other, ok := groupNames[g.Name]; ok {
				b.fail(key+".name", "group %q is already defined at %s (line %d)", g.Name, other, b.pos.lineOf(other))
			}
			groupNames[g.Name] = key
		}
		if rg.Doors == nil {
			b.fail(key+".doors", "is required: a list of door names")
		}
		seen := map[string]bool{}
		for _, dn := range rg.Doors {
			if _, ok := doorIndex[dn]; !ok {
				b.fail(key+".doors", "door %q does not exist (no [[door]] has that name)", dn)
			} else if seen[dn] {
				b.fail(key+".doors", "door %q is listed twice", dn)
			}
			seen[dn] = true
			g.Doors = append(g.Doors, dn)
		}
		var okWins []Window
		var okKeys []string
		for j, rw := range rg.Schedule {
			wk := idx(key+".schedule", j)
			w, ok := b.window(wk, rw.Days, rw.Start, rw.End, nil, false)
			g.Schedule = append(g.Schedule, w)
			if ok {
				okWins = append(okWins, w)
				okKeys = append(okKeys, wk)
			}
		}
		b.checkOverlaps(key+".schedule", okWins, okKeys)
		cfg.Groups = append(cfg.Groups, g)
	}
	return cfg
}

func (b *builder) door(key string, rd *rawDoor, ctl Controller, used map[string]string, names map[string]int, i int) Door {
	d := Door{Name: b.name(key+".name", rd.Name), Line: b.pos.lineOf(key)}
	if d.Name != "" {
		if j, ok := names[d.Name]; ok {
			other := idx("door", j)
			b.fail(key+".name", "door %q is already defined at %s (line %d)", d.Name, other, b.pos.lineOf(other))
		} else {
			names[d.Name] = i
		}
	}
	d.TimeZone = str(rd.TimeZone, "")
	if d.TimeZone == "" {
		d.TimeZone, d.Location = ctl.TimeZone, ctl.Location
	} else {
		d.Location = b.zone(key+".time_zone", d.TimeZone)
	}
	d.Relay = b.pin(key+".relay", rd.Relay, true, used)
	d.RelayActive = b.level(key+".relay_active", rd.RelayActive, High)
	d.DPS = b.pin(key+".dps", rd.DPS, false, used)
	d.DPSOpen = b.level(key+".dps_open", rd.DPSOpen, High)
	d.REX = b.pin(key+".rex", rd.REX, false, used)
	d.REXActive = b.level(key+".rex_active", rd.REXActive, Low)
	// DPS/REX are dry contacts; 20–50 ms is usual (hardware.md), 1 s is far beyond any bounce.
	d.Debounce = b.duration(key+".debounce", rd.Debounce, 50*time.Millisecond, 0, time.Second)
	// 1–60 s: product.md §5, the range seen on commercial controllers.
	d.UnlockTime = b.duration(key+".unlock_time", rd.UnlockTime, 10*time.Second, time.Second, 60*time.Second)
	d.REXUnlocks = boolean(rd.REXUnlocks, false)
	d.REXUnlockTime = b.duration(key+".rex_unlock_time", rd.REXUnlockTime, 3*time.Second, time.Second, 60*time.Second)
	d.RelockOnOpen = boolean(rd.RelockOnOpen, true)
	d.HeldOpenTime = b.duration(key+".held_open_time", rd.HeldOpenTime, 60*time.Second, time.Second, 24*time.Hour)
	d.DefaultMode = b.mode(key+".default_mode", rd.DefaultMode, AccessControlled)
	d.ClockUnknownMode = b.mode(key+".clock_unknown_mode", rd.ClockUnknown, Locked)
	d.SecondFactor = b.oneOf(key+".second_factor", str(rd.SecondFactor, SecondFactorAlways), SecondFactorAlways, SecondFactorEntryOnly)

	var okWins []Window
	var okKeys []string
	for j, rw := range rd.Schedule {
		wk := idx(key+".schedule", j)
		w, ok := b.window(wk, rw.Days, rw.Start, rw.End, rw.Mode, true)
		d.Schedule = append(d.Schedule, w)
		if ok {
			okWins = append(okWins, w)
			okKeys = append(okKeys, wk)
		}
	}
	b.checkOverlaps(key+".schedule", okWins, okKeys)

	type dated struct {
		e   Exception
		key string
	}
	var okEx []dated
	for j, re := range rd.Exception {
		ek := idx(key+".exception", j)
		e, ok := b.exception(ek, re)
		d.Exceptions = append(d.Exceptions, e)
		if ok {
			okEx = append(okEx, dated{e, ek})
		}
	}
	for x := range okEx {
		for y := x + 1; y < len(okEx); y++ {
			a, c := okEx[x], okEx[y]
			if a.e.Date == c.e.Date && a.e.Start < c.e.End && c.e.Start < a.e.End {
				b.fail(c.key, "overlaps %s (line %d) on %s: %s–%s and %s–%s", a.key, a.e.Line, a.e.Date,
					a.e.Start, a.e.End, c.e.Start, c.e.End)
			}
		}
	}
	return d
}

func (b *builder) exception(key string, re rawException) (Exception, bool) {
	e := Exception{Line: b.pos.lineOf(key), Start: 0, End: 24 * 60}
	n := len(b.issues)
	if re.Date == nil {
		b.fail(key+".date", "is required (YYYY-MM-DD)")
	} else if t, err := time.Parse("2006-01-02", *re.Date); err != nil {
		b.fail(key+".date", "%q is not a date YYYY-MM-DD", *re.Date)
	} else {
		e.Date = Date{t.Year(), t.Month(), t.Day()}
	}
	if re.Start != nil {
		e.Start, _ = b.clock(key+".start", *re.Start, false)
	}
	if re.End != nil {
		e.End, _ = b.clock(key+".end", *re.End, true)
	}
	e.Mode = b.mode(key+".mode", re.Mode, "")
	if len(b.issues) == n && e.Start >= e.End {
		b.fail(key+".end", "end %s is not after start %s", e.End, e.Start)
	}
	return e, len(b.issues) == n
}

// formatBits is the frame length of each card format (hardware.md "Card formats").
var formatBits = map[reader.Format]int{
	reader.H10301:      26,
	reader.H10306:      34,
	reader.Corp1000x35: 35,
	reader.H10302:      37,
	reader.H10304:      37,
	reader.Corp1000x48: 48,
}

// frameBits returns the frame length of a format as the config spells it: a
// format name, or "raw" and its length in bits ("raw32", "raw56") for a card
// serial number sent without parity. A raw number must fit 64 bits.
func frameBits(f string) (int, bool) {
	if n, ok := formatBits[reader.Format(f)]; ok {
		return n, true
	}
	rest, ok := strings.CutPrefix(f, "raw")
	if !ok || rest == "" || rest[0] < '1' || rest[0] > '9' {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 4 || n > 64 {
		return 0, false
	}
	return n, true
}

func (b *builder) reader(key string, rr *rawReader, used map[string]string) Reader {
	r := Reader{Name: b.name(key+".name", rr.Name), Line: b.pos.lineOf(key)}
	r.Door = str(rr.Door, "")
	r.Direction = b.oneOf(key+".direction", str(rr.Direction, "in"), "in", "out")
	r.D0 = b.pin(key+".d0", rr.D0, true, used)
	r.D1 = b.pin(key+".d1", rr.D1, true, used)
	formats := rr.Formats
	if formats == nil {
		formats = []string{"h10301", "h10304"}
	}
	if len(formats) == 0 {
		b.fail(key+".formats", "must list at least one card format")
	}
	byLen := map[int]string{}
	for _, f := range formats {
		n, ok := frameBits(f)
		if !ok {
			b.fail(key+".formats", "%q is not a card format: use h10301, h10306, h10302, h10304, corp1000_35, corp1000_48 or rawN (N = 4–64 bits, e.g. raw32)", f)
			continue
		}
		if other, ok := byLen[n]; ok {
			if other == f {
				b.fail(key+".formats", "%q is listed twice", f)
			} else {
				b.fail(key+".formats", "%q and %q are both %d bits: at most one format per bit length", other, f, n)
			}
			continue
		}
		byLen[n] = f
		r.Formats = append(r.Formats, f)
	}
	r.Keypad = b.oneOf(key+".keypad", str(rr.Keypad, Keypad4Bit), KeypadNone, Keypad4Bit, Keypad8Bit, Keypad26BitPIN)
	// A key frame is told from a card frame by its length (hardware.md
	// "Keypads"); a 26bit_pin keypad shares 26 bits with h10301 only, told
	// apart by facility code 0.
	if n, ok := map[string]int{Keypad4Bit: 4, Keypad8Bit: 8, Keypad26BitPIN: 26}[r.Keypad]; ok {
		if f, clash := byLen[n]; clash && !(r.Keypad == Keypad26BitPIN && f == string(reader.H10301)) {
			b.fail(key+".formats", "%q and keypad %q are both %d bits: a key frame is told from a card by its length", f, r.Keypad, n)
		}
	}
	r.Star, r.Hash = 10, 11
	if rr.Keys != nil {
		// In 4-bit mode 0–9 are the digits; '*' and '#' take two of 10–15.
		check := func(k string, p *int64, def byte) byte {
			if p == nil {
				return def
			}
			if *p < 10 || *p > 15 {
				b.fail(key+".keys."+k, "%d is outside 10–15 (0–9 are the digits of a 4-bit keypad)", *p)
				return def
			}
			return byte(*p)
		}
		r.Star = check("star", rr.Keys.Star, 10)
		r.Hash = check("hash", rr.Keys.Hash, 11)
		if r.Star == r.Hash {
			b.fail(key+".keys", "star and hash are both %d", r.Star)
		}
	}
	// Upper bound on end-of-frame silence: by default reader.DefaultMaxFrameGap
	// (30 ms, above the 20 ms spec maximum interval plus 30 % jitter,
	// hardware.md); 1 ms–1 s keeps it meaningful.
	r.MaxFrameGap = b.duration(key+".max_frame_gap", rr.MaxFrameGap, reader.DefaultMaxFrameGap, time.Millisecond, time.Second)
	r.RawByteOrder = b.oneOf(key+".raw_byte_order", str(rr.RawByteOrder, "msb"), "msb", "lsb")
	r.LEDGreen = b.pin(key+".led_green", rr.LEDGreen, false, used)
	r.LEDRed = b.pin(key+".led_red", rr.LEDRed, false, used)
	r.Beeper = b.pin(key+".beeper", rr.Beeper, false, used)
	r.FeedbackActive = b.level(key+".feedback_active", rr.FeedbackActive, Low)
	return r
}

// checkKeypads refuses card_and_code (default mode, a window or an exception)
// on a door where a reader that would ask for the code has no keypad: every
// reader with second_factor "always", the "in" readers with "entry_only".
func (b *builder) checkKeypads(key string, d Door, readers []Reader) {
	var missing []string
	asking := 0
	for _, r := range readers {
		if r.Door != d.Name {
			continue
		}
		if d.SecondFactor == SecondFactorEntryOnly && r.Direction == "out" {
			continue
		}
		asking++
		if !r.HasKeypad() {
			missing = append(missing, r.Name)
		}
	}
	var why string
	switch {
	case len(missing) > 0:
		why = fmt.Sprintf("card_and_code needs a keypad, and reader %s of door %q has none (keypad = \"\")",
			strings.Join(missing, ", "), d.Name)
	case asking == 0:
		why = fmt.Sprintf("card_and_code needs a reader with a keypad, and door %q has no reader that asks for the code", d.Name)
	default:
		return
	}
	if d.DefaultMode == CardAndCode {
		b.fail(key+".default_mode", "%s", why)
	}
	if d.ClockUnknownMode == CardAndCode {
		b.fail(key+".clock_unknown_mode", "%s", why)
	}
	for j, w := range d.Schedule {
		if w.Mode == CardAndCode {
			b.fail(idx(key+".schedule", j)+".mode", "%s", why)
		}
	}
	for j, e := range d.Exceptions {
		if e.Mode == CardAndCode {
			b.fail(idx(key+".exception", j)+".mode", "%s", why)
		}
	}
}
