package store

import (
	"bytes"
	"crypto/hmac"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

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
	// Every delta spills past spillRun bytes to files next to the
	// database (delta_spill.go), so the import's memory does not grow with
	// the file; a small import never reaches it and stays in memory.
	for _, d := range it.deltas() {
		d.spill = newSpill(filepath.Dir(it.s.path))
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
	for _, d := range it.deltas() {
		if err := d.spillErr(); err != nil {
			return err
		}
	}
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
		{&it.uduress, "code", "user gets a second duress code (first on line %d)"},
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
		var key [userIDLen]byte
		if it.s.ids.keyOf(&key, r.ref) && it.b.users.Get(key[:]) != nil {
			return string(key[:]), true
		}
	case "externalId":
		if id := it.b.ext.Get([]byte(r.ref)); id != nil {
			return string(id), true
		}
	case "email":
		ids, err := it.b.usersByEmail(r.ref, 2)
		if err != nil {
			it.bad(line, "email", "the database's email index is corrupt (run latchctl db check)")
			return "", false
		}
		if len(ids) > 1 {
			it.bad(line, "email", "matches several users; use userId or externalId")
			return "", false
		}
		if len(ids) == 1 {
			return ids[0], true
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
	case typeDuress:
		it.addDuress(uid, r.code, line)
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
		if old := it.b.users.Get(ek); len(old) >= macSize {
			it.entry.add(old[:macSize], nil, line, true)
		}
		it.uentry.add(ek, encodeCode(mac, len(code), it.now, it.by.Name), line, false)
	case string(owner) == uid+string(rune(tagDuress)):
		it.bad(line, col, "must differ from the user's duress code")
	case string(owner) != uid:
		it.bad(line, col, "entry code already used by another user")
	default:
		it.entry.addNoop(mac, line)
		it.uentry.addNoop(entryKey([]byte(uid)), line)
	}
}

// addDuress checks and records a duress code for the existing user uid:
// its MAC in the entry-code index (shared with entry codes, so the two
// stay unique together) and its code record.
func (it *importer) addDuress(uid string, code []byte, line int) {
	mac := it.s.entryMAC(nil, code)
	dk := duressKey([]byte(uid))
	switch owner := it.b.entry.Get(mac); {
	case owner == nil:
		if it.b.findMFA(uid, it.s.mfaMAC(nil, uid, code)) != nil {
			it.bad(line, "code", "must differ from the user's MFA codes")
			return
		}
		it.entry.add(mac, dk, line, false)
		it.sum.CredentialsAdded++
		if old := it.b.users.Get(dk); len(old) >= macSize {
			it.entry.add(old[:macSize], nil, line, true)
		}
		it.uduress.add(dk, encodeCode(mac, len(code), it.now, it.by.Name), line, false)
	case string(owner) == uid:
		it.bad(line, "code", "must differ from the user's entry code")
	case !bytes.Equal(owner, dk):
		it.bad(line, "code", "code already used by another user")
	default:
		it.entry.addNoop(mac, line)
		it.uduress.addNoop(dk, line)
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
	if it.b.duressIs(uid, it.s.entryMAC(nil, code)) {
		it.bad(line, "code", "must differ from the user's duress code")
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
		setIf(r.set["firstName"], &nf.FirstName, r.f.FirstName)
		setIf(r.set["lastName"], &nf.LastName, r.f.LastName)
		setIf(r.set["email"], &nf.Email, r.f.Email)
		setIf(r.set["startDate"], &nf.Start, r.f.Start)
		setIf(r.set["endDate"], &nf.End, r.f.End)
		setIf(r.set["groups"], &nf.Groups, r.f.Groups)
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
		it.ext.add([]byte(r.f.ExternalID), extVal(uid), line, false)
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

// setIf sets *dst to v when the file has the column (set).
func setIf[T any](set bool, dst *T, v T) {
	if set {
		*dst = v
	}
}

func sameFields(a, b *UserFields) bool {
	return a.ExternalID == b.ExternalID && a.FirstName == b.FirstName && a.LastName == b.LastName &&
		a.Email == b.Email && a.Start.Equal(b.Start) && a.End.Equal(b.End) &&
		a.Suspended == b.Suspended && slices.Equal(a.Groups, b.Groups)
}
