package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"
)

func init() {
	register("events", command{summary: "print stored events, or follow them live (--follow)", run: runEvents})
}

const eventsUsage = `usage:
  latchctl events [--after SEQ] [--limit N] [--door D] [--user USER_ID] [--event NAME] [--json]
  latchctl events --follow [--after SEQ] [--door D] [--user USER_ID] [--event NAME] [--json]
Without --follow it prints one page (oldest first, after SEQ). --follow streams new
events until interrupted; with --after it first replays what came after SEQ.`

// eventPrinter prints event JSON objects as console log lines or raw JSON.
// The console line is the one latchd --log-format console prints for an
// event (cmd/latchd/logfmt.go; keep the two alike):
//
//	2026-03-02 09:00:00.000 front        access_granted   method=card user=alice (u…1) reader=front-in card=h10301/1/1001
type eventPrinter struct {
	raw   bool
	color bool
	loc   *time.Location
	out   io.Writer
}

// eventZone is the zone event times are shown in; nil = local time.
var eventZone *time.Location

func newEventPrinter(out io.Writer, raw bool) *eventPrinter {
	color := false
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == "" {
		color = true
	}
	loc := eventZone
	if loc == nil {
		loc = time.Local
	}
	return &eventPrinter{raw: raw, color: color, loc: loc, out: out}
}

// ANSI colours, as latchd's console format uses them.
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

func (p *eventPrinter) paint(b *strings.Builder, color, s string) {
	if p.color && color != "" {
		b.WriteString(color + s + cReset)
		return
	}
	b.WriteString(s)
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

// print writes one event; it returns the event's seq.
func (p *eventPrinter) print(line []byte) (uint64, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return 0, fmt.Errorf("bad event from latchd: %w", err)
	}
	seq, _ := strconv.ParseUint(str(m["seq"]), 10, 64)
	if p.raw {
		fmt.Fprintf(p.out, "%s\n", bytes.TrimSpace(line))
		return seq, nil
	}
	var b strings.Builder
	ts := str(m["time"])
	if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		ts = t.In(p.loc).Format("2006-01-02 15:04:05.000")
	}
	p.paint(&b, cGrey, fmt.Sprintf("%-23s", ts))
	b.WriteByte(' ')
	ev := str(m["event"])
	p.paint(&b, cBold, fmt.Sprintf("%-12s", str(m["door"])))
	b.WriteByte(' ')
	p.paint(&b, eventColor(ev), fmt.Sprintf("%-16s", ev))
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
	for _, k := range []string{"time", "event", "door", "seq", "reason", "method", "external_id", "user_id", "reader", "card"} {
		delete(m, k)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := str(m[k])
		if strings.ContainsAny(v, " \t") {
			v = strconv.Quote(v)
		}
		parts = append(parts, k+"="+v)
	}
	b.WriteString(" " + strings.Join(parts, " ") + "\n")
	_, err := io.WriteString(p.out, b.String())
	return seq, err
}

func runEvents(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("events", stderr)
	c := addConnFlags(fs)
	follow := fs.Bool("follow", false, "stream events live until interrupted")
	fs.BoolVar(follow, "f", false, "short for --follow")
	after := fs.Uint64("after", 0, "only events with seq greater than this")
	limit := fs.Int("limit", 0, "events per page, 1–1000 (default 100)")
	door := fs.String("door", "", "only this door")
	user := fs.String("user", "", "only this user_id")
	event := fs.String("event", "", "only this event, e.g. access_denied")
	raw := fs.Bool("json", false, "print JSON lines")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 0 {
		return fail(stderr, "events", fmt.Errorf("takes no arguments\n%s", eventsUsage))
	}
	if err := c.setup(fs); err != nil {
		return fail(stderr, "events", err)
	}
	q := url.Values{}
	for k, v := range map[string]string{"door": *door, "user_id": *user, "event": *event} {
		if v != "" {
			q.Set(k, v)
		}
	}
	afterSet := false
	fs.Visit(func(f *flag.Flag) { afterSet = afterSet || f.Name == "after" })
	if afterSet {
		q.Set("after", strconv.FormatUint(*after, 10))
	}
	p := newEventPrinter(stdout, *raw)

	if !*follow {
		if *limit != 0 {
			q.Set("limit", strconv.Itoa(*limit))
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var page struct {
			Events []json.RawMessage `json:"events"`
			Next   uint64            `json:"next"`
		}
		if err := c.do(ctx, http.MethodGet, "/v1/events?"+q.Encode(), nil, &page); err != nil {
			return fail(stderr, "events", err)
		}
		for _, e := range page.Events {
			if _, err := p.print(e); err != nil {
				return fail(stderr, "events", err)
			}
		}
		if page.Next != 0 && len(page.Events) > 0 {
			fmt.Fprintf(stderr, "more: latchctl events --after %d\n", page.Next)
		}
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return followEvents(ctx, c, q, p, stderr)
}

// followEvents streams NDJSON until ctx ends or latchd closes the stream.
func followEvents(ctx context.Context, c *conn, q url.Values, p *eventPrinter, stderr io.Writer) int {
	q.Set("format", "ndjson")
	resp, err := c.send(ctx, http.MethodGet, "/v1/events/stream?"+q.Encode(), nil, "")
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		return fail(stderr, "events", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue // keepalive
		}
		var probe struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(line, &probe) == nil && probe.Error != "" {
			return fail(stderr, "events", fmt.Errorf("%s", probe.Error))
		}
		if _, err := p.print(line); err != nil {
			return fail(stderr, "events", err)
		}
	}
	if ctx.Err() != nil {
		return 0
	}
	if err := sc.Err(); err != nil {
		return fail(stderr, "events", fmt.Errorf("stream ended: %w", err))
	}
	fmt.Fprintln(stderr, "latchctl events: latchd closed the stream (restarting?); run again with --after the last seq")
	return 1
}
