package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"
)

// ---- cards ----

func cardEvent(now time.Time, by Actor, action, userID, ext string, k CardKey) Event {
	e := audit(now, by, action, userID, ext)
	e.Card = &EventCard{Format: k.Format, FacilityCode: k.FacilityCode, CardNumber: k.CardNumber}
	return e
}

func activeByte(a bool) byte {
	if a {
		return 1
	}
	return 0
}

// AddCard gives a user a card. ErrConflict when another user has it;
// adding a card the user already has sets its active flag.
func (s *Store) AddCard(userID string, c Card, by Actor) error {
	userID, err := s.userKey(userID)
	if err != nil {
		return err
	}
	k := c.Key()
	if err := validateCardKey(k); err != nil {
		return err
	}
	return s.changeUser(userID, func(b buckets, r userRec, now time.Time) ([]Event, error) {
		if err := b.putCard(userID, k, c.Active); err != nil {
			return nil, err
		}
		return []Event{cardEvent(now, by, "card_added", userID, r.ExternalID, k)}, nil
	})
}

func (b buckets) putCard(userID string, k CardKey, active bool) error {
	key := appendCardKey(nil, k)
	if v := b.cards.Get(key); v != nil && string(v[:min(len(v), userIDLen)]) != userID {
		return fmt.Errorf("store: card: %w", ErrConflict)
	}
	if err := b.cards.Put(key, cardStub(userID, active)); err != nil {
		return err
	}
	return b.ucards.Put(append([]byte(userID), key...), nil)
}

// ownedCard returns the card's key when userID holds it, else ErrNotFound.
func (b buckets) ownedCard(userID string, k CardKey) ([]byte, error) {
	if len(k.Format) > 255 {
		return nil, notFoundOf(userID, "card", "")
	}
	key := appendCardKey(nil, k)
	v := b.cards.Get(key)
	if len(v) < cardMin || string(v[:userIDLen]) != userID {
		return nil, notFoundOf(userID, "card", cardID(k))
	}
	return key, nil
}

// changeCard runs change in the user's write transaction (changeUser) on
// one of the user's cards: key is the card's key in the cards bucket and
// userID the user's stored id; a card the user does not hold is a
// *NotFoundError.
func (s *Store) changeCard(userID string, k CardKey, change func(b buckets, userID string, key []byte, r userRec, now time.Time) ([]Event, error)) error {
	userID, err := s.userKey(userID)
	if err != nil {
		return err
	}
	return s.changeUser(userID, func(b buckets, r userRec, now time.Time) ([]Event, error) {
		key, err := b.ownedCard(userID, k)
		if err != nil {
			return nil, err
		}
		return change(b, userID, key, r, now)
	})
}

// SetCardActive activates or deactivates one of a user's cards.
func (s *Store) SetCardActive(userID string, k CardKey, active bool, by Actor) error {
	return s.changeCard(userID, k, func(b buckets, userID string, key []byte, r userRec, now time.Time) ([]Event, error) {
		if err := b.cards.Put(key, cardStub(userID, active)); err != nil {
			return nil, err
		}
		action := "card_deactivated"
		if active {
			action = "card_activated"
		}
		return []Event{cardEvent(now, by, action, userID, r.ExternalID, k)}, nil
	})
}

// DeleteCard removes one of a user's cards.
func (s *Store) DeleteCard(userID string, k CardKey, by Actor) error {
	return s.changeCard(userID, k, func(b buckets, userID string, key []byte, r userRec, now time.Time) ([]Event, error) {
		if err := b.cards.Delete(key); err != nil {
			return nil, err
		}
		if err := b.ucards.Delete(append([]byte(userID), key...)); err != nil {
			return nil, err
		}
		return []Event{cardEvent(now, by, "card_deleted", userID, r.ExternalID, k)}, nil
	})
}

// ---- entry codes ----

// SetEntryCode sets (or replaces) a user's entry code. ErrConflict when
// another user has it; the error never says who.
func (s *Store) SetEntryCode(userID string, code []byte, by Actor) error {
	return s.setSlotCode(userID, code, by, entrySlot)
}

// DeleteEntryCode removes a user's entry code; ErrNotFound when there is none.
func (s *Store) DeleteEntryCode(userID string, by Actor) error {
	return s.deleteSlotCode(userID, by, entrySlot)
}

// codeSlot is where one of a user's single codes (the entry code, the
// duress code) lives: its record in the users bucket, and its owner value
// in the entry index, which holds both kinds so that they are unique
// together.
type codeSlot struct {
	what         string // "entry code", "duress code"
	set, deleted string // the audit events
	userID       string
	key, owner   []byte
	// other is the error for a code that is the user's code of the other
	// slot; mfa, when not nil, for one of the user's MFA codes: the door
	// could not tell the two apart.
	other, mfa error
}

func entrySlot(userID string) codeSlot {
	id := []byte(userID)
	return codeSlot{what: "entry code", set: "entry_code_set", deleted: "entry_code_deleted",
		userID: userID, key: entryKey(id), owner: id, other: errEntryIsDuress}
}

func duressSlot(userID string) codeSlot {
	id := []byte(userID)
	return codeSlot{what: "duress code", set: "duress_code_set", deleted: "duress_code_deleted",
		userID: userID, key: duressKey(id), owner: duressOwner(id), other: errDuressIsEntry, mfa: errDuressIsMFA}
}

// setSlotCode sets (or replaces) a user's code in the slot slotOf gives.
// Setting the code the slot already holds changes nothing and records
// nothing.
func (s *Store) setSlotCode(userID string, code []byte, by Actor, slotOf func(userID string) codeSlot) error {
	if err := ValidateCode(code); err != nil {
		return err
	}
	userID, err := s.userKey(userID)
	if err != nil {
		return err
	}
	mac := s.entryMAC(nil, code)
	return s.changeUser(userID, func(b buckets, r userRec, now time.Time) ([]Event, error) {
		slot := slotOf(userID)
		if slot.mfa != nil && b.findMFA(userID, s.mfaMAC(nil, userID, code)) != nil {
			return nil, slot.mfa
		}
		changed, err := b.setCode(slot, mac, encodeCode(mac, len(code), now, by.Name))
		if err != nil || !changed {
			return nil, err
		}
		return []Event{audit(now, by, slot.set, userID, r.ExternalID)}, nil
	})
}

// setCode records val, the code record of mac, in slot and indexes it by
// mac; the slot's old code leaves the index. It reports false when the
// slot already held exactly that code. ErrConflict when another user has
// the code in either slot (the error never says who), slot.other when the
// user has it in the other slot.
func (b buckets) setCode(slot codeSlot, mac, val []byte) (bool, error) {
	if owner := b.entry.Get(mac); owner != nil {
		switch uid, _ := isDuressOwner(owner); {
		case string(uid) != slot.userID:
			return false, fmt.Errorf("store: %s: %w", slot.what, ErrConflict)
		case !bytes.Equal(owner, slot.owner):
			return false, slot.other
		}
		return false, nil
	}
	if old := b.users.Get(slot.key); old != nil {
		if len(old) < macSize {
			return false, fmt.Errorf("%w: %s of %s", errCorrupt, slot.what, keyName(slot.userID))
		}
		if err := b.entry.Delete(bytes.Clone(old[:macSize])); err != nil {
			return false, err
		}
	}
	if err := b.entry.Put(mac, slot.owner); err != nil {
		return false, err
	}
	if err := b.markCodes(); err != nil {
		return false, err
	}
	return true, b.users.Put(slot.key, val)
}

// deleteCode removes slot's code and its index entry; false when there is
// none.
func (b buckets) deleteCode(slot codeSlot) (bool, error) {
	old := b.users.Get(slot.key)
	if old == nil {
		return false, nil
	}
	if len(old) >= macSize {
		if err := b.entry.Delete(bytes.Clone(old[:macSize])); err != nil {
			return false, err
		}
	}
	return true, b.users.Delete(slot.key)
}

// deleteSlotCode removes a user's code in the slot slotOf gives; ErrNotFound
// when there is none.
func (s *Store) deleteSlotCode(userID string, by Actor, slotOf func(userID string) codeSlot) error {
	userID, err := s.userKey(userID)
	if err != nil {
		return err
	}
	return s.changeUser(userID, func(b buckets, r userRec, now time.Time) ([]Event, error) {
		slot := slotOf(userID)
		found, err := b.deleteCode(slot)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, notFoundOf(userID, slot.what, "")
		}
		return []Event{audit(now, by, slot.deleted, userID, r.ExternalID)}, nil
	})
}

// ---- MFA codes ----

func mfaKey(userID string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(mfaPrefix(userID), seq)
}

func (b buckets) mfaCodes(userID string) ([]MFACodeInfo, error) {
	id := mfaPrefix(userID)
	var out []MFACodeInfo
	c := b.users.Cursor()
	for k, v := c.Seek(id); k != nil && bytes.HasPrefix(k, id); k, v = c.Next() {
		if len(k) != userIDLen+9 {
			return nil, fmt.Errorf("%w: mfa key of %s", errCorrupt, keyName(userID))
		}
		r, err := decodeCode(v)
		if err != nil {
			return nil, fmt.Errorf("%w: mfa code of %s", err, keyName(userID))
		}
		out = append(out, MFACodeInfo{
			ID: mfaID(binary.BigEndian.Uint64(k[userIDLen+1:])), Length: r.Length,
			Created: r.Created, CreatedBy: r.CreatedBy,
		})
	}
	return out, nil
}

// findMFA returns the key of userID's MFA code with this MAC, or nil.
func (b buckets) findMFA(userID string, mac []byte) []byte {
	id := mfaPrefix(userID)
	var found []byte
	c := b.users.Cursor()
	for k, v := c.Seek(id); k != nil && bytes.HasPrefix(k, id); k, v = c.Next() {
		if len(v) >= macSize && hmac.Equal(v[:macSize], mac) && found == nil {
			found = bytes.Clone(k)
		}
	}
	return found
}

// maxMFA is how many MFA codes one user may have: each is a MAC in every
// card record of the user, and every one is compared on each code check.
const maxMFA = 100

// ruleMaxMFA is the rule a code beyond maxMFA breaks.
var ruleMaxMFA = fmt.Sprintf("a user has at most %d MFA codes", maxMFA)

// addMFA stores a new MFA code for userID and returns its info. When old
// is the key of the user's record of the same code, that record is
// re-issued instead: removed, and the code stored under the new id, so the
// user still holds it once. The limit is checked first and the same way in
// both cases, and both draw the id from the one sequence.
func (b buckets) addMFA(userID string, mac []byte, length int, now time.Time, by string, old []byte) (MFACodeInfo, error) {
	prefix, n := mfaPrefix(userID), 0
	c := b.users.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	if n >= maxMFA {
		return MFACodeInfo{}, invalid("code", ruleMaxMFA)
	}
	seq, err := b.root.NextSequence()
	if err != nil {
		return MFACodeInfo{}, err
	}
	if old != nil {
		if err := b.users.Delete(old); err != nil {
			return MFACodeInfo{}, err
		}
	}
	if err := b.users.Put(mfaKey(userID, seq), encodeCode(mac, length, now, by)); err != nil {
		return MFACodeInfo{}, err
	}
	if err := b.markCodes(); err != nil {
		return MFACodeInfo{}, err
	}
	return MFACodeInfo{ID: mfaID(seq), Length: length, Created: now, CreatedBy: by}, nil
}

// AddMFACode adds code to a user's MFA codes. Adding a code the user
// already has answers exactly as adding a new one would — a new id, created
// now by by, an mfa_code_added event, the same limit — so that the reply
// does not tell the caller the user had it (nor who added it, or when):
// the existing record is re-issued under the new id (the old id is gone)
// and the user still holds the code once.
func (s *Store) AddMFACode(userID string, code []byte, by Actor) (MFACodeInfo, error) {
	if err := ValidateCode(code); err != nil {
		return MFACodeInfo{}, err
	}
	userID, err := s.userKey(userID)
	if err != nil {
		return MFACodeInfo{}, err
	}
	var info MFACodeInfo
	err = s.changeUser(userID, func(b buckets, r userRec, now time.Time) ([]Event, error) {
		if b.duressIs(userID, s.entryMAC(nil, code)) {
			return nil, errMFAIsDuress
		}
		mac := s.mfaMAC(nil, userID, code)
		var err error
		info, err = b.addMFA(userID, mac, len(code), now, by.Name, b.findMFA(userID, mac))
		if err != nil {
			return nil, err
		}
		return []Event{audit(now, by, "mfa_code_added", userID, r.ExternalID)}, nil
	})
	return info, err
}

// GenerateMFACode makes a uniformly random MFA code of length digits
// (0 = 6; 4–16), adds it to the user and returns it. The code is returned
// only here.
func (s *Store) GenerateMFACode(userID string, length int, by Actor) ([]byte, MFACodeInfo, error) {
	if length == 0 {
		length = 6
	}
	if length < minCode || length > maxCode {
		return nil, MFACodeInfo{}, invalid("length", "must be 4–16")
	}
	userID, err := s.userKey(userID)
	if err != nil {
		return nil, MFACodeInfo{}, err
	}
	for attempt := 0; attempt < 8; attempt++ {
		code, err := randomDigits(length)
		if err != nil {
			return nil, MFACodeInfo{}, err
		}
		var info MFACodeInfo
		fresh := false
		err = s.changeUser(userID, func(b buckets, r userRec, now time.Time) ([]Event, error) {
			mac := s.mfaMAC(nil, userID, code)
			if b.findMFA(userID, mac) != nil || b.duressIs(userID, s.entryMAC(nil, code)) {
				return nil, nil // the user has this one (or it is their duress code): draw again
			}
			fresh = true
			info, err = b.addMFA(userID, mac, len(code), now, by.Name, nil)
			if err != nil {
				return nil, err
			}
			return []Event{audit(now, by, "mfa_code_generated", userID, r.ExternalID)}, nil
		})
		if err != nil {
			return nil, MFACodeInfo{}, err
		}
		if fresh {
			return code, info, nil
		}
	}
	return nil, MFACodeInfo{}, fmt.Errorf("store: generate mfa code: %w", ErrConflict)
}

// randomDigits returns n digits, each uniform over 0–9: bytes ≥ 250 are
// rejected so that byte%10 has no bias.
func randomDigits(n int) ([]byte, error) {
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			return nil, fmt.Errorf("store: random: %w", err)
		}
		for _, c := range buf {
			if c < 250 && len(out) < n {
				out = append(out, '0'+c%10)
			}
		}
	}
	return out, nil
}

// MFACodes lists a user's MFA codes (never their digits).
func (s *Store) MFACodes(userID string) ([]MFACodeInfo, error) {
	return viewUser(s, userID, func(b buckets, key string) ([]MFACodeInfo, error) {
		if _, err := b.getUser(key); err != nil {
			return nil, err
		}
		return b.mfaCodes(key)
	})
}

// ReplaceMFACode replaces the digits of the user's MFA code id, keeping
// the id. A code the user already holds under another id answers like any
// replace (the reply must not tell the caller the user has it): the code
// is then held once, under id, and the other id is gone.
func (s *Store) ReplaceMFACode(userID, id string, code []byte, by Actor) (MFACodeInfo, error) {
	if err := ValidateCode(code); err != nil {
		return MFACodeInfo{}, err
	}
	seq, ok := parseMFAID(id)
	if !ok {
		return MFACodeInfo{}, notFoundOf(userID, "mfa code", "")
	}
	userID, err := s.userKey(userID)
	if err != nil {
		return MFACodeInfo{}, err
	}
	var info MFACodeInfo
	err = s.changeUser(userID, func(b buckets, r userRec, now time.Time) ([]Event, error) {
		key := mfaKey(userID, seq)
		if b.users.Get(key) == nil {
			return nil, notFoundOf(userID, "mfa code", id)
		}
		if b.duressIs(userID, s.entryMAC(nil, code)) {
			return nil, errMFAIsDuress
		}
		mac := s.mfaMAC(nil, userID, code)
		// The user holds this code under another id: answer as any
		// replace would (an error here would tell the caller the user has
		// it). The code stays held once, under id; the other id is gone.
		if k := b.findMFA(userID, mac); k != nil && !bytes.Equal(k, key) {
			if err := b.users.Delete(k); err != nil {
				return nil, err
			}
		}
		if err := b.users.Put(key, encodeCode(mac, len(code), now, by.Name)); err != nil {
			return nil, err
		}
		info = MFACodeInfo{ID: id, Length: len(code), Created: now, CreatedBy: by.Name}
		return []Event{audit(now, by, "mfa_code_replaced", userID, r.ExternalID)}, nil
	})
	return info, err
}

// DeleteMFACode deletes the user's MFA code id.
func (s *Store) DeleteMFACode(userID, id string, by Actor) error {
	seq, ok := parseMFAID(id)
	if !ok {
		return notFoundOf(userID, "mfa code", "")
	}
	userID, err := s.userKey(userID)
	if err != nil {
		return err
	}
	return s.changeUser(userID, func(b buckets, r userRec, now time.Time) ([]Event, error) {
		key := mfaKey(userID, seq)
		if b.users.Get(key) == nil {
			return nil, notFoundOf(userID, "mfa code", id)
		}
		if err := b.users.Delete(key); err != nil {
			return nil, err
		}
		return []Event{audit(now, by, "mfa_code_deleted", userID, r.ExternalID)}, nil
	})
}

// DeleteMFACodeByValue deletes the user's MFA code equal to code
// (Verkada's API deletes by value). ErrNotFound when the user has no such
// code; a *ValidationError for a malformed one.
func (s *Store) DeleteMFACodeByValue(userID string, code []byte, by Actor) error {
	if err := ValidateCode(code); err != nil {
		return err
	}
	userID, err := s.userKey(userID)
	if err != nil {
		return err
	}
	return s.changeUser(userID, func(b buckets, r userRec, now time.Time) ([]Event, error) {
		k := b.findMFA(userID, s.mfaMAC(nil, userID, code))
		if k == nil {
			return nil, notFoundOf(userID, "mfa code", "") // looked up by value: no id to name
		}
		if err := b.users.Delete(k); err != nil {
			return nil, err
		}
		return []Event{audit(now, by, "mfa_code_deleted", userID, r.ExternalID)}, nil
	})
}
