package reader

import (
	"iter"
	"testing"
)

// mustEncode encodes a frame of s, failing the test if s refuses it.
func mustEncode(t testing.TB, s FormatSpec, fc uint32, cn uint64) string {
	t.Helper()
	b, err := s.Encode(fc, cn)
	if err != nil {
		t.Fatalf("%s: Encode(%d, %d): %v", s, fc, cn, err)
	}
	return b
}

// flips yields each bit position of bits with the frame that has that one
// bit flipped ('0' and '1' differ only in their lowest bit).
func flips(bits string) iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		for i := range len(bits) {
			f := []byte(bits)
			f[i] ^= 1
			if !yield(i, string(f)) {
				return
			}
		}
	}
}
