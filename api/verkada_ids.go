package api

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/store"
)

// NameUUID is the stable id of a configured thing on the Verkada-compatible
// paths (docs/verkada.md, "Ids"): the first 16 bytes of
// SHA-256("latch" 0x00 kind 0x00 site 0x00 name) with the version nibble
// set to 4 and the variant bits to 10, written as a lowercase UUID. kind is
// "group", "door" or "site"; site is the controller's name. The same
// config gives the same ids on every start and on every controller of a
// site; renaming a group or a door gives it a new id.
func NameUUID(kind, site, name string) string {
	h := sha256.New()
	for i, p := range []string{"latch", kind, site, name} {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// verkadaType is one of Verkada's card type names for a format latch reads.
type verkadaType struct {
	names  []string // Verkada's two naming families; the first is the one replies use
	format reader.Format
}

// verkadaTypes maps Verkada's card types onto the reader's formats. Only
// formats the reader decodes are listed (TestVerkadaTypesAreFormats checks
// them against reader.Formats); any other type is refused.
var verkadaTypes = []verkadaType{
	{[]string{"HID", "Standard 26-bit Wiegand"}, reader.H10301},
	{[]string{"HID37wFacilityCode", "HID 37-bit"}, reader.H10304},
	{[]string{"HID37woFacilityCode", "HID 37-bit No Facility Code"}, reader.H10302},
	{[]string{"HID34", "HID 34-bit"}, reader.H10306},
	{[]string{"Corporate1000_35", "HID Corporate 1000-35"}, reader.Corp1000x35},
	{[]string{"Corporate1000_48", "HID Corporate 1000-48"}, reader.Corp1000x48},
}

// ruleCardType is the rule a card's type follows: the names of the types
// latch reads, those of the formats in the reader's table.
var ruleCardType = func() string {
	var names []string
	for _, f := range reader.Formats() {
		for _, t := range verkadaTypes {
			if t.format == f.Format {
				names = append(names, t.names...)
			}
		}
	}
	return "must be one of the card types latch reads (any case): " + strings.Join(names, ", ")
}()

// formatOfType returns the reader format of a Verkada card type, matched
// without regard to case.
func formatOfType(typ string) (reader.Format, bool) {
	for _, t := range verkadaTypes {
		for _, n := range t.names {
			if strings.EqualFold(n, typ) {
				return t.format, slices.ContainsFunc(reader.Formats(), func(f reader.FormatSpec) bool { return f.Format == t.format })
			}
		}
	}
	return "", false
}

// typeOfFormat is the Verkada type name replies give a format: the first
// of its names, or the format's own name when Verkada has none (raw).
func typeOfFormat(f string) string {
	for _, t := range verkadaTypes {
		if string(t.format) == f {
			return t.names[0]
		}
	}
	return f
}

// Card ids: Verkada names a card by a string of digits, card_id. latch's is
// the card itself, written in 32 digits: a 2-digit format code (cardCodes),
// the facility code in 10 and the card number in 20, so that it names the
// card without a table and stays the same for ever.
var cardCodes = []struct {
	code   int
	format reader.Format
}{
	{10, reader.H10301}, {11, reader.H10302}, {12, reader.H10304}, {13, reader.H10306},
	{14, reader.Corp1000x35}, {15, reader.Corp1000x48}, {99, reader.Raw},
}

const cardIDLen = 2 + 10 + 20

// ruleCardID is the rule a card_id follows.
const ruleCardID = "must be a card_id as returned by the API (32 digits)"

func cardIDOf(k store.CardKey) string {
	for _, c := range cardCodes {
		if string(c.format) == k.Format {
			return fmt.Sprintf("%02d%010d%020d", c.code, k.FacilityCode, k.CardNumber)
		}
	}
	return "" // a format without a code has no Verkada id
}

// parseCardID reads a card_id into the card it names.
func parseCardID(id string) (store.CardKey, bool) {
	if len(id) != cardIDLen || strings.Trim(id, "0123456789") != "" {
		return store.CardKey{}, false
	}
	code, _ := strconv.Atoi(id[:2])
	fc, err1 := strconv.ParseUint(id[2:12], 10, 32)
	cn, err2 := strconv.ParseUint(id[12:], 10, 64)
	if err1 != nil || err2 != nil {
		return store.CardKey{}, false
	}
	for _, c := range cardCodes {
		if c.code == code {
			return store.CardKey{Format: string(c.format), FacilityCode: uint32(fc), CardNumber: cn}, true
		}
	}
	return store.CardKey{}, false
}

// toVerkadaCard is a card as Verkada's Access Card Object.
func toVerkadaCard(c store.Card) apitype.VerkadaCard {
	return apitype.VerkadaCard{
		CardID: cardIDOf(c.Key()), Type: typeOfFormat(c.Format),
		CardNumber: strconv.FormatUint(c.CardNumber, 10), CardNumberHex: strconv.FormatUint(c.CardNumber, 16),
		CardNumberBase36: strconv.FormatUint(c.CardNumber, 36), FacilityCode: strconv.FormatUint(uint64(c.FacilityCode), 10), Active: c.Active,
	}
}
