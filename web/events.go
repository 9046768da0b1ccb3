package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/store"
)

// eventRow is an event as the page shows it: its time in its door's zone
// (the controller's when it has no door), with the zone named, and its
// other fields as key=value (never a code: events hold none).
type eventRow struct {
	Seq                       uint64 `json:"seq"`
	Time                      string `json:"time"`
	Event, Door, User, Detail string
}

func (s *Server) row(e store.Event) eventRow {
	loc := s.loc()
	if s.zone != nil && e.Door != "" {
		if z := s.zone(e.Door); z != nil {
			loc = z
		}
	}
	user := e.ExternalID
	if user == "" {
		user = e.UserID
	}
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("controller", e.Controller) // a fleet manager shows the site's events (docs/fleet.md "Events")
	add("reason", e.Reason)
	add("method", e.Method)
	if e.Card != nil {
		add("card", fmt.Sprintf("%s/%d/%d", e.Card.Format, e.Card.FacilityCode, e.Card.CardNumber))
	}
	add("reader", e.Reader)
	add("mode", e.Mode)
	if e.To != "" {
		add("from", e.From)
		add("to", e.To)
	}
	add("cause", e.Cause)
	add("duration", e.Duration)
	add("action", e.Action)
	add("token", e.TokenName)
	add("account", e.Account)
	add("by", e.Actor)
	return eventRow{Seq: e.Seq, Time: fmtIn(e.Time, loc), Event: e.Event, Door: e.Door, User: user, Detail: strings.Join(parts, " ")}
}

type eventsData struct {
	F                      store.EventPageQuery
	Rows                   []eventRow
	Older                  string // the next older page's query
	Events, Reasons, Doors []string
	Stream                 string // the live stream's query
}

func eventFilter(v url.Values) store.EventPageQuery {
	f := store.EventPageQuery{Door: v.Get("door"), UserID: v.Get("user"), Event: v.Get("event"), Reason: v.Get("reason"), Limit: 50}
	f.Before, _ = strconv.ParseUint(v.Get("before"), 10, 64)
	return f
}

// resolveUser lets the user filter be an external id: one that is not a
// user id but is a user's external id filters by that user.
func (s *Server) resolveUser(f *store.EventPageQuery) {
	if f.UserID == "" {
		return
	}
	if _, err := s.st.User(f.UserID); err == nil {
		return
	}
	if u, err := s.st.UserByExternalID(f.UserID); err == nil {
		f.UserID = u.UserID
	}
}

// events shows a page of events newest first, with filters and a link to
// the older page; the script adds live ones from eventStream.
func (s *Server) events(w http.ResponseWriter, r *http.Request, q *req) {
	p := s.newPage(w, r, q)
	f := eventFilter(r.URL.Query())
	s.resolveUser(&f)
	evs, next, err := s.st.EventsBefore(f)
	if err != nil {
		s.log.Error().Err(err).Msg("events")
		p.Errs["_"] = p.T("err.internal")
	}
	d := eventsData{F: f, Events: door.Events(), Reasons: door.Reasons()}
	for _, e := range evs {
		d.Rows = append(d.Rows, s.row(e))
	}
	v := url.Values{}
	for k, x := range map[string]string{"door": f.Door, "user": f.UserID, "event": f.Event, "reason": f.Reason} {
		if x != "" {
			v.Set(k, x)
		}
	}
	d.Stream = v.Encode()
	if next != 0 {
		v.Set("before", strconv.FormatUint(next, 10))
		d.Older = v.Encode()
	}
	s.render(w, "events", p.with("events", d))
}

// eventStream is the live events as server-sent events, filtered as the
// page is; at most maxStreams at once.
func (s *Server) eventStream(w http.ResponseWriter, r *http.Request, q *req) {
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		http.Error(w, "too many live streams", http.StatusServiceUnavailable)
		return
	}
	f := eventFilter(r.URL.Query())
	s.resolveUser(&f)
	ch, cancel := s.st.Subscribe(256)
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	rc := http.NewResponseController(w)
	fmt.Fprint(w, ": live\n\n")
	rc.Flush()
	keep := time.NewTicker(25 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			if !s.ss.alive(q.id) {
				return // the session ended (signed out, timed out): so does its stream
			}
			fmt.Fprint(w, ": keep-alive\n\n")
		case e, ok := <-ch:
			if !ok {
				return // dropped for being slow; the browser reconnects
			}
			if !f.Matches(e) {
				continue
			}
			b, _ := json.Marshal(s.row(e))
			fmt.Fprintf(w, "data: %s\n\n", b)
		}
		if rc.Flush() != nil {
			return
		}
	}
}
