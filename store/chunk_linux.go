//go:build linux

package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// newChunk returns an empty delta chunk of capacity chunkSize, mapped
// outside the Go heap (anonymous mmap) when it can be. An import's deltas
// are its largest long-lived data, hold no pointers and die together at
// its end; on the heap they would count twice against the process's
// memory (the collector lets the heap grow to about twice what is live
// before it runs), off it they count once. freeChunk must be given every
// chunk that mapped is true for, after its last use.
func newChunk() (c []byte, mapped bool) {
	m, err := unix.Mmap(-1, 0, chunkSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return make([]byte, 0, chunkSize), false
	}
	return m[:0], true
}

func freeChunk(c []byte) { unix.Munmap(c[:cap(c)]) }

// flushRange starts writing n bytes of f from off to the disk, without
// waiting for it, so that the page cache holding them becomes clean: a
// memory cgroup's reclaim drops clean pages at once and waits for pages
// under writeback, but does not start the writeback of dirty ones itself
// (cgroup v1). Waiting here instead made the import wait for the disk
// after every run, which on a busy disk cost more than the import.
func flushRange(f *os.File, off, n int64) {
	if n <= 0 {
		return
	}
	unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// mapFile maps the first n bytes of f read-only (shared: its pages are
// the file's page cache, which the kernel may drop and read again).
func mapFile(f *os.File, n int64) ([]byte, error) {
	return unix.Mmap(int(f.Fd()), 0, int(n), unix.PROT_READ, unix.MAP_SHARED)
}

func unmapFile(b []byte) { unix.Munmap(b) }
