package store

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
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

// Import tuning. bulkThreshold: above this many changed records an import
// builds a new generation (see apply); mergeChunk: records per write
// transaction while it does; maxRowErrors: bad rows listed in an
// ImportError (the rest are counted).
var (
	bulkThreshold = 20000
	mergeChunk    = 50000
	maxRowErrors  = 1000
	viewRefresh   = 50000 // pass-1 rows per read transaction
)

// importer holds one import's state.
type importer struct {
	s    *Store
	by   Actor
	now  time.Time
	hdr  header
	errs []RowError
	more int
	sum  ImportSummary

	tx *bolt.Tx
	b  buckets

	// Changes, one delta per data bucket (see delta). Records flagged
	// noop exist only so that duplicates within the file are found.
	users, ext, email, cards, ucards, entry, uentry, mfa delta
	uduress                                              delta  // duress code records (user id + 'd'); their MACs go in entry
	userSeq                                              uint64 // last user sequence used

	// New users (users file). Their records in the users and ucards
	// buckets are not kept: pass 2 reads the file again (see newFeed).
	open       func() (io.Reader, error)
	row        int      // index of the data row being checked (0-based)
	newRows    []uint64 // bit i: data row i creates a user
	firstSeq   uint64   // the users bucket's sequence before the import
	newUsers   int
	newRecs    int  // records newFeed writes (user, entry code, card)
	newCards   bool // some new user has a card
	pass1Bytes int64
	pass1CRC   uint32

	// A fleet member's import (remote.go): the documents to write and
	// the revision they were computed at, and the audit event.
	remote     []RemoteChange
	remoteBase uint64
	remoteEvs  []Event

	knownGroup func(string) bool        // see ImportOptions
	allow      func(ImportHeader) error // see ImportOptions
}

func (it *importer) deltas() []*delta {
	return []*delta{&it.users, &it.ext, &it.email, &it.cards, &it.ucards, &it.entry, &it.uentry, &it.mfa, &it.uduress}
}

// free releases the deltas' memory: after pass 2 has committed (or
// failed), nothing refers to it.
func (it *importer) free() {
	for _, d := range it.deltas() {
		d.free()
	}
}

func (it *importer) bad(line int, col, rule string) {
	if len(it.errs) < maxRowErrors {
		it.errs = append(it.errs, RowError{Line: line, Column: col, Rule: rule})
	} else {
		it.more++
	}
}

// ErrInputChanged is returned by Import when the second read of the input
// differs from the first (the file was changed during the import). Nothing
// was written.
var ErrInputChanged = errors.New("store: import: the file changed during the import; nothing written")

// ImportOptions are the caller's part of an import.
type ImportOptions struct {
	// Progress, when set, is called as the import goes.
	Progress func(ImportProgress)
	// KnownGroup, when set, says whether a group name is one of the
	// config's groups; a users file may then assign only those (the API's
	// rule for a user's groups). The store does not know the config:
	// latchd and latchctl pass the config's groups; without KnownGroup only
	// the store's own rules for a group name apply.
	KnownGroup func(name string) bool
	// Allow, when set, is called with the file's header once it has been
	// checked, before any data row is read; an error from it stops the
	// import (nothing written) and is returned as it is. The API decides
	// here whether the caller's role may import what the file changes.
	Allow func(ImportHeader) error
}

// ImportHeader describes an import file from its header row.
type ImportHeader struct {
	Credentials bool     // a credentials file (it has a type column); else a users file
	Columns     []string // the column names, in order
}

// credentialColumns are the columns of a users file that give a user a
// credential.
var credentialColumns = []string{"cardFormat", "facilityCode", "cardNumber", "cardNumberHex", "entryCode"}

// ChangesUsers reports whether the file creates or changes users: every
// users file does (its rows are users, found or created by externalId); a
// credentials file only refers to existing users.
func (h ImportHeader) ChangesUsers() bool { return !h.Credentials }

// ChangesCredentials reports whether the file adds or changes cards,
// entry codes or MFA codes: a credentials file, or a users file with a
// card or entryCode column.
func (h ImportHeader) ChangesCredentials() bool {
	if h.Credentials {
		return true
	}
	for _, c := range h.Columns {
		if slices.Contains(credentialColumns, c) {
			return true
		}
	}
	return false
}

// ReadImportHeader reads and checks an import file's header row (the
// same check Import makes, with the same limit on its length). A bad
// header is an *ImportError.
func ReadImportHeader(f io.Reader) (ImportHeader, error) {
	it := &importer{}
	_, r := csvReader(f)
	if !it.readHeader(r) {
		return ImportHeader{}, &ImportError{Rows: it.errs}
	}
	return it.hdr.info(), nil
}

// ImportFile imports a users or a credentials CSV file: Import on the
// file's contents, reading the open file from its start each time.
func (s *Store) ImportFile(path string, by Actor, progress func(ImportProgress)) (ImportSummary, error) {
	return s.ImportFileWith(path, by, ImportOptions{Progress: progress})
}

// ImportFileWith is ImportFile with options.
func (s *Store) ImportFileWith(path string, by Actor, o ImportOptions) (ImportSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return ImportSummary{}, fmt.Errorf("store: import: %w", err)
	}
	defer f.Close()
	var total int64
	if fi, err := f.Stat(); err == nil {
		total = fi.Size()
	}
	open := func() (io.Reader, error) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return f, nil
	}
	return s.ImportWith(open, total, by, o)
}

// Import imports a users or a credentials CSV (docs/store.md, "CSV import"; the columns
// are in docs/store.md); open returns a reader from the input's start and
// may be called twice; size is the input's length in bytes for progress
// (0 when unknown). Import does not close what open returns. Pass 1 reads
// the whole input and checks every row, also against the database and the
// other rows; if any row is bad it returns an *ImportError and writes
// nothing. Pass 2 writes every change, all or nothing, from what pass 1
// kept; a users file that creates users is read a second time for their
// records (so they need not be held in memory), and if that read differs
// from the first, Import returns ErrInputChanged and writes nothing. Rows
// that change nothing (a card the user already has, an MFA code the user
// already has) are skipped, so importing the same file twice changes
// nothing the second time. A row longer than MaxRowBytes stops the read
// (an *ImportError naming its line). Import holds the store's write lock
// throughout: give it a local, fast input, not a network stream.
func (s *Store) Import(open func() (io.Reader, error), size int64, by Actor, progress func(ImportProgress)) (ImportSummary, error) {
	return s.ImportWith(open, size, by, ImportOptions{Progress: progress})
}

// ImportWith is Import with options (the config's groups, a check of the
// header by the caller).
func (s *Store) ImportWith(open func() (io.Reader, error), size int64, by Actor, o ImportOptions) (ImportSummary, error) {
	progress := o.Progress
	if progress == nil {
		progress = func(ImportProgress) {}
	}
	if r := s.remoteOf(); r != nil {
		return s.importRemote(r, open, size, by, o)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.importLocked(open, size, by, o, progress)
}

// importLocked is ImportWith with writeMu held.
func (s *Store) importLocked(open func() (io.Reader, error), size int64, by Actor, o ImportOptions, progress func(ImportProgress)) (ImportSummary, error) {
	sum, _, err := s.importRun(open, size, by, o, progress)
	return sum, err
}

// importRun checks the file whole and writes it (on a fleet member: makes
// the documents to write, left in the importer it returns).
func (s *Store) importRun(open func() (io.Reader, error), size int64, by Actor, o ImportOptions, progress func(ImportProgress)) (ImportSummary, *importer, error) {
	it := &importer{s: s, by: by, now: s.now(), open: open, knownGroup: o.KnownGroup, allow: o.Allow}
	defer it.free()
	r, err := open()
	if err != nil {
		return ImportSummary{}, nil, fmt.Errorf("store: import: %w", err)
	}
	if err := it.check(r, size, progress); err != nil {
		return ImportSummary{}, nil, err
	}
	if len(it.errs) > 0 {
		slices.SortStableFunc(it.errs, func(a, b RowError) int { return a.Line - b.Line })
		return ImportSummary{}, nil, &ImportError{Rows: it.errs, More: it.more}
	}
	if err := it.apply(size, progress); err != nil {
		return ImportSummary{}, nil, err
	}
	return it.sum, it, nil
}

// countingReader counts the bytes read through it and their CRC-32 (so
// that pass 2 can tell whether it reads what pass 1 read).
type countingReader struct {
	r   io.Reader
	n   int64
	crc uint32
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.crc = crc32.Update(c.crc, crc32.IEEETable, p[:n])
	return n, err
}

// csvReader reads f as an import file: a leading BOM is skipped, and a
// record longer than MaxRowBytes fails the read (a *rowTooLongError)
// before encoding/csv has buffered more than that of it.
func csvReader(f io.Reader) (*countingReader, *csv.Reader) {
	cr := &countingReader{r: f}
	br := bufio.NewReaderSize(cr, 1<<16)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	r := csv.NewReader(newRowLimiter(br, MaxRowBytes))
	r.ReuseRecord = true
	return cr, r
}
