package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/term"
)

// ANSI colours for the console format.
const (
	cReset  = "\x1b[0m"
	cRed    = "\x1b[31m"
	cGreen  = "\x1b[32m"
	cYellow = "\x1b[33m"
	cBlue   = "\x1b[34m"
	cCyan   = "\x1b[36m"
	cGrey   = "\x1b[90m"
	cBold   = "\x1b[1m"
)

// secretKeys are field names that could hold a code, typed keys or a token.
// No package logs them; the console writer drops them anyway, so a mistake
// elsewhere cannot put one on a technician's screen.
var secretKeys = map[string]bool{
	"code": true, "codes": true, "keys": true, "key": true, "token": true, "secret": true,
	"pin": true, "password": true, "authorization": true,
}

// consoleWriter turns zerolog's JSON lines into one readable line each:
// events (lines with an "event" field) as
//
//	15:04:05.000 front      access_granted  method=card user=alice reader=front-in card=h10301/1/1001
//
// and other log lines as "time LEVEL component: message key=value …".
// It is safe for concurrent use.
type consoleWriter struct {
	mu    sync.Mutex
	out   io.Writer
	color bool
	loc   *time.Location // display zone
}

// colorFor reports whether console output to f should be coloured: only on a
// terminal, and not when NO_COLOR is set (https://no-color.org). journald
// shows a line with escape codes as a "blob", so under systemd it is plain.
func colorFor(f *os.File) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

func newConsoleWriter(out io.Writer, color bool) *consoleWriter {
	return &consoleWriter{out: out, color: color, loc: time.Local}
}

func (w *consoleWriter) Write(p []byte) (int, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		// Not JSON: pass it through as it is.
		w.mu.Lock()
		defer w.mu.Unlock()
		_, err := w.out.Write(p)
		return len(p), err
	}
	for k := range m {
		if secretKeys[strings.ToLower(k)] {
			delete(m, k)
		}
	}
	var b strings.Builder
	if _, ok := m["event"]; ok {
		w.event(&b, m)
	} else {
		w.plain(&b, m)
	}
	b.WriteByte('\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := io.WriteString(w.out, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *consoleWriter) paint(b *strings.Builder, color, s string) {
	if w.color && color != "" {
		b.WriteString(color)
		b.WriteString(s)
		b.WriteString(cReset)
		return
	}
	b.WriteString(s)
}

func (w *consoleWriter) stamp(b *strings.Builder, m map[string]any) {
	s, _ := m["time"].(string)
	delete(m, "time")
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		s = t.In(w.loc).Format("2006-01-02 15:04:05.000")
	}
	w.paint(b, cGrey, fmt.Sprintf("%-23s", s))
	b.WriteByte(' ')
}

// eventColor: green for grants, red for denials and alarms, yellow while a
// code is awaited or a keypad is locked out, blue for door and mode changes.
func eventColor(ev string) string {
	switch ev {
	case "access_granted":
		return cGreen
	case "access_denied", "door_forced_open", "door_held_open":
		return cRed
	case "code_requested", "keypad_lockout":
		return cYellow
	case "mode_changed", "credential_changed":
		return cBlue
	}
	return cCyan
}

func str(v any) string {
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

func (w *consoleWriter) event(b *strings.Builder, m map[string]any) {
	w.stamp(b, m)
	ev := str(m["event"])
	w.paint(b, cBold, fmt.Sprintf("%-12s", str(m["door"])))
	b.WriteByte(' ')
	w.paint(b, eventColor(ev), fmt.Sprintf("%-16s", ev))
	for _, k := range []string{"event", "door", "level", "message", "seq"} {
		delete(m, k)
	}
	// The fields a technician reads first, in this order; the rest sorted.
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("reason", str(m["reason"]))
	add("method", str(m["method"]))
	user := str(m["external_id"])
	if id := str(m["user_id"]); id != "" {
		if user == "" {
			user = id
		} else {
			user += " (" + id + ")"
		}
	}
	add("user", user)
	add("reader", str(m["reader"]))
	if c, ok := m["card"].(map[string]any); ok {
		add("card", fmt.Sprintf("%s/%s/%s", str(c["format"]), str(c["facility_code"]), str(c["card_number"])))
	}
	for _, k := range []string{"reason", "method", "external_id", "user_id", "reader", "card"} {
		delete(m, k)
	}
	parts = append(parts, rest(m)...)
	b.WriteString(" ")
	b.WriteString(strings.Join(parts, " "))
}

func (w *consoleWriter) plain(b *strings.Builder, m map[string]any) {
	w.stamp(b, m)
	lvl := str(m["level"])
	color := ""
	switch lvl {
	case "error", "fatal", "panic":
		color = cRed
	case "warn":
		color = cYellow
	case "debug", "trace":
		color = cGrey
	}
	w.paint(b, color, fmt.Sprintf("%-5s", strings.ToUpper(lvl)))
	b.WriteByte(' ')
	if c := str(m["component"]); c != "" {
		b.WriteString(c + ": ")
	}
	b.WriteString(str(m["message"]))
	for _, k := range []string{"level", "component", "message"} {
		delete(m, k)
	}
	if r := rest(m); len(r) > 0 {
		b.WriteString(" ")
		b.WriteString(strings.Join(r, " "))
	}
}

func rest(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		v := str(m[k])
		if strings.ContainsAny(v, " \t") {
			v = fmt.Sprintf("%q", v)
		}
		out = append(out, k+"="+v)
	}
	return out
}

// newLogger builds the process logger: JSON lines on out by default, or the
// console format. level is a zerolog level name.
// The returned writer is the logger's output, for lines written whole
// (events).
func newLogger(out *os.File, format, level string) (zerolog.Logger, io.Writer, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Logger{}, nil, fmt.Errorf("latchd: log level %q: use trace, debug, info, warn or error", level)
	}
	var w io.Writer = out
	switch format {
	case "json":
		w = &lockedWriter{w: out}
	case "console":
		w = newConsoleWriter(out, colorFor(out))
	default:
		return zerolog.Logger{}, nil, fmt.Errorf("latchd: log format %q: use json or console", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), w, nil
}

// lockedWriter serialises whole-line writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
