package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// FuzzCheckPages: checkPages reads any bytes as a bbolt file without a
// panic, and ends (each page at most once); and a file it passes, bbolt
// reads whole (every bucket, key and value) without a panic. The seeds are
// a small real file (1 KiB pages: nested buckets, an inline bucket, keys)
// and a file whose root page lists itself as its child. The meta pages'
// checksums are stamped again before each run, so that the fuzzer's
// changes reach the page walk instead of stopping at the checksum.
func FuzzCheckPages(f *testing.F) {
	const ps = 1024
	dir := f.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "seed.db"), 0o600, &bolt.Options{PageSize: ps})
	if err != nil {
		f.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"users", "cards"} {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			for i := range 40 {
				b.Put(fmt.Appendf(nil, "key-%03d", i), bytes.Repeat([]byte{byte(i)}, 20))
			}
			inner, err := b.CreateBucket([]byte("inline"))
			if err != nil {
				return err
			}
			inner.Put([]byte("k"), []byte("v"))
		}
		return nil
	})
	db.Close()
	if err != nil {
		f.Fatal(err)
	}
	real, err := os.ReadFile(filepath.Join(dir, "seed.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real, binary.LittleEndian.Uint64(real[pageHeader+48:]))
	f.Add(cyclicFile(ps), uint64(1))
	n := 0
	f.Fuzz(func(t *testing.T, file []byte, txid uint64) {
		stampMeta(file, ps)
		r := &CheckReport{}
		ok := checkPages(bytes.NewReader(file), int64(len(file)), ps, txid, r)
		if ok && len(file) < 3*ps {
			t.Fatalf("a file of %d bytes passed", len(file))
		}
		if !ok {
			return
		}
		n++
		path := filepath.Join(t.TempDir(), fmt.Sprint(n, ".db"))
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := readAllBolt(path); err != nil {
			t.Fatalf("checkPages passed a file bbolt cannot read: %v", err)
		}
	})
}

// stampMeta writes the FNV-64a checksum of each meta page that fits file.
func stampMeta(file []byte, ps int) {
	for id := 0; id < 2 && (id+1)*ps <= len(file); id++ {
		m := file[id*ps+pageHeader:]
		h := fnv.New64a()
		h.Write(m[:56])
		binary.LittleEndian.PutUint64(m[56:], h.Sum64())
	}
}

// readAllBolt opens path read-only with bbolt and reads every bucket, key
// and value; a panic (or a fault on the mapped file) is an error.
func readAllBolt(path string) (err error) {
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true})
	if err != nil {
		return nil // bbolt refused the file: nothing was read
	}
	defer db.Close()
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	var walk func(b *bolt.Bucket) error
	walk = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				if sub := b.Bucket(k); sub != nil {
					return walk(sub)
				}
			}
			return nil
		})
	}
	return db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return walk(b) })
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
