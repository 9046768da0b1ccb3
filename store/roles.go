package store

import (
	"slices"
	"strings"
)

// The roles an API token may have (docs/api.md, "Tokens and roles"). This file owns
// them, the permissions each grants and the token name rule; the API and
// latchctl ask it.
const (
	RoleSystemAdmin       = "access_system_admin"
	RoleUserAdmin         = "access_user_admin"
	RoleUserManager       = "access_user_manager"
	RoleCredentialManager = "access_credential_manager"
	RoleViewer            = "viewer"
	// RoleDoorManager reads doors, groups and events and commands doors:
	// unlock, override, lockdown (docs/operations.md).
	RoleDoorManager = "access_door_manager"
)

// Roles lists every role, most powerful first.
var Roles = []string{RoleSystemAdmin, RoleUserAdmin, RoleUserManager, RoleCredentialManager, RoleDoorManager, RoleViewer}

// RoleRule is the rule a token's role must meet.
var RoleRule = "must be one of " + strings.Join(Roles, ", ")

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool { return slices.Contains(Roles, r) }

// Permission is what an API route needs of the caller's role.
type Permission string

// Permissions, one per column of the role table in docs/api.md.
const (
	PermUsersRead    Permission = "users.read"    // list and read users
	PermUsersWrite   Permission = "users.write"   // create, update (incl. groups), suspend
	PermUsersDelete  Permission = "users.delete"  // delete users
	PermCredentials  Permission = "credentials"   // cards, entry codes, MFA codes: read and change
	PermDoorsRead    Permission = "doors.read"    // doors, their modes and schedules
	PermGroupsRead   Permission = "groups.read"   // access groups (names are needed to assign them)
	PermTokens       Permission = "tokens"        // list, create, revoke API tokens
	PermEventsRead   Permission = "events.read"   // events, the live stream
	PermImport       Permission = "import"        // CSV import; the file may change only what the role's other permissions allow
	PermStatus       Permission = "status"        // health and metrics
	PermDoorsCommand Permission = "doors.command" // unlock, override, lock down doors
	// PermDuress: read and clear the duress output (docs/operations.md,
	// "Duress codes"); the codes themselves are PermCredentials.
	PermDuress Permission = "duress"
)

// grants is the role table. A permission not listed for a role is refused.
var grants = map[string][]Permission{
	RoleSystemAdmin: {PermUsersRead, PermUsersWrite, PermUsersDelete, PermCredentials,
		PermDoorsRead, PermGroupsRead, PermTokens, PermEventsRead, PermImport, PermStatus, PermDoorsCommand, PermDuress},
	RoleUserAdmin: {PermUsersRead, PermUsersWrite, PermUsersDelete, PermCredentials,
		PermGroupsRead, PermEventsRead, PermImport, PermStatus},
	RoleUserManager: {PermUsersRead, PermUsersWrite, PermCredentials,
		PermGroupsRead, PermEventsRead, PermImport, PermStatus},
	RoleCredentialManager: {PermUsersRead, PermCredentials,
		PermGroupsRead, PermEventsRead, PermImport, PermStatus},
	RoleViewer:      {PermUsersRead, PermDoorsRead, PermGroupsRead, PermEventsRead, PermStatus},
	RoleDoorManager: {PermDoorsRead, PermGroupsRead, PermEventsRead, PermStatus, PermDoorsCommand, PermDuress},
}

// Allowed reports whether role has permission p. An unknown role has none.
func Allowed(role string, p Permission) bool { return slices.Contains(grants[role], p) }

// TokenNameRule is the rule for API token names.
const TokenNameRule = "must be 1–64 characters of A–Z, a–z, 0–9, '.', '_', '-'"

// CheckTokenName checks an API token's name: a *ValidationError naming
// TokenNameRule, or nil.
func CheckTokenName(name string) error {
	if name == "" || len(name) > 64 {
		return invalid("name", TokenNameRule)
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return invalid("name", TokenNameRule)
		}
	}
	return nil
}

// CheckToken checks a new token's name and role, as CreateToken does
// before it writes anything: a *ValidationError, or nil.
func CheckToken(name, role string) error {
	if err := CheckTokenName(name); err != nil {
		return err
	}
	if !ValidRole(role) {
		return invalid("role", RoleRule)
	}
	return nil
}
