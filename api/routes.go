package api

import "net/http"

// route is one endpoint: its method and ServeMux path pattern, the
// permission it needs, what a store.ErrNotFound means for it, and its handler.
type route struct {
	Method string
	Path   string
	Perm   Permission
	what   string
	h      handlerFunc
}

// Route is an endpoint as listed by Routes.
type Route struct {
	Method, Path string
	Perm         Permission
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
		{http.MethodGet, "/v1/health", PermStatus, "", s.health},
		{http.MethodGet, "/metrics", PermStatus, "", s.metricsHandler},

		{http.MethodGet, "/v1/users", PermUsersRead, "user", s.listUsers},
		{http.MethodPost, "/v1/users", PermUsersWrite, "external_id", s.createUser},
		{http.MethodGet, pathUser, PermUsersRead, "user", s.getUser},
		{http.MethodPatch, pathUser, PermUsersWrite, "user", s.patchUser},
		{http.MethodDelete, pathUser, PermUsersDelete, "user", s.deleteUser},
		{http.MethodPost, pathUser + "/suspend", PermUsersWrite, "user", s.suspendUser(true)},
		{http.MethodPost, pathUser + "/unsuspend", PermUsersWrite, "user", s.suspendUser(false)},

		{http.MethodGet, pathUser + "/cards", PermCredentials, "user", s.listCards},
		{http.MethodPost, pathUser + "/cards", PermCredentials, "card", s.addCard},
		{http.MethodPost, pathCard + "/activate", PermCredentials, "card", s.setCardActive(true)},
		{http.MethodPost, pathCard + "/deactivate", PermCredentials, "card", s.setCardActive(false)},
		{http.MethodDelete, pathCard, PermCredentials, "card", s.deleteCard},

		{http.MethodPut, pathUser + "/entry_code", PermCredentials, "entry code", s.setEntryCode},
		{http.MethodDelete, pathUser + "/entry_code", PermCredentials, "entry code", s.deleteEntryCode},

		{http.MethodGet, pathMFA, PermCredentials, "user", s.listMFA},
		{http.MethodPost, pathMFA, PermCredentials, "user", s.addMFA},
		{http.MethodPost, pathMFA + "/generate", PermCredentials, "user", s.generateMFA},
		{http.MethodPut, pathMFA + "/{id}", PermCredentials, "mfa code", s.replaceMFA},
		{http.MethodDelete, pathMFA + "/{id}", PermCredentials, "mfa code", s.deleteMFA},

		{http.MethodPost, "/access/v1/credentials/mfa_code", PermCredentials, "user", s.verkadaAddMFA},
		{http.MethodDelete, "/access/v1/credentials/mfa_code", PermCredentials, "mfa code", s.verkadaDeleteMFA},

		{http.MethodGet, "/v1/groups", PermGroupsRead, "group", s.listGroups},
		{http.MethodGet, "/v1/doors", PermDoorsRead, "door", s.listDoors},
		{http.MethodGet, "/v1/doors/{name}", PermDoorsRead, "door", s.getDoor},

		{http.MethodGet, "/v1/events", PermEventsRead, "event", s.listEvents},
		{http.MethodGet, "/v1/events/stream", PermEventsRead, "event", s.streamEvents},

		{http.MethodPost, "/v1/import", PermImport, "user", s.importCSV},

		{http.MethodGet, "/v1/tokens", PermTokens, "token", s.listTokens},
		{http.MethodPost, "/v1/tokens", PermTokens, "token name", s.createToken},
		{http.MethodDelete, "/v1/tokens/{name}", PermTokens, "token", s.revokeToken},
	}
}
