package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxTokenFile bounds what is read of a token file: a token is 49 bytes.
const maxTokenFile = 4 << 10

// resolveToken picks the token to send: --token, else --token-file, else
// $LATCH_TOKEN, else $LATCH_TOKEN_FILE. Giving two of one kind (both flags,
// or both variables) is an error, so that it is clear which one is used.
func (c *conn) resolveToken() error {
	if c.token != "" && c.tokenFile != "" {
		return errors.New("--token and --token-file: give only one")
	}
	if c.token == "" && c.tokenFile == "" {
		env, envFile := os.Getenv("LATCH_TOKEN"), os.Getenv("LATCH_TOKEN_FILE")
		if env != "" && envFile != "" {
			return errors.New("LATCH_TOKEN and LATCH_TOKEN_FILE are both set: unset one")
		}
		c.token = env
		if envFile != "" {
			tok, err := readTokenFile(envFile)
			if err != nil {
				return fmt.Errorf("LATCH_TOKEN_FILE: %w", err)
			}
			c.token = tok
		}
		return nil
	}
	if c.tokenFile != "" {
		tok, err := readTokenFile(c.tokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		c.token = tok
	}
	return nil
}

// readTokenFile reads a token from path: one line, surrounding white space
// dropped. A file that group or others may read is refused before its
// content is read (the token would be known to them); errors name the
// file, never its content.
func readTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat() // of the opened file: a symlink's target, no race with a rename
	if err != nil {
		return "", err
	}
	if fi.IsDir() {
		return "", fmt.Errorf("%s is a directory, not a file holding a token", path)
	}
	if perm := fi.Mode().Perm(); perm&0o044 != 0 {
		return "", fmt.Errorf("%s is readable by group or others (mode %04o), so they can read the token: chmod 600 %s (and consider revoking the token)", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxTokenFile {
		return "", fmt.Errorf("%s is over %d bytes: it should hold only the token", path, maxTokenFile)
	}
	tok := bytes.TrimSpace(b)
	switch {
	case len(tok) == 0:
		return "", fmt.Errorf("%s is empty: it should hold the token (latchctl token create … > %s)", path, path)
	case bytes.ContainsAny(tok, " \t\r\n"):
		return "", fmt.Errorf("%s holds more than one line or word: it should hold only the token", path)
	}
	return string(tok), nil
}
