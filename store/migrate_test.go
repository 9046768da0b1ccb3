package store

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestMigrations runs the migration hook with a synthetic step from a
// "version 0" database, and checks the refusals.
func TestMigrations(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	setVersion := func(v uint32) {
		if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(kSchema, be32(v)) }); err != nil {
			t.Fatal(err)
		}
	}
	version := func(tx *bolt.Tx) uint32 {
		v := tx.Bucket(bMeta).Get(kSchema)
		return uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
	}
	setVersion(0)
	ran := 0
	steps := map[uint32]func(*bolt.Tx) error{0: func(tx *bolt.Tx) error {
		ran++
		_, err := tx.CreateBucket([]byte("migrated"))
		return err
	}}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := migrate(tx, 1, steps); err != nil {
			return err
		}
		if v := version(tx); v != 1 {
			t.Errorf("version after migrate = %d, want 1", v)
		}
		if tx.Bucket([]byte("migrated")) == nil {
			t.Error("the step's change is missing")
		}
		return nil
	})
	if err != nil || ran != 1 {
		t.Fatalf("migrate: %v, ran %d times", err, ran)
	}
	// A failing step rolls back and names the versions.
	setVersion(0)
	err = s.db.Update(func(tx *bolt.Tx) error {
		return migrate(tx, 1, map[uint32]func(*bolt.Tx) error{0: func(*bolt.Tx) error { return errors.New("boom") }})
	})
	if err == nil || !strings.Contains(err.Error(), "migrate schema 0 to 1: boom") {
		t.Errorf("failing step: %v", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error { return migrate(tx, 1, nil) })
	if err == nil || !strings.Contains(err.Error(), "no migration from schema 0") {
		t.Errorf("missing step: %v", err)
	}
	// A database from a newer program is refused by Open.
	setVersion(schemaVersion + 1)
	checkDB(t, s)
	s.Close()
	_, err = Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
	if err == nil || !strings.Contains(err.Error(), "newer than this program") {
		t.Errorf("newer schema: %v", err)
	}
}
