package door

import (
	"errors"
	"time"
)

// TEMPORARY: local copies of the store contract types (contracts/store.md)
// until the store branch is merged; then these become aliases of
// store.CardKey, store.UserView, store.Event, store.EventCard and
// store.ErrNotFound.

// CardKey identifies a card (store.CardKey).
type CardKey struct {
	Format       string
	FacilityCode uint32
	CardNumber   uint64
}

// UserView is what the door needs to know of a user (store.UserView).
type UserView struct {
	UserID, ExternalID string
	Suspended          bool
	Start, End         time.Time
	Groups             []string
	HasMFA             bool
	HasEntryCode       bool
}

// ActiveAt reports !Suspended and t within [Start, End).
func (u UserView) ActiveAt(t time.Time) bool {
	if u.Suspended {
		return false
	}
	if !u.Start.IsZero() && t.Before(u.Start) {
		return false
	}
	if !u.End.IsZero() && !t.Before(u.End) {
		return false
	}
	return true
}

// EventCard is the card of an event (store.EventCard).
type EventCard struct {
	Format       string `json:"format"`
	FacilityCode uint32 `json:"facility_code"`
	CardNumber   uint64 `json:"card_number"`
}

// Event is one event (store.Event).
type Event struct {
	Time       time.Time  `json:"time"`
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
	Duration   string     `json:"duration,omitempty"`
	Actor      string     `json:"actor,omitempty"`
	Role       string     `json:"role,omitempty"`
	Action     string     `json:"action,omitempty"`
}

// ErrNotFound is store.ErrNotFound.
var ErrNotFound = errors.New("store: not found")
