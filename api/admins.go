package api

import (
	"net/http"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// Admin-page accounts (docs/web.md), managed like API tokens: the same
// permission (tokens: system admins, and the daemon's own user on the
// socket, for latchctl admin while latchd holds the database). The store
// checks the name, role and password rules and hashes the password.

func (s *Server) listAdmins(w http.ResponseWriter, r *http.Request, c caller) error {
	as, err := s.st.Admins()
	if err != nil {
		return err
	}
	out := apitype.AdminList{Admins: make([]apitype.Admin, 0, len(as))}
	for _, a := range as {
		out.Admins = append(out.Admins, apitype.Admin{Name: a.Name, Role: a.Role, Created: fmtTime(a.Created)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// passwordIn holds a password read from a body, wiped by the handler.
type passwordIn struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password code   `json:"password"`
}

func (s *Server) createAdmin(w http.ResponseWriter, r *http.Request, c caller) error {
	var in passwordIn
	defer in.Password.wipe()
	if err := decodeJSON(r.Body, s.bodyLimit, &in, false); err != nil {
		return renamePassword(err)
	}
	if err := s.st.CreateAdmin(in.Name, in.Role, in.Password.b, c.actor()); err != nil {
		return err
	}
	s.log.Info().Str("name", in.Name).Str("role", in.Role).Str("by", c.Name).Msg("admin account created")
	writeJSON(w, http.StatusCreated, apitype.Admin{Name: in.Name, Role: in.Role})
	return nil
}

func (s *Server) setAdminPassword(w http.ResponseWriter, r *http.Request, c caller) error {
	var in struct {
		Password code `json:"password"`
	}
	defer in.Password.wipe()
	if err := decodeJSON(r.Body, s.bodyLimit, &in, false); err != nil {
		return renamePassword(err)
	}
	name := r.PathValue("name")
	if err := s.st.SetAdminPassword(name, in.Password.b, c.actor()); err != nil {
		return err
	}
	s.log.Info().Str("name", name).Str("by", c.Name).Msg("admin password changed")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) deleteAdmin(w http.ResponseWriter, r *http.Request, c caller) error {
	name := r.PathValue("name")
	if err := s.st.DeleteAdmin(name, c.actor()); err != nil {
		return err
	}
	s.log.Info().Str("name", name).Str("by", c.Name).Msg("admin account deleted")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// renamePassword words a non-string password as the password's rule (the
// code type's own error names the field "code").
func renamePassword(err error) error {
	if ae, ok := err.(*apiError); ok && ae.Field == "code" {
		return badField("password", "must be a JSON string; "+store.PasswordRule)
	}
	return err
}
