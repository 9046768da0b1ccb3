package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchd/latch/store"
)

// checkDecodeErr fails unless err is nil or an error the API maps to a 4xx
// (never a 500, never a panic).
func checkDecodeErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	ae := toAPIError(err, "x")
	if ae == nil || ae.Status/100 != 4 {
		t.Fatalf("decode error %v maps to %+v, want a 4xx", err, ae)
	}
	if ae.Status == http.StatusBadRequest && ae.Rule == "" {
		t.Fatalf("400 without a rule: %v", err)
	}
}

// fuzzBody fuzzes fn with request bodies, seeded with bodySeeds (and any
// seeds the target added before).
func fuzzBody(f *testing.F, fn func(t *testing.T, body string)) {
	for _, s := range bodySeeds {
		f.Add(s)
	}
	f.Fuzz(fn)
}

var bodySeeds = []string{
	`{"code":"1234"}`, `{"code":1234}`, `{"code":"١٢٣٤"}`, `{"code":null}`, `{"code":""}`,
	`{"code":"1234","x":1}`, `{}`, ``, `[]`, `"x"`, `{"code":"12`, `{"code":"1234"}{"code":"1"}`,
	`{"length":8}`, `{"length":"8"}`, `{"length":1e400}`, `{"length":-1}`,
	`{"external_id":"a","first_name":"b","start":"2026-01-01T00:00:00Z","end":null,"groups":["staff"]}`,
	`{"start":5}`, `{"groups":"staff"}`, `{"groups":[1]}`, `{"suspended":"yes"}`, `{"email":"a@b"}`,
	`{"format":"h10301","facility_code":1,"card_number":2}`, `{"format":"raw","card_number":18446744073709551615}`,
	`{"format":"h10301","facility_code":4294967296,"card_number":1}`, "{\"first_name\":\"\x00\"}", "\xff\xfe",
}

func FuzzCodeBody(f *testing.F) {
	fuzzBody(f, func(t *testing.T, body string) {
		var in codeIn
		err := decodeJSON(strings.NewReader(body), DefaultBodyLimit, &in, false)
		checkDecodeErr(t, err)
		if err != nil {
			return
		}
		b, err := in.Code.valid()
		checkDecodeErr(t, err)
		if err == nil && store.ValidateCode(b) != nil {
			t.Fatalf("accepted an invalid code from %q", body)
		}
		if err != nil && strings.Contains(err.Error(), string(in.Code.b)) && len(in.Code.b) >= 4 {
			t.Fatalf("error %q repeats the code", err)
		}
	})
}

func FuzzUserBody(f *testing.F) {
	s := New(Options{Config: testConfig})
	fuzzBody(f, func(t *testing.T, body string) {
		in, err := decodeUser(strings.NewReader(body), DefaultBodyLimit)
		checkDecodeErr(t, err)
		if err != nil {
			return
		}
		var uf store.UserFields
		checkDecodeErr(t, s.applyUser(in, &uf))
	})
}

func FuzzCardBody(f *testing.F) {
	fuzzBody(f, func(t *testing.T, body string) {
		var in cardIn
		err := decodeJSON(strings.NewReader(body), DefaultBodyLimit, &in, false)
		checkDecodeErr(t, err)
		if err == nil && in.Format != nil && in.CardNumber != nil {
			checkDecodeErr(t, checkCard(*in.Format, in.FacilityCode, *in.CardNumber))
		}
	})
}

// FuzzEndpoints sends fuzzed bodies and query values to the code-carrying
// endpoints of a server on a real store: never a panic, never a 500.
func FuzzEndpoints(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add(s, "1234")
	}
	f.Add(`{"code":"5678"}`, "١٢٣٤")
	f.Add(`{"length":4}`, "%zz")
	// Verkada-shaped bodies and query strings (docs/verkada.md).
	f.Add(`{"type":"HID","active":true,"card_number":"12345","facility_code":"12"}`, "override=True&page_size=200")
	f.Add(`{"type":"hid 37-bit","card_number_hex":"ff","active":"False"}`, "start_time=1709294400.25&end_time=1e3")
	f.Add(`{"start_date":"1767225600"}`, "event_type=door_opened,,x&user_id=a,b&page_token=p1")
	f.Add(`{"end_date":""}`, "card_id=10000000001200000000000000012345&org_id=x+y")
	f.Add(`{"entry_code":"135790"}`, "override=tRuE&group_id=%00")
	f.Add(`{"user_id":null,"external_id":"fuzz"}`, "door_ids=,,&page_size=-1&page_token=1")
	e := newEnv(f, nil)
	uid := e.newUser("fuzz")
	vk := []struct{ method, path string }{
		{"GET", "/access/v1/access_users"}, {"GET", "/access/v1/access_users/user"},
		{"PUT", "/access/v1/access_users/user/entry_code"}, {"DELETE", "/access/v1/access_users/user/entry_code"},
		{"PUT", "/access/v1/access_users/user/start_date"}, {"PUT", "/access/v1/access_users/user/end_date"},
		{"POST", "/access/v1/credentials/card"}, {"PUT", "/access/v1/credentials/card/activate"},
		{"PUT", "/access/v1/credentials/card/deactivate"}, {"DELETE", "/access/v1/credentials/card"},
		{"GET", "/access/v1/access_groups"}, {"GET", "/access/v1/access_groups/group"},
		{"PUT", "/access/v1/access_groups/group/user"}, {"DELETE", "/access/v1/access_groups/group/user"},
		{"GET", "/access/v1/doors"}, {"GET", "/events/v1/access"}, {"POST", "/core/v1/user"},
	}
	staff := NameUUID("group", "latch", "staff")
	paths := []struct{ method, path string }{
		{"POST", "/v1/users/" + uid + "/mfa_codes"},
		{"POST", "/v1/users/" + uid + "/mfa_codes/generate"},
		{"PUT", "/v1/users/" + uid + "/entry_code"},
		{"PUT", "/v1/users/" + uid + "/duress_code"},
		{"DELETE", "/v1/duress"},
		{"POST", "/v1/users/" + uid + "/cards"},
		{"PATCH", "/v1/users/" + uid},
		{"POST", "/v1/users"},
		{"POST", "/access/v1/credentials/mfa_code?external_id=fuzz"},
		{"POST", "/access/v1/credentials/card?user_id=" + uid},
		{"PUT", "/access/v1/access_users/user/entry_code?override=True&user_id=" + uid},
		{"PUT", "/access/v1/access_users/user/start_date?external_id=fuzz"},
		{"PUT", "/access/v1/access_groups/group/user?group_id=" + staff},
	}
	f.Fuzz(func(t *testing.T, body, q string) {
		for _, p := range paths {
			rec := e.do(store.RoleSystemAdmin, p.method, p.path, body)
			if rec.Code >= 500 {
				t.Fatalf("%s %s %q: %d %s", p.method, p.path, body, rec.Code, rec.Body)
			}
		}
		// The raw query string, as a client may send it, unparsed.
		req := httptest.NewRequest("DELETE", "/access/v1/credentials/mfa_code", nil)
		req.URL.RawQuery = "external_id=fuzz&code=" + q
		req.Header.Set("Authorization", "Bearer "+e.tokens[store.RoleSystemAdmin])
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("DELETE ?code=%q: %d %s", q, rec.Code, rec.Body)
		}
		// Every Verkada path with the fuzzed query (alone, and after a
		// real user and group) and body: never a 500, every error with a
		// message.
		for _, p := range vk {
			for _, raw := range []string{q, "user_id=" + uid + "&group_id=" + staff + "&" + q} {
				req := httptest.NewRequest(p.method, p.path, strings.NewReader(body))
				req.URL.RawQuery = raw
				req.Header.Set("Authorization", "Bearer "+e.tokens[store.RoleSystemAdmin])
				rec := httptest.NewRecorder()
				e.srv.ServeHTTP(rec, req)
				if rec.Code >= 500 || (rec.Code >= 400 && !strings.Contains(rec.Body.String(), `"message":`)) {
					t.Fatalf("%s %s?%s %q: %d %s", p.method, p.path, raw, body, rec.Code, rec.Body)
				}
			}
		}
	})
}

// TestFuzzHelpersCatch makes sure checkDecodeErr can fail: an internal
// error is not a 4xx.
func TestFuzzHelpersCatch(t *testing.T) {
	if ae := toAPIError(errors.New("boom"), "x"); ae != nil {
		t.Errorf("an unknown error mapped to %+v, want nil (a 500)", ae)
	}
}

func TestPlausibleName(t *testing.T) {
	for name, want := range map[string]bool{
		"pin": true, "first_name": true, "_x": true, "a.b": true, "card2": true, "v100": true,
		"": false, "1234": false, "x1234": false, "code_735519": false, "a b": false, "é": false,
		"a\x1b": false, strings.Repeat("a", 65): false, "@x": false, "`x": false, "[x": false,
	} {
		if got := plausibleName(name); got != want {
			t.Errorf("plausibleName(%q) = %v, want %v", name, got, want)
		}
	}
}
