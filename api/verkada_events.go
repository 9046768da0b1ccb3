package api

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/store"
)

// verkadaEventMap is how GET /events/v1/access names latch's door events
// (docs/verkada.md, "Events"): each row maps one latch event — for a grant
// or a denial, by whether a card was read — to an event type. verkada tells
// Verkada's own names from those latch adds where Verkada has none. The
// events of no door (credential_changed, events_lost) are not access
// events and are not served here: verkadaSkipped lists them. Any other
// event of door.Events — one the door gained after this table — is served
// as "door_" and its latch name (verkadaFallback), so that a new event is
// never dropped; TestVerkadaEventMapCoversEvents checks that every row
// names an event of door.Events.
var verkadaEventMap = []verkadaEventRow{
	{door.EvAccessGranted, 1, "door_keycard_entered_accepted", true},
	{door.EvAccessGranted, 0, "door_code_entered_accepted", true},
	{door.EvAccessDenied, 1, "door_keycard_entered_rejected", true},
	{door.EvAccessDenied, 0, "door_code_entered_rejected", true},
	{door.EvDoorOpened, -1, "door_opened", true},
	{door.EvDoorClosed, -1, "door_closed", true},
	{door.EvDoorForcedOpen, -1, "door_forced_open", true},
	{door.EvDoorHeldOpen, -1, "door_held_open", true},
	{door.EvREX, -1, "door_request_to_exit", true},
	{door.EvStrikeReleased, -1, "door_unlocked", true},
	{door.EvStrikeLocked, -1, "door_locked", true},
	{door.EvCodeRequested, -1, "door_mfa_code_requested", false},
	{door.EvKeypadLockout, -1, "door_keypad_lockout", false},
	{door.EvModeChanged, -1, "door_mode_changed", false},
}

// verkadaEventRow is one row of verkadaEventMap.
type verkadaEventRow struct {
	event   string
	card    int // 1: a card was read, 0: none, -1: either
	typ     string
	verkada bool // Verkada's own name (else latch's, for an event Verkada has no name for)
}

// verkadaSkipped are the events GET /events/v1/access leaves out.
var verkadaSkipped = []string{"credential_changed", door.EvEventsLost}

// verkadaFallback is the event type of a door event the table has no row
// for: "door_" and its name (the name alone when it starts so).
func verkadaFallback(event string) string {
	if strings.HasPrefix(event, "door_") {
		return event
	}
	return "door_" + event
}

// verkadaTypeOf is the event type of e, false for an event not served.
func verkadaTypeOf(e store.Event) (string, bool) {
	mapped := false
	for _, m := range verkadaEventMap {
		if m.event == e.Event {
			mapped = true
			if m.card < 0 || (m.card == 1) == (e.Card != nil) {
				return m.typ, true
			}
		}
	}
	if mapped || slices.Contains(verkadaSkipped, e.Event) || !slices.Contains(door.Events(), e.Event) {
		return "", false
	}
	return verkadaFallback(e.Event), true
}

// verkadaEventTypes lists every event type served, with the latch event
// each comes from: the table's rows, then the fallbacks.
var verkadaEventTypes = func() []verkadaEventRow {
	rows := slices.Clone(verkadaEventMap)
	for _, ev := range door.Events() {
		if !slices.Contains(verkadaSkipped, ev) && !slices.ContainsFunc(verkadaEventMap, func(m verkadaEventRow) bool { return m.event == ev }) {
			rows = append(rows, verkadaEventRow{event: ev, card: -1, typ: verkadaFallback(ev)})
		}
	}
	return rows
}()

// ruleEventType lists the event types.
var ruleEventType = func() string {
	var names []string
	for _, m := range verkadaEventTypes {
		names = append(names, m.typ)
	}
	return "must be among " + strings.Join(names, ", ")
}()

const (
	verkadaPageDefault = 100
	verkadaPageMax     = 200
	// ruleEventPage is the rule of page_token: latch's next_page_token is
	// "p" and the sequence number of the last event a page looked at, so
	// it is never Verkada's "1" (which its clients send for "the first
	// page").
	ruleEventPage = "must be a next_page_token as returned by the API"
)

// unixParam reads Unix seconds (decimals allowed) from query k.
func unixParam(v string, k string) (time.Time, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || f > 253402300799 || math.IsNaN(f) {
		return time.Time{}, badField(k, "must be Unix seconds (decimals allowed)")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

func (s *Server) verkadaEvents(w http.ResponseWriter, r *http.Request, c caller) error {
	q := r.URL.Query()
	var from, to time.Time
	for _, p := range []struct {
		k string
		t *time.Time
	}{{"start_time", &from}, {"end_time", &to}} {
		v, err := vOne(q, p.k)
		if err != nil {
			return err
		}
		if v != "" {
			if *p.t, err = unixParam(v, p.k); err != nil {
				return err
			}
		}
	}
	types := vList(q, "event_type")
	for _, t := range types {
		if !slices.ContainsFunc(verkadaEventTypes, func(m verkadaEventRow) bool { return m.typ == t }) {
			return badField("event_type", ruleEventType)
		}
	}
	users := vList(q, "user_id")
	// The latch events the types come from: the store skips the others
	// unread; the exact type is checked below.
	var names []string
	for _, m := range verkadaEventTypes {
		if slices.Contains(types, m.typ) && !slices.Contains(names, m.event) {
			names = append(names, m.event)
		}
	}
	size := verkadaPageDefault
	if v, err := vOne(q, "page_size"); err != nil {
		return err
	} else if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > verkadaPageMax {
			return badField("page_size", "must be an integer 1–200")
		}
		size = n
	}
	var after uint64
	if v, err := vOne(q, "page_token"); err != nil {
		return err
	} else if v != "" {
		n, err := strconv.ParseUint(strings.TrimPrefix(v, "p"), 10, 64)
		if !strings.HasPrefix(v, "p") || err != nil {
			return badField("page_token", ruleEventPage)
		}
		after = n
	}
	site := s.site()
	out := apitype.VerkadaEvents{Events: []apitype.VerkadaEvent{}}
	for {
		evs, err := s.st.Events(store.EventQuery{After: after, Limit: 1000, From: from, To: to, AnyUser: users, AnyEvent: names})
		if err != nil {
			return err
		}
		for _, e := range evs {
			after = e.Seq
			typ, ok := verkadaTypeOf(e)
			if !ok || (len(types) > 0 && !slices.Contains(types, typ)) || (len(users) > 0 && !slices.Contains(users, e.UserID)) {
				continue
			}
			out.Events = append(out.Events, toVerkadaEvent(e, typ, site))
			if len(out.Events) == size {
				next := "p" + strconv.FormatUint(e.Seq, 10)
				out.NextPageToken = &next
				writeJSON(w, http.StatusOK, out)
				return nil
			}
		}
		if len(evs) == 0 {
			break
		}
	}
	writeJSON(w, http.StatusOK, out) // the last page: next_page_token null
	return nil
}

func toVerkadaEvent(e store.Event, typ, site string) apitype.VerkadaEvent {
	o := apitype.VerkadaEvent{
		EventID: strconv.FormatUint(e.Seq, 10), EventType: typ, Timestamp: e.Time.UTC().Format(store.TimeFormat),
		SiteID: NameUUID("site", site, ""), UserID: e.UserID,
		EventInfo: apitype.VerkadaEventInfo{Event: e.Event, Seq: e.Seq, Door: e.Door, Reader: e.Reader,
			ExternalID: e.ExternalID, Method: e.Method, Reason: e.Reason, Mode: e.Mode},
	}
	if e.Door != "" {
		o.DoorID = NameUUID("door", site, e.Door)
		o.DeviceID = o.DoorID
	}
	if e.Card != nil {
		o.EventInfo.Card = e.Card.Format + "/" + strconv.FormatUint(uint64(e.Card.FacilityCode), 10) + "/" + strconv.FormatUint(e.Card.CardNumber, 10)
	}
	return o
}
