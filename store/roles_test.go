package store

import (
	"errors"
	"strings"
	"testing"
)

// TestPermissionsMatchDocs pins the role table to the one in docs/api.md
// ("Tokens and roles"), so a change to grants is a visible change here.
func TestPermissionsMatchDocs(t *testing.T) {
	want := map[string]string{
		RoleSystemAdmin:       "credentials doors.command doors.read events.read groups.read import status tokens users.delete users.read users.write",
		RoleUserAdmin:         "credentials events.read groups.read import status users.delete users.read users.write",
		RoleUserManager:       "credentials events.read groups.read import status users.read users.write",
		RoleCredentialManager: "credentials events.read groups.read import status users.read",
		RoleViewer:            "doors.read events.read groups.read status users.read",
		RoleDoorManager:       "doors.command doors.read events.read groups.read status",
	}
	perms := []Permission{PermCredentials, PermDoorsCommand, PermDoorsRead, PermEventsRead, PermGroupsRead, PermImport, PermStatus, PermTokens, PermUsersDelete, PermUsersRead, PermUsersWrite}
	if len(want) != len(Roles) {
		t.Errorf("%d roles, the docs table has %d", len(Roles), len(want))
	}
	for role, w := range want {
		var got []string
		for _, p := range perms {
			if Allowed(role, p) {
				got = append(got, string(p))
			}
		}
		if g := strings.Join(got, " "); g != w {
			t.Errorf("%s: %s, want %s", role, g, w)
		}
	}
	// MFA codes: exactly these four roles.
	var mfa []string
	for _, r := range Roles {
		if Allowed(r, PermCredentials) {
			mfa = append(mfa, r)
		}
	}
	if g := strings.Join(mfa, " "); g != "access_system_admin access_user_admin access_user_manager access_credential_manager" {
		t.Errorf("MFA code managers: %s", g)
	}
	if Allowed("nonsense", PermStatus) || Allowed("", PermUsersRead) {
		t.Error("an unknown role was allowed something")
	}
}

// TestCheckToken: the token name and role rules CreateToken, the API and
// latchctl share; a refused token is not written.
func TestCheckToken(t *testing.T) {
	for _, c := range []struct {
		name, role, field string
	}{
		{"integrator-1", RoleViewer, ""},
		{"a.b_C-9", RoleSystemAdmin, ""},
		{strings.Repeat("x", 64), RoleViewer, ""},
		{"", RoleViewer, "name"},
		{strings.Repeat("x", 65), RoleViewer, "name"},
		{"has space", RoleViewer, "name"},
		{"ümlaut", RoleViewer, "name"},
		{"ok", "admin", "role"},
		{"ok", "", "role"},
	} {
		err := CheckToken(c.name, c.role)
		var ve *ValidationError
		switch {
		case c.field == "" && err != nil:
			t.Errorf("CheckToken(%q, %q): %v", c.name, c.role, err)
		case c.field != "" && (!errors.As(err, &ve) || ve.Field != c.field):
			t.Errorf("CheckToken(%q, %q): %v, want a %s rule", c.name, c.role, err, c.field)
		}
	}
	s := openTest(t)
	if _, err := s.CreateToken("bad name", RoleViewer, Actor{Name: "test"}); err == nil {
		t.Fatal("CreateToken took a name with a space")
	}
	if ts, _ := s.Tokens(); len(ts) != 0 {
		t.Errorf("a refused token was written: %v", ts)
	}
}
