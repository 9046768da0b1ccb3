package store

import (
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestSiteLockdown: the record of the site lockdown a controller applied
// round-trips, lives beside the doors' states without being one, and a
// corrupt record is an error naming it.
func TestSiteLockdown(t *testing.T) {
	s := openTest(t)
	if l, err := s.SiteLockdown(); err != nil || l != (SiteLockdown{}) {
		t.Fatalf("before any: %+v %v", l, err)
	}
	want := SiteLockdown{Revision: 7, On: true, Actor: "guard", Role: RoleDoorManager, Since: time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)}
	if err := s.SetSiteLockdown(want); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SiteLockdown(); err != nil || got != want {
		t.Errorf("got %+v %v, want %+v", got, err, want)
	}
	// No door is called like the record's key.
	if ds, err := s.LoadDoorState("front"); err != nil || ds != (DoorState{}) {
		t.Errorf("a door's state: %+v %v", ds, err)
	}
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bDoorState).Put(kSiteLockdown, []byte("{")) })
	if _, err := s.SiteLockdown(); err == nil || !strings.Contains(err.Error(), "site lockdown") {
		t.Errorf("a corrupt record: %v", err)
	}
}
