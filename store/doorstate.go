package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bDoorState holds each door's operating state (docs/operations.md,
// "What survives a restart"): the override, the commanded lockdown, the
// double-badge toggle and the first-person-in opening, keyed by door name.
// A top-level bucket: an import's new generation keeps it. The door never
// writes it directly: an event that changes that state carries the whole
// new state in Event.State, and AppendEvents writes both in one
// transaction, so the stored state and the event log never disagree.
var bDoorState = []byte("doorstate")

// DoorState is the operating state of one door that must survive a restart
// or a crash: levels 2–4 of docs/operations.md's precedence and the
// first-person-in opening. Levels driven by inputs (emergency release, a
// lockdown input) are not in it: they come back from the input's line.
type DoorState struct {
	// Override is the door's override; nil = none.
	Override *OverrideState `json:"override,omitempty"`
	// Lockdown is the commanded lockdown; nil = none.
	Lockdown *LockdownState `json:"lockdown,omitempty"`
	// DoubleBadgeUntil is when a double-badge toggle to unlocked lapses
	// (the end of the local day); zero = not toggled.
	DoubleBadgeUntil time.Time `json:"double_badge_until,omitzero"`
	// FirstPersonUntil is the end of the first-person-in window that the
	// first person opened; zero = none opened.
	FirstPersonUntil time.Time `json:"first_person_until,omitzero"`
}

// OverrideState is a door held in Mode until Until, set by Actor.
type OverrideState struct {
	Mode  string    `json:"mode"`
	Until time.Time `json:"until"`
	Actor string    `json:"actor,omitempty"`
	Role  string    `json:"role,omitempty"`
}

// LockdownState is a commanded lockdown: who started it and when.
type LockdownState struct {
	Actor string    `json:"actor,omitempty"`
	Role  string    `json:"role,omitempty"`
	Since time.Time `json:"since"`
}

// maxDoorState bounds a stored record (a door name is at most a few
// hundred bytes; the rest is fixed).
const maxDoorState = 4096

// putDoorStateTx writes door's state in tx (an empty state deletes it).
func putDoorStateTx(tx *bolt.Tx, door string, st *DoorState) error {
	if door == "" {
		return errors.New("store: door state: door name is empty")
	}
	b, err := tx.CreateBucketIfNotExists(bDoorState)
	if err != nil {
		return err
	}
	if *st == (DoorState{}) {
		return b.Delete([]byte(door))
	}
	v, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("store: door state of %s: %w", door, err)
	}
	if len(v) > maxDoorState {
		return fmt.Errorf("store: door state of %s: %d bytes: at most %d", door, len(v), maxDoorState)
	}
	return b.Put([]byte(door), v)
}

// LoadDoorState returns the stored operating state of door (the zero
// DoorState when there is none). An unreadable record is an error: the
// door then starts without it, locked down by nothing, and logs why.
func (s *Store) LoadDoorState(door string) (DoorState, error) {
	var st DoorState
	err := s.db.View(func(tx *bolt.Tx) error {
		return doorStateRecord(tx, []byte(door), &st)
	})
	if err != nil {
		return DoorState{}, fmt.Errorf("store: load door state of %s: %w", door, err)
	}
	return st, nil
}

// doorStateRecord decodes the JSON record key of the door-state bucket
// (at most maxDoorState bytes) into v; without one it leaves v alone.
func doorStateRecord(tx *bolt.Tx, key []byte, v any) error {
	b := tx.Bucket(bDoorState)
	if b == nil {
		return nil
	}
	rec := b.Get(key)
	if rec == nil {
		return nil
	}
	if len(rec) > maxDoorState {
		return errors.New("corrupt record: too long")
	}
	if err := json.Unmarshal(rec, v); err != nil {
		return fmt.Errorf("corrupt record: %w", err)
	}
	return nil
}
