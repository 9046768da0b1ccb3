package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ReadKeyFile reads a key file that must already exist, under the rules
// Open applies to its key file: a regular file, no group or other
// permission bit, exactly 32 bytes. A fleet's site key is such a file
// (docs/fleet.md); the config check calls this so the rule has one owner.
func ReadKeyFile(path string) ([]byte, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: key file %s does not exist", path)
	}
	return loadKey(path, true)
}
