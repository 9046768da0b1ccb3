package api

import "golang.org/x/sys/unix"

// diskFree is the space on dir's filesystem that an unprivileged process
// may still fill (f_bavail), in bytes. The conversions are needed: the
// fields' types differ between architectures (int32 on linux/arm).
func diskFree(dir string) (uint64, bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false, err
	}
	// f_bavail counts fragments of f_frsize bytes (f_bsize on a kernel
	// that leaves f_frsize 0), as statvfs(3) reads them.
	unit := uint64(st.Frsize)
	if unit == 0 {
		unit = uint64(st.Bsize)
	}
	return uint64(st.Bavail) * unit, true, nil
}
