//go:build !linux

package store

// newChunk returns an empty delta chunk on the Go heap; see chunk_linux.go.
func newChunk() (c []byte, mapped bool) { return make([]byte, 0, chunkSize), false }

func freeChunk(c []byte) {}
