package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/latchd/latch/api/apitype"
)

// Status (docs/fleet.md "Status"): every member writes its state to its
// key in the status bucket (TTL 60 s) every 10 s; a manager reads the
// site's from there.

// statusEvery is how often a member writes its status.
var statusEvery = 10 * time.Second

// onlineWithin: a member whose status is older is shown offline (its key
// also expires with the bucket's TTL).
const onlineWithin = 30 * time.Second

// DoorReport is one door of a controller as its status says: its
// effective mode now.
type DoorReport struct {
	Name string `json:"name"`
	Mode string `json:"mode"`
	// View is the door as the controller's own API shows it (override,
	// lockdown, strike …); a manager serves it (docs/fleet.md "Status").
	View *apitype.DoorState `json:"view,omitempty"`
}

// MemberStatus is the value of <controller> in the status bucket.
type MemberStatus struct {
	V          int          `json:"v"`
	Controller string       `json:"controller"`
	Role       string       `json:"role"` // controller or manager
	Version    string       `json:"version,omitempty"`
	Time       time.Time    `json:"time"`
	Doors      []DoorReport `json:"doors"`
	Applied    uint64       `json:"applied_revision"`
	CaughtUp   bool         `json:"caught_up"`
	KeyState   string       `json:"key_state"` // ok, mismatch, or "" before the first check
	SyncError  string       `json:"sync_error,omitempty"`
	Rejected   int          `json:"rejected_documents"`
	// EventBacklog (a controller) is the events of its log the site's
	// stream has not acknowledged; RefusedEvents (a manager) the site
	// events it could not decode since it started.
	EventBacklog  *uint64 `json:"event_backlog,omitempty"`
	RefusedEvents int     `json:"refused_events,omitempty"`
	// Online is set by the reader (SiteStatus), never stored: the status
	// is younger than 30 s.
	Online bool `json:"-"`
}

const maxStatusBytes = 256 << 10 // with each door's view (DoorReport.View)

// DecodeStatus decodes a status value read from NATS.
func DecodeStatus(key string, data []byte) (MemberStatus, error) {
	if len(data) > maxStatusBytes {
		return MemberStatus{}, errors.New("fleet: status: too large")
	}
	var s MemberStatus
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&s); err != nil || dec.More() {
		return MemberStatus{}, errors.New("fleet: status: not a JSON object of the status's shape")
	}
	if s.V != 1 || s.Controller != key || CheckController(key) != nil {
		return MemberStatus{}, errors.New("fleet: status: wrong version or not its key's controller")
	}
	if len(s.Doors) > 1024 {
		return MemberStatus{}, errors.New("fleet: status: too many doors")
	}
	return s, nil
}

// status is this member's status now.
func (m *Member) status() MemberStatus {
	st := m.Sync()
	role := "controller"
	if m.cfg.Manager {
		role = "manager"
	}
	s := MemberStatus{V: 1, Controller: m.cfg.Controller, Role: role, Version: m.cfg.Version, Time: m.cfg.Now().UTC(),
		Doors: []DoorReport{}, Applied: st.Applied, CaughtUp: st.CaughtUp, KeyState: st.KeyState, SyncError: st.Error, Rejected: st.Rejected}
	if m.cfg.Doors != nil {
		s.Doors = append(s.Doors, m.cfg.Doors()...)
	}
	if m.cfg.EventBacklog != nil {
		b := m.cfg.EventBacklog()
		s.EventBacklog = &b
	}
	m.mu.Lock()
	s.RefusedEvents = m.refusedEvents
	m.mu.Unlock()
	return s
}

// statusLoop writes the status every statusEvery while connected.
func (m *Member) statusLoop(ctx context.Context) {
	t := time.NewTicker(statusEvery)
	defer t.Stop()
	var kv jetstream.KeyValue
	for {
		if m.nc.IsConnected() {
			if kv == nil {
				bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				kv, _ = m.js.KeyValue(bctx, m.names.Status())
				cancel()
			}
			if kv != nil {
				b, _ := json.Marshal(m.status())
				pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				if _, err := kv.Put(pctx, m.cfg.Controller, b); err != nil {
					m.log.Debug().Err(err).Msg("fleet: status not written")
				}
				cancel()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.kick: // a command or a site lockdown changed a door
		}
	}
}

// SiteStatus reads every member's status from the status bucket, ordered
// by name. A value that does not decode is left out (and logged).
//
// The keys come from the bucket's stream (its subjects now), each value
// from a get: a watch's "initial values" can repeat a key and miss one
// that is written meanwhile (the bucket keeps one revision a key, and a
// controller writes its status again after each command).
func (m *Member) SiteStatus(ctx context.Context) ([]MemberStatus, error) {
	if m.nc == nil || !m.nc.IsConnected() {
		return nil, fmt.Errorf("%w (%v)", ErrOffline, m.cfg.URLs)
	}
	kv, err := m.js.KeyValue(ctx, m.names.Status())
	if err != nil {
		return nil, fmt.Errorf("fleet: status bucket: %w", err)
	}
	str, err := m.js.Stream(ctx, "KV_"+m.names.Status())
	if err != nil {
		return nil, fmt.Errorf("fleet: status bucket: %w", err)
	}
	prefix := "$KV." + m.names.Status() + "."
	info, err := str.Info(ctx, jetstream.WithSubjectFilter(prefix+">"))
	if err != nil {
		return nil, fmt.Errorf("fleet: status bucket: %w", err)
	}
	var keys []string
	for subj := range info.State.Subjects {
		keys = append(keys, strings.TrimPrefix(subj, prefix))
	}
	slices.Sort(keys)
	var out []MemberStatus
	now := m.cfg.Now()
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
			continue // expired or deleted since
		}
		if err != nil {
			return nil, fmt.Errorf("fleet: status of %s: %w", k, err)
		}
		s, err := DecodeStatus(e.Key(), e.Value())
		if err != nil {
			m.log.Warn().Str("key", e.Key()).Err(err).Msg("fleet: a status does not decode; left out")
			continue
		}
		s.Online = now.Sub(s.Time) < onlineWithin
		out = append(out, s)
	}
	return out, nil
}

// SiteDoors lists every door of the site's controllers as GET /v1/doors
// serves them on a manager: the controller, the effective mode its
// status reported, and whether that status is current.
func (m *Member) SiteDoors(ctx context.Context) ([]apitype.DoorState, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	sts, err := m.SiteStatus(ctx)
	if err != nil {
		return nil, err
	}
	out := []apitype.DoorState{}
	for _, s := range sts {
		if s.Role != "controller" {
			continue
		}
		for _, d := range s.Doors {
			online := s.Online
			v := apitype.DoorState{Door: apitype.Door{Name: d.Name, Readers: []string{}}, Mode: d.Mode}
			if d.View != nil && d.View.Name == d.Name {
				v = *d.View
			}
			v.Controller, v.Online = s.Controller, &online
			out = append(out, v)
		}
	}
	return out, nil
}
