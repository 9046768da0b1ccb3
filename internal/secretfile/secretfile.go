// Package secretfile reads the secret files of latch's integrations (an
// MQTT password, a webhook's HMAC key): the one rule for such a file, so
// that internal/config checks it at load and the integration reads it at
// start with the same words. docs/integrations.md describes the rule. Its
// mode rule (CheckMode) is also the store's for its key files.
package secretfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MaxSize bounds a secret file.
const MaxSize = 4096

// CheckMode is the rule for the mode of a file that holds a secret (this
// package's files, and the store's device and site key files): a regular
// file with no group or other permission bits. The error is the rule, for
// the caller to prefix with the file's name.
func CheckMode(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return errors.New("must be a regular file")
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("permissions %#o allow group or others; must be 0600 (chmod 600)", fi.Mode().Perm())
	}
	return nil
}

// Read returns the secret in the file at path: a regular file with no
// group or other permission bits (mode 0600 or 0400), holding 1–4096
// bytes; one trailing newline (what an editor or `echo` leaves) is not
// part of the secret. An error names the file and the rule, never a byte
// of its contents.
func Read(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("secret file %s: %v", path, pe.Err)
		}
		return nil, fmt.Errorf("secret file %s: cannot open", path)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("secret file %s: cannot stat", path)
	}
	if err := CheckMode(fi); err != nil {
		return nil, fmt.Errorf("secret file %s: %w", path, err)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSize+2))
	if err != nil {
		return nil, fmt.Errorf("secret file %s: cannot read", path)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("secret file %s: is empty", path)
	case len(b) > MaxSize:
		return nil, fmt.Errorf("secret file %s: holds more than %d bytes", path, MaxSize)
	}
	return b, nil
}
