package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"slices"
)

// delta is a compact, sortable list of changes to one bucket, built by an
// import's check pass. Records live in 1 MiB chunks (so growing never
// copies what is there) and are addressed by a 32-bit reference: chunk
// index in the high 12 bits, offset in the low 20.
//
// Record: key length (1), flags (1), value length (2 BE), line (4 BE),
// key, value.
//
// With offHeap set, chunks come from newChunk (outside the Go heap on
// Linux): call free when the delta and every slice taken from it are no
// longer used.
type delta struct {
	chunks  [][]byte
	mapped  []bool // chunk i is to be given to freeChunk
	recs    []uint32
	offHeap bool

	// spill, when set, bounds the memory d holds while records are added:
	// past spillRun bytes the records in memory are sorted and written to
	// a temporary file as one sorted run, and sort merges the runs into a
	// file that d then reads through a read-only mapping (delta_spill.go).
	spill *spill
}

// free releases the chunks and any spill files; d is empty afterwards.
func (d *delta) free() {
	for i, c := range d.chunks {
		if d.mapped[i] {
			freeChunk(c)
		}
	}
	if d.spill != nil {
		d.spill.free()
	}
	*d = delta{}
}

const (
	chunkBits = 20
	chunkSize = 1 << chunkBits
	recHdr    = 8
	flagDel   = 1
	flagNoop  = 2 // the record changes nothing; kept to find duplicates in a file
)

func (d *delta) add(key, val []byte, line int, del bool) {
	var flags byte
	if del {
		flags = flagDel
	}
	d.addFlags(key, val, line, flags)
}

// addNoop records a key that changes nothing (for duplicate detection).
func (d *delta) addNoop(key []byte, line int) { d.addFlags(key, nil, line, flagNoop) }

func (d *delta) addFlags(key, val []byte, line int, flags byte) {
	n := recHdr + len(key) + len(val)
	if d.spill != nil && len(d.chunks) > 0 && len(d.chunks[len(d.chunks)-1])+n > chunkSize && len(d.chunks) >= spillRun/chunkSize {
		d.spillRun()
	}
	if len(d.chunks) == 0 || len(d.chunks[len(d.chunks)-1])+n > chunkSize {
		c, mapped := make([]byte, 0, chunkSize), false
		if d.offHeap {
			c, mapped = newChunk()
		}
		d.chunks = append(d.chunks, c)
		d.mapped = append(d.mapped, mapped)
	}
	ci := len(d.chunks) - 1
	c := d.chunks[ci]
	ref := uint32(ci)<<chunkBits | uint32(len(c))
	c = append(c, byte(len(key)), flags)
	c = binary.BigEndian.AppendUint16(c, uint16(len(val)))
	c = binary.BigEndian.AppendUint32(c, uint32(line))
	c = append(c, key...)
	c = append(c, val...)
	d.chunks[ci] = c
	d.recs = append(d.recs, ref)
}

func (d *delta) rec(ref uint32) []byte {
	return d.chunks[ref>>chunkBits][ref&(chunkSize-1):]
}

func (d *delta) key(i int) []byte {
	r := d.rec(d.recs[i])
	return r[recHdr : recHdr+int(r[0])]
}

func (d *delta) val(i int) []byte {
	r := d.rec(d.recs[i])
	k := int(r[0])
	return r[recHdr+k : recHdr+k+int(binary.BigEndian.Uint16(r[2:]))]
}

func (d *delta) del(i int) bool { return d.rec(d.recs[i])[1]&flagDel != 0 }

func (d *delta) noop(i int) bool { return d.rec(d.recs[i])[1]&flagNoop != 0 }

func (d *delta) line(i int) int { return int(binary.BigEndian.Uint32(d.rec(d.recs[i])[4:])) }

func (d *delta) len() int { return len(d.recs) }

// sort orders the records by key, keeping file order among equal keys.
// Call it once, after the last add.
func (d *delta) sort() {
	if d.spill != nil && len(d.spill.runs) > 0 {
		d.mergeRuns()
		return
	}
	d.sortMem()
}

// sortMem sorts the records held in memory.
func (d *delta) sortMem() {
	// References grow in insertion order, so they break ties stably.
	slices.SortFunc(d.recs, func(a, b uint32) int {
		ra, rb := d.rec(a), d.rec(b)
		if c := bytes.Compare(ra[recHdr:recHdr+int(ra[0])], rb[recHdr:recHdr+int(rb[0])]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

// dups calls fn for every record whose key equals the previous one's
// (after sort), with both lines.
func (d *delta) dups(fn func(line, firstLine int)) {
	first := -1 // index of the first record of the current run of equal keys
	for i := 0; i < d.len(); i++ {
		if d.del(i) {
			continue // a deleted old entry code is not a row of the file
		}
		if first >= 0 && bytes.Equal(d.key(i), d.key(first)) {
			fn(d.line(i), d.line(first))
			continue
		}
		first = i
	}
}
