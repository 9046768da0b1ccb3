package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

const pageSize = 25

// userRow is a user as the list shows it.
type userRow struct {
	store.User
	Status string // a catalog key: status.active, …
}

// status is the user's state at now, as the door sees it
// (store.UserView.ActiveAt's order: suspension, then the dates).
func status(u store.User, now time.Time) string {
	switch {
	case u.Suspended:
		return "status.suspended"
	case !u.Start.IsZero() && now.Before(u.Start):
		return "status.notyet"
	case !u.End.IsZero() && !now.Before(u.End):
		return "status.expired"
	}
	return "status.active"
}

type usersData struct {
	Q, Next string
	Users   []userRow
	Groups  []string
}

// users lists a page of users: the search (name, external id, email, or a
// card number) runs when the form is sent, never per keystroke, and a page
// stops at pageSize matches.
func (s *Server) users(w http.ResponseWriter, r *http.Request, q *req) {
	p := s.newPage(w, r, q)
	s.showUsers(w, r, q, p, http.StatusOK)
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, q *req, p *page, status int) {
	query := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(query) > 128 {
		query = query[:128]
	}
	after := r.URL.Query().Get("after")
	d := usersData{Q: query}
	var list []store.User
	var err error
	if n, nerr := strconv.ParseUint(query, 10, 64); nerr == nil && after == "" {
		list, err = s.st.UsersByCardNumber(n, pageSize)
	}
	if err == nil {
		var more []store.User
		more, d.Next, err = s.st.ListUsers(store.ListQuery{Search: query, After: after, Limit: pageSize})
		seen := map[string]bool{}
		for _, u := range list {
			seen[u.UserID] = true
		}
		for _, u := range more {
			if !seen[u.UserID] {
				list = append(list, u)
			}
		}
	}
	if err != nil {
		s.log.Error().Err(err).Msg("list users")
		p.Errs["_"] = p.T("err.internal")
	}
	now := s.now()
	for _, u := range list {
		d.Users = append(d.Users, userRow{u, statusOf(u, now)})
	}
	d.Groups = s.groups(r, q)
	w.WriteHeader(status)
	s.render(w, "users", p.with("users", d))
}

var statusOf = status

// groups are the config's group names (GET /v1/groups, through the API).
func (s *Server) groups(r *http.Request, q *req) []string {
	var gl apitype.GroupList
	if err := s.call(r.Context(), q, http.MethodGet, "/v1/groups", nil, &gl); err != nil {
		return nil
	}
	var out []string
	for _, g := range gl.Groups {
		out = append(out, g.Name)
	}
	return out
}

// userBody is the API's user body from the profile form. Dates are days
// in the controller's zone: start at its midnight, end at the midnight
// after the day (the user is valid through the end day).
func (s *Server) userBody(r *http.Request) (map[string]any, map[string]string) {
	errs := map[string]string{}
	b := map[string]any{}
	for _, f := range []string{"external_id", "first_name", "last_name", "email"} {
		b[f] = r.PostFormValue(f)
	}
	loc := s.loc()
	for _, f := range []string{"start", "end"} {
		v := strings.TrimSpace(r.PostFormValue(f))
		if v == "" {
			b[f] = ""
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil {
			errs[f] = "err.date"
			continue
		}
		if f == "end" {
			t = t.AddDate(0, 0, 1)
		}
		b[f] = t.Format(time.RFC3339)
	}
	groups := r.PostForm["groups"]
	if groups == nil {
		groups = []string{}
	}
	b["groups"] = groups
	return b, errs
}

// errStatus is the status a page answers a failed action with: the API's,
// else 400.
func errStatus(err error) int {
	if ae, ok := err.(*apiErr); ok {
		return ae.Status
	}
	return http.StatusBadRequest
}

// fieldErr puts an API error next to its field: the API's rule in words.
func fieldErr(p *page, err error) {
	if ae, ok := err.(*apiErr); ok {
		if ae.E.Field != "" && ae.E.Rule != "" {
			p.Errs[ae.E.Field] = ae.E.Rule
			return
		}
		p.Errs["_"] = strings.TrimPrefix(strings.TrimPrefix(ae.E.Error, "api: "), "store: ")
		return
	}
	p.Errs["_"] = p.T("err.internal")
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, q *req) {
	p := s.newPage(w, r, q)
	body, errs := s.userBody(r)
	p.Form = r.PostForm
	for f, k := range errs {
		p.Errs[f] = p.T(k)
	}
	if len(errs) == 0 {
		var u apitype.User
		err := s.call(r.Context(), q, http.MethodPost, "/v1/users", body, &u)
		if err == nil {
			http.Redirect(w, r, "/users/"+url.PathEscape(u.UserID)+"?ok=created", http.StatusSeeOther)
			return
		}
		fieldErr(p, err)
	}
	s.showUsers(w, r, q, p, http.StatusBadRequest)
}

type userData struct {
	U       store.User
	Status  string
	Start   string // date inputs, in the controller's zone
	End     string
	Groups  []string
	Formats []string
	InGroup map[string]bool
}

func (s *Server) user(w http.ResponseWriter, r *http.Request, q *req) {
	s.showUser(w, r, q, s.newPage(w, r, q), http.StatusOK)
}

func (s *Server) showUser(w http.ResponseWriter, r *http.Request, q *req, p *page, status int) {
	u, err := s.st.User(r.PathValue("user_id"))
	if err != nil {
		s.refuse(w, r, q, http.StatusNotFound, "err.nouser")
		return
	}
	loc := s.loc()
	d := userData{U: u, Status: statusOf(u, s.now()), Groups: s.groups(r, q), Formats: store.CardFormats(), InGroup: map[string]bool{}}
	if !u.Start.IsZero() {
		d.Start = u.Start.In(loc).Format("2006-01-02")
	}
	if !u.End.IsZero() {
		d.End = u.End.In(loc).Add(-time.Nanosecond).Format("2006-01-02")
	}
	for _, g := range u.Groups {
		d.InGroup[g] = true
	}
	if !q.can(store.PermCredentials) { // as the API: no credentials for a role that may not manage them
		d.U.Cards, d.U.MFACodes, d.U.HasEntryCode = nil, nil, false
	}
	w.WriteHeader(status)
	s.render(w, "user", p.with("users", d))
}

func userPath(r *http.Request) string { return "/v1/users/" + url.PathEscape(r.PathValue("user_id")) }
func pagePath(r *http.Request) string { return "/users/" + url.PathEscape(r.PathValue("user_id")) }

// done goes back to the user's page with a notice, or shows it again with
// the API's error next to its field.
func (s *Server) done(w http.ResponseWriter, r *http.Request, q *req, err error, ok string) {
	if err == nil {
		http.Redirect(w, r, pagePath(r)+"?ok="+ok, http.StatusSeeOther)
		return
	}
	p := s.newPage(w, r, q)
	fieldErr(p, err)
	status := errStatus(err)
	s.showUser(w, r, q, p, status)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, q *req) {
	body, errs := s.userBody(r)
	if len(errs) > 0 {
		p := s.newPage(w, r, q)
		for f, k := range errs {
			p.Errs[f] = p.T(k)
		}
		s.showUser(w, r, q, p, http.StatusBadRequest)
		return
	}
	s.done(w, r, q, s.call(r.Context(), q, http.MethodPatch, userPath(r), body, nil), "saved")
}

func (s *Server) suspend(on bool) func(http.ResponseWriter, *http.Request, *req) {
	action, ok := "/unsuspend", "unsuspended"
	if on {
		action, ok = "/suspend", "suspended"
	}
	return func(w http.ResponseWriter, r *http.Request, q *req) {
		s.done(w, r, q, s.call(r.Context(), q, http.MethodPost, userPath(r)+action, nil, nil), ok)
	}
}
