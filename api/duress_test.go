package api

import (
	"net/http"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/reader/readertest"
	"github.com/latchd/latch/store"
)

// TestDuressCodeRoutes: PUT and DELETE …/duress_code mirror the entry
// code's routes; clashes are 409s that never say who, nor the digits; the
// user view says whether there is one.
func TestDuressCodeRoutes(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.newUser("a"), e.newUser("b")
	const code = "80604020" // distinctive: searched for in every reply and the log
	e.must(http.StatusNoContent, "PUT", "/v1/users/"+a+"/entry_code", `{"code":"1357"}`, nil)
	e.must(http.StatusNoContent, "PUT", "/v1/users/"+a+"/duress_code", `{"code":"`+code+`"}`, nil)
	var u apitype.User
	e.must(http.StatusOK, "GET", "/v1/users/"+a, "", &u)
	if u.HasDuressCode == nil || !*u.HasDuressCode {
		t.Errorf("has_duress_code = %v", u.HasDuressCode)
	}
	if rec := e.do(store.RoleViewer, "GET", "/v1/users/"+a, ""); strings.Contains(rec.Body.String(), "duress") {
		t.Errorf("a viewer sees %s", rec.Body)
	}
	var replies []string
	for _, c := range []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"PUT", "/v1/users/" + b + "/duress_code", `{"code":"` + code + `"}`, 409, "api: duress code already used by another user"},
		{"PUT", "/v1/users/" + b + "/entry_code", `{"code":"` + code + `"}`, 409, "api: entry code already used by another user"},
		{"PUT", "/v1/users/" + b + "/duress_code", `{"code":"1357"}`, 409, "api: duress code already used by another user"},
		{"PUT", "/v1/users/" + a + "/duress_code", `{"code":"1357"}`, 409, "api: duress code must differ from the user's entry code"},
		{"PUT", "/v1/users/" + a + "/entry_code", `{"code":"` + code + `"}`, 409, "api: entry code must differ from the user's duress code"},
		{"POST", "/v1/users/" + a + "/mfa_codes", `{"code":"` + code + `"}`, 409, "api: mfa code must differ from the user's duress code"},
		{"PUT", "/v1/users/" + a + "/duress_code", `{"code":"12a4"}`, 400, "store: code: must be 4–16 ASCII digits 0-9"},
		{"PUT", "/v1/users/u0000000000000ff/duress_code", `{"code":"4444"}`, 404, "not found"},
		{"DELETE", "/v1/users/" + b + "/duress_code", "", 404, "duress code not found"},
	} {
		rec := e.do(store.RoleSystemAdmin, c.method, c.path, c.body)
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.msg) {
			t.Errorf("%s %s %s: %d %s, want %d %q", c.method, c.path, c.body, rec.Code, rec.Body, c.status, c.msg)
		}
		replies = append(replies, rec.Body.String())
	}
	e.must(http.StatusNoContent, "DELETE", "/v1/users/"+a+"/duress_code", "", nil)
	e.must(http.StatusNoContent, "PUT", "/v1/users/"+b+"/duress_code", `{"code":"`+code+`"}`, nil)
	evs, _ := e.st.Events(store.EventQuery{Event: "credential_changed", Limit: 100})
	var acts []string
	for _, ev := range evs {
		if strings.HasPrefix(ev.Action, "duress") {
			acts = append(acts, ev.Action+" "+ev.Actor)
		}
	}
	if got := strings.Join(acts, ","); got != "duress_code_set tok-access_system_admin,duress_code_deleted tok-access_system_admin,duress_code_set tok-access_system_admin" {
		t.Errorf("audit: %s", got)
	}
	for _, s := range append(replies, e.log.String()) {
		if strings.Contains(s, code) {
			t.Errorf("the duress code's digits in %q", s)
		}
	}
}

// TestDuressOutputRoutes: GET /v1/duress reads the latch, DELETE clears
// it (a duress_cleared event naming the token, the line inactive), and a
// second DELETE changes nothing.
func TestDuressOutputRoutes(t *testing.T) {
	pin := readertest.NewOutPin("duress", gpio.Low, nil)
	var latch *door.Duress
	e := newEnv(t, func(o *Options) {
		var err error
		latch, err = door.NewDuress(door.DuressConfig{Output: pin, Active: gpio.High, Store: o.Store})
		if err != nil {
			t.Fatal(err)
		}
		o.Duress = latch
	})
	var st apitype.Duress
	e.must(http.StatusOK, "GET", "/v1/duress", "", &st)
	if st.Active || st.Since != "" {
		t.Errorf("fresh: %+v", st)
	}
	if err := e.st.RecordDuress(store.Event{Event: door.EvDuress, Door: "front", Time: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	// A latch made now (as after a restart) is active from the store.
	latch2, err := door.NewDuress(door.DuressConfig{Output: pin, Active: gpio.High, Store: e.st})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.duress = latch2
	if pin.Level() != gpio.High {
		t.Error("line not active after the restart")
	}
	e.must(http.StatusOK, "GET", "/v1/duress", "", &st)
	if !st.Active || st.Since != "2026-03-02T09:00:00Z" {
		t.Errorf("active: %+v", st)
	}
	st = apitype.Duress{}
	e.must(http.StatusOK, "DELETE", "/v1/duress", "", &st)
	if st.Active || !st.Cleared {
		t.Errorf("clear: %+v", st)
	}
	if pin.Level() != gpio.Low {
		t.Error("line still active after the clear")
	}
	st = apitype.Duress{}
	e.must(http.StatusOK, "DELETE", "/v1/duress", "", &st)
	if st.Active || st.Cleared {
		t.Errorf("second clear: %+v", st)
	}
	evs, _ := e.st.Events(store.EventQuery{Event: door.EvDuressCleared, Limit: 10})
	if len(evs) != 1 || evs[0].Actor != "tok-access_system_admin" || evs[0].Role != store.RoleSystemAdmin {
		t.Errorf("duress_cleared events %+v", evs)
	}
	if rec := e.do(store.RoleUserAdmin, "DELETE", "/v1/duress", ""); rec.Code != http.StatusForbidden {
		t.Errorf("user admin: %d", rec.Code)
	}
}
