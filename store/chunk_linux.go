//go:build linux

package store

import "golang.org/x/sys/unix"

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
