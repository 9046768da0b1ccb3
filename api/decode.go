package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/latchd/latch/store"
)

// ruleCodeString is the rule for a code that is not a JSON string: codes are
// strings so that leading zeros survive and no client sends 1234.0.
const ruleCodeString = "must be a JSON string of 4–16 ASCII digits, not a number"

// code is a secret code in a request body. It must be a JSON string; its
// digits are checked with store.ValidateCode.
type code struct {
	b   []byte
	set bool
}

// UnmarshalJSON refuses anything but a JSON string.
func (c *code) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '"' {
		return badField("code", ruleCodeString)
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return badField("code", ruleCodeString)
	}
	c.b, c.set = []byte(s), true
	return nil
}

// valid returns the code's bytes after checking it is present and well-formed.
func (c *code) valid() ([]byte, error) {
	if !c.set {
		return nil, badField("code", "is required")
	}
	if err := store.ValidateCode(c.b); err != nil {
		return nil, err
	}
	return c.b, nil
}

// wipe overwrites the code's bytes once it has been used.
func (c *code) wipe() {
	for i := range c.b {
		c.b[i] = 0
	}
}

// decodeJSON reads exactly one JSON object from body into dst, refusing
// unknown fields, trailing data and bodies over limit bytes. An empty body
// decodes as {} when allowEmpty is set.
func decodeJSON(body io.Reader, limit int64, dst any, allowEmpty bool) error {
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return badField("body", "could not be read")
	}
	if int64(len(data)) > limit {
		return tooLarge(limit)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if allowEmpty {
			return nil
		}
		return badField("body", "must be a JSON object")
	}
	if !utf8.Valid(data) {
		return badField("body", "must be UTF-8")
	}
	if err := checkKeys(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badField("body", "must be exactly one JSON object")
	}
	return nil
}

// ruleDupKey is the rule a repeated object key breaks. encoding/json
// matches keys to fields without regard to case and keeps the last of
// repeated ones, so {"code":"1111","Code":"2222"} would reach a handler as
// one of them, silently: whichever a proxy, a WAF or a log inspected
// first may not be the one acted on.
const ruleDupKey = "must appear once: keys are matched without regard to case, and a key may not repeat in one object"

// checkKeys walks the first JSON value in data and refuses an object, at any
// depth, with two keys that encoding/json would match to the same field
// (equal after its case folding). It names the repeated key when it looks
// like a field name (plausibleName), else "body". Malformed JSON (or more
// than one value) is left for the decoder to report. The walk keeps one set of keys per open object, on
// an explicit stack, so deep nesting costs no goroutine stack.
func checkKeys(data []byte) error {
	if !json.Valid(data) {
		return nil // the decoder names what is wrong
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		obj    bool
		keys   map[string]struct{}
		expect bool // in an object: the next token is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // syntax: the decoder names it
		}
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].expect {
			top := &stack[n-1]
			if k, ok := tok.(string); ok {
				f := string(foldKey(k))
				if _, dup := top.keys[f]; dup {
					if plausibleName(k) {
						return badField(k, ruleDupKey)
					}
					return badField("body", ruleDupKey+" (the key's name is not shown: field names are words such as code or first_name)")
				}
				top.keys[f] = struct{}{}
				top.expect = false
				continue
			}
			// '}' closes the object: handled below.
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{obj: true, keys: map[string]struct{}{}, expect: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			return nil // the first value is complete; trailing data is the decoder's
		}
		if top := &stack[len(stack)-1]; top.obj {
			top.expect = true // a value ended: a key or '}' follows
		}
	}
}

// foldKey is encoding/json's case folding of an object key (its
// foldName): ASCII letters upper-cased, every other rune replaced by the
// smallest rune of its unicode.SimpleFold orbit (so the Kelvin sign K
// folds like k). Two keys the decoder would match to the same struct field
// fold to the same bytes.
func foldKey(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out
}

// jsonError turns a decoding error into a 400 naming the field. It never
// quotes the input (which may hold a code).
func jsonError(err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			return badField("body", "must be a JSON object")
		}
		return badField(field, "must be a JSON "+jsonKind(te.Type.Kind().String()))
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		f := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		if !plausibleName(f) {
			// Not echoed: a client that sent {"123456":…} gets no code back.
			return badField("body", "unknown field (its name is not shown: field names are words such as code or first_name)")
		}
		return badField(f, "unknown field")
	}
	return badField("body", "must be one valid JSON object")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "integer"
	case "float32", "float64":
		return "number"
	}
	return "value of another type"
}

// plausibleName reports whether a client-supplied field name looks like a
// field name (a letter or '_', then letters, digits, '_' or '.', at most 64,
// fewer than four digits), so that repeating it in an error cannot repeat a
// code.
func plausibleName(s string) bool {
	if s == "" || len(s) > 64 || !(s[0] == '_' || 'a' <= s[0]|0x20 && s[0]|0x20 <= 'z') {
		return false
	}
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			digits++
		case c == '_' || c == '.' || 'a' <= c|0x20 && c|0x20 <= 'z':
		default:
			return false
		}
	}
	return digits < 4
}

// safeName keeps a client-supplied field name printable and short, so an
// error message cannot be used to smuggle text into logs.
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 64 {
			break
		}
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.') {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// optTime is a time in a request body: an RFC 3339 string, or "" / null to
// clear it.
type optTime struct {
	t   time.Time
	set bool
}

func (o *optTime) UnmarshalJSON(data []byte) error {
	o.set = true
	if string(data) == "null" {
		o.t = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errTime
	}
	if s == "" {
		o.t = time.Time{}
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return errTime
	}
	o.t = t.UTC()
	return nil
}

var errTime = errors.New("must be an RFC 3339 time such as 2026-03-29T08:00:00Z, or empty")

// userIn is the body of POST /v1/users and PATCH /v1/users/{id}
// (apitype.UserFields, with start and end decoded here so that a bad time
// names its field). Absent fields are left alone by PATCH.
type userIn struct {
	ExternalID *string   `json:"external_id"`
	FirstName  *string   `json:"first_name"`
	LastName   *string   `json:"last_name"`
	Email      *string   `json:"email"`
	Start      optTime   `json:"start"`
	End        optTime   `json:"end"`
	Suspended  *bool     `json:"suspended"`
	Groups     *[]string `json:"groups"`
}

// decodeUser decodes a user body; the start/end error is attributed to its
// field by decoding the two times separately.
func decodeUser(body io.Reader, limit int64) (userIn, error) {
	var u userIn
	raw := map[string]json.RawMessage{}
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return u, badField("body", "could not be read")
	}
	if int64(len(data)) > limit {
		return u, tooLarge(limit)
	}
	// Repeated keys before anything reads the body: the map below would
	// keep the last of them.
	if err := checkKeys(data); err != nil {
		return u, err
	}
	// Times first, to name the field in their error.
	if json.Unmarshal(data, &raw) == nil {
		for _, f := range []string{"start", "end"} {
			if v, ok := raw[f]; ok {
				var o optTime
				if o.UnmarshalJSON(v) != nil {
					return u, badField(f, errTime.Error())
				}
			}
		}
	}
	err = decodeJSON(bytes.NewReader(data), limit, &u, false)
	return u, err
}

// checkText refuses control characters and overlong strings in a name-like
// field.
func checkText(field, s string, max int) error {
	if utf8.RuneCountInString(s) > max {
		return badField(field, fmt.Sprintf("must be at most %d characters", max))
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return badField(field, "must not contain control characters")
		}
	}
	return nil
}

// tooLarge is the 413 for a body over its limit.
func tooLarge(limit int64) *apiError {
	rule := fmt.Sprintf("must be at most %d bytes", limit)
	return &apiError{Status: http.StatusRequestEntityTooLarge, Msg: "api: body: " + rule, Field: "body", Rule: rule}
}
