package store

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// CSV columns (docs/store.md, "CSV import"). Names are case-sensitive.
var (
	userColumns = []string{"externalId", "firstName", "lastName", "email", "startDate", "endDate", "groups",
		"cardFormat", "facilityCode", "cardNumber", "cardNumberHex", "entryCode"}
	credColumns = []string{"userId", "externalId", "email", "type",
		"cardFormat", "facilityCode", "cardNumber", "cardNumberHex", "code", "active"}
)

type fileKind int

const (
	usersFile fileKind = iota + 1
	credsFile
)

// header is a parsed header row: which kind of file and where each column is.
type header struct {
	kind fileKind
	col  map[string]int
}

// info returns the header as callers see it.
func (h *header) info() ImportHeader {
	cols := make([]string, len(h.col))
	for name, i := range h.col {
		cols[i] = name
	}
	return ImportHeader{Credentials: h.kind == credsFile, Columns: cols}
}

func (h *header) has(name string) bool { _, ok := h.col[name]; return ok }

// cell returns the named column of rec, "" when the file has no such column.
func (h *header) cell(rec []string, name string) string {
	if i, ok := h.col[name]; ok && i < len(rec) {
		return rec[i]
	}
	return ""
}

// parseHeader tells a users file (no "type" column) from a credentials
// file (a "type" column) and checks the column names. Its errors name a
// column by its position, never by the text in it: a file without a
// header row has data on line 1, and a cell there can be a code. A line 1
// that names no known column at all is reported as a missing header.
func parseHeader(rec []string) (header, []RowError) {
	h := header{col: make(map[string]int, len(rec))}
	var errs []RowError
	first := make(map[string]int, len(rec))
	for i, name := range rec {
		if j, dup := first[name]; dup {
			errs = append(errs, RowError{Line: 1, Rule: fmt.Sprintf("column %d repeats the name of column %d", i+1, j+1)})
			continue
		}
		first[name] = i
		h.col[name] = i
	}
	allowed := userColumns
	h.kind = usersFile
	what := "users"
	if h.has("type") {
		h.kind = credsFile
		allowed = credColumns
		what = "credentials"
	}
	anyKnown := false
	for _, name := range rec {
		anyKnown = anyKnown || slices.Contains(userColumns, name) || slices.Contains(credColumns, name)
	}
	if !anyKnown {
		return h, []RowError{{Line: 1, Rule: ruleNoHeader}}
	}
	for i, name := range rec {
		if !slices.Contains(allowed, name) {
			errs = append(errs, RowError{Line: 1, Rule: fmt.Sprintf("column %d: not a column name of a %s file (allowed: %s)", i+1, what, strings.Join(allowed, ", "))})
		}
	}
	switch h.kind {
	case usersFile:
		if !h.has("externalId") {
			errs = append(errs, RowError{Line: 1, Column: "externalId", Rule: "a users file needs an externalId column (a credentials file needs a type column)"})
		}
	case credsFile:
		if !h.has("userId") && !h.has("externalId") && !h.has("email") {
			errs = append(errs, RowError{Line: 1, Column: "userId", Rule: "a credentials file needs a userId, externalId or email column"})
		}
	}
	return h, errs
}

// ruleNoHeader is the error for a line 1 without a single column name.
var ruleNoHeader = "the header row is missing: line 1 must name the columns (a users file: " +
	strings.Join(userColumns, ",") + "; a credentials file: " + strings.Join(credColumns, ",") + ")"

// cardCells parses the card columns; ok is false when they are all empty.
func (h *header) cardCells(rec []string, line int, errs *[]RowError) (k CardKey, ok bool) {
	format, fac, num, numHex := h.cell(rec, "cardFormat"), h.cell(rec, "facilityCode"), h.cell(rec, "cardNumber"), h.cell(rec, "cardNumberHex")
	if format == "" && fac == "" && num == "" && numHex == "" {
		return k, false
	}
	bad := func(col, rule string) { *errs = append(*errs, RowError{Line: line, Column: col, Rule: rule}) }
	k.Format = format
	maxFC, maxCN, known := CardLimits(format)
	if !known {
		bad("cardFormat", ruleFormat)
	}
	if fac != "" {
		v, err := strconv.ParseUint(fac, 10, 32)
		if err != nil || !allDigits(fac) {
			bad("facilityCode", "must be a decimal number")
		} else if known && uint32(v) > maxFC {
			bad("facilityCode", FacilityRule(format, maxFC))
		}
		k.FacilityCode = uint32(v)
	}
	var dec, hx uint64
	var okDec, okHex bool
	if num != "" {
		v, err := strconv.ParseUint(num, 10, 64)
		okDec = err == nil && allDigits(num)
		if !okDec {
			bad("cardNumber", "must be a decimal number")
		}
		dec = v
	}
	if numHex != "" {
		hx, okHex = CardNumberHex(numHex)
		if !okHex {
			bad("cardNumberHex", RuleCardNumberHex)
		}
	}
	switch {
	case num == "" && numHex == "":
		bad("cardNumber", "a card needs cardNumber or cardNumberHex")
	case okDec && okHex && dec != hx:
		bad("cardNumberHex", "must equal cardNumber when both are given")
	case okHex && num == "":
		dec = hx
	}
	// The same range as the API and AddCard: the reader's field widths.
	if known && (okDec || okHex && num == "") && dec > maxCN {
		col := "cardNumber"
		if num == "" {
			col = "cardNumberHex"
		}
		bad(col, CardNumberRule(format, maxCN))
	}
	k.CardNumber = dec
	return k, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// credRow is one row of a credentials file.
type credRow struct {
	refCol, ref string // the user reference used: first non-empty of userId, externalId, email
	typ         string
	card        CardKey
	active      bool
	code        []byte
}

const (
	typeCard  = "card"
	typeEntry = "entry_code"
	typeMFA   = "mfa_code"
	// typeDuress is a user's duress code (docs/operations.md, "Duress codes").
	typeDuress = "duress_code"
)

// parseCred checks one credentials row on its own (no database).
func (h *header) parseCred(rec []string, line int) (credRow, []RowError) {
	var r credRow
	var errs []RowError
	bad := func(col, rule string) { errs = append(errs, RowError{Line: line, Column: col, Rule: rule}) }
	for _, col := range []string{"userId", "externalId", "email"} {
		if v := h.cell(rec, col); v != "" {
			r.refCol, r.ref = col, v
			break
		}
	}
	if r.ref == "" {
		bad("userId", "one of userId, externalId, email is required")
	}
	r.typ = h.cell(rec, "type")
	r.active = true
	if a := h.cell(rec, "active"); a != "" {
		v, ok := parseBool(a)
		if !ok {
			bad("active", "must be true, false, yes, no, 1, 0 or empty")
		}
		r.active = v
	}
	switch r.typ {
	case typeCard:
		k, ok := h.cardCells(rec, line, &errs)
		if !ok {
			bad("cardNumber", "a card row needs cardFormat and cardNumber or cardNumberHex")
		}
		r.card = k
		if h.cell(rec, "code") != "" {
			bad("code", "must be empty for type card")
		}
	case typeEntry, typeMFA, typeDuress:
		code := h.cell(rec, "code")
		if err := ValidateCode([]byte(code)); err != nil {
			bad("code", RuleCode)
		}
		r.code = []byte(code)
		for _, col := range []string{"cardFormat", "facilityCode", "cardNumber", "cardNumberHex", "active"} {
			if h.cell(rec, col) != "" {
				bad(col, "must be empty for type "+r.typ)
			}
		}
	default:
		bad("type", "must be card, entry_code, mfa_code or duress_code")
	}
	return r, errs
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "1":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}

// userRow is one row of a users file. set says which fields the file
// has columns for; the others keep their values on an update.
type userRow struct {
	f         UserFields
	set       map[string]bool
	card      CardKey
	hasCard   bool
	entryCode []byte
}

// fieldColumn maps a ValidationError field to its users-file column.
var fieldColumn = map[string]string{
	"external_id": "externalId", "first_name": "firstName", "last_name": "lastName", "email": "email",
	"start": "startDate", "end": "endDate", "groups": "groups",
}

// parseUser checks one users row on its own (no database).
func (h *header) parseUser(rec []string, line int) (userRow, []RowError) {
	r := userRow{set: map[string]bool{}}
	var errs []RowError
	bad := func(col, rule string) { errs = append(errs, RowError{Line: line, Column: col, Rule: rule}) }
	for _, c := range []string{"externalId", "firstName", "lastName", "email", "startDate", "endDate", "groups"} {
		r.set[c] = h.has(c)
	}
	r.f.ExternalID = h.cell(rec, "externalId")
	if r.f.ExternalID == "" {
		bad("externalId", "required in a users file (a re-import finds the user by it)")
	}
	r.f.FirstName = h.cell(rec, "firstName")
	r.f.LastName = h.cell(rec, "lastName")
	r.f.Email = h.cell(rec, "email")
	var err error
	if r.f.Start, err = parseDate(h.cell(rec, "startDate"), false); err != nil {
		bad("startDate", err.Error())
	}
	if r.f.End, err = parseDate(h.cell(rec, "endDate"), true); err != nil {
		bad("endDate", err.Error())
	}
	if g := h.cell(rec, "groups"); g != "" {
		for _, name := range strings.Split(g, ";") {
			r.f.Groups = append(r.f.Groups, strings.TrimSpace(name))
		}
	}
	if err := validateFields(&r.f); err != nil {
		if ve, ok := err.(*ValidationError); ok {
			bad(fieldColumn[ve.Field], ve.Rule)
		}
	}
	r.card, r.hasCard = h.cardCells(rec, line, &errs)
	if c := h.cell(rec, "entryCode"); c != "" {
		if ValidateCode([]byte(c)) != nil {
			bad("entryCode", RuleCode)
		}
		r.entryCode = []byte(c)
	}
	return r, errs
}

// parseDate reads YYYY-MM-DD (UTC; an end date is inclusive, so it ends at
// the next midnight) or an RFC 3339 time. "" is the zero time.
func parseDate(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if !utf8.ValidString(s) {
		return time.Time{}, fmt.Errorf("must be YYYY-MM-DD or RFC 3339")
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("must be YYYY-MM-DD or RFC 3339")
	}
	return t.UTC(), nil
}

// RuleCardNumberHex is the rule for a card number given in hex.
const RuleCardNumberHex = "must be 1–16 hex digits, optionally after 0x"

// CardNumberHex reads a card number given in hex (the CSV's cardNumberHex,
// the admin page's hex field): 1–16 hex digits, optionally after 0x.
func CardNumberHex(numHex string) (uint64, bool) {
	s := strings.TrimPrefix(strings.TrimPrefix(numHex, "0x"), "0X")
	b, err := hex.DecodeString(strings.Repeat("0", len(s)%2) + s)
	if err != nil || len(s) == 0 || len(b) > 8 {
		return 0, false
	}
	var hx uint64
	for _, c := range b {
		hx = hx<<8 | uint64(c)
	}
	return hx, true
}

// ParseDate is the CSV's startDate/endDate rule, for the other ways of
// setting a user's dates (latchctl users create --start/--end): RFC 3339,
// or a date alone (YYYY-MM-DD), which is midnight UTC; as an end (end set)
// a date alone is the end of that day, midnight UTC of the next. "" is the
// zero time (unbounded).
func ParseDate(s string, end bool) (time.Time, error) { return parseDate(s, end) }
