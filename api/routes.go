package api

import (
	"net/http"

	"github.com/latchd/latch/store"
)

// route is one endpoint: its method and ServeMux path pattern, the
// permission it needs, what a store.ErrConflict is about (404s name what
// was not found themselves, store.NotFoundError), and its handler.
type route struct {
	Method string
	Path   string
	Perm   store.Permission
	what   string
	h      handlerFunc
}

// Route is an endpoint as listed by Routes.
type Route struct {
	Method, Path string
	Perm         store.Permission
}

// Routes lists every endpoint the server serves (for docs and tests).
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path, Perm: r.Perm})
	}
	return out
}

const (
	pathUser = "/v1/users/{user_id}"
	pathCard = pathUser + "/cards/{format}/{facility_code}/{card_number}"
	pathMFA  = pathUser + "/mfa_codes"
)

func (s *Server) routes() []route {
	return []route{
		{http.MethodGet, "/v1/health", store.PermStatus, "", s.health},
		{http.MethodGet, "/metrics", store.PermStatus, "", s.metricsHandler},

		{http.MethodGet, "/v1/users", store.PermUsersRead, "user", s.listUsers},
		{http.MethodPost, "/v1/users", store.PermUsersWrite, "external_id", s.createUser},
		{http.MethodGet, pathUser, store.PermUsersRead, "user", s.getUser},
		{http.MethodPatch, pathUser, store.PermUsersWrite, "external_id", s.patchUser},
		{http.MethodDelete, pathUser, store.PermUsersDelete, "user", s.deleteUser},
		{http.MethodPost, pathUser + "/suspend", store.PermUsersWrite, "user", s.suspendUser(true)},
		{http.MethodPost, pathUser + "/unsuspend", store.PermUsersWrite, "user", s.suspendUser(false)},

		{http.MethodGet, pathUser + "/cards", store.PermCredentials, "user", s.listCards},
		{http.MethodPost, pathUser + "/cards", store.PermCredentials, "card", s.addCard},
		{http.MethodPost, pathCard + "/activate", store.PermCredentials, "card", s.setCardActive(true)},
		{http.MethodPost, pathCard + "/deactivate", store.PermCredentials, "card", s.setCardActive(false)},
		{http.MethodDelete, pathCard, store.PermCredentials, "card", s.deleteCard},

		{http.MethodPut, pathUser + "/entry_code", store.PermCredentials, "entry code", s.setEntryCode},
		{http.MethodDelete, pathUser + "/entry_code", store.PermCredentials, "entry code", s.deleteEntryCode},
		{http.MethodPut, pathUser + "/duress_code", store.PermCredentials, "duress code", s.setDuressCode},
		{http.MethodDelete, pathUser + "/duress_code", store.PermCredentials, "duress code", s.deleteDuressCode},
		{http.MethodGet, "/v1/duress", store.PermDuress, "duress", s.getDuress},
		{http.MethodDelete, "/v1/duress", store.PermDuress, "duress", s.clearDuress},

		{http.MethodGet, pathMFA, store.PermCredentials, "user", s.listMFA},
		{http.MethodPost, pathMFA, store.PermCredentials, "user", s.addMFA},
		{http.MethodPost, pathMFA + "/generate", store.PermCredentials, "user", s.generateMFA},
		{http.MethodPut, pathMFA + "/{id}", store.PermCredentials, "mfa code", s.replaceMFA},
		{http.MethodDelete, pathMFA + "/{id}", store.PermCredentials, "mfa code", s.deleteMFA},

		{http.MethodPost, "/access/v1/credentials/mfa_code", store.PermCredentials, "user", s.verkadaAddMFA},
		{http.MethodDelete, "/access/v1/credentials/mfa_code", store.PermCredentials, "mfa code", s.verkadaDeleteMFA},

		// The rest of the Verkada-compatible API (api/verkada_*.go); POST
		// /token is served apart: its key authenticates it.
		{http.MethodPost, "/core/v1/user", store.PermUsersWrite, "external_id", s.verkadaCreateUser},
		{http.MethodDelete, "/core/v1/user", store.PermUsersDelete, "user", s.verkadaDeleteUser},
		{http.MethodGet, "/access/v1/access_users", store.PermUsersRead, "user", s.verkadaListUsers},
		{http.MethodGet, "/access/v1/access_users/user", store.PermUsersRead, "user", s.verkadaGetUser},
		{http.MethodPut, "/access/v1/access_users/user/entry_code", store.PermCredentials, "entry code", s.verkadaSetEntryCode},
		{http.MethodDelete, "/access/v1/access_users/user/entry_code", store.PermCredentials, "entry code", s.verkadaDeleteEntryCode},
		{http.MethodPut, "/access/v1/access_users/user/start_date", store.PermUsersWrite, "user", s.verkadaSetDate("start_date")},
		{http.MethodPut, "/access/v1/access_users/user/end_date", store.PermUsersWrite, "user", s.verkadaSetDate("end_date")},
		{http.MethodPost, "/access/v1/credentials/card", store.PermCredentials, "card", s.verkadaAddCard},
		{http.MethodPut, "/access/v1/credentials/card/activate", store.PermCredentials, "card", s.verkadaSetCardActive(true)},
		{http.MethodPut, "/access/v1/credentials/card/deactivate", store.PermCredentials, "card", s.verkadaSetCardActive(false)},
		{http.MethodDelete, "/access/v1/credentials/card", store.PermCredentials, "card", s.verkadaDeleteCard},
		{http.MethodGet, "/access/v1/access_groups", store.PermGroupsRead, "access group", s.verkadaListGroups},
		{http.MethodGet, "/access/v1/access_groups/group", store.PermGroupsRead, "access group", s.verkadaGetGroup},
		{http.MethodPut, "/access/v1/access_groups/group/user", store.PermUsersWrite, "user", s.verkadaGroupUser(true)},
		{http.MethodDelete, "/access/v1/access_groups/group/user", store.PermUsersWrite, "user", s.verkadaGroupUser(false)},
		{http.MethodGet, "/access/v1/doors", store.PermDoorsRead, "door", s.verkadaListDoors},
		{http.MethodGet, "/events/v1/access", store.PermEventsRead, "event", s.verkadaEvents},

		{http.MethodGet, "/v1/groups", store.PermGroupsRead, "group", s.listGroups},
		{http.MethodGet, "/v1/doors", store.PermDoorsRead, "door", s.listDoors},
		{http.MethodGet, "/v1/doors/{name}", store.PermDoorsRead, "door", s.getDoor},
		{http.MethodPost, "/v1/doors/{name}/unlock", store.PermDoorsCommand, "door", s.unlockDoor},
		{http.MethodPut, "/v1/doors/{name}/override", store.PermDoorsCommand, "door", s.putOverride},
		{http.MethodDelete, "/v1/doors/{name}/override", store.PermDoorsCommand, "door", s.deleteOverride},
		{http.MethodPost, "/v1/lockdown", store.PermDoorsCommand, "door", s.lockdown(true)},
		{http.MethodDelete, "/v1/lockdown", store.PermDoorsCommand, "door", s.lockdown(false)},
		{http.MethodGet, "/v1/lockdown", store.PermDoorsRead, "door", s.getLockdown},
		{http.MethodPost, "/access/v1/door/admin_unlock", store.PermDoorsCommand, "door", s.adminUnlock},

		{http.MethodGet, "/v1/events", store.PermEventsRead, "event", s.listEvents},
		{http.MethodGet, "/v1/events/stream", store.PermEventsRead, "event", s.streamEvents},

		{http.MethodPost, "/v1/import", store.PermImport, "user", s.importCSV},

		{http.MethodGet, "/v1/tokens", store.PermTokens, "token", s.listTokens},
		{http.MethodPost, "/v1/tokens", store.PermTokens, "token name", s.createToken},
		{http.MethodDelete, "/v1/tokens/{name}", store.PermTokens, "token", s.revokeToken},

		{http.MethodGet, "/v1/admins", store.PermTokens, "admin", s.listAdmins},
		{http.MethodPost, "/v1/admins", store.PermTokens, "admin name", s.createAdmin},
		{http.MethodPut, "/v1/admins/{name}/password", store.PermTokens, "admin", s.setAdminPassword},
		{http.MethodDelete, "/v1/admins/{name}", store.PermTokens, "admin", s.deleteAdmin},
	}
}
