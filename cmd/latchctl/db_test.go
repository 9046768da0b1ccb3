package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/latchd/latch/store"
)

// TestDBCommand: latchctl db check finds a stale card record without the
// key file, db repair writes it again, and both refuse a database latchd
// holds.
func TestDBCommand(t *testing.T) {
	old := openTimeout
	openTimeout = 10 * time.Millisecond
	defer func() { openTimeout = old }()
	dir := t.TempDir()
	path, keyPath := filepath.Join(dir, "latch.db"), filepath.Join(dir, "device.key")
	st, err := store.Open(store.Options{Path: path, KeyFile: keyPath})
	if err != nil {
		t.Fatal(err)
	}
	by := store.Actor{Name: "test"}
	u, err := st.CreateUser(store.UserFields{ExternalID: "ann"}, by)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddCard(u.UserID, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: 7, Active: true}, by); err != nil {
		t.Fatal(err)
	}
	ctl := func(args ...string) (int, string, string) {
		var o, e bytes.Buffer
		code := run(append([]string{"db"}, args...), &o, &e)
		return code, o.String(), e.String()
	}
	if code, _, errs := ctl("check", "--db", path, "--config", "/nonexistent"); code != 1 || !strings.Contains(errs, "config /nonexistent") {
		t.Errorf("check with a missing explicit config: %d %s", code, errs)
	}
	// Held by a running store: refused, with what to do.
	if code, _, errs := ctl("check", "--db", path); code != 1 || !strings.Contains(errs, "stop latchd first") {
		t.Errorf("check while held: %d %s", code, errs)
	}
	if code, _, errs := ctl("repair", "--db", path, "--key", keyPath); code != 1 || !strings.Contains(errs, "stop latchd first") {
		t.Errorf("repair while held: %d %s", code, errs)
	}
	st.Close()
	if code, out, errs := ctl("check", "--db", path); code != 0 || !strings.Contains(out, "ok (schema 2, 1 users, 1 cards)") {
		t.Fatalf("check: %d %q %s", code, out, errs)
	}
	// A stale copy: the card record claims the user is suspended.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		var cards *bolt.Bucket
		tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if strings.HasPrefix(string(name), "data-") {
				cards = b.Bucket([]byte("cards"))
			}
			return nil
		})
		k, v := cards.Cursor().First()
		v = bytes.Clone(v)
		v[17] |= 1 // flags: suspended
		return cards.Put(bytes.Clone(k), v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := ctl("check", "--db", path)
	if code != 1 || !strings.Contains(out, "card h10301/1/7 of "+u.UserID+": its copy of the user's view or codes is stale") || !strings.Contains(out, "1 problems") {
		t.Errorf("check of a stale record: %d %q", code, out)
	}
	if code, out, errs := ctl("repair", "--db", path, "--key", keyPath); code != 0 || !strings.Contains(out, "1 card records written again") {
		t.Errorf("repair: %d %q %s", code, out, errs)
	}
	if code, out, _ := ctl("check", "--db", path); code != 0 {
		t.Errorf("check after the repair: %d %q", code, out)
	}
	if code, _, errs := ctl("fix"); code != 2 || !strings.Contains(errs, "latchctl db check") {
		t.Errorf("unknown action: %d %s", code, errs)
	}
}
