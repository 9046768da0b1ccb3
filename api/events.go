package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// eventQuery reads the filters shared by GET /v1/events and the stream.
func eventQuery(r *http.Request) (store.EventQuery, error) {
	q := r.URL.Query()
	var eq store.EventQuery
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return eq, badField("after", "must be an event sequence number (a non-negative integer)")
		}
		eq.After = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return eq, badField("limit", "must be an integer 1–1000")
		}
		eq.Limit = n
	}
	eq.Door, eq.UserID, eq.Event, eq.Controller = q.Get("door"), q.Get("user_id"), q.Get("event"), q.Get("controller")
	for _, f := range []struct{ name, v string }{{"door", eq.Door}, {"user_id", eq.UserID}, {"event", eq.Event}, {"controller", eq.Controller}} {
		if err := checkText(f.name, f.v, 128); err != nil {
			return eq, err
		}
	}
	if eq.Event != "" && strings.ContainsFunc(eq.Event, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '_') }) {
		return eq, badField("event", "must be an event name such as access_granted")
	}
	return eq, nil
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, c caller) error {
	eq, err := eventQuery(r)
	if err != nil {
		return err
	}
	evs, err := s.st.Events(eq)
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []store.Event{}
	}
	out := apitype.EventPage[store.Event]{Events: evs}
	if len(evs) > 0 {
		out.Next = evs[len(evs)-1].Seq
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// matches reports whether e passes eq's filters.
func matches(e store.Event, eq store.EventQuery) bool {
	return (eq.Door == "" || e.Door == eq.Door) &&
		(eq.UserID == "" || e.UserID == eq.UserID) &&
		(eq.Event == "" || e.Event == eq.Event) &&
		(eq.Controller == "" || e.Controller == eq.Controller)
}

// streamHeartbeat keeps proxies and idle timeouts from closing a quiet
// stream.
const streamHeartbeat = 15 * time.Second

// streamBuffer is how many events a slow stream client may fall behind
// before the store cuts it off (it then reconnects with after=).
const streamBuffer = 1024

// DefaultMaxStreamsPerToken is how many live event streams one token may
// hold at once (of DefaultMaxStreams in all), so that one integrator's
// token — or one leaked token — cannot take every slot from the others.
const DefaultMaxStreamsPerToken = 4

// tokenStreams counts the live streams each token holds.
type tokenStreams struct {
	max int // 0 = DefaultMaxStreamsPerToken
	mu  sync.Mutex
	n   map[string]int
}

// acquire takes one of name's stream slots, or reports false when it holds
// them all.
func (t *tokenStreams) acquire(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = map[string]int{}
	}
	if t.n[name] >= t.limit() {
		return false
	}
	t.n[name]++
	return true
}

func (t *tokenStreams) release(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n[name]--; t.n[name] <= 0 {
		delete(t.n, name)
	}
}

func (t *tokenStreams) limit() int {
	if t.max <= 0 {
		return DefaultMaxStreamsPerToken
	}
	return t.max
}

// streamEvents follows the event log live: as server-sent events when the
// client asks for text/event-stream (or format=sse), else as NDJSON. With
// after= (or SSE's Last-Event-ID) it first replays stored events after that
// sequence number, then continues live without gap or repeat.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, c caller) error {
	eq, err := eventQuery(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "":
		format = "ndjson"
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			format = "sse"
		}
	case "sse", "ndjson":
	default:
		return badField("format", "must be sse or ndjson")
	}
	if !s.perTok.acquire(c.Name) {
		w.Header().Set("Retry-After", "60")
		return &apiError{Status: http.StatusTooManyRequests, Msg: fmt.Sprintf("api: this token already holds %d live event streams, the most one token may (all tokens together: %d); close one, or page with GET /v1/events?after=SEQ", s.perTok.limit(), cap(s.streams))}
	}
	defer s.perTok.release(c.Name)
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		w.Header().Set("Retry-After", "60")
		return &apiError{Status: http.StatusServiceUnavailable, Msg: fmt.Sprintf("api: already serving %d live event streams, the most allowed; close one, or page with GET /v1/events?after=SEQ", cap(s.streams))}
	}
	replay := r.URL.Query().Has("after")
	if id := r.Header.Get("Last-Event-ID"); id != "" && format == "sse" {
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return badField("Last-Event-ID", "must be an event sequence number")
		}
		eq.After, replay = n, true
	}

	// Subscribe before replaying so nothing falls between the two.
	ch, cancel := s.st.Subscribe(streamBuffer)
	defer cancel()

	if format == "sse" {
		w.Header().Set("Content-Type", "text/event-stream")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	write := func(e store.Event) error {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if format == "sse" {
			_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Event, b)
		} else {
			_, err = w.Write(append(b, '\n'))
		}
		return err
	}
	flush := func() error {
		if err := rc.Flush(); err != nil && err != http.ErrNotSupported {
			return err
		}
		return nil
	}
	if err := flush(); err != nil {
		return nil
	}

	last := eq.After
	if replay {
		page := eq
		page.Limit = 500
		for {
			evs, err := s.st.Events(page)
			if err != nil {
				s.log.Error().Err(err).Msg("event stream replay")
				return nil
			}
			for _, e := range evs {
				if write(e) != nil {
					return nil
				}
				last = e.Seq
			}
			if len(evs) < page.Limit {
				break
			}
			page.After = evs[len(evs)-1].Seq
		}
		if flush() != nil {
			return nil
		}
	}

	tick := time.NewTicker(streamHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-tick.C:
			var err error
			if format == "sse" {
				_, err = w.Write([]byte(": keepalive\n\n"))
			} else {
				_, err = w.Write([]byte("\n"))
			}
			if err != nil || flush() != nil {
				return nil
			}
		case e, ok := <-ch:
			if !ok {
				// The store cut us off: this client fell too far behind.
				msg := fmt.Sprintf(`{"error":"api: stream cut off: the client fell behind; reconnect with after=%d"}`, last)
				if format == "sse" {
					fmt.Fprintf(w, "event: error\ndata: %s\n\n", msg)
				} else {
					fmt.Fprintln(w, msg)
				}
				flush()
				return nil
			}
			if replay && e.Seq <= last {
				continue
			}
			if !matches(e, eq) {
				continue
			}
			if write(e) != nil || flush() != nil {
				return nil
			}
			last = e.Seq
		}
	}
}
