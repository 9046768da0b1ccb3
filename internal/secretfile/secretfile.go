// Package secretfile reads the secret files of latch's integrations (an
// MQTT password, a webhook's HMAC key): the one rule for such a file, so
// that internal/config checks it at load and the integration reads it at
// start with the same words. docs/integrations.md describes the rule.
package secretfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxSize bounds a secret file.
const MaxSize = 4096

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
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secret file %s: must be a regular file", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret file %s: permissions %#o allow group or others; must be 0600 (chmod 600)", path, fi.Mode().Perm())
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
