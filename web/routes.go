package web

import (
	"net/http"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/store"
)

// route is one page action: method, path, the permission it needs of the
// account's role (store/roles.go's table, checked with store.Allowed as
// the API's routes are; "" = any signed-in account) and its handler.
// Changes also pass the API route's own check (api.Server.Call).
type route struct {
	Method, Path string
	Perm         store.Permission
	h            func(http.ResponseWriter, *http.Request, *req)
}

// Route is a page action as Routes lists it (docs, tests): the API's
// listing type, as a page action's permission is checked as an API
// route's is.
type Route = api.Route

// Routes lists every page action but sign-in, the language switch and the
// static files, which need no session.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path, Perm: r.Perm})
	}
	return out
}

const (
	pUser = "/users/{user_id}"
	pMFA  = pUser + "/mfa/{id}"
	pDoor = "/doors/{name}" // "*" for every door (lockdown, release)
)

func (s *Server) routes() []route {
	return []route{
		{http.MethodPost, "/signout", "", s.signOut},
		{http.MethodGet, "/{$}", "", s.landing},

		{http.MethodGet, "/users", store.PermUsersRead, s.users},
		{http.MethodPost, "/users", store.PermUsersWrite, s.createUser},
		{http.MethodGet, pUser, store.PermUsersRead, s.user},
		{http.MethodPost, pUser, store.PermUsersWrite, s.updateUser},
		{http.MethodPost, pUser + "/suspend", store.PermUsersWrite, s.suspend(true)},
		{http.MethodPost, pUser + "/unsuspend", store.PermUsersWrite, s.suspend(false)},

		{http.MethodPost, pUser + "/cards", store.PermCredentials, s.addCard},
		{http.MethodPost, pUser + "/cards/activate", store.PermCredentials, s.cardAction("activate")},
		{http.MethodPost, pUser + "/cards/deactivate", store.PermCredentials, s.cardAction("deactivate")},
		{http.MethodPost, pUser + "/cards/delete", store.PermCredentials, s.cardAction("delete")},
		{http.MethodPost, pUser + "/entry", store.PermCredentials, s.setEntry},
		{http.MethodPost, pUser + "/entry/delete", store.PermCredentials, s.deleteEntry},
		{http.MethodPost, pUser + "/duress", store.PermCredentials, s.setDuress},
		{http.MethodPost, pUser + "/duress/delete", store.PermCredentials, s.deleteDuress},

		{http.MethodGet, pUser + "/mfa/new", store.PermCredentials, s.mfaNew},
		{http.MethodPost, pUser + "/mfa", store.PermCredentials, s.mfaAdd},
		{http.MethodGet, pMFA + "/edit", store.PermCredentials, s.mfaEdit},
		{http.MethodPost, pMFA, store.PermCredentials, s.mfaReplace},
		{http.MethodGet, pMFA + "/delete", store.PermCredentials, s.mfaDeleteConfirm},
		{http.MethodPost, pMFA + "/delete", store.PermCredentials, s.mfaDelete},

		{http.MethodGet, "/doors", store.PermDoorsRead, s.doors},
		{http.MethodGet, pDoor + "/unlock", store.PermDoorsCommand, s.doorConfirm("unlock")},
		{http.MethodPost, pDoor + "/unlock", store.PermDoorsCommand, s.doorRun("unlock")},
		{http.MethodGet, pDoor + "/override", store.PermDoorsCommand, s.doorConfirm("override")},
		{http.MethodPost, pDoor + "/override", store.PermDoorsCommand, s.doorRun("override")},
		{http.MethodGet, pDoor + "/clear", store.PermDoorsCommand, s.doorConfirm("clear")},
		{http.MethodPost, pDoor + "/clear", store.PermDoorsCommand, s.doorRun("clear")},
		{http.MethodGet, pDoor + "/lockdown", store.PermDoorsCommand, s.doorConfirm("lockdown")},
		{http.MethodPost, pDoor + "/lockdown", store.PermDoorsCommand, s.doorRun("lockdown")},
		{http.MethodGet, pDoor + "/release", store.PermDoorsCommand, s.doorConfirm("release")},
		{http.MethodPost, pDoor + "/release", store.PermDoorsCommand, s.doorRun("release")},

		{http.MethodGet, "/events", store.PermEventsRead, s.events},
		{http.MethodGet, "/events/stream", store.PermEventsRead, s.eventStream},

		{http.MethodGet, "/import", store.PermImport, s.importForm},
		{http.MethodPost, "/import", store.PermImport, s.importUpload},
		{http.MethodGet, "/import/status", store.PermImport, s.importStatus},
	}
}

// landing sends an account to the first page its role may see.
func (s *Server) landing(w http.ResponseWriter, r *http.Request, q *req) {
	to := "/events"
	for _, p := range []struct {
		perm store.Permission
		path string
	}{{store.PermUsersRead, "/users"}, {store.PermDoorsRead, "/doors"}} {
		if q.can(p.perm) {
			to = p.path
			break
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
