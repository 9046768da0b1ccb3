//go:build linux

package store

import (
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
