package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func toUserOut(u store.User, creds bool) apitype.User {
	o := apitype.User{
		UserID: u.UserID, ExternalID: u.ExternalID, FirstName: u.FirstName, LastName: u.LastName,
		Email: u.Email, Start: fmtTime(u.Start), End: fmtTime(u.End), Suspended: u.Suspended,
		Groups: u.Groups, Created: fmtTime(u.Created), Updated: fmtTime(u.Updated),
	}
	if o.Groups == nil {
		o.Groups = []string{}
	}
	if creds {
		cards := toCardsOut(u.Cards)
		mfa := toMFAsOut(u.MFACodes)
		has, duress := u.HasEntryCode, u.HasDuressCode
		o.Cards, o.MFACodes, o.HasEntryCode, o.HasDuressCode = &cards, &mfa, &has, &duress
	}
	return o
}

// userOut is u as c may see it: with credentials only for a role that may
// manage them.
func (c caller) userOut(u store.User) apitype.User {
	return toUserOut(u, store.Allowed(c.Role, store.PermCredentials))
}

func toCardsOut(cs []store.Card) []apitype.Card {
	out := make([]apitype.Card, 0, len(cs))
	for _, c := range cs {
		out = append(out, toCardOut(c))
	}
	return out
}

// replyUser answers status with the user u as c may see it, or returns err
// when the operation that produced u failed.
func (c caller) replyUser(w http.ResponseWriter, status int, u store.User, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, status, c.userOut(u))
	return nil
}

func toMFAOut(m store.MFACodeInfo) apitype.MFACode {
	return apitype.MFACode{ID: m.ID, Length: m.Length, Created: fmtTime(m.Created), CreatedBy: m.CreatedBy}
}

func toMFAsOut(ms []store.MFACodeInfo) []apitype.MFACode {
	out := make([]apitype.MFACode, 0, len(ms))
	for _, m := range ms {
		out = append(out, toMFAOut(m))
	}
	return out
}

// userID returns the path's user_id after a light check of its shape.
func userID(r *http.Request) (string, error) {
	id := r.PathValue("user_id")
	if id == "" || len(id) > 128 || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", badField("user_id", "must be a user_id as returned by the API")
	}
	return id, nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, c caller) error {
	q := r.URL.Query()
	lq := store.ListQuery{After: q.Get("after"), Search: q.Get("search")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badField("limit", "must be an integer 1–1000")
		}
		lq.Limit = n
	}
	if err := checkText("search", lq.Search, 128); err != nil {
		return err
	}
	if err := checkText("after", lq.After, 128); err != nil {
		return err
	}
	users, next, err := s.st.ListUsers(lq)
	if err != nil {
		return err
	}
	creds := store.Allowed(c.Role, store.PermCredentials)
	out := apitype.UserPage{Users: make([]apitype.User, 0, len(users)), Next: next}
	for _, u := range users {
		out.Users = append(out.Users, toUserOut(u, creds))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pathUser reads the user the path names.
func (s *Server) pathUser(r *http.Request) (store.User, error) {
	id, err := userID(r)
	if err != nil {
		return store.User{}, err
	}
	return s.st.User(id)
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, c caller) error {
	u, err := s.pathUser(r)
	return c.replyUser(w, http.StatusOK, u, err)
}

// applyUser merges in into f, checking every field it sets.
func (s *Server) applyUser(in userIn, f *store.UserFields) error {
	text := []struct {
		name string
		src  *string
		dst  *string
		max  int
	}{
		{"external_id", in.ExternalID, &f.ExternalID, 128},
		{"first_name", in.FirstName, &f.FirstName, 128},
		{"last_name", in.LastName, &f.LastName, 128},
		{"email", in.Email, &f.Email, 254},
	}
	for _, t := range text {
		if t.src == nil {
			continue
		}
		v := strings.TrimSpace(*t.src)
		if err := checkText(t.name, v, t.max); err != nil {
			return err
		}
		*t.dst = v
	}
	if in.Email != nil && f.Email != "" && (!strings.Contains(f.Email, "@") || strings.ContainsAny(f.Email, " ,;")) {
		return badField("email", "must be an email address like name@example.com, or empty")
	}
	if in.Start.set {
		f.Start = in.Start.t
	}
	if in.End.set {
		f.End = in.End.t
	}
	if !f.Start.IsZero() && !f.End.IsZero() && !f.End.After(f.Start) {
		return badField("end", "must be after start")
	}
	if in.Suspended != nil {
		f.Suspended = *in.Suspended
	}
	if in.Groups != nil {
		seen := map[string]bool{}
		groups := make([]string, 0, len(*in.Groups))
		for _, g := range *in.Groups {
			if !s.groupKnown(g) {
				return badField("groups", "must name groups from the config (GET /v1/groups); "+strconv.Quote(safeName(g))+" is not one")
			}
			if !seen[g] {
				seen[g] = true
				groups = append(groups, g)
			}
		}
		f.Groups = groups
	}
	return nil
}

func (s *Server) groupKnown(name string) bool {
	for _, g := range s.config().Groups {
		if g.Name == name {
			return true
		}
	}
	return false
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, c caller) error {
	in, err := decodeUser(r.Body, s.bodyLimit)
	if err != nil {
		return err
	}
	var f store.UserFields
	if err := s.applyUser(in, &f); err != nil {
		return err
	}
	u, err := s.st.CreateUser(f, c.actor())
	return c.replyUser(w, http.StatusCreated, u, err)
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	in, err := decodeUser(r.Body, s.bodyLimit)
	if err != nil {
		return err
	}
	return s.updateUser(w, id, c, func(f *store.UserFields) error { return s.applyUser(in, f) })
}

func (s *Server) suspendUser(suspend bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		id, err := userID(r)
		if err != nil {
			return err
		}
		return s.updateUser(w, id, c, func(f *store.UserFields) error { f.Suspended = suspend; return nil })
	}
}

// updateUser applies change to the user's fields, stores them and answers
// with the user.
func (s *Server) updateUser(w http.ResponseWriter, id string, c caller, change func(*store.UserFields) error) error {
	u, err := s.st.User(id)
	if err != nil {
		return err
	}
	f := u.UserFields
	if err := change(&f); err != nil {
		return err
	}
	u, err = s.st.UpdateUser(id, f, c.actor())
	return c.replyUser(w, http.StatusOK, u, err)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	return noContent(w, s.st.DeleteUser(id, c.actor()))
}
