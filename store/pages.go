package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
)

// bbolt's file layout, as far as checkPages reads it (go.etcd.io/bbolt
// internal/common): a page starts with a 16-byte header (id u64, flags
// u16, count u16, overflow u32, little-endian); a branch element is pos
// u32, ksize u32, pgid u64, a leaf element flags u32, pos u32, ksize u32,
// vsize u32, pos counting from the element itself; a bucket's value is its
// root page id and sequence (u64 each), followed by the bucket's own page
// when the root is 0 (an inline bucket); pages 0 and 1 are the meta pages,
// whose header is followed by magic u32, version u32, page size u32, flags
// u32, root bucket (root u64, sequence u64), free list u64, pages in use
// u64, txid u64 and an FNV-64a checksum of what precedes it.
const (
	pageHeader     = 16
	pageElem       = 16
	pageBranch     = 0x01
	pageLeaf       = 0x02
	pageFreelist   = 0x10
	leafBucketFlag = 0x01
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	noFreelist     = ^uint64(0)
)

// checkPages walks every page reachable from the meta page that bbolt
// uses (the one of transaction txid) through the file's bytes, not
// through bbolt: each page is read once (a page reached twice is a
// problem, so a cycle ends the walk), and every page id, element, key and
// value must lie within the file and its page. It adds what is wrong to r
// and reports whether bbolt can walk the file safely. Its work is bounded
// by the file's size: at most every page once.
func checkPages(f io.ReaderAt, size int64, pageSize int, txid uint64, r *CheckReport) bool {
	ok := true
	bad := func(format string, args ...any) {
		r.add("pages: "+format, args...)
		ok = false
	}
	ps := int64(pageSize)
	if ps < 1024 || size < 2*ps {
		bad("page size %d, file of %d bytes", pageSize, size)
		return false
	}
	var meta []byte
	for id := int64(0); id < 2; id++ {
		b := make([]byte, ps)
		if _, err := f.ReadAt(b, id*ps); err != nil {
			bad("meta page %d: %v", id, err)
			return false
		}
		m := b[pageHeader:]
		h := fnv.New64a()
		h.Write(m[:56]) // up to the checksum
		if binary.LittleEndian.Uint32(m) == boltMagic && binary.LittleEndian.Uint32(m[4:]) == boltVersion &&
			binary.LittleEndian.Uint64(m[56:]) == h.Sum64() && binary.LittleEndian.Uint64(m[48:]) == txid {
			meta = m
		}
	}
	if meta == nil {
		bad("no valid meta page for transaction %d", txid)
		return false
	}
	hwm := binary.LittleEndian.Uint64(meta[40:]) // pages in use: ids below it
	if hwm < 3 || hwm > uint64(size/ps) {
		bad("meta: %d pages in use, the file holds %d", hwm, size/ps)
		return false
	}
	seen := make([]bool, hwm)
	// page reads page id (with its overflow) once, checking its header.
	page := func(id uint64, from string, want ...uint16) []byte {
		if id < 2 || id >= hwm {
			bad("%s: page %d out of range [2, %d)", from, id, hwm)
			return nil
		}
		var h [pageHeader]byte
		if _, err := f.ReadAt(h[:], int64(id)*ps); err != nil {
			bad("%s: page %d: %v", from, id, err)
			return nil
		}
		flags, over := binary.LittleEndian.Uint16(h[8:]), uint64(binary.LittleEndian.Uint32(h[12:]))
		if got := binary.LittleEndian.Uint64(h[:]); got != id {
			bad("%s: page %d says it is page %d", from, id, got)
			return nil
		}
		typeOK := false
		for _, w := range want {
			typeOK = typeOK || flags == w
		}
		if !typeOK {
			bad("%s: page %d has type %#x", from, id, flags)
			return nil
		}
		if id+1+over > hwm {
			bad("%s: page %d: %d overflow pages run past the %d pages in use", from, id, over, hwm)
			return nil
		}
		for i := id; i <= id+over; i++ {
			if seen[i] {
				bad("%s: page %d reached twice", from, i)
				return nil
			}
			seen[i] = true
		}
		b := make([]byte, int64(1+over)*ps)
		if _, err := f.ReadAt(b, int64(id)*ps); err != nil {
			bad("%s: page %d: %v", from, id, err)
			return nil
		}
		return b
	}
	if fl := binary.LittleEndian.Uint64(meta[32:]); fl != noFreelist {
		if b := page(fl, "free list", pageFreelist); b != nil {
			n, at := uint64(binary.LittleEndian.Uint16(b[10:])), uint64(pageHeader)
			if n == 0xffff {
				n, at = binary.LittleEndian.Uint64(b[pageHeader:]), pageHeader+8
			}
			if n > uint64(len(b)) || at+8*n > uint64(len(b)) {
				bad("free list: %d ids do not fit its page", n)
			} else {
				for i := range n {
					if id := binary.LittleEndian.Uint64(b[at+8*i:]); id < 2 || id >= hwm {
						bad("free list: page %d out of range", id)
						break
					}
				}
			}
		}
	}
	// A depth-first walk with an explicit stack of pages to visit; each
	// page is read at most once, so it ends.
	type visit struct {
		id    uint64
		where string
	}
	stack := []visit{{binary.LittleEndian.Uint64(meta[16:]), "root"}}
	var elems func(b []byte, where string, inline bool)
	elems = func(b []byte, where string, inline bool) {
		flags, n := binary.LittleEndian.Uint16(b[8:]), int64(binary.LittleEndian.Uint16(b[10:]))
		if inline && flags != pageLeaf {
			bad("%s: inline bucket has page type %#x", where, flags)
			return
		}
		if flags == pageBranch && n == 0 {
			bad("%s: empty branch page", where)
			return
		}
		if pageHeader+n*pageElem > int64(len(b)) {
			bad("%s: %d elements do not fit the page", where, n)
			return
		}
		var prev []byte
		for i := range n {
			e := pageHeader + i*pageElem
			var pos, ks, vs int64
			if flags == pageBranch {
				pos, ks = int64(binary.LittleEndian.Uint32(b[e:])), int64(binary.LittleEndian.Uint32(b[e+4:]))
			} else {
				pos, ks, vs = int64(binary.LittleEndian.Uint32(b[e+4:])), int64(binary.LittleEndian.Uint32(b[e+8:])), int64(binary.LittleEndian.Uint32(b[e+12:]))
			}
			if e+pos+ks+vs > int64(len(b)) {
				bad("%s: element %d (%d+%d bytes at %d) runs past the page", where, i, ks, vs, pos)
				return
			}
			k := b[e+pos : e+pos+ks]
			if i > 0 && bytes.Compare(prev, k) >= 0 {
				bad("%s: element %d: keys out of order", where, i)
				return
			}
			prev = k
			if flags == pageBranch {
				stack = append(stack, visit{binary.LittleEndian.Uint64(b[e+8:]), where})
				continue
			}
			if binary.LittleEndian.Uint32(b[e:])&leafBucketFlag == 0 {
				continue
			}
			v := b[e+pos+ks : e+pos+ks+vs]
			name := fmt.Sprintf("%s/%q", where, k)
			if len(k) > 64 {
				name = fmt.Sprintf("%s/%q…", where, k[:64])
			}
			switch root := uint64(0); {
			case len(v) < 16:
				bad("%s: bucket value of %d bytes", name, len(v))
				return
			default:
				root = binary.LittleEndian.Uint64(v)
				if root != 0 {
					stack = append(stack, visit{root, name})
				} else if len(v) < 16+pageHeader {
					bad("%s: inline bucket of %d bytes", name, len(v))
					return
				} else {
					elems(v[16:], name, true)
				}
			}
		}
	}
	for steps := uint64(0); len(stack) > 0 && steps <= hwm; steps++ {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if b := page(v.id, v.where, pageBranch, pageLeaf); b != nil {
			elems(b, v.where, false)
		}
		if !ok && len(r.Problems) >= maxProblems {
			break
		}
	}
	return ok
}
