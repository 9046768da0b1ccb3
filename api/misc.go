package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/internal/version"
	"github.com/latchd/latch/store"
)

func (s *Server) health(w http.ResponseWriter, r *http.Request, c caller) error {
	// A read from the store proves the database answers.
	if _, err := s.st.EventsDropped(); err != nil {
		return fmt.Errorf("api: health: %w", err)
	}
	v := version.Get()
	body := apitype.Health{
		Status:  "ok",
		Time:    s.now().UTC().Format("2006-01-02T15:04:05.000Z"),
		Doors:   len(s.config().Doors),
		Version: apitype.Version{Version: v.Version, Commit: v.Commit, Date: v.Date, Go: v.Go},
	}
	// A dead reader or input line (latchd is about to exit and restart):
	// 503, naming each line, so that a monitor sees why.
	if dead := s.metrics.DeadLines(); len(dead) > 0 {
		body.Status = "failing"
		body.DeadLines = dead
		writeJSON(w, http.StatusServiceUnavailable, body)
		return nil
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request, c caller) error {
	dropped, err := s.st.EventsDropped()
	if err != nil {
		return fmt.Errorf("api: metrics: %w", err)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	s.metrics.WriteText(w, dropped)
	return nil
}

// importCSV spools the body (up to ImportLimit bytes) to a temporary file
// and hands it to store.Import, which checks every row before writing any
// (and may read the spool a second time while writing).
// The body holds codes in plaintext, so the spool is encrypted (AES-256-CTR
// under a random key that lives only in this call's memory): no plaintext
// code reaches the disk, and a spool left behind by a power cut is noise.
// Spooling first keeps a slow client from holding the store's write lock.
func (s *Server) importCSV(w http.ResponseWriter, r *http.Request, c caller) error {
	if r.ContentLength > s.importLimit {
		return tooLarge(s.importLimit)
	}
	if !s.importing.TryLock() {
		return &apiError{Status: http.StatusConflict, Msg: "api: another import is running; retry when it has finished"}
	}
	defer s.importing.Unlock()
	sp, err := s.openSpool(r.ContentLength) // 507 if the disk has no room for it
	if err != nil {
		return fmt.Errorf("api: import: %w", err)
	}
	defer sp.close()
	n, err := io.Copy(sp.writer(), http.MaxBytesReader(w, r.Body, s.importLimit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(s.importLimit)
		}
		var full *apiError // the spool's 507: past half the free space
		if errors.As(err, &full) {
			return full
		}
		return badField("body", "could not be read: "+err.Error())
	}
	if n == 0 {
		return badField("body", "must be a CSV file with a header row")
	}
	// store.Import reads the spool twice for a users file that creates
	// users; each reader() starts a fresh decrypting stream at offset 0.
	// The groups a users file assigns must be the config's, as for
	// POST /v1/users; what the file changes must be allowed to the role.
	sum, err := s.st.ImportWith(sp.reader, n, c.actor(), store.ImportOptions{
		KnownGroup: s.groupKnown,
		Allow:      func(h store.ImportHeader) error { return importAllowed(c.Role, h) },
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitype.ImportResult{
		Rows:             sum.Rows,
		UsersCreated:     sum.UsersCreated,
		UsersUpdated:     sum.UsersUpdated,
		CredentialsAdded: sum.CredentialsAdded,
	})
	return nil
}

// importAllowed decides, from the file's header, whether role may import
// it: the import permission lets a role send a CSV, and the file may then
// change only what the role's other permissions allow (docs/api.md): a
// users file creates and changes users (users.write), and a credentials
// file, or a users file with card or entryCode columns, changes
// credentials (credentials).
func importAllowed(role string, h store.ImportHeader) error {
	if h.ChangesUsers() && !store.Allowed(role, store.PermUsersWrite) {
		return &apiError{Status: http.StatusForbidden, Msg: fmt.Sprintf("api: role %s may not import a users file (it creates and changes users: needs %s); a credentials file (with a type column) holds only cards, entry codes and MFA codes", role, store.PermUsersWrite)}
	}
	if h.ChangesCredentials() && !store.Allowed(role, store.PermCredentials) {
		return &apiError{Status: http.StatusForbidden, Msg: fmt.Sprintf("api: role %s may not import credentials (needs %s)", role, store.PermCredentials)}
	}
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, c caller) error {
	ts, err := s.st.Tokens()
	if err != nil {
		return err
	}
	out := make([]apitype.Token, 0, len(ts))
	for _, t := range ts {
		out = append(out, apitype.Token{Name: t.Name, Role: t.Role, Created: fmtTime(t.Created), VerkadaKey: t.VerkadaKey})
	}
	writeJSON(w, http.StatusOK, apitype.TokenList{Tokens: out})
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, c caller) error {
	var in apitype.NewToken
	if err := decodeJSON(r.Body, s.bodyLimit, &in, false); err != nil {
		return err
	}
	create := s.st.CreateToken
	if in.VerkadaKey {
		create = s.st.CreateVerkadaKey
	}
	secret, err := create(in.Name, in.Role, c.actor())
	if err != nil {
		return err
	}
	// The store writes the credential_changed event; the log keeps it too
	// (never the secret).
	s.log.Info().Str("name", in.Name).Str("role", in.Role).Str("by", c.Name).Msg("token created")
	writeJSON(w, http.StatusCreated, apitype.Token{Name: in.Name, Role: in.Role, Token: secret, VerkadaKey: in.VerkadaKey})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, c caller) error {
	name := r.PathValue("name")
	if store.CheckTokenName(name) != nil { // the store's rule, as a 400 before the lookup
		return badField("name", store.TokenNameRule)
	}
	if err := s.st.RevokeToken(name, c.actor()); err != nil {
		return err
	}
	s.log.Info().Str("name", name).Str("by", c.Name).Msg("token revoked")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
