package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestDeltaSpill: a delta that spills its records to sorted runs and
// merges them reads, after sort, exactly as one that kept them in memory:
// the same records in the same order (key order, file order among equal
// keys), flags and lines, and the same duplicates.
func TestDeltaSpill(t *testing.T) {
	defer func(n int) { spillRun = n }(spillRun)
	spillRun = chunkSize
	var mem, sp delta
	sp.spill = newSpill(t.TempDir())
	defer mem.free()
	defer sp.free()
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 150000 // about 5 MiB of records: several runs of 1 MiB
	for i := range n {
		key := fmt.Appendf(nil, "k%06d", rng.IntN(n/2)) // many equal keys across runs
		val := bytes.Repeat([]byte{byte(i)}, rng.IntN(20))
		switch i % 5 {
		case 0:
			mem.addNoop(key, i+2)
			sp.addNoop(key, i+2)
		default:
			mem.add(key, val, i+2, i%7 == 0)
			sp.add(key, val, i+2, i%7 == 0)
		}
	}
	if len(sp.spill.runs) < 3 {
		t.Fatalf("%d runs, want several", len(sp.spill.runs))
	}
	mem.sort()
	sp.sort()
	if err := sp.spillErr(); err != nil {
		t.Fatal(err)
	}
	if mem.len() != n || sp.len() != n {
		t.Fatalf("lengths %d and %d, want %d", mem.len(), sp.len(), n)
	}
	for i := range n {
		if !bytes.Equal(mem.key(i), sp.key(i)) || !bytes.Equal(mem.val(i), sp.val(i)) ||
			mem.line(i) != sp.line(i) || mem.del(i) != sp.del(i) || mem.noop(i) != sp.noop(i) {
			t.Fatalf("record %d: %q=%q line %d, spilled %q=%q line %d", i, mem.key(i), mem.val(i), mem.line(i), sp.key(i), sp.val(i), sp.line(i))
		}
	}
	var a, b [][2]int
	mem.dups(func(l, f int) { a = append(a, [2]int{l, f}) })
	sp.dups(func(l, f int) { b = append(b, [2]int{l, f}) })
	if len(a) == 0 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("dups differ: %d and %d", len(a), len(b))
	}
}
