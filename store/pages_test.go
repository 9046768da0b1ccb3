package store

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"os"
	"path/filepath"
	"testing"
)

// FuzzCheckPages: checkPages reads any bytes as a bbolt file without a
// panic, and ends (each page at most once). The seeds are a real file's
// first pages and a file whose root page lists itself as its child.
func FuzzCheckPages(f *testing.F) {
	const ps = 4096
	dir := f.TempDir()
	s, err := Open(Options{Path: filepath.Join(dir, "latch.db"), KeyFile: filepath.Join(dir, "device.key")})
	if err != nil {
		f.Fatal(err)
	}
	s.Close()
	real, err := os.ReadFile(filepath.Join(dir, "latch.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real[:min(len(real), 8*ps)], uint64(binary.LittleEndian.Uint64(real[16+48:])))
	f.Add(cyclicFile(ps), uint64(1))
	f.Fuzz(func(t *testing.T, file []byte, txid uint64) {
		r := &CheckReport{}
		if checkPages(bytes.NewReader(file), int64(len(file)), ps, txid, r) && len(file) < 3*ps {
			t.Errorf("a file of %d bytes passed", len(file))
		}
	})
}

// cyclicFile is a bbolt file of four pages whose root (page 2) is a branch
// page pointing at itself.
func cyclicFile(ps int) []byte {
	b := make([]byte, 4*ps)
	for id := 0; id < 2; id++ {
		p := b[id*ps:]
		binary.LittleEndian.PutUint64(p, uint64(id))
		binary.LittleEndian.PutUint16(p[8:], 0x04)
		m := p[pageHeader:]
		binary.LittleEndian.PutUint32(m, boltMagic)
		binary.LittleEndian.PutUint32(m[4:], boltVersion)
		binary.LittleEndian.PutUint32(m[8:], uint32(ps))
		binary.LittleEndian.PutUint64(m[16:], 2)          // root
		binary.LittleEndian.PutUint64(m[32:], noFreelist) // no free list
		binary.LittleEndian.PutUint64(m[40:], 4)          // pages in use
		binary.LittleEndian.PutUint64(m[48:], 1)          // txid
		h := fnv.New64a()
		h.Write(m[:56])
		binary.LittleEndian.PutUint64(m[56:], h.Sum64())
	}
	p := b[2*ps:]
	binary.LittleEndian.PutUint64(p, 2)
	binary.LittleEndian.PutUint16(p[8:], pageBranch)
	binary.LittleEndian.PutUint16(p[10:], 1)
	binary.LittleEndian.PutUint32(p[16:], 16) // pos: just after the element
	binary.LittleEndian.PutUint32(p[20:], 1)  // ksize
	binary.LittleEndian.PutUint64(p[24:], 2)  // child: itself
	p[32] = 'k'
	return b
}

// TestCheckPagesCycle: a root page that is its own child is reported as
// reached twice, and the walk ends.
func TestCheckPagesCycle(t *testing.T) {
	b := cyclicFile(4096)
	r := &CheckReport{}
	if checkPages(bytes.NewReader(b), int64(len(b)), 4096, 1, r) {
		t.Fatal("a cyclic file passed")
	}
	if len(r.Problems) != 1 || !bytes.Contains([]byte(r.Problems[0]), []byte("page 2 reached twice")) {
		t.Errorf("problems: %q", r.Problems)
	}
}
