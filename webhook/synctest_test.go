package webhook

import (
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/latchd/latch/store"
)

// synctestRun runs f in a synctest bubble with a store opened inside it,
// so that the store's clock is the bubble's.
func synctestRun(t *testing.T, f func(t *testing.T, st *store.Store)) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		st, err := store.Open(store.Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		f(t, st)
	})
}

// wait lets every goroutine of the bubble run until they all wait.
func wait(t *testing.T) { t.Helper(); synctest.Wait() }
