package door

import "github.com/latchd/latch/store"

// The store types the door speaks (go doc ./store). They are aliases, so
// a *store.Store is a Credentials and an Appender as it is, and a door.Event
// is a store.Event.
type (
	// CardKey identifies a card.
	CardKey = store.CardKey
	// UserView is what the door needs to know of a user.
	UserView = store.UserView
	// Event is one event of product.md §6.
	Event = store.Event
	// EventCard is an event's card.
	EventCard = store.EventCard
	// Lockout is one stored lockout counter.
	Lockout = store.Lockout
)

var (
	// ErrNotFound is store.ErrNotFound: an unknown card or entry code.
	ErrNotFound = store.ErrNotFound
	// ErrCardChanged is store.ErrCardChanged: the card was deactivated or
	// given to another user between the badge and the code.
	ErrCardChanged = store.ErrCardChanged
	// ErrUserSuspended is store.ErrUserSuspended: the user was suspended
	// between the badge and the code.
	ErrUserSuspended = store.ErrUserSuspended
)

// The store implements the door's narrow interfaces.
var (
	_ Credentials  = (*store.Store)(nil)
	_ Appender     = (*store.Store)(nil)
	_ LockoutStore = (*store.Store)(nil)
)
