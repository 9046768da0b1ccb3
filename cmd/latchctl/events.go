package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/internal/eventfmt"
)

const eventsUsage = `usage:
  latchctl events [--after SEQ] [--limit N] [--door D] [--user USER_ID] [--event NAME] [--json]
  latchctl events --follow [--after SEQ] [--door D] [--user USER_ID] [--event NAME] [--json]
Without --follow it prints one page (oldest first, after SEQ). --follow streams new
events until interrupted; with --after it first replays what came after SEQ. When
latchd restarts or the connection drops, --follow connects again by itself and
goes on after the last seq it printed.`

// eventPrinter prints event JSON objects as console log lines (drawn by
// internal/eventfmt, exactly as latchd --log-format console draws them) or
// as raw JSON.
type eventPrinter struct {
	raw   bool
	style eventfmt.Style
	out   io.Writer
}

// eventZone is the zone event times are shown in; nil = local time.
var eventZone *time.Location

func newEventPrinter(out io.Writer, raw bool) *eventPrinter {
	f, _ := out.(*os.File)
	return &eventPrinter{raw: raw, style: eventfmt.Style{Color: eventfmt.ColorFor(f), Loc: eventZone}, out: out}
}

// print writes one event; it returns the event's seq.
func (p *eventPrinter) print(line []byte) (uint64, error) {
	m, err := eventfmt.Decode(line)
	if err != nil {
		return 0, fmt.Errorf("bad event from latchd: %w", err)
	}
	seq, _ := strconv.ParseUint(eventfmt.Str(m["seq"]), 10, 64)
	if p.raw {
		_, err := fmt.Fprintf(p.out, "%s\n", bytes.TrimSpace(line))
		return seq, err
	}
	_, err = io.WriteString(p.out, p.style.Event(m)+"\n")
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
		var page apitype.EventPage[json.RawMessage]
		if err := c.do(ctx, http.MethodGet, "/v1/events?"+q.Encode(), nil, &page); err != nil {
			return fail(stderr, "events", err)
		}
		for _, e := range page.Events {
			if _, err := p.print(e); err != nil {
				return fail(stderr, "events", err)
			}
		}
		if page.Next != 0 && len(page.Events) > 0 && more(ctx, c, q, page.Next) {
			// The next page's command keeps this one's filters.
			cmd := "latchctl events"
			for _, f := range []struct{ flag, v string }{{"--door", *door}, {"--user", *user}, {"--event", *event}} {
				if f.v != "" {
					cmd += " " + f.flag + " " + shellQuote(f.v)
				}
			}
			if *limit != 0 {
				cmd += " --limit " + strconv.Itoa(*limit)
			}
			fmt.Fprintf(stderr, "more: %s --after %d\n", cmd, page.Next)
		}
		return 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return followEvents(ctx, c, q, p, stderr)
}

// more reports whether an event after seq passes q's filters: a page that
// ends exactly at the last event gets no "more:" hint to an empty page.
func more(ctx context.Context, c *conn, q url.Values, seq uint64) bool {
	probe := url.Values{}
	for k, v := range q {
		probe[k] = v
	}
	probe.Set("after", strconv.FormatUint(seq, 10))
	probe.Set("limit", "1")
	var page apitype.EventPage[json.RawMessage]
	if err := c.do(ctx, http.MethodGet, "/v1/events?"+probe.Encode(), nil, &page); err != nil {
		return true // cannot tell: say there may be more
	}
	return len(page.Events) > 0
}

// shellQuote quotes s for a shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.:/@+,", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// reconnectWait is the first wait before --follow connects again after
// the stream ended; it doubles up to reconnectMax. Tests shorten it.
var (
	reconnectWait = time.Second
	reconnectMax  = 10 * time.Second
)

// followEvents streams NDJSON until ctx ends. When latchd closes the
// stream or cannot be reached (a restart, a lost network), it connects
// again by itself, with after = the last seq it printed, so that no event
// is missed or printed twice. An answer that will not change by retrying
// (a 4xx: a bad token, a refused filter) ends it; a 5xx (latchd starting,
// failing) is retried.
func followEvents(ctx context.Context, c *conn, q url.Values, p *eventPrinter, stderr io.Writer) int {
	q.Set("format", "ndjson")
	wait := reconnectWait
	for first := true; ; first = false {
		last, printed, err := followOnce(ctx, c, q, p)
		if ctx.Err() != nil {
			return 0
		}
		var ae *apiError
		// The first connection failing is a wrong socket or URL, or
		// latchd not running: say so at once, as without --follow.
		if errors.As(err, &ae) && ae.Status < 500 || errors.Is(err, errFatalStream) || first && errors.As(err, new(noStream)) {
			return fail(stderr, "events", err)
		}
		if last > 0 {
			q.Set("after", strconv.FormatUint(last, 10))
		}
		if printed {
			wait = reconnectWait
		}
		why := "latchd closed the stream"
		if err != nil {
			why = err.Error()
		}
		since := "from now (no event seen yet: events in between are not replayed)"
		if a := q.Get("after"); a != "" {
			since = "after seq " + a
		}
		fmt.Fprintf(stderr, "latchctl events: %s; reconnecting in %v, %s\n", forPeople(why), wait, since)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0
		case <-t.C:
		}
		wait = min(2*wait, reconnectMax)
	}
}

// errFatalStream marks a stream error that retrying cannot fix.
var errFatalStream = errors.New("latchd refused the stream")

// noStream is a connection that failed before the stream began.
type noStream struct{ err error }

func (e noStream) Error() string { return e.err.Error() }
func (e noStream) Unwrap() error { return e.err }

// followOnce reads one stream to its end. It returns the last seq printed
// (0: none), whether it printed any event, and why it ended.
func followOnce(ctx context.Context, c *conn, q url.Values, p *eventPrinter) (last uint64, printed bool, err error) {
	resp, err := c.send(ctx, http.MethodGet, "/v1/events/stream?"+q.Encode(), nil, "")
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return 0, false, err
		}
		return 0, false, noStream{err}
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue // keepalive
		}
		var probe apitype.Error
		if json.Unmarshal(line, &probe) == nil && probe.Error != "" {
			return last, printed, fmt.Errorf("%w: %s", errFatalStream, probe.Error)
		}
		seq, err := p.print(line)
		if err != nil {
			return last, printed, fmt.Errorf("%w: %v", errFatalStream, err)
		}
		printed = true
		if seq > last {
			last = seq
		}
	}
	if err := sc.Err(); err != nil {
		return last, printed, fmt.Errorf("stream ended: %w", err)
	}
	return last, printed, nil
}
