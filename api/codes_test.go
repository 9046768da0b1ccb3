package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// TestInvalidCodes sends malformed codes to every endpoint that takes one:
// each is a 400 naming the field "code" and the rule.
func TestInvalidCodes(t *testing.T) {
	e := newEnv(t, nil)
	f := e.fixture(1)
	const digitsRule = "must be 4–16 ASCII digits 0-9"
	codes := []struct {
		name, json, rule string
	}{
		{"letter", `"12a4"`, digitsRule},
		{"arabic-indic digits", `"١٢٣٤"`, digitsRule},
		{"fullwidth digits", `"１２３４"`, digitsRule},
		{"3 digits", `"123"`, digitsRule},
		{"17 digits", `"12345678901234567"`, digitsRule},
		{"empty", `""`, digitsRule},
		{"space", `"12 34"`, digitsRule},
		{"plus sign", `"+1234"`, digitsRule},
		{"JSON number", `1234`, ruleCodeString},
		{"JSON float", `1234.0`, ruleCodeString},
		{"JSON null", `null`, ruleCodeString},
		{"JSON array", `["1234"]`, ruleCodeString},
	}
	bodies := []struct{ method, path string }{
		{"POST", "/v1/users/" + f.uid + "/mfa_codes"},
		{"PUT", "/v1/users/" + f.uid + "/mfa_codes/" + f.mfaID},
		{"PUT", "/v1/users/" + f.uid + "/entry_code"},
		{"POST", "/access/v1/credentials/mfa_code?user_id=" + f.uid},
	}
	for _, c := range codes {
		for _, b := range bodies {
			t.Run(c.name+"/"+b.method+" "+b.path, func(t *testing.T) {
				rec := e.do(store.RoleCredentialManager, b.method, b.path, `{"code":`+c.json+`}`)
				checkRule(t, rec.Code, rec.Body.Bytes(), "code", c.rule)
			})
		}
		if strings.HasPrefix(c.json, `"`) { // the query-string form of the Verkada delete
			var s string
			json.Unmarshal([]byte(c.json), &s)
			t.Run(c.name+"/verkada delete", func(t *testing.T) {
				rec := e.do(store.RoleCredentialManager, "DELETE", "/access/v1/credentials/mfa_code?user_id="+f.uid+"&code="+url.QueryEscape(s), "")
				checkRule(t, rec.Code, rec.Body.Bytes(), "code", c.rule)
			})
		}
	}
	// A missing code names the field too.
	rec := e.do(store.RoleCredentialManager, "POST", "/v1/users/"+f.uid+"/mfa_codes", `{}`)
	checkRule(t, rec.Code, rec.Body.Bytes(), "code", "is required")
	// Nothing was added.
	ms, err := e.st.MFACodes(f.uid)
	if err != nil || len(ms) != 1 {
		t.Errorf("MFA codes after refused adds: %v, %v; want the fixture's one", ms, err)
	}
}

func checkRule(t *testing.T, status int, body []byte, field, rule string) {
	t.Helper()
	if status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", status, body)
	}
	var eb apitype.Error
	if err := json.Unmarshal(body, &eb); err != nil {
		t.Fatalf("reply %q: %v", body, err)
	}
	if eb.Field != field || eb.Rule != rule || !strings.Contains(eb.Error, rule) {
		t.Errorf("error %+v, want field %q rule %q", eb, field, rule)
	}
}

// TestBadParams covers the other 400s, 404s and the 409 of the task.
func TestBadParams(t *testing.T) {
	e := newEnv(t, nil)
	f := e.fixture(1)
	g := e.fixture(2)
	cases := []struct {
		name         string
		method, path string
		body         string
		status       int
		field        string
	}{
		{"unknown user", "GET", "/v1/users/3f2b8c1e-1111-4111-8111-111111111111", "", 404, ""},
		{"unknown user mfa add", "POST", "/v1/users/3f2b8c1e-1111-4111-8111-111111111111/mfa_codes", `{"code":"1234"}`, 404, ""},
		{"unknown user generate", "POST", "/v1/users/3f2b8c1e-1111-4111-8111-111111111111/mfa_codes/generate", ``, 404, ""},
		{"unknown user entry", "PUT", "/v1/users/3f2b8c1e-1111-4111-8111-111111111111/entry_code", `{"code":"1234"}`, 404, ""},
		{"unknown user cards", "POST", "/v1/users/3f2b8c1e-1111-4111-8111-111111111111/cards", `{"format":"h10301","facility_code":1,"card_number":9}`, 404, ""},
		{"unknown mfa id", "DELETE", "/v1/users/" + f.uid + "/mfa_codes/zzz", "", 404, ""},
		{"unknown card", "DELETE", "/v1/users/" + f.uid + "/cards/h10301/1/999", "", 404, ""},
		{"entry code conflict", "PUT", "/v1/users/" + g.uid + "/entry_code", `{"code":"81000001"}`, 409, ""},
		{"card conflict", "POST", "/v1/users/" + g.uid + "/cards", `{"format":"h10301","facility_code":1,"card_number":1}`, 409, ""},
		{"external_id conflict", "POST", "/v1/users", `{"external_id":"fx-1"}`, 409, ""},
		{"verkada both ids", "POST", "/access/v1/credentials/mfa_code?user_id=" + f.uid + "&external_id=fx-1", `{"code":"1234"}`, 400, "user_id"},
		{"verkada no id", "POST", "/access/v1/credentials/mfa_code", `{"code":"1234"}`, 400, "user_id"},
		{"verkada empty id", "POST", "/access/v1/credentials/mfa_code?external_id=", `{"code":"1234"}`, 400, "user_id"},
		{"verkada unknown external id", "POST", "/access/v1/credentials/mfa_code?external_id=nobody", `{"code":"1234"}`, 404, ""},
		{"verkada delete unknown code", "DELETE", "/access/v1/credentials/mfa_code?external_id=fx-1&code=4444", "", 404, ""},
		{"verkada delete without code", "DELETE", "/access/v1/credentials/mfa_code?external_id=fx-1", "", 400, "code"},
		{"verkada delete both ids", "DELETE", "/access/v1/credentials/mfa_code?user_id=" + f.uid + "&external_id=fx-1&code=930001", "", 400, "user_id"},
		{"verkada delete no id", "DELETE", "/access/v1/credentials/mfa_code?code=930001", "", 400, "user_id"},
		{"verkada delete empty user_id", "DELETE", "/access/v1/credentials/mfa_code?user_id=&code=930001", "", 400, "user_id"},
		{"verkada user_id twice", "POST", "/access/v1/credentials/mfa_code?user_id=" + f.uid + "&user_id=" + g.uid, `{"code":"1234"}`, 400, "user_id"},
		{"verkada unknown user_id", "POST", "/access/v1/credentials/mfa_code?user_id=3f2b8c1e-1111-4111-8111-111111111111", `{"code":"1234"}`, 404, ""},
		{"verkada delete unknown user_id", "DELETE", "/access/v1/credentials/mfa_code?user_id=3f2b8c1e-1111-4111-8111-111111111111&code=1234", "", 404, ""},
		{"verkada code twice", "DELETE", "/access/v1/credentials/mfa_code?external_id=fx-1&code=1234&code=5678", "", 400, "code"},
		{"generate length 3", "POST", "/v1/users/" + f.uid + "/mfa_codes/generate", `{"length":3}`, 400, "length"},
		{"generate length 17", "POST", "/v1/users/" + f.uid + "/mfa_codes/generate", `{"length":17}`, 400, "length"},
		{"generate length string", "POST", "/v1/users/" + f.uid + "/mfa_codes/generate", `{"length":"8"}`, 400, "length"},
		{"unknown field", "POST", "/v1/users/" + f.uid + "/mfa_codes", `{"code":"1234","pin":"1"}`, 400, "pin"},
		{"unknown field named like a code", "POST", "/v1/users/" + f.uid + "/mfa_codes", `{"code":"1234","735519":"1"}`, 400, "body"},
		{"unknown field with a code in its name", "PUT", "/v1/users/" + f.uid + "/entry_code", `{"code_735519":"1"}`, 400, "body"},
		{"trailing data", "POST", "/v1/users/" + f.uid + "/mfa_codes", `{"code":"1234"}{}`, 400, "body"},
		{"not JSON", "POST", "/v1/users", `first_name=x`, 400, "body"},
		{"empty body", "POST", "/v1/users", ``, 400, "body"},
		{"bad start", "POST", "/v1/users", `{"start":"yesterday"}`, 400, "start"},
		{"end before start", "POST", "/v1/users", `{"start":"2026-05-01T00:00:00Z","end":"2026-04-01T00:00:00Z"}`, 400, "end"},
		{"unknown group", "POST", "/v1/users", `{"groups":["nobody"]}`, 400, "groups"},
		{"name type", "POST", "/v1/users", `{"first_name":5}`, 400, "first_name"},
		{"bad email", "PATCH", "/v1/users/" + f.uid, `{"email":"not-an-address"}`, 400, "email"},
		{"control char", "PATCH", "/v1/users/" + f.uid, `{"first_name":"a\u0007b"}`, 400, "first_name"},
		{"card format", "POST", "/v1/users/" + f.uid + "/cards", `{"format":"h99999","card_number":1}`, 400, "format"},
		{"card fc range", "POST", "/v1/users/" + f.uid + "/cards", `{"format":"h10301","facility_code":256,"card_number":1}`, 400, "facility_code"},
		{"card number range", "POST", "/v1/users/" + f.uid + "/cards", `{"format":"h10301","facility_code":1,"card_number":65536}`, 400, "card_number"},
		{"card no facility", "POST", "/v1/users/" + f.uid + "/cards", `{"format":"h10302","facility_code":1,"card_number":1}`, 400, "facility_code"},
		{"card negative", "POST", "/v1/users/" + f.uid + "/cards", `{"format":"h10301","facility_code":1,"card_number":-1}`, 400, "card_number"},
		{"card path number", "DELETE", "/v1/users/" + f.uid + "/cards/h10301/1/x", "", 400, "card_number"},
		{"list limit", "GET", "/v1/users?limit=0", "", 400, "limit"},
		{"events after", "GET", "/v1/events?after=-1", "", 400, "after"},
		{"events name", "GET", "/v1/events?event=DROP%20TABLE", "", 400, "event"},
		{"stream format", "GET", "/v1/events/stream?format=xml", "", 400, "format"},
		{"token role", "POST", "/v1/tokens", `{"name":"x","role":"root"}`, 400, "role"},
		{"token name", "POST", "/v1/tokens", `{"name":"a b","role":"viewer"}`, 400, "name"},
		{"token conflict", "POST", "/v1/tokens", `{"name":"tok-viewer","role":"viewer"}`, 409, ""},
		{"unknown door", "GET", "/v1/doors/nowhere", "", 404, ""},
		{"body too large", "POST", "/v1/users", `{"first_name":"` + strings.Repeat("a", DefaultBodyLimit) + `"}`, 413, "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := e.do(store.RoleSystemAdmin, c.method, c.path, c.body)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			var eb apitype.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error == "" {
				t.Fatalf("error reply %q: %v", rec.Body, err)
			}
			if eb.Field != c.field {
				t.Errorf("field %q, want %q (%s)", eb.Field, c.field, eb.Error)
			}
			if strings.Contains(rec.Body.String(), "735519") {
				t.Errorf("the reply repeats a code-like input: %s", rec.Body)
			}
			if c.status == 400 && eb.Rule == "" {
				t.Errorf("400 without a rule: %s", rec.Body)
			}
		})
	}
}

// TestNotFoundSaysWhat: a 404 is worded from the store's error, naming what
// was not found and its id (never a code), with no second read of the user.
func TestNotFoundSaysWhat(t *testing.T) {
	e := newEnv(t, nil)
	f := e.fixture(1)
	nobody := e.newUser("gone")
	e.must(http.StatusNoContent, "DELETE", "/v1/users/"+nobody, "", nil)
	for _, c := range []struct{ name, method, path, body, want string }{
		{"card of an unknown user", "POST", "/v1/users/" + nobody + "/cards", `{"format":"h10301","facility_code":1,"card_number":9}`, "api: user not found: " + nobody},
		{"activate a card of an unknown user", "POST", "/v1/users/" + nobody + "/cards/h10301/1/1/activate", "", "api: user not found: " + nobody},
		{"unknown card", "DELETE", "/v1/users/" + f.uid + "/cards/h10301/1/999", "", "api: card not found: h10301/1/999"},
		{"entry code of an unknown user", "PUT", "/v1/users/" + nobody + "/entry_code", `{"code":"735519"}`, "api: user not found: " + nobody},
		{"unknown mfa code id", "DELETE", "/v1/users/" + f.uid + "/mfa_codes/m99", "", "api: mfa code not found: m99"},
		{"replace an unknown mfa code id", "PUT", "/v1/users/" + f.uid + "/mfa_codes/m98", `{"code":"735519"}`, "api: mfa code not found: m98"},
		{"mfa code of an unknown user", "DELETE", "/v1/users/" + nobody + "/mfa_codes/m1", "", "api: user not found: " + nobody},
		{"verkada unknown external id", "POST", "/access/v1/credentials/mfa_code?external_id=nobody", `{"code":"735519"}`, "api: external id not found: nobody"},
		{"verkada unknown code value", "DELETE", "/access/v1/credentials/mfa_code?user_id=" + f.uid + "&code=735519", "", "api: mfa code not found"},
		{"unknown token", "DELETE", "/v1/tokens/nope", "", "api: token not found: nope"},
	} {
		rec := e.do(store.RoleSystemAdmin, c.method, c.path, c.body)
		var eb apitype.Error
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d %s, want 404", c.name, rec.Code, rec.Body)
			continue
		}
		if eb.Error != c.want {
			t.Errorf("%s: error %q, want %q", c.name, eb.Error, c.want)
		}
		if strings.Contains(eb.Error, "735519") {
			t.Errorf("%s: the 404 repeats the code: %s", c.name, eb.Error)
		}
	}
}
