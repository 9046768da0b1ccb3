package api

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestDiskFree: on Linux the free space of a real folder is known, not
// zero, and not more than its filesystem's size.
func TestDiskFree(t *testing.T) {
	dir := t.TempDir()
	free, known, err := diskFree(dir)
	if err != nil || !known || free == 0 {
		t.Fatalf("diskFree(%s) = %d, %v, %v", dir, free, known, err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if size := uint64(st.Blocks) * uint64(st.Bsize); free > size {
		t.Errorf("free %d > filesystem size %d", free, size)
	}
	if _, _, err := diskFree(dir + "/missing"); err == nil {
		t.Error("diskFree of a missing folder: no error")
	}
}
