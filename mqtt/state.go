package mqtt

import (
	"encoding/json"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/store"
)

// State payloads (docs/integrations.md).
const (
	StateLocked   = "LOCKED"
	StateUnlocked = "UNLOCKED"
	On            = "ON"
	Off           = "OFF"
)

// doorState is what Home Assistant shows of one door, as the events made
// it; each field is the retained payload of its topic, "" = not known yet.
type doorState struct {
	lock   string // LOCKED / UNLOCKED, from strike_released / strike_locked
	open   string // ON / OFF, from door_opened / door_closed
	alarm  []byte // {"state":"ON","alarm":"door_forced_open","time":…}
	access []byte // {"event":…,"method"|"reason":…,"external_id":…,"reader":…,"time":…}
}

// alarmState is the alarm topic's JSON.
type alarmState struct {
	State string `json:"state"`
	Alarm string `json:"alarm,omitempty"`
	Time  string `json:"time,omitempty"`
}

// accessState is the last-access topic's JSON: never a card number or a
// code, only the user's external id.
type accessState struct {
	Event      string `json:"event"`
	Method     string `json:"method,omitempty"`
	Reason     string `json:"reason,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Reader     string `json:"reader,omitempty"`
	Time       string `json:"time"`
}

// apply changes s as e says; it reports which topics changed ("lock",
// "door", "alarm", "access").
func (s *doorState) apply(e store.Event) []string {
	t := e.Time.UTC().Format(store.TimeFormat)
	switch e.Event {
	case door.EvStrikeReleased:
		s.lock = StateUnlocked
		return []string{"lock"}
	case door.EvStrikeLocked:
		s.lock = StateLocked
		return []string{"lock"}
	case door.EvDoorOpened:
		s.open = On
		return []string{"door"}
	case door.EvDoorClosed:
		// A closed door ends a forced-open or held-open alarm.
		s.open = Off
		s.alarm, _ = json.Marshal(alarmState{State: Off, Time: t})
		return []string{"door", "alarm"}
	case door.EvDoorForcedOpen, door.EvDoorHeldOpen:
		s.alarm, _ = json.Marshal(alarmState{State: On, Alarm: e.Event, Time: t})
		return []string{"alarm"}
	case door.EvAccessGranted, door.EvAccessDenied:
		s.access, _ = json.Marshal(accessState{Event: e.Event, Method: e.Method, Reason: e.Reason,
			ExternalID: e.ExternalID, Reader: e.Reader, Time: t})
		return []string{"access"}
	}
	return nil
}

// payload is the retained payload of topic what; nil = not known.
func (s *doorState) payload(what string) []byte {
	switch what {
	case "lock":
		if s.lock != "" {
			return []byte(s.lock)
		}
	case "door":
		if s.open != "" {
			return []byte(s.open)
		}
	case "alarm":
		return s.alarm
	case "access":
		return s.access
	}
	return nil
}

// stateTopics are the retained state topics of a door.
var stateTopics = []string{"lock", "door", "alarm", "access"}
