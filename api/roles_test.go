package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/latchd/latch/store"
)

// fixture is a fresh user with one card, an entry code, one MFA code and
// a duress code.
type fixture struct {
	uid, ext string
	card     string // FORMAT/FC/CN
	mfaID    string
	mfaCode  string
	n        int
}

func (e *env) fixture(n int) fixture {
	e.t.Helper()
	f := fixture{n: n, ext: fmt.Sprintf("fx-%d", n)}
	f.uid = e.newUser(f.ext)
	by := store.Actor{Name: "test", Role: store.RoleSystemAdmin}
	if err := e.st.AddCard(f.uid, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: uint64(n), Active: true}, by); err != nil {
		e.t.Fatal(err)
	}
	f.card = fmt.Sprintf("h10301/1/%d", n)
	if err := e.st.SetEntryCode(f.uid, []byte(fmt.Sprintf("81%06d", n)), by); err != nil {
		e.t.Fatal(err)
	}
	f.mfaCode = fmt.Sprintf("93%04d", n)
	info, err := e.st.AddMFACode(f.uid, []byte(f.mfaCode), by)
	if err != nil {
		e.t.Fatal(err)
	}
	f.mfaID = info.ID
	if err := e.st.SetDuressCode(f.uid, []byte(fmt.Sprintf("73%06d", n)), by); err != nil {
		e.t.Fatal(err)
	}
	return f
}

var (
	all = []string{store.RoleSystemAdmin, store.RoleUserAdmin, store.RoleUserManager, store.RoleCredentialManager,
		store.RoleDoorManager, store.RoleViewer}
	// readers are the roles that read users (every role but the door manager).
	readers = []string{store.RoleSystemAdmin, store.RoleUserAdmin, store.RoleUserManager, store.RoleCredentialManager, store.RoleViewer}
	// doorsRead and doorsCmd: who reads doors, who commands them.
	doorsRead = []string{store.RoleSystemAdmin, store.RoleDoorManager, store.RoleViewer}
	doorsCmd  = []string{store.RoleSystemAdmin, store.RoleDoorManager}
	creds     = []string{store.RoleSystemAdmin, store.RoleUserAdmin, store.RoleUserManager, store.RoleCredentialManager}
	uwrite    = []string{store.RoleSystemAdmin, store.RoleUserAdmin, store.RoleUserManager}
)

// endpoint is one row of the role table test: the route, a request built on
// a fresh fixture, the roles that may call it and the status they get.
type endpoint struct {
	method, pattern string
	path            func(f fixture) string
	body            func(f fixture) string
	allowed         []string
	ok              int
}

func p(s string) func(fixture) string { return func(fixture) string { return s } }

func endpoints() []endpoint {
	u := func(suffix string) func(f fixture) string {
		return func(f fixture) string { return "/v1/users/" + f.uid + suffix }
	}
	card := func(suffix string) func(f fixture) string {
		return func(f fixture) string { return "/v1/users/" + f.uid + "/cards/" + f.card + suffix }
	}
	return []endpoint{
		{"GET", "/v1/health", p("/v1/health"), nil, all, 200},
		{"GET", "/metrics", p("/metrics"), nil, all, 200},
		{"GET", "/v1/users", p("/v1/users?limit=5&search=fx"), nil, readers, 200},
		{"POST", "/v1/users", p("/v1/users"), func(f fixture) string { return fmt.Sprintf(`{"external_id":"new-%d","first_name":"N"}`, f.n) }, uwrite, 201},
		{"GET", pathUser, u(""), nil, readers, 200},
		{"PATCH", pathUser, u(""), p(`{"last_name":"Byron"}`), uwrite, 200},
		{"DELETE", pathUser, u(""), nil, []string{store.RoleSystemAdmin, store.RoleUserAdmin}, 204},
		{"POST", pathUser + "/suspend", u("/suspend"), nil, uwrite, 200},
		{"POST", pathUser + "/unsuspend", u("/unsuspend"), nil, uwrite, 200},
		{"GET", pathUser + "/cards", u("/cards"), nil, creds, 200},
		{"POST", pathUser + "/cards", u("/cards"), func(f fixture) string {
			return fmt.Sprintf(`{"format":"h10301","facility_code":2,"card_number":%d}`, f.n)
		}, creds, 201},
		{"POST", pathCard + "/activate", card("/activate"), nil, creds, 200},
		{"POST", pathCard + "/deactivate", card("/deactivate"), nil, creds, 200},
		{"DELETE", pathCard, card(""), nil, creds, 204},
		{"PUT", pathUser + "/entry_code", u("/entry_code"), func(f fixture) string { return fmt.Sprintf(`{"code":"82%06d"}`, f.n) }, creds, 204},
		{"DELETE", pathUser + "/entry_code", u("/entry_code"), nil, creds, 204},
		{"PUT", pathUser + "/duress_code", u("/duress_code"), func(f fixture) string { return fmt.Sprintf(`{"code":"74%06d"}`, f.n) }, creds, 204},
		{"DELETE", pathUser + "/duress_code", u("/duress_code"), nil, creds, 204},
		// Clearing the duress output: the system admin and the door
		// manager (docs/operations.md).
		{"GET", "/v1/duress", p("/v1/duress"), nil, []string{store.RoleSystemAdmin, store.RoleDoorManager}, 200},
		{"DELETE", "/v1/duress", p("/v1/duress"), nil, []string{store.RoleSystemAdmin, store.RoleDoorManager}, 200},
		{"GET", pathMFA, u("/mfa_codes"), nil, creds, 200},
		{"POST", pathMFA, u("/mfa_codes"), p(`{"code":"5551234"}`), creds, 201},
		{"POST", pathMFA + "/generate", u("/mfa_codes/generate"), p(`{"length":8}`), creds, 201},
		{"PUT", pathMFA + "/{id}", func(f fixture) string { return "/v1/users/" + f.uid + "/mfa_codes/" + f.mfaID }, p(`{"code":"5554321"}`), creds, 200},
		{"DELETE", pathMFA + "/{id}", func(f fixture) string { return "/v1/users/" + f.uid + "/mfa_codes/" + f.mfaID }, nil, creds, 204},
		{"POST", "/access/v1/credentials/mfa_code", func(f fixture) string { return "/access/v1/credentials/mfa_code?external_id=" + f.ext }, p(`{"code":"24681357"}`), creds, 200},
		{"DELETE", "/access/v1/credentials/mfa_code", func(f fixture) string {
			return "/access/v1/credentials/mfa_code?user_id=" + f.uid + "&code=" + f.mfaCode
		}, nil, creds, 200},
		{"POST", "/core/v1/user", p("/core/v1/user"), func(f fixture) string {
			return fmt.Sprintf(`{"external_id":"core-%d","first_name":"C","email":"c%d@example.com","department":"ops"}`, f.n, f.n)
		}, uwrite, 200},
		{"DELETE", "/core/v1/user", func(f fixture) string { return "/core/v1/user?user_id=" + f.uid }, p("{}"), []string{store.RoleSystemAdmin, store.RoleUserAdmin}, 200},
		{"GET", "/access/v1/access_users", p("/access/v1/access_users?org_id=x"), p("{}"), readers, 200},
		{"GET", "/access/v1/access_users/user", func(f fixture) string { return "/access/v1/access_users/user?user_id=" + f.uid }, p("{}"), readers, 200},
		{"PUT", "/access/v1/access_users/user/entry_code", func(f fixture) string {
			return "/access/v1/access_users/user/entry_code?override=True&external_id=" + f.ext
		}, func(f fixture) string { return fmt.Sprintf(`{"entry_code":"83%06d"}`, f.n) }, creds, 200},
		{"DELETE", "/access/v1/access_users/user/entry_code", func(f fixture) string { return "/access/v1/access_users/user/entry_code?user_id=" + f.uid }, p("{}"), creds, 200},
		{"PUT", "/access/v1/access_users/user/start_date", func(f fixture) string { return "/access/v1/access_users/user/start_date?user_id=" + f.uid }, p(`{"start_date":"1767225600"}`), uwrite, 200},
		{"PUT", "/access/v1/access_users/user/end_date", func(f fixture) string { return "/access/v1/access_users/user/end_date?user_id=" + f.uid }, p(`{"end_date":"1893456000"}`), uwrite, 200},
		{"POST", "/access/v1/credentials/card", func(f fixture) string { return "/access/v1/credentials/card?user_id=" + f.uid }, func(f fixture) string {
			return fmt.Sprintf(`{"type":"HID","card_number":"%d","facility_code":"3","active":true}`, f.n)
		}, creds, 200},
		{"PUT", "/access/v1/credentials/card/activate", func(f fixture) string {
			return "/access/v1/credentials/card/activate?user_id=" + f.uid + "&card_id=" + fixtureCardID(f)
		}, p("{}"), creds, 200},
		{"PUT", "/access/v1/credentials/card/deactivate", func(f fixture) string {
			return "/access/v1/credentials/card/deactivate?user_id=" + f.uid + "&card_id=" + fixtureCardID(f)
		}, p("{}"), creds, 200},
		{"DELETE", "/access/v1/credentials/card", func(f fixture) string {
			return "/access/v1/credentials/card?user_id=" + f.uid + "&card_id=" + fixtureCardID(f)
		}, p("{}"), creds, 200},
		{"GET", "/access/v1/access_groups", p("/access/v1/access_groups"), p("{}"), all, 200},
		{"GET", "/access/v1/access_groups/group", p("/access/v1/access_groups/group?group_id=" + NameUUID("group", "latch", "staff")), p("{}"), all, 200},
		{"PUT", "/access/v1/access_groups/group/user", p("/access/v1/access_groups/group/user?group_id=" + NameUUID("group", "latch", "staff")),
			func(f fixture) string { return `{"user_id":"` + f.uid + `"}` }, uwrite, 200},
		{"DELETE", "/access/v1/access_groups/group/user", func(f fixture) string {
			return "/access/v1/access_groups/group/user?group_id=" + NameUUID("group", "latch", "cleaners") + "&external_id=" + f.ext
		}, p("{}"), uwrite, 200},
		{"GET", "/access/v1/doors", p("/access/v1/doors?door_ids=" + NameUUID("door", "latch", "front")), p("{}"), doorsRead, 200},
		{"GET", "/events/v1/access", p("/events/v1/access?page_size=200&start_time=0.5"), p("{}"), all, 200},
		{"GET", "/v1/groups", p("/v1/groups"), nil, all, 200},
		{"GET", "/v1/doors", p("/v1/doors"), nil, doorsRead, 200},
		{"GET", "/v1/doors/{name}", p("/v1/doors/front"), nil, doorsRead, 200},
		{"POST", "/v1/doors/{name}/unlock", p("/v1/doors/front/unlock"), p(`{"duration":"3s"}`), doorsCmd, 200},
		{"POST", "/access/v1/door/admin_unlock", p("/access/v1/door/admin_unlock"), p(`{"door_id":"front"}`), doorsCmd, 200},
		{"PUT", "/v1/doors/{name}/override", p("/v1/doors/front/override"), p(`{"mode":"locked","for":"1h"}`), doorsCmd, 200},
		{"DELETE", "/v1/doors/{name}/override", p("/v1/doors/front/override"), nil, doorsCmd, 200},
		{"POST", "/v1/lockdown", p("/v1/lockdown"), p(`{"doors":["back"]}`), doorsCmd, 200},
		{"GET", "/v1/lockdown", p("/v1/lockdown"), nil, doorsRead, 200},
		{"DELETE", "/v1/lockdown", p("/v1/lockdown"), p(`{"doors":["back"]}`), doorsCmd, 200},
		{"GET", "/v1/events", p("/v1/events?limit=10"), nil, all, 200},
		{"GET", "/v1/events/stream", p("/v1/events/stream"), nil, all, 200},
		{"POST", "/v1/import", p("/v1/import"), func(f fixture) string {
			return fmt.Sprintf("externalId,firstName,lastName,email,startDate,endDate,groups\nimp-%d,Imp,Ort,,,,staff\n", f.n)
		}, uwrite, 200},
		{"GET", "/v1/tokens", p("/v1/tokens"), nil, []string{store.RoleSystemAdmin}, 200},
		{"POST", "/v1/tokens", p("/v1/tokens"), func(f fixture) string { return fmt.Sprintf(`{"name":"t%d","role":"viewer"}`, f.n) }, []string{store.RoleSystemAdmin}, 201},
		{"DELETE", "/v1/tokens/{name}", p("/v1/tokens/tok-viewer-spare"), nil, []string{store.RoleSystemAdmin}, 204},
		{"GET", "/v1/admins", p("/v1/admins"), nil, []string{store.RoleSystemAdmin}, 200},
		{"POST", "/v1/admins", p("/v1/admins"), func(f fixture) string {
			return fmt.Sprintf(`{"name":"adm%d","role":"viewer","password":"a long password"}`, f.n)
		}, []string{store.RoleSystemAdmin}, 201},
		{"PUT", "/v1/admins/{name}/password", p("/v1/admins/adm-spare/password"), func(fixture) string { return `{"password":"another long one"}` }, []string{store.RoleSystemAdmin}, 204},
		{"DELETE", "/v1/admins/{name}", p("/v1/admins/adm-spare"), nil, []string{store.RoleSystemAdmin}, 204},
	}
}

// TestRoleTable calls every endpoint as every role and with no token, and
// checks the exact status: the role table of docs/api.md, as store.Allowed
// (store/roles.go) grants it; TestPermissionsMatchDocs pins the table itself.
func TestRoleTable(t *testing.T) {
	e := newEnv(t, withDoors())
	// The stream would run until its request ends: end it at once.
	covered := map[string]bool{}
	n := 0
	for _, ep := range endpoints() {
		covered[ep.method+" "+ep.pattern] = true
		for _, role := range append([]string{""}, all...) {
			n++
			name := role
			if name == "" {
				name = "no-token"
			}
			t.Run(ep.method+" "+ep.pattern+"/"+name, func(t *testing.T) {
				f := e.fixture(n)
				if strings.HasPrefix(ep.pattern, "/v1/admins/{name}") {
					if err := e.st.CreateAdmin("adm-spare", store.RoleViewer, []byte("a long password"), store.Actor{Name: "test"}); err != nil {
						t.Fatal(err)
					}
					defer e.st.DeleteAdmin("adm-spare", store.Actor{Name: "test"})
				}
				if ep.pattern == "/v1/tokens/{name}" {
					if _, err := e.st.CreateToken("tok-viewer-spare", store.RoleViewer, store.Actor{Name: "test"}); err != nil {
						t.Fatal(err)
					}
					defer e.st.RevokeToken("tok-viewer-spare", store.Actor{Name: "test"})
				}
				want := http.StatusForbidden
				switch {
				case role == "":
					want = http.StatusUnauthorized
				case contains(ep.allowed, role):
					want = ep.ok
				}
				body := ""
				if ep.body != nil {
					body = ep.body(f)
				}
				peer := fmt.Sprintf("198.51.100.%d:1", n%250)
				var code int
				if ep.pattern == "/v1/events/stream" {
					code = e.streamStatus(peer, role, ep.path(f))
				} else {
					code = e.doFrom(peer, role, ep.method, ep.path(f), body).Code
				}
				if code != want {
					t.Errorf("status %d, want %d", code, want)
				}
			})
		}
	}
	for _, r := range e.srv.Routes() {
		if !covered[r.Method+" "+r.Path] {
			t.Errorf("route %s %s is not in the role table test", r.Method, r.Path)
		}
	}
}

// fixtureCardID is the Verkada card_id of the fixture's card.
func fixtureCardID(f fixture) string {
	return cardIDOf(store.CardKey{Format: "h10301", FacilityCode: 1, CardNumber: uint64(f.n)})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
