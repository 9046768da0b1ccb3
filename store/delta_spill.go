package store

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"
)

// A large import's deltas would hold every changed record in memory until
// pass 2 (about 140 bytes per new user), so the import's memory grew with
// the file. With a spill, a delta keeps at most spillRun bytes of records
// in memory: beyond that, it sorts them and appends them to its spill file
// as one sorted run, and reuses the memory. sort then merges the runs (a
// k-way merge, one small read buffer per run) into a second file, laid out
// as the in-memory chunks are (no record crosses a 1 MiB boundary), plus a
// file of the records' references, and maps both read-only. From then on
// the delta reads as before, and what it holds is page cache: clean pages
// (the files are flushed as they are written) that the kernel drops and
// reads again as memory requires, charged to a memory cgroup as cache that
// it reclaims, not as the process's own memory. Every consumer after sort
// reads the records in order, so those pages are read sequentially.
// docs/store.md, "Import memory in a memory cgroup".

// spillRun is how many bytes of records a spilling delta keeps in memory
// (a multiple of chunkSize).
var spillRun = 2 * chunkSize

// spill is one delta's files: the runs, then the merged records.
type spill struct {
	dir  string
	runs []spillSpan // in the order written
	f    *os.File    // the runs
	size int64       // bytes written to f

	data, refs []byte // the merged file's mappings (after mergeRuns)
	err        error  // the first I/O error; reported by the import
}

type spillSpan struct{ off, n int64 }

// newSpill returns a spill whose files go to dir (the database's folder:
// the import needs room there anyway).
func newSpill(dir string) *spill { return &spill{dir: dir} }

// tempFile makes an unlinked temporary file in dir: it is gone when
// closed, also after a crash.
func tempFile(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, ".latch-import-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	return f, nil
}

func (s *spill) fail(err error) {
	if s.err == nil && err != nil {
		s.err = fmt.Errorf("store: import: spill file: %w", err)
	}
}

func (s *spill) free() {
	if s.data != nil {
		unmapFile(s.data)
	}
	if s.refs != nil {
		unmapFile(s.refs)
	}
	if s.f != nil {
		s.f.Close()
	}
	s.data, s.refs, s.f = nil, nil, nil
}

// spillErr is the first error of d's spill files, if any.
func (d *delta) spillErr() error {
	if d.spill == nil {
		return nil
	}
	return d.spill.err
}

// spillRun sorts the records in memory, appends them to the spill file as
// one run and empties the memory for the next.
func (d *delta) spillRun() {
	s := d.spill
	if s.err != nil || len(d.recs) == 0 {
		d.resetMem()
		return
	}
	if s.f == nil {
		f, err := tempFile(s.dir)
		if err != nil {
			s.fail(err)
			d.resetMem()
			return
		}
		s.f = f
	}
	d.sortMem()
	w := bufio.NewWriterSize(io.NewOffsetWriter(s.f, s.size), 1<<16)
	var n int64
	for _, ref := range d.recs {
		r := d.rec(ref)
		l := recHdr + int(r[0]) + int(binary.BigEndian.Uint16(r[2:]))
		w.Write(r[:l])
		n += int64(l)
	}
	if err := w.Flush(); err != nil {
		s.fail(err)
	}
	flushRange(s.f, s.size, n)
	s.runs = append(s.runs, spillSpan{s.size, n})
	s.size += n
	d.resetMem()
}

// resetMem empties the records in memory, keeping the chunks' memory.
func (d *delta) resetMem() {
	for i := range d.chunks {
		d.chunks[i] = d.chunks[i][:0]
	}
	// Keep the first chunk for the next run (addFlags fills the last
	// chunk, then adds more); the rest go.
	keep := min(len(d.chunks), 1)
	for i := keep; i < len(d.chunks); i++ {
		if d.mapped[i] {
			freeChunk(d.chunks[i])
		}
	}
	d.chunks, d.mapped = d.chunks[:keep], d.mapped[:keep]
	d.recs = d.recs[:0]
}

// runCursor reads one sorted run.
type runCursor struct {
	r   *bufio.Reader
	run int
	rec []byte // the current record (header, key, value); nil at the end
	buf []byte
}

func (c *runCursor) next(s *spill) {
	var h [recHdr]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		if !errors.Is(err, io.EOF) {
			s.fail(err)
		}
		c.rec = nil
		return
	}
	l := recHdr + int(h[0]) + int(binary.BigEndian.Uint16(h[2:]))
	if cap(c.buf) < l {
		c.buf = make([]byte, l, max(l, 256))
	}
	c.buf = c.buf[:l]
	copy(c.buf, h[:])
	if _, err := io.ReadFull(c.r, c.buf[recHdr:]); err != nil {
		s.fail(err)
		c.rec = nil
		return
	}
	c.rec = c.buf
}

type runHeap []*runCursor

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	a, b := h[i].rec, h[j].rec
	if c := bytes.Compare(a[recHdr:recHdr+int(a[0])], b[recHdr:recHdr+int(b[0])]); c != 0 {
		return c < 0
	}
	return h[i].run < h[j].run // earlier run: earlier in the file
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*runCursor)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// mergeRuns spills what is in memory as a last run, merges every run into
// the merged file (records laid out in chunkSize chunks) and its
// references, and maps both: d then reads them as chunks and recs.
func (d *delta) mergeRuns() {
	s := d.spill
	d.spillRun()
	for i := range d.chunks {
		if d.mapped[i] {
			freeChunk(d.chunks[i])
		}
	}
	d.chunks, d.mapped, d.recs = nil, nil, nil
	if s.err != nil {
		return
	}
	data, err := tempFile(s.dir)
	if err != nil {
		s.fail(err)
		return
	}
	defer data.Close() // the mapping keeps the pages
	refs, err := tempFile(s.dir)
	if err != nil {
		s.fail(err)
		return
	}
	defer refs.Close()
	h := make(runHeap, 0, len(s.runs))
	for i, r := range s.runs {
		c := &runCursor{r: bufio.NewReaderSize(io.NewSectionReader(s.f, r.off, r.n), 1<<15), run: i}
		c.next(s)
		if c.rec != nil {
			h = append(h, c)
		}
	}
	heap.Init(&h)
	dw := bufio.NewWriterSize(data, 1<<16)
	rw := bufio.NewWriterSize(refs, 1<<16)
	var off, flushed, count int64
	var zero [recHdr + 255 + 1<<16]byte
	for h.Len() > 0 {
		c := h[0]
		l := int64(len(c.rec))
		if in := off & (chunkSize - 1); in+l > chunkSize {
			pad := chunkSize - in
			dw.Write(zero[:pad])
			off += pad
		}
		ref := uint32(off>>chunkBits)<<chunkBits | uint32(off&(chunkSize-1))
		var rb [4]byte
		binary.LittleEndian.PutUint32(rb[:], ref)
		rw.Write(rb[:])
		dw.Write(c.rec)
		off += l
		count++
		if off-flushed >= 8*chunkSize {
			dw.Flush()
			flushRange(data, flushed, off-flushed)
			flushed = off
		}
		c.next(s)
		if c.rec == nil {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
	if err := dw.Flush(); err != nil {
		s.fail(err)
	}
	if err := rw.Flush(); err != nil {
		s.fail(err)
	}
	flushRange(data, 0, off)
	flushRange(refs, 0, count*4)
	// The runs are merged: their file goes.
	s.f.Close()
	s.f = nil
	if s.err != nil || count == 0 {
		return
	}
	if off>>chunkBits >= 1<<(32-chunkBits) {
		s.fail(errors.New("more than 4 GiB of changes"))
		return
	}
	if s.data, err = mapFile(data, off); err != nil {
		s.fail(err)
		return
	}
	if s.refs, err = mapFile(refs, count*4); err != nil {
		s.fail(err)
		return
	}
	for c := int64(0); c < off; c += chunkSize {
		d.chunks = append(d.chunks, s.data[c:min(c+chunkSize, off)])
		d.mapped = append(d.mapped, false)
	}
	// The references were written little-endian, the order of every
	// machine latch runs on; a big-endian one reads them back swapped, so
	// it gets a copy on the heap instead.
	if nativeLittleEndian() {
		d.recs = unsafe.Slice((*uint32)(unsafe.Pointer(&s.refs[0])), count)
	} else {
		d.recs = make([]uint32, count)
		for i := range d.recs {
			d.recs[i] = binary.LittleEndian.Uint32(s.refs[4*i:])
		}
	}
}

func nativeLittleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}
