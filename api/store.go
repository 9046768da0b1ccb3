package api

import (
	"io"
	"time"

	"github.com/latchd/latch/store"
)

// Store is the part of *store.Store the API uses. Tests pass the real store
// opened in t.TempDir().
type Store interface {
	CreateUser(f store.UserFields, by store.Actor) (store.User, error)
	User(userID string) (store.User, error)
	UserByExternalID(externalID string) (store.User, error)
	UpdateUser(userID string, f store.UserFields, by store.Actor) (store.User, error)
	DeleteUser(userID string, by store.Actor) error
	ListUsers(q store.ListQuery) (users []store.User, next string, err error)

	AddCard(userID string, c store.Card, by store.Actor) error
	SetCardActive(userID string, k store.CardKey, active bool, by store.Actor) error
	DeleteCard(userID string, k store.CardKey, by store.Actor) error

	SetEntryCode(userID string, code []byte, by store.Actor) error
	DeleteEntryCode(userID string, by store.Actor) error

	AddMFACode(userID string, code []byte, by store.Actor) (store.MFACodeInfo, error)
	GenerateMFACode(userID string, length int, by store.Actor) (code []byte, info store.MFACodeInfo, err error)
	MFACodes(userID string) ([]store.MFACodeInfo, error)
	ReplaceMFACode(userID, id string, code []byte, by store.Actor) (store.MFACodeInfo, error)
	DeleteMFACode(userID, id string, by store.Actor) error
	DeleteMFACodeByValue(userID string, code []byte, by store.Actor) error

	CreateToken(name, role string, by store.Actor) (secret string, err error)
	VerifyToken(secret string) (store.Token, error)
	Tokens() ([]store.Token, error)
	RevokeToken(name string, by store.Actor) error

	Events(q store.EventQuery) ([]store.Event, error)
	EventsDropped() (uint64, error)
	Subscribe(buffer int) (events <-chan store.Event, cancel func())

	ImportWith(open func() (io.Reader, error), size int64, by store.Actor, o store.ImportOptions) (store.ImportSummary, error)
}

// DoorStatus is one door's state as the door loop sees it.
type DoorStatus struct {
	Name string
	// Mode is the door's mode now: locked, access_controlled, card_and_code,
	// unlocked, or "unknown" while the wall clock is not yet plausible.
	Mode string
	// NextChange is when the schedule next changes the mode; zero when it
	// never does. NextMode is the mode from then on.
	NextChange time.Time
	NextMode   string
}

// DoorStatuser reports every door's status. cmd/latchd adapts the door
// package to it; DoorStatusFunc turns a function into one.
type DoorStatuser interface {
	DoorStatus() []DoorStatus
}

// DoorStatusFunc adapts a function to DoorStatuser.
type DoorStatusFunc func() []DoorStatus

// DoorStatus calls f.
func (f DoorStatusFunc) DoorStatus() []DoorStatus { return f() }

// Window is one weekly schedule window, as in the config file.
type Window struct {
	Days  []string `json:"days"`
	Start string   `json:"start"` // HH:MM
	End   string   `json:"end"`   // HH:MM, "24:00" allowed
	Mode  string   `json:"mode,omitempty"`
}

// Exception is a dated override of a door's weekly schedule.
type Exception struct {
	Date  string `json:"date"` // YYYY-MM-DD
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
	Mode  string `json:"mode"`
}

// Group is a configured access group (read-only through the API).
type Group struct {
	Name     string   `json:"name"`
	Doors    []string `json:"doors"`
	Schedule []Window `json:"schedule,omitempty"` // empty = always
}

// Door is a configured door (read-only through the API).
type Door struct {
	Name         string      `json:"name"`
	TimeZone     string      `json:"time_zone"`
	DefaultMode  string      `json:"default_mode"`
	SecondFactor string      `json:"second_factor"`
	Readers      []string    `json:"readers"`
	Schedule     []Window    `json:"schedule,omitempty"`
	Exceptions   []Exception `json:"exceptions,omitempty"`
}

// Config is the read-only part of the configuration the API serves. cmd
// fills it from the loaded config file.
type Config struct {
	Groups []Group
	Doors  []Door
}
