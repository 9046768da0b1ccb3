//go:build !linux

package store

import "os"

// newChunk returns an empty delta chunk on the Go heap; see chunk_linux.go.
func newChunk() (c []byte, mapped bool) { return make([]byte, 0, chunkSize), false }

func freeChunk(c []byte) {}

// flushRange writes f's pages to the disk (see chunk_linux.go).
func flushRange(f *os.File, off, n int64) { f.Sync() }

// mapFile reads the first n bytes of f into memory (no mapping here).
func mapFile(f *os.File, n int64) ([]byte, error) {
	b := make([]byte, n)
	_, err := f.ReadAt(b, 0)
	return b, err
}

func unmapFile(b []byte) {}
