package store

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestUserIDCodec(t *testing.T) {
	var c, other idCodec
	copy(c.key[:], "0123456789abcdef0123456789abcdef")
	copy(other.key[:], "another key for another database")
	seen := map[string]bool{}
	for _, seq := range []uint64{1, 2, 3, 0xff, 1 << 20, 1<<60 - 1, 123456789} {
		key := newUserID(seq)
		pub := c.pub(key)
		if !ValidUUID(pub) || pub != strings.ToLower(pub) || pub[14] != '4' || !strings.ContainsRune("89ab", rune(pub[19])) {
			t.Errorf("pub(%s) = %q, not a lowercase UUID v4", key, pub)
		}
		if seen[pub] {
			t.Errorf("pub(%s) = %q twice", key, pub)
		}
		seen[pub] = true
		var back [userIDLen]byte
		if !c.keyOf(&back, pub) || string(back[:]) != key {
			t.Errorf("keyOf(%q) = %q, want %q", pub, back, key)
		}
		if !c.keyOf(&back, strings.ToUpper(pub)) || string(back[:]) != key {
			t.Errorf("keyOf(upper %q) = %q, want %q", pub, back, key)
		}
		if other.pub(key) == pub {
			t.Errorf("two id keys give %s the same UUID", key)
		}
		if other.keyOf(&back, pub) {
			t.Errorf("another database's id key decodes %q", pub)
		}
	}
	var k [userIDLen]byte
	for _, bad := range []string{"", "u000000000000001", "00000000-0000-0000-0000-000000000000",
		"3f2b8c1e-1111-4111-8111-111111111111", "3f2b8c1e-1111-1111-8111-111111111111", "3f2b8c1e11114111811111111111111111"} {
		if c.keyOf(&k, bad) {
			t.Errorf("keyOf(%q) accepted", bad)
		}
	}
	if c.pub("not a key") != "not a key" {
		t.Error("pub changed a string that is not a record key")
	}
}

// FuzzUserID: any string either names no user or is the lowercase form
// of the UUID of the record key it decodes to; never a panic.
func FuzzUserID(f *testing.F) {
	var c idCodec
	copy(c.key[:], "0123456789abcdef0123456789abcdef")
	f.Add(c.pub(newUserID(1)))
	f.Add("3f2b8c1e-1111-4111-8111-111111111111")
	f.Add("u000000000000001")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		var k [userIDLen]byte
		if c.keyOf(&k, s) {
			if !validUserID(string(k[:])) || c.pub(string(k[:])) != strings.ToLower(s) {
				t.Fatalf("keyOf(%q) = %q, whose UUID is %q", s, k, c.pub(string(k[:])))
			}
		}
		if ValidUUID(s) && (len(s) != uuidLen || s[14] != '4') {
			t.Fatalf("ValidUUID(%q) without the version digit", s)
		}
	})
}

// copyFixture copies testdata/NAME's database and key file into a new
// folder and returns it.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"latch.db", "device.key"} {
		in, err := os.Open(filepath.Join("testdata", name, f))
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(filepath.Join(dir, f), os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, in); err != nil {
			t.Fatal(err)
		}
		in.Close()
		out.Close()
	}
	return dir
}

// TestOpenSchema2 opens a database an earlier program wrote (schema 2,
// ids "u" + 15 hex digits; testdata/schema2/README.md) and checks that
// after the migration every user has a UUID v4 id and every reference
// follows: cards, entry and MFA codes verify under it, the external id and
// email find it, the events name it, and the old id names nothing.
func TestOpenSchema2(t *testing.T) {
	dir := copyFixture(t, "schema2")
	s := openAt(t, dir, nil)
	s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get(kSchema); !bytes.Equal(v, be32(schemaVersion)) {
			t.Errorf("schema after Open = %x, want %d", v, schemaVersion)
		}
		return nil
	})
	users, _, err := s.ListUsers(ListQuery{})
	if err != nil || len(users) != 3 {
		t.Fatalf("ListUsers = %d users, %v", len(users), err)
	}
	for _, u := range users {
		if !ValidUUID(u.UserID) {
			t.Errorf("user %q (%s): id is not a UUID v4", u.UserID, u.FirstName)
		}
	}
	ann, err := s.UserByExternalID("ann")
	if err != nil || ann.UserID != users[0].UserID || ann.Email != "ann@example.com" || len(ann.Cards) != 1 || !ann.HasEntryCode || len(ann.MFACodes) != 2 {
		t.Fatalf("ann = %+v, %v", ann, err)
	}
	bob, err := s.UserByExternalID("bob")
	if err != nil || bob.UserID != users[1].UserID {
		t.Fatalf("bob = %+v, %v", bob, err)
	}
	if got, err := s.User(ann.UserID); err != nil || got.ExternalID != "ann" {
		t.Errorf("User(ann's UUID) = %+v, %v", got, err)
	}
	if _, err := s.User("u000000000000001"); err == nil {
		t.Error("the old id still names a user")
	}
	annCard, bobCard := CardKey{"h10301", 12, 3456}, CardKey{"h10301", 12, 1001}
	if u, active, err := s.LookupCard(annCard); err != nil || !active || u.UserID != ann.UserID {
		t.Errorf("LookupCard(ann's card) = %+v, %v, %v", u, active, err)
	}
	for _, c := range []struct {
		card CardKey
		user string
		code string
		ok   bool
	}{{annCard, ann.UserID, "1111", true}, {annCard, ann.UserID, "424242", true}, {annCard, ann.UserID, "5555", false},
		{bobCard, bob.UserID, "5555", true}, {bobCard, bob.UserID, "1111", false}} {
		if ok, err := s.VerifyCardCode(c.card, c.user, []byte(c.code), false); ok != c.ok || err != nil {
			t.Errorf("VerifyCardCode(%v, %s) = %v, %v; want %v", c.card, c.code, ok, err, c.ok)
		}
		if ok, err := s.VerifySecondFactor(c.user, []byte(c.code), false); ok != c.ok || err != nil {
			t.Errorf("VerifySecondFactor(%s) = %v, %v; want %v", c.code, ok, err, c.ok)
		}
	}
	if u, err := s.LookupEntryCode([]byte("135790")); err != nil || u.UserID != ann.UserID {
		t.Errorf("LookupEntryCode = %+v, %v", u, err)
	}
	// A code added after the migration verifies too, and the old ones stay.
	if _, err := s.AddMFACode(ann.UserID, []byte("8642"), admin); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.VerifyCardCode(annCard, ann.UserID, []byte("8642"), false); !ok || err != nil {
		t.Errorf("a new code after the migration: %v, %v", ok, err)
	}
	if err := s.DeleteMFACodeByValue(ann.UserID, []byte("1111"), admin); err != nil {
		t.Errorf("delete a migrated code by value: %v", err)
	}
	evs, err := s.Events(EventQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	granted, audits := 0, 0
	for _, e := range evs {
		if e.UserID != "" && !ValidUUID(e.UserID) {
			t.Errorf("event %d (%s %s) names user %q", e.Seq, e.Event, e.Action, e.UserID)
		}
		if e.Event == "access_granted" && e.UserID == ann.UserID {
			granted++
		}
		if e.Action == "user_created" && (e.UserID == ann.UserID || e.UserID == bob.UserID) {
			audits++
		}
	}
	if granted != 1 || audits != 2 {
		t.Errorf("events: %d grants and %d user_created of ann and bob under their UUIDs, want 1 and 2", granted, audits)
	}
	if evs, err := s.Events(EventQuery{UserID: ann.UserID, Event: "access_granted"}); err != nil || len(evs) != 1 {
		t.Errorf("events filtered by ann's UUID: %d, %v", len(evs), err)
	}
	if toks, err := s.Tokens(); err != nil || len(toks) != 1 || toks[0].Name != "ops" {
		t.Errorf("tokens = %+v, %v", toks, err)
	}
	// The ids stay across a restart, and the file checks clean.
	s.Close()
	if r, err := CheckFile(filepath.Join(dir, "latch.db"), 0); err != nil || !r.OK() {
		t.Fatalf("check after the migration: %+v, %v", r, err)
	}
	s2 := openAt(t, dir, nil)
	if again, err := s2.UserByExternalID("ann"); err != nil || again.UserID != ann.UserID {
		t.Errorf("after a restart ann is %q, %v; was %q", again.UserID, err, ann.UserID)
	}
}

// TestIDKeyMissing: a schema 3 database without its id key is corrupt,
// never given a new one (that would change every user's id).
func TestIDKeyMissing(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	s.Close()
	db, err := bolt.Open(filepath.Join(dir, "latch.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Delete(kIDKey) })
	db.Close()
	if _, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")}); err == nil || !strings.Contains(err.Error(), "id key") {
		t.Fatalf("Open without the id key: %v", err)
	}
}

// TestOpenSchema2Chunks: the events' user ids are migrated a chunk per
// transaction before the step, counted in OnMigrate, and a migration cut
// short after one chunk goes on at the next open.
func TestOpenSchema2Chunks(t *testing.T) {
	old := migrateChunk
	migrateChunk = 2
	defer func() { migrateChunk = old }()
	dir := copyFixture(t, "schema2")
	// Cut short: one chunk written, the schema still 2.
	db, err := bolt.Open(filepath.Join(dir, "latch.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		n, next, err := rewriteEventIDs(tx, nil, 2)
		if n != 2 || next == nil {
			t.Errorf("one chunk rewrote %d, next %x", n, next)
		}
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	records := legacyRecords(t, filepath.Join(dir, "latch.db"))
	var progress []int
	var logs strings.Builder
	s := openAt(t, dir, func(o *Options) {
		o.OnMigrate = func(n int) { progress = append(progress, n) }
		o.Logger = o.Logger.Output(&logs)
	})
	if len(progress) < 2 || !slices.IsSorted(progress) {
		t.Errorf("OnMigrate calls %v, want one per chunk of 2, counting up", progress)
	}
	if !strings.Contains(logs.String(), "migrated the events' user ids") {
		t.Errorf("log %q", logs.String())
	}
	evs, err := s.Events(EventQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.UserID != "" {
			n++
			if !ValidUUID(e.UserID) {
				t.Errorf("event %d names %q", e.Seq, e.UserID)
			}
		}
	}
	if n == 0 || progress[len(progress)-1] != n-2+records {
		t.Errorf("%d events name users and %d records were converted; OnMigrate ended at %v (2 events were done before)", n, records, progress)
	}
}
