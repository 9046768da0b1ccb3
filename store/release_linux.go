//go:build linux

package store

import (
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// releaseMapped drops the database's mapped pages from the process's
// resident set (MADV_DONTNEED; the data stays in the page cache and is
// faulted back in on the next access). A large import reads the whole
// database through bbolt's mmap, which would otherwise count in full
// against the import's memory target. It runs inside a read transaction,
// which keeps bbolt from remapping meanwhile, so the address range stays
// bbolt's mapping.
func (s *Store) releaseMapped() {
	s.db.View(func(tx *bolt.Tx) error {
		base := s.db.Info().Data
		size := uintptr(tx.Size())
		unix.Syscall(unix.SYS_MADVISE, base, size, unix.MADV_DONTNEED)
		return nil
	})
}

// releaseEvery is how often keepMappedSmall drops mapped pages: reading
// through the page cache at about 1 GB/s, ~25 MB come back in between.
const releaseEvery = 25 * time.Millisecond

// keepMappedSmall calls releaseMapped every releaseEvery until stop is
// called, so that a large import — including bbolt's own traversal when it
// deletes the old generation, which cannot be interrupted — never holds
// the whole database resident.
func (s *Store) keepMappedSmall() (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(releaseEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.releaseMapped()
			}
		}
	}()
	return func() { close(done); <-finished }
}
