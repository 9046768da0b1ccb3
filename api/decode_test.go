package api

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/latchd/latch/store"
)

// TestDuplicateKeys: a JSON body with a key twice, or two keys that differ
// only in case (as encoding/json folds it), is a 400 naming the key, and
// changes nothing; before the check, the decoder kept the last one.
func TestDuplicateKeys(t *testing.T) {
	e := newEnv(t, nil)
	uid := e.newUser("dup")
	for _, c := range []struct {
		name, method, path, body, field string
	}{
		{"same key twice", "POST", "/v1/users/" + uid + "/mfa_codes", `{"code":"1111","code":"2222"}`, "code"},
		{"case differs", "POST", "/v1/users/" + uid + "/mfa_codes", `{"code":"1111","Code":"2222"}`, "Code"},
		{"escaped spelling", "POST", "/v1/users/" + uid + "/mfa_codes", `{"code":"1111","\u0063ode":"2222"}`, "code"},
		{"entry code", "PUT", "/v1/users/" + uid + "/entry_code", `{"CODE":"1111","code":"2222"}`, "code"},
		{"card", "POST", "/v1/users/" + uid + "/cards", `{"format":"h10301","card_number":1,"Card_Number":2}`, "Card_Number"},
		{"user patch", "PATCH", "/v1/users/" + uid, `{"first_name":"Eve","FIRST_NAME":"Mallory"}`, "FIRST_NAME"},
		{"user time", "PATCH", "/v1/users/" + uid, `{"start":"2026-01-01T00:00:00Z","Start":"bad"}`, "Start"},
		{"generate", "POST", "/v1/users/" + uid + "/mfa_codes/generate", `{"length":4,"length":16}`, "length"},
		{"verkada add", "POST", "/access/v1/credentials/mfa_code?user_id=" + uid, `{"code":"1111","cOdE":"2222"}`, "cOdE"},
		{"a code-like key is not repeated", "POST", "/v1/users/" + uid + "/mfa_codes", `{"135790":1,"135790":2}`, "body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := e.do(store.RoleSystemAdmin, c.method, c.path, c.body)
			var body struct{ Error, Field, Rule string }
			json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != 400 || body.Field != c.field || !strings.HasPrefix(body.Rule, ruleDupKey) {
				t.Errorf("%s: %d %s, want 400 field %q rule %q", c.body, rec.Code, rec.Body, c.field, ruleDupKey)
			}
			if strings.Contains(rec.Body.String(), "135790") || strings.Contains(rec.Body.String(), "2222") {
				t.Errorf("the error repeats input: %s", rec.Body)
			}
		})
	}
	if ms, _ := e.st.MFACodes(uid); len(ms) != 0 {
		t.Errorf("a refused body added MFA codes: %v", ms)
	}
	if u, _ := e.st.User(uid); u.FirstName != "Ada" || u.HasEntryCode || len(u.Cards) != 0 {
		t.Errorf("a refused body changed the user: %+v", u)
	}
}

// TestDuplicateKeysDecoder: the check is the decoder's, at every depth and
// with encoding/json's own folding (the Kelvin sign K matches k).
func TestDuplicateKeysDecoder(t *testing.T) {
	type kind struct {
		Kind string `json:"kind"`
	}
	var probe kind
	if json.Unmarshal([]byte(`{"\u212aind":"x"}`), &probe); probe.Kind != "x" {
		t.Fatalf("encoding/json no longer folds the Kelvin sign; revisit foldKey")
	}
	for _, c := range []struct {
		body  string
		dst   func() any
		field string // "" = accepted
	}{
		{`{"kind":"a","\u212aind":"b"}`, func() any { return &kind{} }, "body"}, // not an ASCII name: not echoed
		{`{"a":{"x":1,"X":2}}`, func() any { return &map[string]any{} }, "X"},
		{`{"a":[{"x":1},{"x":2}]}`, func() any { return &map[string]any{} }, ""},              // one x per object
		{`{"a":[{"x":1,"y":[{"z":1,"Z":2}]}]}`, func() any { return &map[string]any{} }, "Z"}, // deep
		{`{"x":{"x":{"x":1}}}`, func() any { return &map[string]any{} }, ""},
		{`{"a":1,"b":2}`, func() any { return &map[string]any{} }, ""},
		{`{"a":"{\"a\":1}","A\u0000":2}`, func() any { return &map[string]any{} }, ""},
	} {
		err := decodeJSON(strings.NewReader(c.body), DefaultBodyLimit, c.dst(), false)
		ae, _ := err.(*apiError)
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: %v, want accepted", c.body, err)
		case c.field != "" && (ae == nil || ae.Field != c.field || !strings.HasPrefix(ae.Rule, ruleDupKey)):
			t.Errorf("%s: %v, want field %q rule %q", c.body, err, c.field, ruleDupKey)
		}
	}
	// Deep nesting is walked without recursion and stays a 400, not a crash.
	deep := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	checkDecodeErr(t, decodeJSON(strings.NewReader(deep), DefaultBodyLimit, &map[string]any{}, false))
}

// naiveDup is an independent oracle for FuzzDecodeBody: a recursive walk
// comparing every pair of keys in each object with bytes.EqualFold (which
// encoding/json's folding is documented to match). ok is false when the
// first value is not valid JSON.
func naiveDup(dec *json.Decoder) (dup, ok bool) {
	tok, err := dec.Token()
	if err != nil {
		return false, false
	}
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return false, true
	}
	var keys []string
	for dec.More() {
		if tok == json.Delim('{') {
			kt, err := dec.Token()
			if err != nil {
				return false, false
			}
			k := kt.(string)
			for _, o := range keys {
				if bytes.EqualFold([]byte(o), []byte(k)) {
					dup = true
				}
			}
			keys = append(keys, k)
		}
		d, ok := naiveDup(dec)
		if !ok {
			return false, false
		}
		dup = dup || d
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return false, false
	}
	return dup, true
}

// FuzzDecodeBody: the body decoder never panics, maps every error to a 4xx
// with a rule, and refuses a body exactly when it has a repeated key (as
// the oracle sees it), whatever the target type.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{"code":"1","Code":"2"}`, `{"a":{"b":1,"B":2}}`, `{"\u212a":1,"k":2}`, `{"a":[{"x":1},{"x":2}]}`,
		`{"start":"2026-01-01T00:00:00Z","start":""}`, `{"ß":1,"ẞ":2}`, `{"ǅ":1,"ǆ":2}`, `{"a":1}{"a":1,"a":2}`} {
		f.Add(s)
	}
	fuzzBody(f, func(t *testing.T, body string) {
		var m map[string]any
		errMap := decodeJSON(strings.NewReader(body), DefaultBodyLimit, &m, false)
		checkDecodeErr(t, errMap)
		var in codeIn
		checkDecodeErr(t, decodeJSON(strings.NewReader(body), DefaultBodyLimit, &in, false))
		_, errUser := decodeUser(strings.NewReader(body), DefaultBodyLimit)
		checkDecodeErr(t, errUser)

		dec := json.NewDecoder(strings.NewReader(body))
		dup, ok := naiveDup(dec)
		isDup := func(err error) bool {
			ae, _ := err.(*apiError)
			return ae != nil && strings.HasPrefix(ae.Rule, ruleDupKey)
		}
		if isDup(errMap) && !(ok && dup) {
			t.Fatalf("%q refused as a repeated key; the oracle finds none", body)
		}
		if ok && dup && strings.TrimSpace(body) != "" && len(body) <= DefaultBodyLimit && errMap == nil {
			t.Fatalf("%q has a repeated key and was accepted", body)
		}
		if ok && dup && isDup(errMap) != isDup(errUser) {
			t.Fatalf("%q: decodeJSON %v, decodeUser %v: one rule for both", body, errMap, errUser)
		}
	})
}
