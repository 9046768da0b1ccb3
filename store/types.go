package store

import (
	"errors"
	"strconv"
	"time"
)

// Sentinel errors callers branch on.
var (
	// ErrNotFound reports an unknown user, card, code id, token or value.
	// The store returns it as a *NotFoundError, which says what was not
	// found; errors.Is(err, ErrNotFound) matches every one.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict reports an entry code, card or external_id that another
	// user already has. It never says which user.
	ErrConflict = errors.New("store: already used by another user")
	// ErrCardChanged reports, to VerifyCardCode, that the card is no
	// longer the user's or no longer active.
	ErrCardChanged = errors.New("store: the card was changed or deactivated")
	// ErrUserSuspended reports, to VerifyCardCode, that the card's user is
	// suspended.
	ErrUserSuspended = errors.New("store: the user is suspended")
	// ErrInUse reports that another process holds the database file's lock.
	ErrInUse = errors.New("store: database in use by another process")
)

// NotFoundError reports what was not found. What is the kind of thing
// ("user", "card", "entry code", "mfa code", "token", "external id"), ID
// its name when it has one that is not a secret (a user id, a card as
// FORMAT/FACILITY/NUMBER, an MFA code id, a token name, an external id) and
// User the user it was looked for under, when it is not the user itself.
// It never holds a code or a token secret: a lookup by value leaves ID
// empty. errors.Is(err, ErrNotFound) is true for every *NotFoundError.
type NotFoundError struct{ What, ID, User string }

func (e *NotFoundError) Error() string {
	s := "store: "
	if e.User != "" {
		s += "user " + e.User + ": "
	}
	s += e.What
	if e.ID != "" {
		s += " " + e.ID
	}
	return s + " not found"
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

func notFound(what, id string) error { return &NotFoundError{What: what, ID: id} }

// The not-found errors of lookups that name nothing: by a secret (a code,
// a token) or by an id that is malformed (echoing it would echo whatever
// the caller sent). Made once, so the door's fast path does not allocate.
var (
	errNoCard      = &NotFoundError{What: "card"}
	errNoEntryCode = &NotFoundError{What: "entry code"}
	errNoToken     = &NotFoundError{What: "token"}
	errNoUser      = &NotFoundError{What: "user"}
)

// cardID names a card in a NotFoundError: FORMAT/FACILITY/NUMBER.
func cardID(k CardKey) string {
	return k.Format + "/" + strconv.FormatUint(uint64(k.FacilityCode), 10) + "/" + strconv.FormatUint(k.CardNumber, 10)
}

// notFoundOf is notFound for a thing looked for under user.
func notFoundOf(user, what, id string) error {
	return &NotFoundError{What: what, ID: id, User: user}
}

// ValidationError reports input that breaks a rule. Field names the input
// (for example "code" or "external_id") and Rule says what it must be. It
// never contains the offending value, which may be a secret.
type ValidationError struct{ Field, Rule string }

func (e *ValidationError) Error() string { return "store: " + e.Field + ": " + e.Rule }

func invalid(field, rule string) error { return &ValidationError{Field: field, Rule: rule} }

// Actor is who changed something: an API token's name and role, or
// "latchctl" / "import".
type Actor struct{ Name, Role string }

// CardKey identifies a card: unique across all users.
type CardKey struct {
	Format       string // reader format name, e.g. "h10301"
	FacilityCode uint32
	CardNumber   uint64
}

// UserView is the part of a user the door needs for a decision.
type UserView struct {
	UserID, ExternalID string
	Suspended          bool
	Start, End         time.Time // zero = unbounded
	Groups             []string  // access group names (groups themselves live in the config)
	HasMFA             bool      // the user has at least one MFA code
	HasEntryCode       bool
}

// ActiveAt reports whether the user may use credentials at t: not suspended
// and within [Start, End).
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

// UserFields are the fields of a user an administrator sets.
type UserFields struct {
	ExternalID, FirstName, LastName, Email string
	Start, End                             time.Time // zero = unbounded
	Suspended                              bool
	Groups                                 []string
}

// Card is one card of a user.
type Card struct {
	Format       string
	FacilityCode uint32
	CardNumber   uint64
	Active       bool
}

// Key returns the card's identity.
func (c Card) Key() CardKey {
	return CardKey{Format: c.Format, FacilityCode: c.FacilityCode, CardNumber: c.CardNumber}
}

// MFACodeInfo describes an MFA code without its digits.
type MFACodeInfo struct {
	ID        string
	Length    int
	Created   time.Time
	CreatedBy string
}

// User is a user with its credentials (codes only as metadata).
type User struct {
	UserID string
	UserFields
	Cards            []Card
	HasEntryCode     bool
	HasDuressCode    bool // docs/operations.md, "Duress codes"
	MFACodes         []MFACodeInfo
	Created, Updated time.Time
}

// ListQuery selects a page of users, ordered by user id.
type ListQuery struct {
	After  string // user_id to start after (paging)
	Limit  int    // 0 = 100
	Search string // case-insensitive substring of external_id, names or email
}

// Token is an API token's metadata; the secret is never stored.
type Token struct {
	Name, Role string
	Created    time.Time
	// VerkadaKey marks a token usable as a Verkada API key: POST /token
	// exchanges it for 30-minute session tokens (verkada.go).
	VerkadaKey bool
}
