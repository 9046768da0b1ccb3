package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// legacyRecords counts the records of the live generation's data buckets
// of a schema 1–3 file: what the conversion to schema 4 writes.
func legacyRecords(t *testing.T, path string) int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(genName(binary.BigEndian.Uint64(tx.Bucket(bMeta).Get(kGen))))
		for _, name := range [][]byte{bUsers, bExt, bEmail, bCards, bUCards, bEntry} { // the schema 1–3 buckets
			if b := root.Bucket(name); b != nil {
				n += b.Stats().KeyN
			}
		}
		return nil
	})
	return n
}

// interruptLayout4 leaves the file as a conversion cut short leaves it: a
// staging generation with some converted records, the schema as it was.
func interruptLayout4(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var gen uint64
	db.View(func(tx *bolt.Tx) error {
		gen = binary.BigEndian.Uint64(tx.Bucket(bMeta).Get(kGen))
		return nil
	})
	err = db.Update(func(tx *bolt.Tx) error { return startGen(tx, gen+1) })
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	stop := errors.New("crash")
	err = convertGen(gen, gen+1, filepath.Dir(path), func(fn func(*bolt.Tx) error) error {
		if calls++; calls > 2 {
			return stop
		}
		return db.Update(fn)
	}, 2, nil)
	if !errors.Is(err, stop) {
		t.Fatalf("the cut-short conversion: %v", err)
	}
	db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bMeta).Get(kStaging) == nil || tx.Bucket(genName(gen+1)).Bucket(bUsers).Stats().KeyN != 2 {
			t.Error("the cut-short conversion left no staging generation with 2 users")
		}
		return nil
	})
}

// TestOpenSchema3 opens the database the schema 3 program wrote
// (testdata/schema3/README.md), converted before the steps (as Open
// does), cut short and resumed, or in the 3 → 4 step's own transaction:
// the users keep their ids, every code verifies as it did, the indexes
// find the users, the records have the schema 4 sizes, and the file
// checks clean.
func TestOpenSchema3(t *testing.T) {
	for _, mode := range []string{"open", "resumed", "in the step"} {
		t.Run(mode, func(t *testing.T) {
			dir := copyFixture(t, "schema3")
			path := filepath.Join(dir, "latch.db")
			switch mode {
			case "resumed":
				old := migrateChunk
				migrateChunk = 2
				defer func() { migrateChunk = old }()
				interruptLayout4(t, path)
			case "in the step":
				db, err := bolt.Open(path, 0o600, nil)
				if err != nil {
					t.Fatal(err)
				}
				err = db.Update(func(tx *bolt.Tx) error { return migrate(tx, schemaVersion, migrations) })
				db.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			s := openAt(t, dir, nil)
			checkSchema3(t, s)
			checkOneGeneration(t, s)
			s.Close()
			if r, err := CheckFile(path, 0); err != nil || !r.OK() || r.Users != 4 || r.Cards != 4 {
				t.Fatalf("check after the migration: %+v, %v", r, err)
			}
		})
	}
}

func checkSchema3(t *testing.T, s *Store) {
	raw, err := os.ReadFile(filepath.Join("testdata", "schema3", "ids.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ids map[string]string
	if err := json.Unmarshal(raw, &ids); err != nil {
		t.Fatal(err)
	}
	ann, bob, dan := ids["Ann"], ids["Bob"], ids["Dan"]
	users, _, err := s.ListUsers(ListQuery{})
	if err != nil || len(users) != 4 {
		t.Fatalf("ListUsers = %d users, %v", len(users), err)
	}
	for _, u := range users {
		if u.UserID != ids[u.FirstName] {
			t.Errorf("%s's id is %s after the migration, was %s", u.FirstName, u.UserID, ids[u.FirstName])
		}
	}
	a, err := s.User(ann)
	if err != nil || a.Email != "Ann@Example.com" || len(a.Cards) != 2 || !a.HasEntryCode || !a.HasDuressCode || len(a.MFACodes) != 2 ||
		!a.Created.Equal(a.Updated) || a.Created.IsZero() {
		t.Fatalf("ann = %+v, %v", a, err)
	}
	annCard, bobCard, danCard := CardKey{"h10301", 12, 3456}, CardKey{"h10301", 12, 1001}, CardKey{"h10306", 7, 77}
	if u, active, err := s.LookupCard(annCard); err != nil || !active || u.UserID != ann || !u.HasMFA || !u.HasEntryCode || len(u.Groups) != 2 {
		t.Errorf("LookupCard(ann's card) = %+v, %v, %v", u, active, err)
	}
	if _, active, err := s.LookupCard(CardKey{"raw", 0, 0xdeadbeef}); err != nil || active {
		t.Errorf("ann's inactive card: active %v, %v", active, err)
	}
	for _, c := range []struct {
		card     CardKey
		user     string
		code     string
		fallback bool
		want     CodeMatch
	}{
		{annCard, ann, "1111", false, CodeValid}, {annCard, ann, "424242", false, CodeValid},
		{annCard, ann, "999111", false, CodeDuress}, {annCard, ann, "135790", false, CodeNone},
		{danCard, dan, "2468", true, CodeValid}, {danCard, dan, "8642", true, CodeDuress}, {danCard, dan, "1111", true, CodeNone},
	} {
		if m, err := s.MatchCardCode(c.card, c.user, []byte(c.code), c.fallback); m != c.want || err != nil {
			t.Errorf("MatchCardCode(%v, %s) = %v, %v; want %v", c.card, c.code, m, err, c.want)
		}
	}
	if _, err := s.MatchCardCode(bobCard, bob, []byte("5555"), false); !errors.Is(err, ErrUserSuspended) {
		t.Errorf("bob is suspended: %v", err)
	}
	if ok, err := s.VerifySecondFactor(bob, []byte("5555"), false); !ok || err != nil {
		t.Errorf("VerifySecondFactor(bob) = %v, %v", ok, err)
	}
	for code, want := range map[string]CodeMatch{"135790": CodeValid, "999111": CodeDuress, "2468": CodeValid, "8642": CodeDuress} {
		if _, m, err := s.MatchEntryCode([]byte(code)); m != want || err != nil {
			t.Errorf("MatchEntryCode(%s) = %v, %v; want %v", code, m, err, want)
		}
	}
	if u, err := s.UserByExternalID("dan"); err != nil || u.UserID != dan {
		t.Errorf("UserByExternalID(dan) = %q, %v", u.UserID, err)
	}
	// The email index: ann's in another case; bob and cat share one.
	sum, err := s.Import(textOpener("email,type,code\nann@example.COM,mfa_code,7777\n"), 0, admin, nil)
	if err != nil || sum.CredentialsAdded != 1 {
		t.Errorf("import by ann's email: %+v, %v", sum, err)
	}
	if ok, err := s.VerifyCardCode(annCard, ann, []byte("7777"), false); !ok || err != nil {
		t.Errorf("the code imported by email: %v, %v", ok, err)
	}
	_, err = s.Import(textOpener("email,type,code\nshared@EXAMPLE.com,mfa_code,7777\n"), 0, admin, nil)
	var ie *ImportError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "matches several users") {
		t.Errorf("import by a shared email: %v", err)
	}
	// The schema 4 sizes.
	s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get(kSchema); !bytes.Equal(v, be32(schemaVersion)) || tx.Bucket(bMeta).Get(kLayout4) != nil {
			t.Errorf("schema after Open = %x (mark %x), want %d", v, tx.Bucket(bMeta).Get(kLayout4), schemaVersion)
		}
		b, err := txBuckets(tx)
		if err != nil {
			t.Fatal(err)
		}
		if b.root.Bucket(bUCards) != nil {
			t.Error("the ucards bucket is left")
		}
		// One value per user, holding its records and cards.
		n := 0
		b.users.recs.Bucket.ForEach(func(k, v []byte) error {
			n++
			if subs, err := decodeSubs(nil, v); len(k) != userIDLen || err != nil || len(subs[0].suffix) != 0 {
				t.Errorf("users: %x → %x is not a user's value: %v", k, v, err)
			}
			return nil
		})
		if n != 4 {
			t.Errorf("users: %d values, want 4", n)
		}
		cards := 0
		c := b.ucards.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			cards++
		}
		if cards != 4 {
			t.Errorf("%d cards in the users' values, want 4", cards)
		}
		sizes := map[string]func(k, v []byte) bool{
			"ext":   func(k, v []byte) bool { _, ok := extUser(v); return ok },
			"email": func(k, v []byte) bool { return len(k) == emailHashLen+userIDLen },
			"entry": func(k, v []byte) bool { return len(k) == macSize && (len(v) == userIDLen || len(v) == userIDLen+1) },
		}
		for name, ok := range sizes {
			b.root.Bucket([]byte(name)).ForEach(func(k, v []byte) error {
				if !ok(k, v) {
					t.Errorf("%s: a record %x → %x of the old layout", name, k, v)
				}
				return nil
			})
		}
		return nil
	})
}

// TestCheckIndexes: db check finds an email or external id index entry out
// of step with the users.
func TestCheckIndexes(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(b buckets, id string) error
		want string
	}{
		{"email entry missing", func(b buckets, id string) error { return b.email.Delete(emailKey("a@example.com", id)) }, "email: the email of"},
		{"email entry stray", func(b buckets, id string) error { return b.email.Put(emailKey("z@example.com", id), nil) }, "email: an entry of"},
		{"ext entry missing", func(b buckets, id string) error { return b.ext.Delete([]byte("a")) }, "ext: the external id of"},
		{"ext entry stray", func(b buckets, id string) error { return b.ext.Put([]byte("zz"), []byte(id)) }, "ext: external id"},
		{"ext entry no user", func(b buckets, id string) error { return b.ext.Bucket.Put([]byte("zz"), []byte{0}) }, "names no user id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			u, err := s.CreateUser(UserFields{ExternalID: "a", FirstName: "A", Email: "A@example.com"}, admin)
			if err != nil {
				t.Fatal(err)
			}
			id := recKey(t, s, u.UserID)
			s.db.Update(func(tx *bolt.Tx) error {
				b, err := txBuckets(tx)
				if err != nil {
					return err
				}
				return tc.edit(b, id)
			})
			err = s.db.View(checkCardCopies)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("check: %v, want %q", err, tc.want)
			}
			s.Close()
		})
	}
}

// textOpener is an Import opener of text.
func textOpener(text string) func() (io.Reader, error) {
	return func() (io.Reader, error) { return strings.NewReader(text), nil }
}

// FuzzDecodeSubs: a user's value (userval.go) from any bytes decodes or
// fails with ErrCorrupt, never panics, and what decodes encodes back to a
// value that decodes to the same sub-records.
func FuzzDecodeSubs(f *testing.F) {
	u := userRec{UserFields: UserFields{ExternalID: "e1", FirstName: "F", Groups: []string{"g"}}}
	f.Add(encodeSubs([]sub{{suffix: []byte{}, val: encodeUser(&u)}}))
	f.Add(encodeSubs([]sub{
		{suffix: []byte{}, val: encodeUser(&u)},
		{suffix: append([]byte{tagCard}, appendCardKey(nil, CardKey{"h10301", 12, 3456})...), val: []byte{}},
		{suffix: []byte{tagDuress}, val: bytes.Repeat([]byte{1}, macSize+9)},
		{suffix: []byte{tagEntry}, val: bytes.Repeat([]byte{2}, macSize+9)},
		{suffix: binary.BigEndian.AppendUint64([]byte{tagMFA}, 300), val: bytes.Repeat([]byte{3}, macSize+12)},
		{suffix: []byte("zz"), val: []byte("other")},
	}))
	f.Add([]byte{tagCard, 200, 1})
	f.Add([]byte{subOther, 0, 0})
	f.Fuzz(func(t *testing.T, v []byte) {
		subs, err := decodeSubs(nil, v)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decodeSubs: %v, not ErrCorrupt", err)
			}
			return
		}
		again, err := decodeSubs(nil, encodeSubs(subs))
		if err != nil || len(again) != len(subs) {
			t.Fatalf("re-encoded: %d sub-records, %v; was %d", len(again), err, len(subs))
		}
		for i := range subs {
			if !bytes.Equal(again[i].suffix, subs[i].suffix) || !bytes.Equal(again[i].val, subs[i].val) {
				t.Fatalf("sub-record %d: %x → %x, was %x → %x", i, again[i].suffix, again[i].val, subs[i].suffix, subs[i].val)
			}
		}
	})
}

// TestBulkImportCorruptUserValue: a large import over a user's value that
// does not decode fails as corrupt, and writes nothing: the merge never
// drops the users after it.
func TestBulkImportCorruptUserValue(t *testing.T) {
	old := bulkThreshold
	bulkThreshold = 1
	defer func() { bulkThreshold = old }()
	s := openTest(t)
	var ids []string
	for _, ext := range []string{"a", "b", "c"} {
		ids = append(ids, recKey(t, s, mustUser(t, s, ext).UserID))
	}
	var saved []byte
	put := func(v []byte) {
		s.db.Update(func(tx *bolt.Tx) error {
			b, err := txBuckets(tx)
			if err != nil {
				return err
			}
			saved = bytes.Clone(b.users.recs.Bucket.Get([]byte(ids[1])))
			return b.users.recs.Bucket.Put([]byte(ids[1]), v)
		})
	}
	put([]byte{0xee})
	good := saved
	_, err := s.Import(textOpener("externalId,type,code\na,mfa_code,1234\nc,mfa_code,5678\n"), 0, admin, nil)
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("import over a corrupt user's value: %v, want ErrCorrupt", err)
	}
	put(good) // the clean-up checks the file
	checkOneGeneration(t, s)
	for _, ext := range []string{"a", "b", "c"} {
		if u, err := s.UserByExternalID(ext); err != nil || len(u.MFACodes) != 0 {
			t.Errorf("user %s after the failed import: %d codes, %v", ext, len(u.MFACodes), err)
		}
	}
}
