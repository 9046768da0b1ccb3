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
