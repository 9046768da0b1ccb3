// Package boltflip corrupts copies of a bbolt file for tests: it flips
// bytes at random offsets inside the file's used pages (branch, leaf and
// freelist pages, as bbolt's own page map says), from a seeded generator,
// so a failing copy can be made again.
package boltflip

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// Pages lists the used pages of a bbolt file that no process holds.
type Pages struct {
	Size int   // page size in bytes
	IDs  []int // branch, leaf and freelist pages, overflow pages included
	Used []int // bytes in use from the start of each page of IDs
}

// Used reads the page map of the bbolt file at path. The pages are listed
// in an order that does not depend on where bbolt put them (by bucket
// path, depth in the tree and first key), which varies from run to run,
// so that a seed picks the same data in two builds of the same content.
func Used(path string) (*Pages, error) {
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	size := db.Info().PageSize
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	types := map[int]int{} // page id → overflow pages, for branch, leaf and freelist pages
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			info, err := tx.Page(id)
			if err != nil {
				return err
			}
			if info == nil {
				return nil
			}
			switch info.Type {
			case "branch", "leaf", "freelist":
				types[id] = info.OverflowCount
				id += info.OverflowCount
			}
		}
	})
	if err != nil {
		return nil, err
	}
	// Name every page reachable from the newer meta page's root.
	meta := func(id int) []byte { return raw[id*size+16:] }
	m := meta(0)
	if binary.LittleEndian.Uint64(meta(1)[48:]) > binary.LittleEndian.Uint64(m[48:]) {
		m = meta(1)
	}
	names := map[int]string{int(binary.LittleEndian.Uint64(m[32:])): "freelist"}
	var visit func(id int, path string, depth int)
	visit = func(id int, path string, depth int) {
		if _, ok := types[id]; !ok || names[id] != "" {
			return
		}
		b := raw[id*size : (id+1+types[id])*size]
		flags, count := binary.LittleEndian.Uint16(b[8:]), int(binary.LittleEndian.Uint16(b[10:]))
		for i := range count {
			e := 16 + 16*i
			switch flags {
			case 1: // branch: pos, ksize, pgid
				pos, ks := int(binary.LittleEndian.Uint32(b[e:])), int(binary.LittleEndian.Uint32(b[e+4:]))
				if i == 0 {
					names[id] = fmt.Sprintf("%s/%d/%x", path, depth, b[e+pos:e+pos+ks])
				}
				visit(int(binary.LittleEndian.Uint64(b[e+8:])), path, depth+1)
			case 2: // leaf: flags, pos, ksize, vsize
				pos, ks := int(binary.LittleEndian.Uint32(b[e+4:])), int(binary.LittleEndian.Uint32(b[e+8:]))
				k := b[e+pos : e+pos+ks]
				if i == 0 {
					names[id] = fmt.Sprintf("%s/%d/%x", path, depth, k)
				}
				if binary.LittleEndian.Uint32(b[e:])&1 != 0 { // a bucket
					if root := int(binary.LittleEndian.Uint64(b[e+pos+ks:])); root != 0 {
						visit(root, path+"/"+string(k), 0)
					}
				}
			}
		}
	}
	visit(int(binary.LittleEndian.Uint64(m[16:])), "", 0)
	ids := make([]int, 0, len(names))
	for id := range names {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return names[ids[i]] < names[ids[j]] })
	p := &Pages{Size: size}
	for _, id := range ids {
		used := usedBytes(raw[id*size:(id+1+types[id])*size], map[bool]string{true: "freelist", false: "tree"}[names[id] == "freelist"])
		for i := 0; i <= types[id]; i++ {
			p.IDs = append(p.IDs, id+i)
			p.Used = append(p.Used, min(size, max(used-i*size, 0)))
		}
	}
	return p, nil
}

// usedBytes is how much of page b (with its overflow) holds data: the
// header, the element array and the keys and values (bbolt's layout:
// 16-byte header; 16-byte elements; a leaf element is flags, pos, ksize,
// vsize; a branch element pos, ksize, pgid; pos counts from the element).
func usedBytes(b []byte, typ string) int {
	const hdr, elem = 16, 16
	count := int(binary.LittleEndian.Uint16(b[10:]))
	switch typ {
	case "freelist":
		if count == 0xffff {
			count = int(binary.LittleEndian.Uint64(b[hdr:])) + 1
		}
		return hdr + 8*count
	default:
		end := hdr + elem*count
		for i := range count {
			e := hdr + elem*i
			var pos, kv int
			if binary.LittleEndian.Uint16(b[8:]) == 2 { // leaf
				pos = int(binary.LittleEndian.Uint32(b[e+4:]))
				kv = int(binary.LittleEndian.Uint32(b[e+8:])) + int(binary.LittleEndian.Uint32(b[e+12:]))
			} else {
				pos = int(binary.LittleEndian.Uint32(b[e:]))
				kv = int(binary.LittleEndian.Uint32(b[e+4:]))
			}
			end = max(end, e+pos+kv)
		}
		return min(end, len(b))
	}
}

// Copy writes a copy of from to to with n bytes changed: each at a random
// offset of a random used page, xored with a random non-zero byte.
func (p *Pages) Copy(from, to string, rng *rand.Rand, n int) ([]Flip, error) {
	b, err := os.ReadFile(from)
	if err != nil {
		return nil, err
	}
	flips := make([]Flip, 0, n)
	for range n {
		i := rng.IntN(len(p.IDs))
		for p.Used[i] == 0 {
			i = rng.IntN(len(p.IDs))
		}
		off := int64(p.IDs[i])*int64(p.Size) + int64(rng.IntN(p.Used[i]))
		if off >= int64(len(b)) {
			continue
		}
		old := b[off]
		b[off] ^= byte(1 + rng.IntN(255))
		flips = append(flips, Flip{Offset: off, Old: old, New: b[off]})
	}
	return flips, os.WriteFile(to, b, 0o600)
}

// Flip is one changed byte.
type Flip struct {
	Offset   int64
	Old, New byte
}

func (f Flip) String() string { return fmt.Sprintf("@%d %02x→%02x", f.Offset, f.Old, f.New) }
