// Package syncio holds the two writers latch shares between goroutines:
// Writer, which serialises whole writes to another writer (latchd's log
// sink), and Buffer, a bytes.Buffer that goroutines may write while another
// reads it (the log and output buffers of tests).
package syncio

import (
	"bytes"
	"io"
	"sync"
)

// Writer serialises writes to W: each Write reaches W whole, never
// interleaved with another.
type Writer struct {
	mu sync.Mutex
	W  io.Writer
}

func (w *Writer) Write(p []byte) (int, error) { return locked(&w.mu, w.W.Write, p) }

// Buffer is a bytes.Buffer safe for concurrent writers and readers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) { return locked(&b.mu, b.b.Write, p) }

// String returns what has been written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// locked calls write(p) holding mu: the one lock discipline of both.
func locked(mu *sync.Mutex, write func([]byte) (int, error), p []byte) (int, error) {
	mu.Lock()
	defer mu.Unlock()
	return write(p)
}
