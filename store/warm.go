package store

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"runtime/debug"
	"slices"
	"time"

	"github.com/latchd/latch/quiet"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// WarmStats says what WarmDoorPath read.
type WarmStats struct {
	BranchPages int           // branch pages of the door's buckets, read first
	LeafPages   int           // leaf pages read after them
	Bytes       int64         // bytes read from the file
	Took        time.Duration // from the call to the end
}

// warmRead is the largest read of leaf pages; warmPause the rest after
// each: the reads queue in front of a badge's own page misses, so the warm
// leaves the disk idle for a moment after each and a badge waits for at
// most one read.
var (
	warmRead  = 1 << 20
	warmPause = 2 * time.Millisecond
)

// Gate is the store's gate, one per open database: latchd hands it to
// the readers' capture loops (reader.WithGate) and the outbox, so that the
// doors' reads and frames hold one gate that all background work waits on.
func (s *Store) Gate() *quiet.Gate { return s.gate }

// doorRead notes that the door is reading (doorpath.go): it holds the
// store's gate for the gate's tail (quiet.DefaultTail). The warm reads only
// when the gate is idle, that is when the door has not read for that long
// and no frame is arriving (Gate). During a burst of badges each
// badge's own page misses go to the disk alone instead of queueing behind
// a 1 MiB read (which made back-to-back first badges slower with the warm
// than without it); the warm goes on in the gaps.
func (s *Store) doorRead() { s.gate.Busy(0) }

// WarmDoorPath reads the pages of the door's buckets (the card records and
// the entry-code index) into the page cache, so that the first badges after
// a boot cost no disk read (docs/store.md, "First badge after boot"). It
// reads the file itself, not through bbolt's mapping (Linux has one page
// cache for both): first every branch page of those buckets' B-trees,
// walked from their roots in one short read transaction (after that a
// badge's lookup misses at most its leaf page), then their leaf pages in
// file order, in reads of up to 1 MiB with a pause after each; a bulk
// import writes a bucket in key order, so the leaves lie mostly in runs.
// Nothing is kept in memory but the page cache, which the kernel may
// reclaim. It takes little CPU: it reads pages, not records.
//
// Run it in its own goroutine after the doors have started: the doors do
// not wait for it. It stops when ctx ends or the store is closed (nil
// error). It only reads: a page it cannot make sense of (a corrupt file,
// or a page freed and reused by a write since the walk) is skipped, never
// an error; the doors' own lookups report a corrupt file.
func (s *Store) WarmDoorPath(ctx context.Context) (WarmStats, error) {
	start := time.Now()
	var st WarmStats
	f, err := os.Open(s.path)
	if err != nil {
		return st, err
	}
	defer f.Close()
	leaves, err := s.warmBranches(f, &st)
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		err = nil
	}
	if err != nil || ctx.Err() != nil {
		st.Took = time.Since(start)
		return st, err
	}
	ps := int64(s.pageSize)
	buf := make([]byte, warmRead)
	for _, r := range pageRuns(leaves, int(int64(warmRead)/ps)) {
		if ctx.Err() != nil || !s.gate.Wait(ctx, -1) {
			break
		}
		n, _ := f.ReadAt(buf[:r.n*ps], r.first*ps)
		st.Bytes += int64(n)
		st.LeafPages += int(int64(n) / ps)
		if warmPause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(warmPause):
			}
		}
	}
	st.Took = time.Since(start)
	return st, nil
}

// pageRun is n pages from page id first.
type pageRun struct{ first, n int64 }

// pageRuns sorts ids and joins them into runs of at most max pages,
// filling gaps of up to 4 pages (a leaf's overflow pages follow it, and
// reading a few pages more costs less than another read).
func pageRuns(ids []int64, max int) []pageRun {
	slices.Sort(ids)
	var rs []pageRun
	for _, id := range ids {
		if l := len(rs) - 1; l >= 0 && id >= rs[l].first && id < rs[l].first+rs[l].n+4 && id-rs[l].first < int64(max) {
			rs[l].n = max64(rs[l].n, id-rs[l].first+1)
			continue
		}
		rs = append(rs, pageRun{id, 1})
	}
	return rs
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// warmBranches reads, in one read transaction, every branch page of the
// door's buckets and returns the ids of their leaf pages.
func (s *Store) warmBranches(f *os.File, st *WarmStats) (leaves []int64, err error) {
	var tx *bolt.Tx
	defer endRead(&tx, bCards, &err, debug.SetPanicOnFault(true))
	tx, err = s.db.Begin(false)
	if err != nil {
		return nil, err
	}
	root, err := data(tx)
	if err != nil {
		return nil, err
	}
	ps := int64(s.pageSize)
	pages := tx.Size() / ps
	// read returns page id's type and, for a branch, its children.
	read := func(id int64) (typ uint16, children []int64) {
		p := make([]byte, ps)
		n, _ := f.ReadAt(p, id*ps)
		st.Bytes += int64(n)
		if n < pageHeader {
			return 0, nil
		}
		typ = binary.LittleEndian.Uint16(p[8:])
		if typ != pageBranch {
			return typ, nil
		}
		st.BranchPages++
		if over := int64(binary.LittleEndian.Uint32(p[12:])); over > 0 && id+over < pages {
			q := make([]byte, (1+over)*ps)
			m, _ := f.ReadAt(q, id*ps)
			st.Bytes += int64(max(m-n, 0))
			p = q[:max(m, n)]
		}
		return typ, branchChildren(p, pages)
	}
	for _, name := range [][]byte{bCards, bEntry} {
		b := root.Bucket(name)
		if b == nil || b.Root() == 0 {
			continue // none yet, or inline in its parent's page
		}
		r := int64(b.Root())
		if r < 2 || r >= pages {
			continue
		}
		typ, level := read(r)
		if typ == pageLeaf {
			leaves = append(leaves, r)
			continue
		}
		// Level by level: a bbolt B-tree keeps every leaf at the same
		// depth, so when a branch's first child is a leaf, all of its
		// children are, and they are left for the sequential reads. The
		// walk reads each page at most once and at most the file's pages.
		for budget := pages; len(level) > 0 && budget > 0; {
			var next []int64
			for i := 0; i < len(level); {
				typ, children := read(level[i])
				budget--
				if typ == pageLeaf {
					leaves = append(leaves, level...)
					break
				}
				next = append(next, children...)
				i++
				if budget <= 0 {
					break
				}
			}
			level = next
		}
	}
	return leaves, nil
}

// branchChildren returns the child page ids of branch page p (its bytes,
// header first) that lie inside a file of pages pages; elements beyond p
// and ids out of range are skipped (the page may be corrupt or reused).
func branchChildren(p []byte, pages int64) []int64 {
	if len(p) < pageHeader || pages <= 2 {
		return nil
	}
	var children []int64
	for i := range int(binary.LittleEndian.Uint16(p[10:])) {
		e := pageHeader + i*pageElem
		if e+pageElem > len(p) {
			break
		}
		if c := binary.LittleEndian.Uint64(p[e+8:]); c >= 2 && c < uint64(pages) {
			children = append(children, int64(c))
		}
	}
	return children
}
