package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// CompactStats says what CompactFile did.
type CompactStats struct {
	Before, After int64 // the file's size in bytes
	Free          int64 // bytes of free pages found before
	Compacted     bool  // false: too little was free to be worth it
	Took          time.Duration
}

// compactTxBytes bounds each write transaction of the copy (bbolt holds a
// transaction's pages in memory until its commit).
const compactTxBytes = 4 << 20

// CompactFile rewrites the database at path without its free pages, when
// at least minFree of the file (0–1) is free: a large import builds a new
// generation beside the old one and frees the old one's pages at the
// switch, which bbolt reuses but never gives back, so the file keeps the
// size of both (docs/store.md, "Database size"). The copy goes to a
// temporary file in the same folder (bbolt's Compact: every bucket
// rewritten in key order, pages filled), which is flushed and then
// renamed over path, so a crash leaves the old file or the new one, never
// a mix. It needs room for the copy. It takes the file's lock as Open
// does: with latchd running it fails with ErrInUse.
func CompactFile(path string, minFree float64) (CompactStats, error) {
	start := time.Now()
	var st CompactStats
	src, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: defaultTimeout, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return st, fmt.Errorf("%w: %s", ErrInUse, path)
	}
	if err != nil {
		return st, fmt.Errorf("store: compact: %w", err)
	}
	defer src.Close()
	fi, err := os.Stat(path)
	if err != nil {
		return st, fmt.Errorf("store: compact: %w", err)
	}
	st.Before, st.After = fi.Size(), fi.Size()
	s := src.Stats()
	st.Free = int64(s.FreePageN+s.PendingPageN) * int64(src.Info().PageSize)
	if st.Before == 0 || float64(st.Free) < minFree*float64(st.Before) {
		st.Took = time.Since(start)
		return st, nil
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".compact")
	os.Remove(tmp) // a copy a crash left behind
	// No fsync per transaction of the copy: until the rename the copy is
	// nobody's data (a crash leaves a temporary file that the next
	// compaction removes), and one Sync before the rename makes it durable.
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: defaultTimeout, FreelistType: bolt.FreelistMapType, NoSync: true, NoGrowSync: true})
	if err != nil {
		return st, fmt.Errorf("store: compact: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			dst.Close()
			os.Remove(tmp)
		}
	}()
	if err := bolt.Compact(dst, src, compactTxBytes); err != nil {
		return st, fmt.Errorf("store: compact: %w", err)
	}
	if err := dst.Sync(); err != nil {
		return st, fmt.Errorf("store: compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		return st, fmt.Errorf("store: compact: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return st, fmt.Errorf("store: compact: %w", err)
	}
	ok = true
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // the rename itself
		d.Close()
	}
	if fi, err := os.Stat(path); err == nil {
		st.After = fi.Size()
	}
	st.Compacted = true
	st.Took = time.Since(start)
	return st, nil
}
