package store

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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
	mergeChunk    = 100000
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
	userSeq                                              uint64 // last user sequence used
	macBuf                                               []byte

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

	knownGroup func(string) bool        // see ImportOptions
	allow      func(ImportHeader) error // see ImportOptions
}

func (it *importer) deltas() []*delta {
	return []*delta{&it.users, &it.ext, &it.email, &it.cards, &it.ucards, &it.entry, &it.uentry, &it.mfa}
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

// Import imports a users or a credentials CSV (product.md §8; the columns
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
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	stop := s.keepMappedSmall()
	defer stop()
	it := &importer{s: s, by: by, now: s.now(), open: open, knownGroup: o.KnownGroup, allow: o.Allow}
	defer it.free()
	r, err := open()
	if err != nil {
		return ImportSummary{}, fmt.Errorf("store: import: %w", err)
	}
	if err := it.check(r, size, progress); err != nil {
		return ImportSummary{}, err
	}
	if len(it.errs) > 0 {
		slices.SortStableFunc(it.errs, func(a, b RowError) int { return a.Line - b.Line })
		return ImportSummary{}, &ImportError{Rows: it.errs, More: it.more}
	}
	if err := it.apply(size, progress); err != nil {
		return ImportSummary{}, err
	}
	return it.sum, nil
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

// readHeader reads and checks the header row into it.hdr; false (with
// it.errs set) when it is bad.
func (it *importer) readHeader(r *csv.Reader) bool {
	rec, err := r.Read()
	if err == io.EOF {
		it.bad(1, "", "the file is empty: a header row is required")
		return false
	}
	if rl := (*rowTooLongError)(nil); errors.As(err, &rl) {
		it.bad(1, "", "header: "+ruleRowSize)
		return false
	}
	if err != nil {
		it.bad(1, "", "header: "+csvRule(err))
		return false
	}
	for i := range rec {
		if !utf8.ValidString(rec[i]) {
			it.bad(1, "", "header: must be UTF-8")
			return false
		}
	}
	var herrs []RowError
	it.hdr, herrs = parseHeader(slices.Clone(rec))
	if len(herrs) > 0 {
		it.errs = herrs
		return false
	}
	return true
}

// check is pass 1.
func (it *importer) check(f io.Reader, total int64, progress func(ImportProgress)) error {
	cr, r := csvReader(f)
	defer func() { it.pass1Bytes, it.pass1CRC = cr.n, cr.crc }()
	if !it.readHeader(r) {
		return nil
	}
	if it.allow != nil {
		if err := it.allow(it.hdr.info()); err != nil {
			return err
		}
	}
	// A users file's deltas (~140 bytes per new user) live outside the Go
	// heap, so the collector's headroom does not double them: a million
	// new users then fit the import's memory target without a heap limit
	// (latchctl sets none for a users file). A credentials file's deltas
	// stay on the heap under latchctl's limit, as measured.
	if it.hdr.kind == usersFile {
		for _, d := range it.deltas() {
			d.offHeap = true
		}
	}
	if err := it.beginView(); err != nil {
		return err
	}
	defer func() { it.endView() }()
	it.userSeq = it.b.users.Sequence()
	it.firstSeq = it.userSeq
	rows := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if rl := (*rowTooLongError)(nil); errors.As(err, &rl) {
			// The reader cannot go on: the record has no end in reach.
			it.bad(rl.line, "", ruleRowSize)
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("store: import: read: %w", err)
			}
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				it.bad(pe.StartLine, "", fmt.Sprintf("has %d fields, the header has %d", len(rec), len(it.hdr.col)))
			} else {
				it.bad(pe.Line, "", csvRule(err))
			}
			rows++
			continue
		}
		rows++
		if !validRecord(rec) {
			it.bad(line, "", "must be UTF-8")
			continue
		}
		if it.hdr.kind == credsFile {
			err = it.checkCred(rec, line)
		} else {
			it.row = rows - 1
			err = it.checkUser(rec, line)
		}
		if err != nil {
			return err
		}
		if rows%viewRefresh == 0 {
			it.endView()
			if err := it.beginView(); err != nil {
				return err
			}
		}
		if rows%4096 == 0 {
			progress(ImportProgress{Rows: rows, Bytes: cr.n, TotalBytes: total, Pass: 1})
		}
	}
	it.sum.Rows = rows
	progress(ImportProgress{Rows: rows, Bytes: cr.n, TotalBytes: total, Pass: 1})
	it.findDups()
	return nil
}

func csvRule(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return "csv: " + pe.Err.Error()
	}
	return "csv: " + err.Error()
}

func validRecord(rec []string) bool {
	for _, s := range rec {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

func (it *importer) beginView() error {
	tx, err := it.s.db.Begin(false)
	if err != nil {
		return fmt.Errorf("store: import: %w", err)
	}
	b, err := txBuckets(tx)
	if err != nil {
		tx.Rollback()
		return err
	}
	it.tx, it.b = tx, b
	return nil
}

func (it *importer) endView() {
	if it.tx != nil {
		it.tx.Rollback()
		it.tx = nil
	}
}

// findDups reports rows that repeat an earlier row of the file.
func (it *importer) findDups() {
	for _, d := range []struct {
		d         *delta
		col, rule string
	}{
		{&it.ext, "externalId", "externalId appears twice in the file (first on line %d)"},
		{&it.cards, "cardNumber", "card appears twice in the file (first on line %d)"},
		{&it.entry, "code", "entry code appears twice in the file (first on line %d)"},
		{&it.uentry, "code", "user gets a second entry code (first on line %d)"},
		{&it.mfa, "code", "user gets the same MFA code twice (first on line %d)"},
	} {
		d.d.sort()
		d.d.dups(func(line, first int) { it.bad(line, d.col, fmt.Sprintf(d.rule, first)) })
	}
	it.tooManyMFA()
	if it.hdr.kind == usersFile {
		for i := range it.errs {
			if it.errs[i].Column == "code" {
				it.errs[i].Column = "entryCode"
			}
		}
	}
	for _, d := range []*delta{&it.users, &it.email, &it.ucards} {
		d.sort()
	}
}

// tooManyMFA reports every new MFA code row of a user who would have more
// than maxMFA codes after the import. The mfa delta is sorted: a user's
// records are one run, each carrying the count the user had before.
func (it *importer) tooManyMFA() {
	d := &it.mfa
	for i := 0; i < d.len(); {
		j, added := i, 0
		for ; j < d.len() && bytes.Equal(d.key(j)[:userIDLen], d.key(i)[:userIDLen]); j++ {
			if !d.noop(j) {
				added++
			}
		}
		if added > 0 {
			have := 0
			for k := i; k < j; k++ {
				if !d.noop(k) {
					have = int(d.val(k)[1])
					break
				}
			}
			if have+added > maxMFA {
				rule := fmt.Sprintf("%s; the file adds %d to the user's %d", ruleMaxMFA, added, have)
				if have > maxMFA {
					rule = fmt.Sprintf("%s; the user has more already", ruleMaxMFA)
				}
				for k := i; k < j; k++ {
					if !d.noop(k) {
						it.bad(d.line(k), "code", rule)
					}
				}
			}
		}
		i = j
	}
}

// resolve finds the user a credentials row refers to.
func (it *importer) resolve(r *credRow, line int) (string, bool) {
	switch r.refCol {
	case "userId":
		if validUserID(r.ref) && it.b.users.Get([]byte(r.ref)) != nil {
			return r.ref, true
		}
	case "externalId":
		if id := it.b.ext.Get([]byte(r.ref)); id != nil {
			return string(id), true
		}
	case "email":
		prefix := append([]byte(strings.ToLower(r.ref)), 0)
		c := it.b.email.Cursor()
		k, _ := c.Seek(prefix)
		if k != nil && bytes.HasPrefix(k, prefix) {
			id := string(k[len(prefix):])
			if k2, _ := c.Next(); k2 != nil && bytes.HasPrefix(k2, prefix) {
				it.bad(line, "email", "matches several users; use userId or externalId")
				return "", false
			}
			return id, true
		}
	default:
		return "", false
	}
	it.bad(line, r.refCol, "no such user")
	return "", false
}

func (it *importer) checkCred(rec []string, line int) error {
	r, errs := it.hdr.parseCred(rec, line)
	for _, e := range errs {
		it.bad(e.Line, e.Column, e.Rule)
	}
	if len(errs) > 0 || r.ref == "" {
		return nil
	}
	uid, ok := it.resolve(&r, line)
	if !ok {
		return nil
	}
	switch r.typ {
	case typeCard:
		it.addCard(uid, r.card, r.active, line, "cardNumber", false)
	case typeEntry:
		it.addEntry(uid, r.code, line, "code", false)
	case typeMFA:
		it.addMFA(uid, r.code, line)
	}
	return nil
}

// addCard checks and records a card for user uid; isNew: uid is a user
// the import creates (its ucards record is left to newFeed).
func (it *importer) addCard(uid string, k CardKey, active bool, line int, col string, isNew bool) {
	key := appendCardKey(nil, k)
	val := cardStub(uid, active)
	switch v := it.b.cards.Get(key); {
	case v == nil:
		it.cards.add(key, val, line, false)
		if isNew {
			it.newRecs++
			it.newCards = true
		} else {
			it.ucards.add(append([]byte(uid), key...), nil, line, false)
		}
		it.sum.CredentialsAdded++
	case len(v) < cardMin || string(v[:userIDLen]) != uid:
		it.bad(line, col, "card already belongs to another user")
	case v[cardActiveAt] != activeByte(active):
		it.cards.add(key, val, line, false) // same card, new active flag
	default:
		it.cards.addNoop(key, line)
	}
}

// addEntry checks and records an entry code for user uid; isNew: uid is
// a user the import creates (its code record is left to newFeed).
func (it *importer) addEntry(uid string, code []byte, line int, col string, isNew bool) {
	mac := it.s.entryMAC(nil, code)
	switch owner := it.b.entry.Get(mac); {
	case owner == nil:
		it.entry.add(mac, []byte(uid), line, false)
		it.sum.CredentialsAdded++
		if isNew {
			it.newRecs++
			return
		}
		ek := entryKey([]byte(uid))
		if old := it.b.users.Get(ek); old != nil && len(old) >= macSize {
			it.entry.add(old[:macSize], nil, line, true)
		}
		it.uentry.add(ek, encodeCode(mac, len(code), it.now, it.by.Name), line, false)
	case string(owner) != uid:
		it.bad(line, col, "entry code already used by another user")
	default:
		it.entry.addNoop(mac, line)
		it.uentry.addNoop(entryKey([]byte(uid)), line)
	}
}

func (it *importer) addMFA(uid string, code []byte, line int) {
	key := it.s.mfaMAC([]byte(uid), uid, code)
	mac := key[userIDLen:]
	id := mfaPrefix(uid)
	exists, have := false, 0
	c := it.b.users.Cursor()
	for k, v := c.Seek(id); k != nil && bytes.HasPrefix(k, id); k, v = c.Next() {
		have++
		if len(v) >= macSize && hmac.Equal(v[:macSize], mac) {
			exists = true
		}
	}
	if exists {
		it.mfa.addNoop(key, line)
		return
	}
	// Value: the code's length, and how many codes the user has already
	// (capped: only "over maxMFA" matters; see tooManyMFA).
	it.mfa.add(key, []byte{byte(len(code)), byte(min(have, maxMFA+1))}, line, false)
	it.sum.CredentialsAdded++
}

func (it *importer) checkUser(rec []string, line int) error {
	r, errs := it.hdr.parseUser(rec, line)
	if it.knownGroup != nil && len(errs) == 0 {
		for i, g := range r.f.Groups {
			if !it.knownGroup(g) {
				// By position: the cell's text is not repeated.
				errs = append(errs, RowError{Line: line, Column: "groups", Rule: fmt.Sprintf("group %d of the cell is not a group of the config (GET /v1/groups lists them)", i+1)})
			}
		}
	}
	for _, e := range errs {
		it.bad(e.Line, e.Column, e.Rule)
	}
	if len(errs) > 0 {
		return nil
	}
	var uid string
	isNew := false
	if id := it.b.ext.Get([]byte(r.f.ExternalID)); id != nil {
		uid = string(id)
		old, err := it.b.getUser(uid)
		if err != nil {
			return err
		}
		nf := old.UserFields
		if r.set["firstName"] {
			nf.FirstName = r.f.FirstName
		}
		if r.set["lastName"] {
			nf.LastName = r.f.LastName
		}
		if r.set["email"] {
			nf.Email = r.f.Email
		}
		if r.set["startDate"] {
			nf.Start = r.f.Start
		}
		if r.set["endDate"] {
			nf.End = r.f.End
		}
		if r.set["groups"] {
			nf.Groups = r.f.Groups
		}
		it.ext.addNoop([]byte(r.f.ExternalID), line)
		if err := validateFields(&nf); err != nil {
			if ve, ok := err.(*ValidationError); ok {
				it.bad(line, fieldColumn[ve.Field], ve.Rule)
			}
			return nil
		}
		if !sameFields(&old.UserFields, &nf) {
			rec := userRec{UserFields: nf, Created: old.Created, Updated: it.now}
			it.users.add([]byte(uid), encodeUser(&rec), line, false)
			if !strings.EqualFold(old.Email, nf.Email) {
				if old.Email != "" {
					it.email.add(emailKey(old.Email, uid), nil, line, true)
				}
				if nf.Email != "" {
					it.email.add(emailKey(nf.Email, uid), nil, line, false)
				}
			}
			it.sum.UsersUpdated++
		}
	} else {
		// The user record is not kept: newFeed makes it again in pass 2.
		isNew = true
		it.userSeq++
		uid = newUserID(it.userSeq)
		for it.row/64 >= len(it.newRows) {
			it.newRows = append(it.newRows, 0)
		}
		it.newRows[it.row/64] |= 1 << (it.row % 64)
		it.newUsers++
		it.newRecs++
		it.ext.add([]byte(r.f.ExternalID), []byte(uid), line, false)
		if r.f.Email != "" {
			it.email.add(emailKey(r.f.Email, uid), nil, line, false)
		}
		it.sum.UsersCreated++
	}
	if r.hasCard {
		it.addCard(uid, r.card, true, line, "cardNumber", isNew)
	}
	if r.entryCode != nil {
		it.addEntry(uid, r.entryCode, line, "entryCode", isNew)
	}
	return nil
}

func sameFields(a, b *UserFields) bool {
	return a.ExternalID == b.ExternalID && a.FirstName == b.FirstName && a.LastName == b.LastName &&
		a.Email == b.Email && a.Start.Equal(b.Start) && a.End.Equal(b.End) &&
		a.Suspended == b.Suspended && slices.Equal(a.Groups, b.Groups)
}

// target pairs a data bucket with the deltas that change it.
type target struct {
	name []byte
	ds   []*delta
}

func (it *importer) targets() []target {
	return []target{
		{bUsers, []*delta{&it.users, &it.uentry, &it.mfa}}, {bExt, []*delta{&it.ext}},
		{bEmail, []*delta{&it.email}}, {bCards, []*delta{&it.cards}},
		{bUCards, []*delta{&it.ucards}}, {bEntry, []*delta{&it.entry}},
	}
}

// changes counts the records that change something.
func (it *importer) changes() int {
	n := it.newRecs
	for _, t := range it.targets() {
		for _, d := range t.ds {
			for i := 0; i < d.len(); i++ {
				if !d.noop(i) {
					n++
				}
			}
		}
	}
	return n
}

// changed reports whether t has a record that changes something.
func (it *importer) changed(t target) bool {
	if it.newUsers > 0 && bytes.Equal(t.name, bUsers) || it.newCards && bytes.Equal(t.name, bUCards) {
		return true
	}
	for _, d := range t.ds {
		for i := 0; i < d.len(); i++ {
			if !d.noop(i) {
				return true
			}
		}
	}
	return false
}

// hasCodes reports whether the import stores entry or MFA codes.
func (it *importer) hasCodes() bool { return it.entry.len() > 0 || it.mfa.len() > 0 }

// record returns the key and value to write for record i of d. MFA
// records carry user id + MAC and the code length; they are written under
// user id + tagMFA + a sequence number, assigned in key order from the
// generation's sequence so the written keys stay sorted.
func (it *importer) record(d *delta, i int, mfaSeq *uint64) (key, val []byte) {
	key, val = d.key(i), d.val(i)
	if d == &it.mfa {
		*mfaSeq++
		mac := key[userIDLen:]
		return mfaKey(string(key[:userIDLen]), *mfaSeq), encodeCode(mac, int(val[0]), it.now, it.by.Name)
	}
	return key, val
}

func (it *importer) auditEvent() Event {
	e := audit(it.now, it.by, "csv_import", "", "")
	return e
}

// apply is pass 2. A small import is one write transaction on the live
// data. A large one would need more memory in one bbolt transaction than
// the target allows (every changed key becomes a node entry until
// commit), so it builds a complete new generation of the data buckets —
// the live data merged with the sorted changes — in transactions of
// mergeChunk records, invisible to readers, and then switches to it in
// one small transaction. A crash before the switch leaves the live data
// as it was; Open deletes the unfinished generation.
func (it *importer) apply(total int64, progress func(ImportProgress)) error {
	n := it.changes()
	if n == 0 {
		return nil
	}
	if n <= bulkThreshold {
		evs := []Event{it.auditEvent()}
		// update derives the card records of every user written here (the
		// cards delta holds only card stubs).
		err := it.s.update(func(tx *bolt.Tx, b buckets) ([]Event, error) {
			mfaSeq := b.root.Sequence()
			for _, t := range it.targets() {
				w := b.named(t.name)
				for _, d := range t.ds {
					for i := 0; i < d.len(); i++ {
						if d.noop(i) {
							continue
						}
						k, v := it.record(d, i, &mfaSeq)
						var err error
						if d.del(i) {
							err = w.Delete(k)
						} else {
							err = w.Put(k, v)
						}
						if err != nil {
							return nil, err
						}
					}
				}
			}
			if it.newUsers > 0 {
				f, err := it.newFeed()
				if err != nil {
					return nil, err
				}
				if _, err := f.write(b.users, b.ucards, -1); err != nil {
					return nil, err
				}
			}
			if err := b.root.SetSequence(mfaSeq); err != nil {
				return nil, err
			}
			if it.hasCodes() {
				if err := b.markCodes(); err != nil {
					return nil, err
				}
			}
			if err := b.users.SetSequence(it.userSeq); err != nil {
				return nil, err
			}
			return evs, nil
		})
		if errors.Is(err, ErrInputChanged) {
			return err
		}
		if err != nil {
			return fmt.Errorf("store: import: write: %w", err)
		}
		progress(ImportProgress{Rows: it.sum.Rows, Bytes: total, TotalBytes: total, Pass: 2})
		it.s.publish(evs)
		return nil
	}
	return it.applyBulk(n, total, progress)
}
