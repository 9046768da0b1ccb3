package api

import (
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
)

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
	// State is the door loop's own view (level, override, lockdown,
	// strike, door position); zero when the door is not running.
	State door.Status
	// HasDPS says the door has a door position switch (else its
	// position is "unknown").
	HasDPS bool
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

// The configured groups and doors the API serves, in their wire shapes
// (api/apitype).
type (
	Window    = apitype.Window
	Exception = apitype.Exception
	Group     = apitype.Group
	Door      = apitype.Door
)

// Config is the read-only part of the configuration the API serves. cmd
// fills it from the loaded config file.
type Config struct {
	Groups []Group
	Doors  []Door
}
