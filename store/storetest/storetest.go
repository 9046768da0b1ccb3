// Package storetest opens real stores for the tests of the packages above
// store (door, api, latchctl, latchd), as net/http/httptest serves real
// servers: there is no fake store, only a real one in a folder of the
// test's own.
package storetest

import (
	"path/filepath"
	"testing"

	"github.com/latchd/latch/store"
)

// Open opens the store in dir (latch.db and device.key, created when
// missing) and closes it when the test ends.
func Open(tb testing.TB, dir string) *store.Store {
	tb.Helper()
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// Temp is an empty store in a new temporary folder, closed when the test
// ends.
func Temp(tb testing.TB) *store.Store {
	tb.Helper()
	return Open(tb, tb.TempDir())
}

// AddUser adds a user of externalID in group, holding card (active) and
// the MFA code mfaCode, as actor "test"; an error fails the test.
func AddUser(tb testing.TB, st *store.Store, externalID, group string, card store.Card, mfaCode string) store.User {
	tb.Helper()
	by := store.Actor{Name: "test"}
	card.Active = true
	u, err := st.CreateUser(store.UserFields{ExternalID: externalID, Groups: []string{group}}, by)
	if err == nil {
		err = st.AddCard(u.UserID, card, by)
	}
	if err == nil {
		_, err = st.AddMFACode(u.UserID, []byte(mfaCode), by)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
