package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// EventCard is the card of an event.
type EventCard struct {
	Format       string `json:"format"`
	FacilityCode uint32 `json:"facility_code"`
	CardNumber   uint64 `json:"card_number"`
}

// Event is one entry of the event log (docs/events.md).
type Event struct {
	Time       time.Time  `json:"time"` // marshalled RFC 3339, UTC, millisecond precision
	Seq        uint64     `json:"seq"`
	Event      string     `json:"event"`
	Door       string     `json:"door,omitempty"`
	Reader     string     `json:"reader,omitempty"`
	UserID     string     `json:"user_id,omitempty"`
	ExternalID string     `json:"external_id,omitempty"`
	Card       *EventCard `json:"card,omitempty"`
	Method     string     `json:"method,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	Mode       string     `json:"mode,omitempty"`
	From       string     `json:"from,omitempty"`
	To         string     `json:"to,omitempty"`
	Cause      string     `json:"cause,omitempty"`
	Duration   string     `json:"duration,omitempty"` // Go duration string, e.g. "10s"
	Actor      string     `json:"actor,omitempty"`    // credential_changed: token name
	Role       string     `json:"role,omitempty"`     // credential_changed: token role
	Action     string     `json:"action,omitempty"`   // credential_changed: mfa_code_added, …
	// TokenName and TokenRole are the API token a token_created or
	// token_revoked credential_changed is about (its name, never its secret).
	TokenName string `json:"token_name,omitempty"`
	TokenRole string `json:"token_role,omitempty"`
	// Account and AccountRole are the admin account (docs/web.md) an
	// admin_created, admin_password_changed or admin_deleted
	// credential_changed is about.
	Account     string `json:"account,omitempty"`
	AccountRole string `json:"account_role,omitempty"`
	// Count, First, Last and Kinds describe the events an events_lost
	// event stands for: how many were never stored (their write failed, or
	// the writer's queue overflowed), the times of the first and last of
	// them (TimeFormat), and how many of each kind.
	Count uint64            `json:"count,omitempty"`
	First string            `json:"first,omitempty"`
	Last  string            `json:"last,omitempty"`
	Kinds map[string]uint64 `json:"kinds,omitempty"`
	// Input is the [[input]] an input_alarm or input_normal event (or a
	// mode change or lockdown it caused) comes of; Until is the end of an
	// override (mode_changed cause override; TimeFormat).
	Input string `json:"input,omitempty"`
	Until string `json:"until,omitempty"`
	// State, when set, is the door's whole operating state after this
	// event: AppendEvents stores it in the same transaction as the event
	// (doorstate.go). Never marshalled.
	State *DoorState `json:"-"`
	// Destination, FirstSeq and LastSeq describe a delivery_dropped
	// event: the outbox destination ("mqtt", "webhook:soc") that will
	// never receive Count events, the first and last of them by seq
	// (Reason says why).
	Destination string `json:"destination,omitempty"`
	FirstSeq    uint64 `json:"first_seq,omitempty"`
	LastSeq     uint64 `json:"last_seq,omitempty"`
	// Controller is the fleet controller whose log the event comes from
	// (Options.EventController; on a manager, the site's events carry
	// their controller's), ControllerSeq its seq there when that is not
	// this log (a manager's copy of a controller's event, siteevents.go).
	Controller    string `json:"controller,omitempty"`
	ControllerSeq uint64 `json:"controller_seq,omitempty"`
}

// TimeFormat is how an event's time is written: RFC 3339, UTC, ms.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// MarshalJSON writes the event with its time as TimeFormat.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event // no methods: no recursion
	return json.Marshal(struct {
		Time string `json:"time"`
		plain
	}{Time: e.Time.UTC().Format(TimeFormat), plain: plain(e)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var v struct {
		Time string `json:"time"`
		plain
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = Event(v.plain)
	if v.Time == "" {
		e.Time = time.Time{}
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v.Time)
	if err != nil {
		return fmt.Errorf("store: event time: %w", err)
	}
	e.Time = t.UTC()
	return nil
}

// AppendEvents stores events in one transaction, assigning each its Seq
// (monotonic, never reused), drops the oldest beyond the retention
// (counting them), then publishes them to subscribers.
func (s *Store) AppendEvents(evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return s.appendEventsTx(tx, evs) }); err != nil {
		return fmt.Errorf("store: append events: %w", err)
	}
	s.publish(evs)
	return nil
}

func (s *Store) appendEventsTx(tx *bolt.Tx, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	b := tx.Bucket(bEvents)
	meta := tx.Bucket(bMeta)
	for i := range evs {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		evs[i].Seq = seq
		if evs[i].Time.IsZero() {
			evs[i].Time = s.now()
		}
		if evs[i].Controller == "" {
			evs[i].Controller = s.evController
		}
		v, err := json.Marshal(evs[i])
		if err != nil {
			return err
		}
		if err := b.Put(be64(seq), v); err != nil {
			return err
		}
		if st := evs[i].State; st != nil {
			if err := putDoorStateTx(tx, evs[i].Door, st); err != nil {
				return err
			}
		}
	}
	last := b.Sequence()
	first := getU64(meta, kEvFirst)
	if first == 0 {
		first = evs[0].Seq
	}
	var dropped uint64
	for last-first+1 > uint64(s.retention) {
		if err := b.Delete(be64(first)); err != nil {
			return err
		}
		first++
		dropped++
	}
	if err := meta.Put(kEvFirst, be64(first)); err != nil {
		return err
	}
	if dropped > 0 {
		return meta.Put(kEvDropped, be64(getU64(meta, kEvDropped)+dropped))
	}
	return nil
}

func getU64(b *bolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// EventQuery selects events.
type EventQuery struct {
	After               uint64 // return events with Seq > After
	Limit               int    // 0 = 100
	Door, UserID, Event string // optional filters
	// From and To, when set, keep only events at or after From and at
	// or before To. An event outside them is skipped from its stored
	// time alone, without decoding the rest (eventTime): a narrow window
	// of a long log reads fast.
	From, To time.Time
	// AnyUser and AnyEvent, when not empty, keep only events of one of
	// these user ids and of one of these event names. An event whose
	// stored text does not hold any of them is skipped without decoding.
	AnyUser, AnyEvent []string
	// Controller, when set, keeps only the events of that fleet
	// controller (a manager's log holds the site's, docs/fleet.md).
	Controller string
}

// rawPatterns are the texts "field":"val" of vals, for rawHas.
func rawPatterns(field string, vals []string) [][]byte {
	out := make([][]byte, len(vals))
	for i, x := range vals {
		out[i] = []byte(`"` + field + `":"` + x + `"`)
	}
	return out
}

// rawHas reports whether the stored event v may have a field equal to one
// of the values of pats (rawPatterns): whether its text holds one of them
// (json.Marshal writes a string so when it has nothing to escape, and user
// ids and event names have nothing). It is a prefilter: a match is decoded
// and checked.
func rawHas(v []byte, pats [][]byte) bool {
	for _, p := range pats {
		if bytes.Contains(v, p) {
			return true
		}
	}
	return false
}

// eventTime reads the time at the start of a stored event, as
// MarshalJSON writes it ({"time":"TimeFormat", …}); ok is false for a
// value that does not start so (the caller decodes it whole then).
func eventTime(v []byte) (time.Time, bool) {
	const p = `{"time":"`
	n := len(p) + len(TimeFormat)
	if len(v) <= n || string(v[:len(p)]) != p || v[n] != '"' {
		return time.Time{}, false
	}
	t, err := time.Parse(TimeFormat, string(v[len(p):n]))
	return t, err == nil
}

// outside reports whether t is outside q's From–To window.
func (q *EventQuery) outside(t time.Time) bool {
	return (!q.From.IsZero() && t.Before(q.From)) || (!q.To.IsZero() && t.After(q.To))
}

// Events returns up to q.Limit events with Seq > q.After matching the
// filters, oldest first.
func (s *Store) Events(q EventQuery) ([]Event, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultPage
	}
	if limit > maxPage {
		limit = maxPage
	}
	var out []Event
	if q.After == math.MaxUint64 {
		return nil, nil
	}
	if q.Door == "" && q.UserID == "" && q.Event == "" && q.From.IsZero() && q.To.IsZero() &&
		len(q.AnyUser) == 0 && len(q.AnyEvent) == 0 && q.Controller == "" {
		return s.eventsAfter(q.After, limit)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bEvents).Cursor()
		window := !q.From.IsZero() || !q.To.IsZero()
		userPats, eventPats := rawPatterns("user_id", q.AnyUser), rawPatterns("event", q.AnyEvent)
		for k, v := c.Seek(be64(q.After + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			if window {
				if t, ok := eventTime(v); ok && q.outside(t) {
					continue
				}
			}
			if (len(userPats) > 0 && !rawHas(v, userPats)) || (len(eventPats) > 0 && !rawHas(v, eventPats)) {
				continue
			}
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("store: event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			if (q.Door != "" && e.Door != q.Door) || (q.UserID != "" && e.UserID != q.UserID) ||
				(q.Event != "" && e.Event != q.Event) || (window && q.outside(e.Time)) || (q.Controller != "" && e.Controller != q.Controller) ||
				(len(q.AnyUser) > 0 && !slices.Contains(q.AnyUser, e.UserID)) || (len(q.AnyEvent) > 0 && !slices.Contains(q.AnyEvent, e.Event)) {
				continue
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// eventsAfter is Events without filters: the read transaction only copies
// the records, and they are decoded after it ends, so that a reader of
// many events (the outbox, a stream's replay) holds bbolt's read lock for
// as short as it can: a writer that must grow the file waits for every
// reader, and the door's lookups wait behind that writer.
func (s *Store) eventsAfter(after uint64, limit int) ([]Event, error) {
	type rec struct {
		seq uint64
		v   []byte
	}
	var recs []rec
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bEvents).Cursor()
		var buf []byte
		for k, v := c.Seek(be64(after + 1)); k != nil && len(recs) < limit; k, v = c.Next() {
			start := len(buf)
			buf = append(buf, v...)
			recs = append(recs, rec{binary.BigEndian.Uint64(k), buf[start:len(buf):len(buf)]})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Event, len(recs))
	for i, r := range recs {
		if err := json.Unmarshal(r.v, &out[i]); err != nil {
			return nil, fmt.Errorf("store: event %d: %w", r.seq, err)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// EventsDropped returns how many events retention has dropped.
func (s *Store) EventsDropped() (uint64, error) {
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		n = getU64(tx.Bucket(bMeta), kEvDropped)
		return nil
	})
	return n, err
}

type subscriber struct {
	ch     chan Event
	once   sync.Once
	closed bool
}

func (sub *subscriber) closeLocked() {
	sub.once.Do(func() { close(sub.ch); sub.closed = true })
}

// Subscribe follows new events live. The channel holds up to buffer
// events (minimum 1); a subscriber that falls behind is cut off: its
// channel is closed. AppendEvents never waits for a subscriber. cancel
// ends the subscription and closes the channel; it may be called more
// than once.
func (s *Store) Subscribe(buffer int) (<-chan Event, func()) {
	if buffer < 1 {
		buffer = 1
	}
	sub := &subscriber{ch: make(chan Event, buffer)}
	s.subMu.Lock()
	s.subs[sub] = struct{}{}
	s.subMu.Unlock()
	return sub.ch, func() {
		s.subMu.Lock()
		delete(s.subs, sub)
		sub.closeLocked()
		s.subMu.Unlock()
	}
}

func (s *Store) publish(evs []Event) {
	if len(evs) == 0 {
		return
	}
	s.subMu.Lock()
	defer s.subMu.Unlock()
	for sub := range s.subs {
		for _, e := range evs {
			select {
			case sub.ch <- e:
			default:
				sub.closeLocked()
				delete(s.subs, sub)
			}
			if sub.closed {
				break
			}
		}
	}
}
