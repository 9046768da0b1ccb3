package config

import (
	"crypto/tls"
	"fmt"
	"os"
)

// CheckKeyPair checks the TCP listener's certificate and key files: the
// key must not be readable by others (group is fine: latchd's group), and
// the pair must load (PEM, matching key). The message never quotes the
// files.
func CheckKeyPair(certFile, keyFile string) error {
	fi, err := os.Stat(keyFile)
	if err != nil {
		return fmt.Errorf("key %s: %w", keyFile, err)
	}
	if fi.Mode().Perm()&0o007 != 0 {
		return fmt.Errorf("key %s: permissions %#o let others read it; chmod 640 (or 600)", keyFile, fi.Mode().Perm())
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		return fmt.Errorf("cannot load %s and %s: %w", certFile, keyFile, err)
	}
	return nil
}
