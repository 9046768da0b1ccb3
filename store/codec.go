package store

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchd/latch/reader"
)

// errCorrupt reports a record that does not decode.
var errCorrupt = fmt.Errorf("%w: a record does not decode", ErrCorrupt)

// User record, version 2 (schema 4; version 1 stored updated as a full
// varint):
//
//	byte    version (2)
//	byte    flags: 1 suspended, 2 has start, 4 has end
//	varint  start, end (Unix ns; present only when flagged)
//	varint  created (Unix ns)
//	varint  updated − created (ns; 0, one byte, for a user never changed)
//	string  external_id, first, last, email (uvarint length + bytes)
//	uvarint group count, then each group as a string
const (
	recV1         = 1
	recV2         = 2
	flagSuspended = 1
	flagStart     = 2
	flagEnd       = 4
)

type userRec struct {
	UserFields
	Created, Updated time.Time
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func encodeUser(r *userRec) []byte {
	b := make([]byte, 0, 48+len(r.ExternalID)+len(r.FirstName)+len(r.LastName)+len(r.Email))
	var flags byte
	if r.Suspended {
		flags |= flagSuspended
	}
	if !r.Start.IsZero() {
		flags |= flagStart
	}
	if !r.End.IsZero() {
		flags |= flagEnd
	}
	b = append(b, recV2, flags)
	if !r.Start.IsZero() {
		b = binary.AppendVarint(b, r.Start.UnixNano())
	}
	if !r.End.IsZero() {
		b = binary.AppendVarint(b, r.End.UnixNano())
	}
	b = binary.AppendVarint(b, r.Created.UnixNano())
	b = binary.AppendVarint(b, r.Updated.UnixNano()-r.Created.UnixNano())
	b = appendString(b, r.ExternalID)
	b = appendString(b, r.FirstName)
	b = appendString(b, r.LastName)
	b = appendString(b, r.Email)
	b = binary.AppendUvarint(b, uint64(len(r.Groups)))
	for _, g := range r.Groups {
		b = appendString(b, g)
	}
	return b
}

type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.err = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 { return decodeVarint(d, binary.Varint) }

func (d *decoder) uvarint() uint64 { return decodeVarint(d, binary.Uvarint) }

// decodeVarint reads one varint with read (binary.Varint or
// binary.Uvarint), marking the decoder failed on a short or overlong one.
func decodeVarint[T int64 | uint64](d *decoder, read func([]byte) (T, int)) T {
	v, n := read(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes returns the next length-prefixed field, aliasing the input.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err || n > uint64(len(d.b)) {
		d.err = true
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) string() string { return string(d.bytes()) }

func nsTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// decodeUser decodes a full user record. The result does not alias v.
func decodeUser(v []byte) (userRec, error) { return decodeUserV(v, recV2) }

// decodeUserV decodes a user record of version ver (recV1 only for the
// migration to schema 4, layout4.go).
func decodeUserV(v []byte, ver byte) (userRec, error) {
	var r userRec
	d := decoder{b: v}
	if d.byte() != ver {
		return r, errCorrupt
	}
	flags := d.byte()
	r.Suspended = flags&flagSuspended != 0
	if flags&flagStart != 0 {
		r.Start = nsTime(d.varint())
	}
	if flags&flagEnd != 0 {
		r.End = nsTime(d.varint())
	}
	created := d.varint()
	updated := d.varint()
	if ver == recV2 {
		updated += created
	}
	r.Created, r.Updated = nsTime(created), nsTime(updated)
	r.ExternalID = d.string()
	r.FirstName = d.string()
	r.LastName = d.string()
	r.Email = d.string()
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return r, errCorrupt
	}
	if n > 0 {
		r.Groups = make([]string, n)
		for i := range r.Groups {
			r.Groups[i] = d.string()
		}
	}
	if d.err {
		return r, errCorrupt
	}
	return r, nil
}

// decodeView decodes only what the door needs, skipping names and email
// without allocating them.
func decodeView(userID string, v []byte, u *UserView) error {
	d := decoder{b: v}
	if d.byte() != recV2 {
		return errCorrupt
	}
	flags := d.byte()
	u.UserID = userID
	u.Suspended = flags&flagSuspended != 0
	if flags&flagStart != 0 {
		u.Start = nsTime(d.varint())
	}
	if flags&flagEnd != 0 {
		u.End = nsTime(d.varint())
	}
	d.varint()
	d.varint()
	u.ExternalID = d.string()
	d.bytes()
	d.bytes()
	d.bytes()
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		return errCorrupt
	}
	if n > 0 {
		u.Groups = make([]string, n)
		for i := range u.Groups {
			u.Groups[i] = d.string()
		}
	}
	if d.err {
		return errCorrupt
	}
	return nil
}

// Card key: byte len(format), format, facility code (4 BE), card number (8 BE).
func appendCardKey(b []byte, k CardKey) []byte {
	b = append(b, byte(len(k.Format)))
	b = append(b, k.Format...)
	b = binary.BigEndian.AppendUint32(b, k.FacilityCode)
	return binary.BigEndian.AppendUint64(b, k.CardNumber)
}

func decodeCardKey(b []byte) (CardKey, bool) {
	if len(b) < 1 || len(b) != 1+int(b[0])+12 {
		return CardKey{}, false
	}
	n := int(b[0])
	return CardKey{
		Format:       string(b[1 : 1+n]),
		FacilityCode: binary.BigEndian.Uint32(b[1+n:]),
		CardNumber:   binary.BigEndian.Uint64(b[5+n:]),
	}, true
}

// Code record (an entry, duress or MFA code in users):
// MAC (macSize), length (1), created (8 BE Unix ns), created_by (rest).
//
// macSize: a stored MAC is HMAC-SHA-256 truncated to its first 16 bytes
// (128 bits, as RFC 2104 section 5 allows and RFC 4868's
// HMAC-SHA-256-128 does), since schema 4: the MAC is stored in the code
// record, in every card record of the user and as the entry index's key,
// and 16 bytes less in each place was a tenth of the database
// (docs/store.md, "Database size"). Guessing a code against it is no
// easier: the key is what stops that, and a code has at most 10^16 values.
const macSize = 16

// MACSize is the length of a stored code MAC (a fleet's user documents
// carry them: docs/fleet.md).
const MACSize = macSize

type codeRec struct {
	MAC       []byte
	Length    int
	Created   time.Time
	CreatedBy string
}

func encodeCode(mac []byte, length int, created time.Time, by string) []byte {
	b := make([]byte, 0, macSize+9+len(by))
	b = append(b, mac...)
	b = append(b, byte(length))
	b = binary.BigEndian.AppendUint64(b, uint64(created.UnixNano()))
	return append(b, by...)
}

// decodeCode decodes a code record; MAC aliases v.
func decodeCode(v []byte) (codeRec, error) {
	if len(v) < macSize+9 {
		return codeRec{}, errCorrupt
	}
	return codeRec{
		MAC:       v[:macSize],
		Length:    int(v[macSize]),
		Created:   nsTime(int64(binary.BigEndian.Uint64(v[macSize+1:]))),
		CreatedBy: string(v[macSize+9:]),
	}, nil
}

// MFA code ids are "m" and the hex of a per-database sequence.
func mfaID(seq uint64) string { return "m" + strconv.FormatUint(seq, 16) }

func parseMFAID(id string) (uint64, bool) {
	if len(id) < 2 || len(id) > 17 || id[0] != 'm' {
		return 0, false
	}
	v, err := strconv.ParseUint(id[1:], 16, 64)
	return v, err == nil && v != 0
}

// userIDLen is the length of a record key: the users bucket's sequence,
// 8 bytes big-endian (schema 4; until then "u" and 15 hex digits of it,
// which is still the form every MFA code's MAC binds: legacyKey).
const userIDLen = 8

// maxUserSeq is the largest sequence a record key may hold: the UUID's
// 60-bit half (userid.go).
const maxUserSeq = 1<<60 - 1

// newUserID makes the record key of the users bucket's sequence: ids
// grow, so new users append to the B-tree.
func newUserID(seq uint64) string {
	var b [userIDLen]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return string(b[:])
}

// keySeq returns the sequence of record key k (false for anything else).
func keySeq[T string | []byte](k T) (uint64, bool) {
	if len(k) != userIDLen {
		return 0, false
	}
	var seq uint64
	for i := 0; i < userIDLen; i++ {
		seq = seq<<8 | uint64(k[i])
	}
	return seq, seq != 0 && seq <= maxUserSeq
}

func validUserID(id string) bool {
	_, ok := keySeq(id)
	return ok
}

// legacyLen is the length of a schema 1–3 record key: "u" and 15 hex
// digits of the sequence.
const legacyLen = 16

// appendLegacyKey appends the schema 1–3 form of record key k ("u" and 15
// hex digits of its sequence): the text every MFA code's MAC binds
// (Store.mfaMAC), and how an error or a problem names a record key.
func appendLegacyKey[T string | []byte](dst []byte, k T) []byte {
	seq, _ := keySeq(k)
	const hexd = "0123456789abcdef"
	dst = append(dst, 'u')
	for i := legacyLen - 2; i >= 0; i-- {
		dst = append(dst, hexd[seq>>(4*uint(i))&0xf])
	}
	return dst
}

// keyName is a record key as text, for errors and problems.
func keyName[T string | []byte](k T) string {
	if _, ok := keySeq(k); !ok {
		return fmt.Sprintf("%x", k)
	}
	return string(appendLegacyKey(nil, k))
}

// parseLegacyKey returns the sequence of a schema 1–3 record key ("u" and
// 15 lowercase hex digits).
func parseLegacyKey[T string | []byte](id T) (uint64, bool) {
	if len(id) != legacyLen || id[0] != 'u' {
		return 0, false
	}
	var seq uint64
	for i := 1; i < legacyLen; i++ {
		c := id[i]
		switch {
		case '0' <= c && c <= '9':
			seq = seq<<4 | uint64(c-'0')
		case 'a' <= c && c <= 'f':
			seq = seq<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return seq, true
}

// Code rules (docs/store.md, "Data model").
const (
	minCode = 4
	maxCode = 16
	// RuleCode is the rule every entry and MFA code follows.
	RuleCode = "must be 4–16 ASCII digits 0-9"
)

// ValidateCode checks that code is 4–16 ASCII digits '0'–'9'. Anything
// else — other Unicode digits, spaces, signs — is refused with a
// *ValidationError naming the rule, never the code.
func ValidateCode(code []byte) error {
	if len(code) < minCode || len(code) > maxCode {
		return invalid("code", RuleCode)
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return invalid("code", RuleCode)
		}
	}
	return nil
}

// knownFormats is reader.Formats(), built once.
var knownFormats = reader.Formats()

// cardSpec returns the reader's definition of a stored card format: a
// fixed format by name, or "raw" (the whole serial number of a raw frame;
// the reader takes raw frames of MinRawBits–MaxRawBits bits, so a raw card
// number is any 0–2^64−1).
func cardSpec(format string) (reader.FormatSpec, bool) {
	// knownFormats, not reader.Formats(): that builds a slice on every
	// call, and the door's lookups come here on every badge.
	if format == string(reader.Raw) {
		return reader.FormatSpec{Format: reader.Raw, Bits: reader.MaxRawBits}, true
	}
	for _, f := range knownFormats {
		if string(f.Format) == format {
			return f, true
		}
	}
	return reader.FormatSpec{}, false
}

// CardLimits returns the largest facility code (0: the format has none)
// and card number a card of this format can carry, from the reader's
// format definitions; ok is false for a format latch does not know.
func CardLimits(format string) (facility uint32, card uint64, ok bool) {
	s, ok := cardSpec(format)
	if !ok {
		return 0, 0, false
	}
	facility, card = s.FieldLimits()
	return facility, card, true
}

// RuleFormat is the rule a card's format follows.
var RuleFormat = "must be one of " + strings.Join(CardFormats(), ", ")

// CardFormats lists the formats a stored card may have: the reader's
// fixed formats, then raw.
func CardFormats() []string {
	names := make([]string, 0, 8)
	for _, f := range reader.Formats() {
		names = append(names, string(f.Format))
	}
	return append(names, string(reader.Raw))
}

// ruleFormat is RuleFormat (the name the CSV code uses).
var ruleFormat = RuleFormat

// FacilityRule and CardNumberRule are the rules a card's facility code
// and card number follow in a format with those limits.
func FacilityRule(format string, max uint32) string {
	if max == 0 {
		return "must be 0: format " + format + " has no facility code"
	}
	return "must be 0–" + strconv.FormatUint(uint64(max), 10) + " for format " + format
}

// CardNumberRule: see FacilityRule.
func CardNumberRule(format string, max uint64) string {
	return "must be 0–" + strconv.FormatUint(max, 10) + " for format " + format
}

// validateCardKey checks a card against its format's field ranges (the
// reader's definitions), so that no stored card is one no reader can send.
func validateCardKey(k CardKey) error {
	maxFC, maxCN, ok := CardLimits(k.Format)
	if !ok {
		return invalid("card_format", ruleFormat)
	}
	if k.FacilityCode > maxFC {
		return invalid("facility_code", FacilityRule(k.Format, maxFC))
	}
	if k.CardNumber > maxCN {
		return invalid("card_number", CardNumberRule(k.Format, maxCN))
	}
	return nil
}

const (
	maxName  = 128
	maxEmail = 254
	maxGroup = 64
	maxGrps  = 64
)

func validText(field, s string, max int) error {
	if len(s) > max {
		return invalid(field, "must be at most "+strconv.Itoa(max)+" bytes")
	}
	if !utf8.ValidString(s) {
		return invalid(field, "must be valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

func validateFields(f *UserFields) error {
	if err := validText("external_id", f.ExternalID, maxName); err != nil {
		return err
	}
	if f.ExternalID != strings.TrimSpace(f.ExternalID) {
		return invalid("external_id", "must not start or end with spaces")
	}
	if err := validText("first_name", f.FirstName, maxName); err != nil {
		return err
	}
	if err := validText("last_name", f.LastName, maxName); err != nil {
		return err
	}
	if err := validText("email", f.Email, maxEmail); err != nil {
		return err
	}
	if f.Email != "" {
		at := strings.IndexByte(f.Email, '@')
		if at <= 0 || at == len(f.Email)-1 || strings.ContainsAny(f.Email, " ;,") {
			return invalid("email", "must look like name@domain")
		}
	}
	if !f.Start.IsZero() && !f.End.IsZero() && !f.End.After(f.Start) {
		return invalid("end", "must be after start")
	}
	if len(f.Groups) > maxGrps {
		return invalid("groups", "at most "+strconv.Itoa(maxGrps)+" groups")
	}
	seen := make(map[string]bool, len(f.Groups))
	for _, g := range f.Groups {
		if g == "" || strings.TrimSpace(g) != g {
			return invalid("groups", "a group name must be non-empty without surrounding spaces")
		}
		if strings.ContainsRune(g, ';') {
			return invalid("groups", "a group name must not contain ';'")
		}
		if err := validText("groups", g, maxGroup); err != nil {
			return err
		}
		if seen[g] {
			return invalid("groups", "a group must not be listed twice")
		}
		seen[g] = true
	}
	return nil
}
