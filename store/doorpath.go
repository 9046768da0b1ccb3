package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/subtle"
	"fmt"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

// The door's fast path: LookupCard, VerifyCardCode and LookupEntryCode on
// every decision (VerifySecondFactor for callers without a card). Each is
// one read transaction that writes nothing, opens only the buckets it
// needs and decodes before the transaction ends; a card's record carries
// its user's door view and code MACs (cardrec.go), so a badge and its code
// each read that one record. Every stored MAC is compared in constant time.

// card begins a read transaction, stores it in *tx at once (the caller
// defers endRead, which rolls it back on every path, a panic included) and
// returns card k's record, which aliases the database. missing is the
// error for an unknown card. (No closure: the door's calls allocate less
// without.)
func (s *Store) card(tx **bolt.Tx, k CardKey, missing error) (cardRec, error) {
	var kb [1 + 255 + 12]byte
	if len(k.Format) > 255 {
		return cardRec{}, missing
	}
	key := appendCardKey(kb[:0], k)
	s.doorRead()
	t, err := s.db.Begin(false)
	if err != nil {
		return cardRec{}, err
	}
	*tx = t
	root, err := data(t)
	if err != nil {
		return cardRec{}, err
	}
	v := root.Bucket(bCards).Get(key)
	if v == nil {
		return cardRec{}, missing
	}
	return parseCard(v)
}

// LookupCard returns the user holding card k and whether the card is
// active. It returns ErrNotFound for an unknown card. It reads only the
// card's record, which carries the user's door view (see cardrec.go).
func (s *Store) LookupCard(k CardKey) (u UserView, cardActive bool, err error) {
	var tx *bolt.Tx
	defer endRead(&tx, bCards, &err, debug.SetPanicOnFault(true))
	r, err := s.card(&tx, k, errNoCard)
	if err != nil {
		return u, false, err
	}
	err = r.view(&u, s.ids.pubBytes)
	return u, r.active && err == nil, err
}

// CodeMatch is what a code typed at a door matched.
type CodeMatch uint8

const (
	// CodeNone: the code matches nothing the door may accept there.
	CodeNone CodeMatch = iota
	// CodeValid: the user's MFA code, or entry code.
	CodeValid
	// CodeDuress: the user's duress code, typed where their MFA or entry
	// code would be accepted (docs/operations.md, "Duress codes"). It
	// grants as CodeValid does.
	CodeDuress
)

// VerifyCardCode is MatchCardCode reporting CodeValid only: the code is
// one of the user's MFA codes or (fallback) their entry code. A duress
// code is false here: the door asks MatchCardCode.
func (s *Store) VerifyCardCode(k CardKey, userID string, code []byte, entryFallback bool) (bool, error) {
	m, err := s.MatchCardCode(k, userID, code, entryFallback)
	return m == CodeValid, err
}

// MatchCardCode is the door's check of a code typed after card k was
// badged by userID: the code against the user's MFA codes or, when the
// user has none and entryFallback is true, against their entry code
// (CodeValid); wherever one of those would be accepted, also against their
// duress code (CodeDuress). It reads only the card's record (one B-tree
// descent; the record carries the user's code MACs) and compares every
// stored MAC in constant time. Both MACs of the typed code (the MFA and
// the entry/duress one) are always computed and every stored MAC is
// compared, so the time does not depend on which code, or kind of code,
// matched. It returns ErrCardChanged when the card is no longer userID's
// or no longer active, and ErrUserSuspended when the user is suspended
// (both changed while the code was typed: the door checked them at the
// badge), and CodeNone for an empty or malformed code. The user's start
// and end are not checked again: they depend on the door's clock.
func (s *Store) MatchCardCode(k CardKey, pub string, code []byte, entryFallback bool) (_ CodeMatch, err error) {
	var kb [userIDLen]byte
	if !s.ids.keyOf(&kb, pub) {
		return CodeNone, ErrCardChanged
	}
	var tx *bolt.Tx
	defer endRead(&tx, bCards, &err, debug.SetPanicOnFault(true))
	r, err := s.card(&tx, k, ErrCardChanged)
	if err != nil {
		return CodeNone, err
	}
	if !bytes.Equal(r.userID, kb[:]) || !r.active {
		return CodeNone, ErrCardChanged
	}
	if r.suspended {
		return CodeNone, ErrUserSuspended
	}
	if ValidateCode(code) != nil {
		return CodeNone, nil
	}
	var mb [2 * macSize]byte // both MACs in one buffer
	mfa := s.mfaMAC(mb[:0], string(kb[:]), code)
	ent := s.entryMAC(mb[macSize:macSize], code)
	mfaOK := 0
	for m := r.mfaMACs; len(m) > 0; m = m[macSize:] {
		mfaOK |= subtle.ConstantTimeCompare(m[:macSize], mfa) // keep comparing
	}
	entryOK, duressOK := 0, 0
	if r.entryMAC != nil {
		entryOK = subtle.ConstantTimeCompare(r.entryMAC, ent)
	}
	if r.duressMAC != nil {
		duressOK = subtle.ConstantTimeCompare(r.duressMAC, ent)
	}
	hasMFA := len(r.mfaMACs) > 0
	fallback := !hasMFA && entryFallback && r.entryMAC != nil
	// The user's MFA codes never equal their duress code (SetDuressCode,
	// AddMFACode), nor their entry code; duress is checked first anyway.
	switch {
	case !hasMFA && !fallback:
		return CodeNone, nil // no code is accepted here: the door never asks
	case duressOK == 1:
		return CodeDuress, nil
	case mfaOK == 1 && hasMFA, entryOK == 1 && fallback:
		return CodeValid, nil
	}
	return CodeNone, nil
}

// fillView fills u for the user id (which may alias a bbolt value). The
// fast paths open only the buckets they need: opening a bbolt bucket
// allocates.
func fillView(root *bolt.Bucket, id []byte, u *UserView) error {
	// One descent: the user's value, its user record, then its codes
	// (userval.go), walked without decoding the rest.
	v := root.Bucket(bUsers).Get(id)
	if len(id) != userIDLen || v == nil {
		return fmt.Errorf("%w: index points at a missing user", errCorrupt)
	}
	var err error
	user := false
	werr := walkSubs(v, func(s *rawSub) bool {
		switch s.kind {
		case subUser:
			user, err = true, decodeView(string(id), s.val, u)
		case tagEntry:
			u.HasEntryCode = true
		case tagMFA:
			u.HasMFA = true
			return false
		}
		return err == nil
	})
	switch {
	case werr != nil:
		return werr
	case err != nil:
		return err
	case !user:
		return fmt.Errorf("%w: index points at a missing user", errCorrupt)
	}
	return nil
}

// VerifySecondFactor checks code against the user's MFA codes, or, when
// the user has none and entryFallback is true, against their entry code.
// Every stored MAC is compared in constant time. It is false for an empty
// or malformed code; ErrNotFound for an unknown user.
func (s *Store) VerifySecondFactor(pub string, code []byte, entryFallback bool) (bool, error) {
	userID, err := s.userKey(pub)
	if err != nil {
		return false, err
	}
	valid := ValidateCode(code) == nil
	var ok bool
	err = s.read(bUsers, func(tx *bolt.Tx) error {
		root, err := data(tx)
		if err != nil {
			return err
		}
		id := []byte(userID)
		users := recs{root.Bucket(bUsers)}
		var mb [macSize]byte
		var mac []byte
		prefix := mfaPrefix(userID)
		c := users.Cursor()
		any := false
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(v) < macSize {
				return fmt.Errorf("%w: mfa code of %s", errCorrupt, keyName(userID))
			}
			any = true
			if !valid {
				return nil
			}
			if mac == nil {
				mac = s.mfaMAC(mb[:0], userID, code)
			}
			if hmac.Equal(v[:macSize], mac) {
				ok = true // keep comparing: the time does not depend on which code matched
			}
		}
		if any {
			return nil // MFA codes exist only for existing users
		}
		if users.Get(id) == nil {
			return notFound("user", pub)
		}
		if !valid || !entryFallback {
			return nil
		}
		if v := users.Get(entryKey(id)); v != nil {
			if len(v) < macSize {
				return fmt.Errorf("%w: entry code of %s", errCorrupt, keyName(userID))
			}
			ok = hmac.Equal(v[:macSize], s.entryMAC(mb[:0], code))
		}
		return nil
	})
	return ok && err == nil, err
}

// LookupEntryCode returns the user whose entry code is code, or
// ErrNotFound (also for a malformed code, and for a duress code: the door
// asks MatchEntryCode).
func (s *Store) LookupEntryCode(code []byte) (UserView, error) {
	u, m, err := s.MatchEntryCode(code)
	if err == nil && m != CodeValid {
		return UserView{}, errNoEntryCode
	}
	return u, err
}

// MatchEntryCode returns the user whose entry code (CodeValid) or duress
// code (CodeDuress) is code, or ErrNotFound (also for a malformed code).
// A duress code is accepted only where the user's entry code would be: a
// user without an entry code has none that works typed alone, so their
// duress code is not found here either. Both are one lookup in the one
// entry-code index: the time does not depend on which kind matched.
func (s *Store) MatchEntryCode(code []byte) (UserView, CodeMatch, error) {
	var u UserView
	if ValidateCode(code) != nil {
		return u, CodeNone, errNoEntryCode
	}
	var mb [macSize]byte
	mac := s.entryMAC(mb[:0], code)
	s.doorRead()
	m := CodeNone
	err := s.read(bEntry, func(tx *bolt.Tx) error {
		root, err := data(tx)
		if err != nil {
			return err
		}
		owner := root.Bucket(bEntry).Get(mac)
		if owner == nil {
			return errNoEntryCode
		}
		id, duress := isDuressOwner(owner)
		m = CodeValid
		if duress {
			m = CodeDuress
		}
		if err := fillView(root, id, &u); err != nil {
			return err
		}
		if !u.HasEntryCode {
			return errNoEntryCode
		}
		return nil
	})
	if err != nil {
		return UserView{}, CodeNone, err
	}
	u.UserID = s.pubID(u.UserID)
	return u, m, nil
}

// endRead, deferred by a caller of Begin(false) that stores the
// transaction in *tx as soon as it has one, rolls it back (panic or not),
// turns a panic into an ErrCorrupt in *err and puts back the panic-on-fault
// setting. (The door's fast path avoids db.View's closure.)
func endRead(tx **bolt.Tx, bucket []byte, err *error, fault bool) {
	r := recover()
	if *tx != nil {
		(*tx).Rollback()
		*tx = nil
	}
	debug.SetPanicOnFault(fault)
	if r != nil {
		*err = corruptPanic(bucket, r)
	}
}
