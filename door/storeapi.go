package door

import (
	"errors"

	"github.com/latchd/latch/store"
)

// Credentials is what the door needs of the store: the fast-path lookups of
// the store (go doc ./store), each one read transaction. *store.Store implements it.
type Credentials interface {
	// LookupCard returns the card's user and whether the card is active;
	// ErrNotFound for an unknown card.
	LookupCard(k CardKey) (u UserView, cardActive bool, err error)
	// MatchCardCode checks code, typed after card k badged user userID,
	// against the user's MFA codes, or their entry code when they have none
	// and entryFallback is set (CodeValid), and wherever one of those is
	// accepted against their duress code too (CodeDuress), in one
	// constant-time walk. ErrCardChanged: the card is no longer the user's
	// or no longer active.
	MatchCardCode(k CardKey, userID string, code []byte, entryFallback bool) (CodeMatch, error)
	// MatchEntryCode returns the user whose entry code (CodeValid) or
	// duress code (CodeDuress) code is; ErrNotFound.
	MatchEntryCode(code []byte) (UserView, CodeMatch, error)
}

// The store types the door speaks (go doc ./store). They are aliases, so
// a *store.Store is a Credentials and an Appender as it is, and a door.Event
// is a store.Event.
type (
	// CardKey identifies a card.
	CardKey = store.CardKey
	// UserView is what the door needs to know of a user.
	UserView = store.UserView
	// Event is one event of docs/events.md.
	Event = store.Event
	// EventCard is an event's card.
	EventCard = store.EventCard
	// Lockout is one stored lockout counter.
	Lockout = store.Lockout
	// CodeMatch is what a typed code matched (store.CodeNone, CodeValid,
	// CodeDuress).
	CodeMatch = store.CodeMatch
	// DuressState is the duress output's stored state.
	DuressState = store.DuressState
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
	_ DuressStore  = (*store.Store)(nil)
)

// answer carries out one of step's store queries (actLookupCard,
// actVerify, actLookupEntry) and returns the store's answer as the input to
// step next; nil for any other action. It wipes the query's code. Run and
// the test driver both use it. Not found is no error here: the answer says
// so, and err is left for the store's failures, which step logs and
// refuses on.
func answer(creds Credentials, a action) input {
	switch a := a.(type) {
	case actLookupCard:
		c, err := lookupCard(creds, cardKey(a.card))
		return inCardAnswer{reader: a.reader, card: a.card, at: a.at, cardLookup: c, err: err}
	case actVerify:
		// The card is looked up again: at '#' the door decides on it as
		// on a fresh badge.
		now, lookupErr := lookupCard(creds, a.card)
		m, err := creds.MatchCardCode(a.card, a.userID, a.code, a.fallback)
		wipe(a.code)
		ok := m != store.CodeNone && err == nil
		in := inVerified{reader: a.reader, userID: a.userID, at: a.at, ok: ok, duress: ok && m == store.CodeDuress,
			now: now, lookupErr: lookupErr}
		if in.refused = verifyRefusal(err); in.refused == "" {
			in.err = err
		}
		return in
	case actLookupEntry:
		u, m, err := creds.MatchEntryCode(a.code)
		wipe(a.code)
		return inEntry{reader: a.reader, at: a.at, user: u, found: err == nil, duress: err == nil && m == store.CodeDuress,
			err: storeFailure(err)}
	}
	return nil
}

// lookupCard is the store's answer on card k; err is a store failure
// (a card not found is no error).
func lookupCard(creds Credentials, k CardKey) (cardLookup, error) {
	u, active, err := creds.LookupCard(k)
	if err != nil {
		return cardLookup{}, storeFailure(err)
	}
	return cardLookup{user: u, found: true, active: active}, nil
}

// storeFailure is err unless it says not found.
func storeFailure(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// verifyRefusal is the denial reason for VerifyCardCode's err when the
// card or its user changed between the badge and the code, else "".
func verifyRefusal(err error) string {
	switch {
	case errors.Is(err, ErrCardChanged):
		return ReasonCardInactive
	case errors.Is(err, ErrUserSuspended):
		return ReasonUserInactive
	}
	return ""
}
