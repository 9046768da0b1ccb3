package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCompactFile: after two large imports (two generation switches) the
// file holds free pages; CompactFile rewrites it smaller with the same
// data, refuses a file in use, and leaves a file with little free alone.
func TestCompactFile(t *testing.T) {
	defer func(n int) { bulkThreshold = n }(bulkThreshold)
	bulkThreshold = 100
	dir := t.TempDir()
	path := filepath.Join(dir, "latch.db")
	opts := Options{Path: path, KeyFile: filepath.Join(dir, "device.key")}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	csv := filepath.Join(dir, "users.csv")
	importGenerated(t, s, csv, n, true, false)
	if _, err := CompactFile(path, 0); !errors.Is(err, ErrInUse) {
		t.Errorf("CompactFile of an open database: %v, want ErrInUse", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := CompactFile(path, 0.99)
	if err != nil || st.Compacted || st.After != st.Before {
		t.Errorf("minFree 0.99: %+v, %v; want the file left alone", st, err)
	}
	st, err = CompactFile(path, 0.1)
	if err != nil || !st.Compacted || st.Free == 0 || st.After >= st.Before {
		t.Fatalf("CompactFile = %+v, %v; want a smaller file", st, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != st.After {
		t.Errorf("file size %v (%v), want %d", fi.Size(), err, st.After)
	}
	if _, err := os.Stat(filepath.Join(dir, ".latch.db.compact")); !os.IsNotExist(err) {
		t.Errorf("the temporary copy is left: %v", err)
	}
	s = openAt(t, dir, nil) // the cleanup checks every card copy and the generation
	for _, i := range []int{0, 1, n / 2, n - 1} {
		k := CardKey{Format: "h10301", FacilityCode: uint32(i >> 16), CardNumber: uint64(i & 0xffff)}
		u, active, err := s.LookupCard(k)
		if err != nil || !active {
			t.Fatalf("LookupCard(%d) after compaction: %v", i, err)
		}
		if ok, err := s.VerifyCardCode(k, u.UserID, []byte(benchCode(i)), true); err != nil || !ok {
			t.Errorf("VerifyCardCode(%d) after compaction = %v, %v", i, ok, err)
		}
	}
}
