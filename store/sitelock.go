package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// kSiteLockdown is the fleet controller's record of the site lockdown it
// last applied (docs/fleet.md "Lockdown across the site"), in the
// doorstate bucket under a key no door name can be (a door name starts
// with a letter or digit).
var kSiteLockdown = []byte(":site_lockdown")

// SiteLockdown is the site lockdown a fleet controller last applied to its
// doors: the revision of the state bucket's lockdown key, whether it was
// on, who set it and when. The doors' own lockdown is in their DoorState
// (written with their lockdown_started event); this record only says
// which revision of the key that was, so a restart neither applies a
// revision twice nor undoes a later local command.
type SiteLockdown struct {
	Revision uint64    `json:"revision"`
	On       bool      `json:"on"`
	Actor    string    `json:"actor,omitempty"`
	Role     string    `json:"role,omitempty"`
	Since    time.Time `json:"since,omitzero"`
}

// SiteLockdown returns the site lockdown last recorded (zero: none).
func (s *Store) SiteLockdown() (SiteLockdown, error) {
	var l SiteLockdown
	err := s.read(bDoorState, func(tx *bolt.Tx) error {
		return doorStateRecord(tx, kSiteLockdown, &l)
	})
	if err != nil {
		return SiteLockdown{}, fmt.Errorf("store: site lockdown: %w", err)
	}
	return l, nil
}

// SetSiteLockdown records the site lockdown applied.
func (s *Store) SetSiteLockdown(l SiteLockdown) error {
	v, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if len(v) > maxDoorState {
		return fmt.Errorf("store: site lockdown: %d bytes: at most %d", len(v), maxDoorState)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bDoorState)
		if err != nil {
			return err
		}
		return b.Put(kSiteLockdown, v)
	})
	if err != nil {
		return fmt.Errorf("store: site lockdown: %w", err)
	}
	return nil
}
