package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// TestCodesNeverLeak adds, generates, replaces and deletes codes through
// every path, then reads everything the API and the store expose: the
// digits appear only in the add (Verkada) and generate replies.
func TestCodesNeverLeak(t *testing.T) {
	e := newEnv(t, nil)
	m := e.srv.metrics
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Follow(ctx, e.st) }()
	defer func() { cancel(); <-done }()

	uid := e.newUser("leak-1")
	var secrets []string
	var exposed bytes.Buffer // every reply but the ones allowed to carry a code
	call := func(allowCode bool, method, path, body string) []byte {
		t.Helper()
		rec := e.do(store.RoleUserManager, method, path, body)
		if rec.Code/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		if !allowCode {
			exposed.Write(rec.Body.Bytes())
			exposed.WriteString(rec.Header().Get("Location"))
		}
		return rec.Body.Bytes()
	}

	secrets = append(secrets, "48213957", "71930264", "60606161", "52718394")
	call(false, "POST", "/v1/users/"+uid+"/mfa_codes", `{"code":"48213957"}`)
	reply := call(true, "POST", "/access/v1/credentials/mfa_code?external_id=leak-1", `{"code":"71930264"}`)
	if string(bytes.TrimSpace(reply)) != `{"code":"71930264"}` {
		t.Errorf("Verkada add reply %s, want the code echoed", reply)
	}
	call(false, "PUT", "/v1/users/"+uid+"/entry_code", `{"code":"52718394"}`)
	for _, n := range []int{0, 16} {
		body := `{}`
		if n != 0 {
			body = `{"length":16}`
		}
		var g struct {
			Code   string `json:"code"`
			ID     string `json:"id"`
			Length int    `json:"length"`
		}
		if err := json.Unmarshal(call(true, "POST", "/v1/users/"+uid+"/mfa_codes/generate", body), &g); err != nil {
			t.Fatal(err)
		}
		want := n
		if want == 0 {
			want = 6
		}
		if len(g.Code) != want || g.Length != want || store.ValidateCode([]byte(g.Code)) != nil {
			t.Errorf("generated %+v, want %d digits", g, want)
		}
		secrets = append(secrets, g.Code)
	}
	var list struct {
		Codes []apitype.MFACode `json:"mfa_codes"`
	}
	json.Unmarshal(call(false, "GET", "/v1/users/"+uid+"/mfa_codes", ""), &list)
	if len(list.Codes) != 4 {
		t.Fatalf("listed %d MFA codes, want 4: %+v", len(list.Codes), list)
	}
	call(false, "PUT", "/v1/users/"+uid+"/mfa_codes/"+list.Codes[0].ID, `{"code":"60606161"}`)
	call(false, "DELETE", "/access/v1/credentials/mfa_code?user_id="+uid+"&code=71930264", "")
	// Failed attempts with codes in them must not echo them either.
	for _, body := range []string{`{"code":"4821395x"}`, `{"code":48213957}`} {
		rec := e.do(store.RoleUserManager, "POST", "/v1/users/"+uid+"/mfa_codes", body)
		exposed.Write(rec.Body.Bytes())
	}
	rec := e.do(store.RoleUserManager, "DELETE", "/access/v1/credentials/mfa_code?user_id="+uid+"&code=71930264", "")
	if rec.Code != http.StatusNotFound {
		t.Errorf("second Verkada delete: %d, want 404", rec.Code)
	}
	exposed.Write(rec.Body.Bytes())

	// Everything readable afterwards.
	for _, p := range []string{"/v1/users/" + uid, "/v1/users?search=leak", "/v1/users/" + uid + "/mfa_codes", "/v1/events?limit=1000", "/v1/health", "/metrics"} {
		call(false, "GET", p, "")
	}
	evs, err := e.st.Events(store.EventQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range evs {
		b, _ := json.Marshal(ev)
		exposed.Write(b)
		if ev.Event == "credential_changed" && ev.Action != "user_created" && !strings.HasPrefix(ev.Action, "token_") {
			actions = append(actions, ev.Action)
			if ev.Actor != "tok-access_user_manager" || ev.Role != store.RoleUserManager || ev.UserID != uid {
				t.Errorf("audit event without the caller: %s", b)
			}
		}
	}
	wantActions := "mfa_code_added mfa_code_added entry_code_set mfa_code_generated mfa_code_generated mfa_code_replaced mfa_code_deleted"
	if got := strings.Join(actions, " "); got != wantActions {
		t.Errorf("audit actions %q, want %q (one per change, no doubles)", got, wantActions)
	}
	var metrics bytes.Buffer
	m.WriteText(&metrics, 0)

	logs := e.log.String()
	if !strings.Contains(logs, `"path":"/access/v1/credentials/mfa_code"`) {
		t.Errorf("access log lacks the Verkada request: %s", logs)
	}
	for _, s := range secrets {
		for what, text := range map[string]string{"log": logs, "reply or event": exposed.String(), "metrics": metrics.String()} {
			if strings.Contains(text, s) {
				t.Errorf("code %s appears in a %s", s, what)
			}
		}
	}
	for _, tok := range e.tokens {
		if strings.Contains(logs, tok) || strings.Contains(exposed.String(), tok) {
			t.Error("a token secret appears in a log or reply")
		}
	}
}
