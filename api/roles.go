package api

// The roles a token may have (product.md §7).
const (
	RoleSystemAdmin       = "access_system_admin"
	RoleUserAdmin         = "access_user_admin"
	RoleUserManager       = "access_user_manager"
	RoleCredentialManager = "access_credential_manager"
	RoleViewer            = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []string{RoleSystemAdmin, RoleUserAdmin, RoleUserManager, RoleCredentialManager, RoleViewer}

// ValidRole reports whether r is one of Roles.
func ValidRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Permission is what a route needs of the caller's role.
type Permission string

// Permissions, one per column entry of the role table in product.md §7.
const (
	PermUsersRead   Permission = "users.read"   // list and read users
	PermUsersWrite  Permission = "users.write"  // create, update (incl. groups), suspend
	PermUsersDelete Permission = "users.delete" // delete users
	PermCredentials Permission = "credentials"  // cards, entry codes, MFA codes: read and change
	PermDoorsRead   Permission = "doors.read"   // doors, their modes and schedules
	PermGroupsRead  Permission = "groups.read"  // access groups (names are needed to assign them)
	PermTokens      Permission = "tokens"       // list, create, revoke API tokens
	PermEventsRead  Permission = "events.read"  // events, the live stream
	PermImport      Permission = "import"       // CSV import; the file may change only what the role's other permissions allow
	PermStatus      Permission = "status"       // health and metrics
)

// grants is the role table. A permission not listed for a role is refused
// with 403.
var grants = map[string]map[Permission]bool{
	RoleSystemAdmin: set(PermUsersRead, PermUsersWrite, PermUsersDelete, PermCredentials,
		PermDoorsRead, PermGroupsRead, PermTokens, PermEventsRead, PermImport, PermStatus),
	RoleUserAdmin: set(PermUsersRead, PermUsersWrite, PermUsersDelete, PermCredentials,
		PermGroupsRead, PermEventsRead, PermImport, PermStatus),
	RoleUserManager: set(PermUsersRead, PermUsersWrite, PermCredentials,
		PermGroupsRead, PermEventsRead, PermImport, PermStatus),
	RoleCredentialManager: set(PermUsersRead, PermCredentials,
		PermGroupsRead, PermEventsRead, PermImport, PermStatus),
	RoleViewer: set(PermUsersRead, PermDoorsRead, PermGroupsRead, PermEventsRead, PermStatus),
}

func set(ps ...Permission) map[Permission]bool {
	m := make(map[Permission]bool, len(ps))
	for _, p := range ps {
		m[p] = true
	}
	return m
}

// Allowed reports whether role has permission p.
func Allowed(role string, p Permission) bool { return grants[role][p] }
