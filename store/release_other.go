//go:build !linux

package store

// releaseMapped does nothing outside Linux; see release_linux.go.
func (s *Store) releaseMapped() {}

func (s *Store) keepMappedSmall() (stop func()) { return func() {} }
