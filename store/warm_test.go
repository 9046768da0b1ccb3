package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/latchd/latch/quiet"
	bolt "go.etcd.io/bbolt"
)

// TestWarmDoorPath: the warm reads every branch page of the cards bucket
// and then at least every one of its leaf pages, stops before the leaves
// for an ended context, and ends without an error on a closed store.
func TestWarmDoorPath(t *testing.T) {
	defer func(p time.Duration) { warmPause = p }(warmPause)
	warmPause = 0 // no rest between reads: this test does not wait on the clock
	dir := t.TempDir()
	s := openAt(t, dir, nil)
	st, err := s.WarmDoorPath(context.Background())
	if err != nil || st.LeafPages != 0 || st.BranchPages != 0 {
		t.Fatalf("empty store: %+v, %v", st, err)
	}
	importGenerated(t, s, filepath.Join(dir, "users.csv"), 20000, true, false)
	var want bolt.BucketStats
	s.db.View(func(tx *bolt.Tx) error {
		root, err := data(tx)
		if err != nil {
			return err
		}
		want = root.Bucket(bCards).Stats()
		return nil
	})
	if want.BranchPageN == 0 {
		t.Fatalf("cards bucket has no branch page: %+v", want)
	}
	st, err = s.WarmDoorPath(context.Background())
	if err != nil || st.BranchPages != want.BranchPageN || st.LeafPages < want.LeafPageN {
		t.Errorf("WarmDoorPath = %+v, %v; want %d branch pages, at least %d leaf pages", st, err, want.BranchPageN, want.LeafPageN)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if st, err := s.WarmDoorPath(ctx); err != nil || st.LeafPages != 0 {
		t.Errorf("ended context: %+v, %v; want no leaf read", st, err)
	}

	d2 := t.TempDir()
	s2, err := Open(Options{Path: filepath.Join(d2, "latch.db"), KeyFile: filepath.Join(d2, "device.key")})
	if err != nil {
		t.Fatal(err)
	}
	mustUser(t, s2, "x")
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.WarmDoorPath(context.Background()); err != nil {
		t.Errorf("closed store: %v, want nil", err)
	}
}

func TestPageRuns(t *testing.T) {
	got := pageRuns([]int64{20, 3, 4, 5, 9, 30, 31, 32, 33, 34}, 3)
	want := []pageRun{{3, 3}, {9, 1}, {20, 1}, {30, 3}, {33, 2}}
	if len(got) != len(want) {
		t.Fatalf("pageRuns = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pageRuns = %v, want %v", got, want)
		}
	}
}

// FuzzBranchChildren: any bytes as a branch page give children inside the
// file, never a panic.
func FuzzBranchChildren(f *testing.F) {
	p := make([]byte, pageHeader+2*pageElem)
	p[8], p[10] = pageBranch, 2
	p[pageHeader+8], p[pageHeader+pageElem+8] = 5, 9
	f.Add(p, int64(10))
	f.Add([]byte{1, 2, 3}, int64(3))
	f.Fuzz(func(t *testing.T, p []byte, pages int64) {
		for _, c := range branchChildren(p, pages) {
			if c < 2 || c >= pages {
				t.Fatalf("child %d outside a file of %d pages", c, pages)
			}
		}
	})
}

// TestDoorReadsHoldTheGate: a door read holds the store's gate for its
// tail, and the warm reads no leaf while the gate is held (a frame
// arriving, a badge): it waits, and stops when its context ends. In a
// bubble, so the gate's clock moves only when the test waits.
func TestDoorReadsHoldTheGate(t *testing.T) {
	defer func(p time.Duration) { warmPause = p }(warmPause)
	warmPause = 0
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openAt(t, dir, nil)
		importGenerated(t, s, filepath.Join(dir, "users.csv"), 20000, true, false)
		time.Sleep(time.Second) // whatever the import held has ended
		if !s.Gate().Idle() {
			t.Fatal("the gate is held with no door read")
		}
		if _, _, err := s.LookupCard(CardKey{Format: "h10301", FacilityCode: 1, CardNumber: 1}); err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		if s.Gate().Idle() {
			t.Fatal("a door read did not hold the gate")
		}
		time.Sleep(quiet.DefaultTail)
		if !s.Gate().Idle() {
			t.Fatalf("the gate is still held %v after the door read", quiet.DefaultTail)
		}

		s.Gate().Busy(time.Hour) // a door that stays busy
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		st, err := s.WarmDoorPath(ctx)
		if err != nil || st.BranchPages == 0 || st.LeafPages != 0 {
			t.Errorf("warm under a held gate = %+v, %v; want its branch pages and no leaf", st, err)
		}
		s.Gate().Busy(-1)
		time.Sleep(time.Hour)
		if st, err := s.WarmDoorPath(t.Context()); err != nil || st.LeafPages == 0 {
			t.Errorf("warm after the hold = %+v, %v; want its leaves", st, err)
		}
	})
}
