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

	"golang.org/x/term"
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

// secretKeys are field names that could hold a code, typed keys or a token.
var secretKeys = map[string]bool{
	"code": true, "codes": true, "keys": true, "key": true, "token": true, "secret": true,
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
	ev := Str(m["event"])
	s.paint(&b, Bold, fmt.Sprintf("%-12s", Str(m["door"])))
	b.WriteByte(' ')
	s.paint(&b, EventColor(ev), fmt.Sprintf("%-16s", ev))
	// The fields a technician reads first, in this order; the rest sorted.
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("reason", Str(m["reason"]))
	add("method", Str(m["method"]))
	user := Str(m["external_id"])
	if id := Str(m["user_id"]); id != "" {
		if user == "" {
			user = id
		} else {
			user += " (" + id + ")"
		}
	}
	add("user", user)
	add("reader", Str(m["reader"]))
	if c, ok := m["card"].(map[string]any); ok {
		add("card", fmt.Sprintf("%s/%s/%s", Str(c["format"]), Str(c["facility_code"]), Str(c["card_number"])))
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

// oneLine keeps a line one line whatever the strings drawn raw hold.
var oneLine = strings.NewReplacer("\n", `\n`, "\r", `\r`)

// Plain draws a log line that is not an event, without a newline: "time
// LEVEL component: message key=value …" (keys sorted). It consumes m.
func (s Style) Plain(m map[string]any) string {
	dropSecrets(m)
	var b strings.Builder
	s.stamp(&b, m)
	lvl := Str(m["level"])
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
	if c := Str(m["component"]); c != "" {
		b.WriteString(c + ": ")
	}
	b.WriteString(Str(m["message"]))
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
// mode and credential changes, cyan for the rest.
func EventColor(ev string) string {
	switch ev {
	case "access_granted":
		return Green
	case "access_denied", "door_forced_open", "door_held_open":
		return Red
	case "code_requested", "keypad_lockout":
		return Yellow
	case "mode_changed", "credential_changed":
		return Blue
	}
	return Cyan
}

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
		if strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			v = strconv.Quote(v)
		}
		out = append(out, k+"="+v)
	}
	return out
}
