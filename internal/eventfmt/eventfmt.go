package eventfmt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/latchd/latch/door"
)

// ANSI colours.
const (
	Reset  = "\x1b[0m"
	Red    = "\x1b[31m"
	Green  = "\x1b[32m"
	Yellow = "\x1b[33m"
	Blue   = "\x1b[34m"
	Cyan   = "\x1b[36m"
	Grey   = "\x1b[90m"
	Bold   = "\x1b[1m"
)

// TimeLayout is how a line's time is shown, in Style.Loc.
const TimeLayout = "2006-01-02 15:04:05.000"

// secretKeys are field names that could hold a code, typed keys or a token:
// a list of names, not a pattern. "key" is not one: it is the config key of
// a refused reload ("door[1].unlock_time"), which the reader needs; typed
// keypad keys are logged as "keys".
var secretKeys = map[string]bool{
	"code": true, "codes": true, "keys": true, "token": true, "secret": true,
	"pin": true, "password": true, "authorization": true,
}

// IsSecretKey reports whether a field of this name is never drawn.
func IsSecretKey(name string) bool { return secretKeys[strings.ToLower(name)] }

// Style is how lines are drawn.
type Style struct {
	Color bool           // ANSI colours
	Loc   *time.Location // the zone times are shown in; nil = time.Local
}

// ColorFor reports whether lines written to f should be coloured: only on a
// terminal, and not when NO_COLOR is set (https://no-color.org) or TERM is
// "dumb". journald shows a line with escape codes as a "blob", so under
// systemd output stays plain.
func ColorFor(f *os.File) bool {
	if f == nil || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// Decode reads one JSON object, numbers kept as written.
func Decode(line []byte) (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("eventfmt: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("eventfmt: not a JSON object")
	}
	return m, nil
}

// IsEvent reports whether a decoded line is an event (it has "event").
func IsEvent(m map[string]any) bool {
	_, ok := m["event"]
	return ok
}

// Event draws an event as one line, without a newline: time, door, event,
// then reason, method, user (external id and user id), reader, card
// (format/facility/number), then the other fields sorted. seq, level and
// message are left out. It consumes m (deletes the fields it drew).
func (s Style) Event(m map[string]any) string {
	dropSecrets(m)
	var b strings.Builder
	s.stamp(&b, m)
	ev := text(m["event"])
	s.paint(&b, Bold, fmt.Sprintf("%-12s", text(m["door"])))
	b.WriteByte(' ')
	s.paint(&b, EventColor(ev), fmt.Sprintf("%-16s", ev))
	// The fields a technician reads first, in this order; the rest sorted.
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("reason", text(m["reason"]))
	add("method", text(m["method"]))
	user := text(m["external_id"])
	if id := text(m["user_id"]); id != "" {
		if user == "" {
			user = id
		} else {
			user += " (" + id + ")"
		}
	}
	add("user", user)
	add("reader", text(m["reader"]))
	if c, ok := m["card"].(map[string]any); ok {
		add("card", fmt.Sprintf("%s/%s/%s", text(c["format"]), text(c["facility_code"]), text(c["card_number"])))
	}
	for _, k := range []string{"event", "door", "level", "message", "seq", "reason", "method", "external_id", "user_id", "reader", "card"} {
		delete(m, k)
	}
	parts = append(parts, fields(m)...)
	if len(parts) > 0 {
		b.WriteString(" ")
		b.WriteString(strings.Join(parts, " "))
	}
	return oneLine.Replace(b.String())
}

// text is a value drawn as it is, cleaned (see clean).
func text(v any) string { return clean(Str(v)) }

// clean escapes what a terminal would act on rather than show: control
// characters (C0, DEL, C1: ESC starts colour, cursor and title sequences,
// 0x9b is CSI on some terminals), format characters such as the bidi
// overrides, and bytes that are not UTF-8. A value from the log or the
// event stream (an imported external_id, a reader name, a message) can
// then never recolour, move or retitle the technician's terminal.
func clean(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' || unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// oneLine keeps a line one line whatever the strings drawn raw hold.
var oneLine = strings.NewReplacer("\n", `\n`, "\r", `\r`)

// Plain draws a log line that is not an event, without a newline: "time
// LEVEL component: message key=value …" (keys sorted). It consumes m.
func (s Style) Plain(m map[string]any) string {
	dropSecrets(m)
	var b strings.Builder
	s.stamp(&b, m)
	lvl := text(m["level"])
	color := ""
	switch lvl {
	case "error", "fatal", "panic":
		color = Red
	case "warn":
		color = Yellow
	case "debug", "trace":
		color = Grey
	}
	s.paint(&b, color, fmt.Sprintf("%-5s", strings.ToUpper(lvl)))
	b.WriteByte(' ')
	if c := text(m["component"]); c != "" {
		b.WriteString(c + ": ")
	}
	b.WriteString(text(m["message"]))
	for _, k := range []string{"level", "component", "message"} {
		delete(m, k)
	}
	if r := fields(m); len(r) > 0 {
		b.WriteString(" ")
		b.WriteString(strings.Join(r, " "))
	}
	return oneLine.Replace(b.String())
}

// Line draws m as Event or Plain, whichever it is.
func (s Style) Line(m map[string]any) string {
	if IsEvent(m) {
		return s.Event(m)
	}
	return s.Plain(m)
}

// EventColor is an event's colour: green for grants, red for denials and
// alarms, yellow while a code is awaited or a keypad is locked out, blue for
// mode and credential changes, cyan for the rest (and for a kind it does
// not know).
func EventColor(ev string) string {
	if c, ok := eventColors[ev]; ok {
		return c
	}
	return Cyan
}

// eventColors has a colour for every event the door writes (door.Events:
// TestEveryDoorEventColoured ranges over them, so a new event gets a
// colour chosen for it) and for the store's audit event.
var eventColors = map[string]string{
	door.EvAccessGranted:   Green,
	door.EvAccessDenied:    Red,
	door.EvDoorForcedOpen:  Red,
	door.EvDoorHeldOpen:    Red,
	door.EvCodeRequested:   Yellow,
	door.EvKeypadLockout:   Yellow,
	door.EvModeChanged:     Blue,
	door.EvStrikeReleased:  Cyan,
	door.EvStrikeLocked:    Cyan,
	door.EvDoorOpened:      Cyan,
	door.EvDoorClosed:      Cyan,
	door.EvREX:             Cyan,
	door.EvEventsLost:      Cyan,
	door.EvDeliveryDropped: Yellow,
	// Operating doors (docs/operations.md): a lockdown and an alarm input
	// are alarms; their ends are news.
	door.EvLockdownStarted: Red,
	door.EvLockdownEnded:   Blue,
	door.EvInputAlarm:      Red,
	door.EvInputNormal:     Blue,
	door.EvDuress:          Red, // an alarm, in the controller's log only: the door shows nothing
	door.EvDuressCleared:   Blue,
	credentialChanged:      Blue,
}

// credentialChanged is the store's audit event (docs/events.md).
const credentialChanged = "credential_changed"

// Str is a decoded JSON value as it is shown: strings as they are, objects
// and arrays as JSON, nil as "".
func Str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	case map[string]any, []any:
		j, _ := json.Marshal(v)
		return string(j)
	}
	return fmt.Sprint(v)
}

func dropSecrets(m map[string]any) {
	for k := range m {
		if IsSecretKey(k) {
			delete(m, k)
		}
	}
}

func (s Style) paint(b *strings.Builder, color, text string) {
	if s.Color && color != "" {
		b.WriteString(color)
		b.WriteString(text)
		b.WriteString(Reset)
		return
	}
	b.WriteString(text)
}

// stamp draws m's time (RFC 3339) in s.Loc, or the text as it is when it
// is not a time.
func (s Style) stamp(b *strings.Builder, m map[string]any) {
	ts := Str(m["time"])
	delete(m, "time")
	if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		loc := s.Loc
		if loc == nil {
			loc = time.Local
		}
		ts = t.In(loc).Format(TimeLayout)
	} else {
		ts = clean(ts)
	}
	s.paint(b, Grey, fmt.Sprintf("%-23s", ts))
	b.WriteByte(' ')
}

// fields is key=value for every field of m, sorted; a value with a space
// or a control character is quoted, so that a line stays one line.
func fields(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		v := Str(m[k])
		if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r == ' ' || !unicode.IsPrint(r) }) {
			v = strconv.Quote(v) // escapes every control, format and invalid byte
		}
		out = append(out, clean(k)+"="+v)
	}
	return out
}
