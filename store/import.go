package store

import (
	"errors"
	"fmt"
	"strings"
)

// ImportProgress reports an import's progress. Pass 1 checks, pass 2 writes.
type ImportProgress struct {
	Rows              int
	Bytes, TotalBytes int64
	Pass              int
}

// ImportSummary says what an import changed.
type ImportSummary struct{ Rows, UsersCreated, UsersUpdated, CredentialsAdded int }

// RowError is one bad cell of a CSV file. Line is 1-based (the header is
// line 1); Column is the header name ("" for the row as a whole).
type RowError struct {
	Line         int
	Column, Rule string
}

func (e RowError) String() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Rule)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Column, e.Rule)
}

// ImportError lists the bad rows of a file. Nothing was written.
type ImportError struct {
	Rows []RowError
	// More counts bad rows beyond those listed (the list is capped).
	More int
}

func (e *ImportError) Error() string {
	var b strings.Builder
	n := len(e.Rows) + e.More
	fmt.Fprintf(&b, "store: import: %d bad row(s), nothing written", n)
	for i, r := range e.Rows {
		if i == 5 {
			fmt.Fprintf(&b, "; and %d more", n-5)
			break
		}
		b.WriteString("; ")
		b.WriteString(r.String())
	}
	return b.String()
}

var errImportTODO = errors.New("store: import: not implemented yet")

// ImportFile imports a users or credentials CSV file (product.md §8).
func (s *Store) ImportFile(path string, by Actor, progress func(ImportProgress)) (ImportSummary, error) {
	return ImportSummary{}, errImportTODO
}
