package store

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var admin = Actor{Name: "alice", Role: "access_user_admin"}

// openAt opens a store in dir and registers a consistency check and close
// in t.Cleanup.
func openAt(t testing.TB, dir string, mod func(*Options)) *Store {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	opts := Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key"), Now: clk.Now}
	if mod != nil {
		mod(&opts)
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		checkDB(t, s)
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func openTest(t testing.TB) *Store { return openAt(t, t.TempDir(), nil) }

// bothImportPaths runs f as two subtests, bulk=false and bulk=true: the
// import's small-file path, and its bulk path (bulkThreshold 0) that
// every import of a larger file takes.
func bothImportPaths(t *testing.T, f func(t *testing.T)) {
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprintf("bulk=%v", bulk), func(t *testing.T) {
			if bulk {
				old := bulkThreshold
				bulkThreshold = 0
				t.Cleanup(func() { bulkThreshold = old })
			}
			f(t)
		})
	}
}

func checkDB(t testing.TB, s *Store) {
	t.Helper()
	if s.db == nil {
		return
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil && !errors.Is(err, berrors.ErrDatabaseNotOpen) {
		t.Errorf("bbolt consistency check: %v", err)
	}
	err = s.db.View(checkCardCopies)
	if err != nil && !errors.Is(err, berrors.ErrDatabaseNotOpen) {
		t.Errorf("card records: %v", err)
	}
}

// checkCardCopies checks, as CheckFile does, that every card record
// equals what deriveCard makes from the users bucket now, and that the
// cards and ucards buckets list the same cards.
func checkCardCopies(tx *bolt.Tx) error {
	r := &CheckReport{}
	if err := checkData(tx, r); err != nil {
		return err
	}
	if !r.OK() {
		return fmt.Errorf("%s (and %d more)", strings.Join(r.Problems, "; "), r.More)
	}
	return nil
}

// checkOneGeneration checks that the database holds one data generation
// and no staging one: an import, done or failed, leaves no other behind.
func checkOneGeneration(t testing.TB, s *Store) {
	t.Helper()
	s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get(kStaging); v != nil {
			t.Errorf("staging generation %x left behind", v)
		}
		n := 0
		tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if bytes.HasPrefix(name, []byte("data-")) {
				n++
			}
			return nil
		})
		if n != 1 {
			t.Errorf("%d data generations, want 1", n)
		}
		return nil
	})
}

func mustUser(t testing.TB, s *Store, ext string) User {
	t.Helper()
	u, err := s.CreateUser(UserFields{ExternalID: ext, FirstName: "F", LastName: "L"}, admin)
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", ext, err)
	}
	return u
}

// recKey returns the record key of user id pub (userid.go), for tests that
// write records behind the store's methods.
func recKey(t testing.TB, s *Store, pub string) string {
	t.Helper()
	k, err := s.userKey(pub)
	if err != nil {
		t.Fatalf("record key of %q: %v", pub, err)
	}
	return k
}
