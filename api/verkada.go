package api

import (
	"net/http"
	"net/url"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// The two endpoints below have the shape of Verkada's Access API so that an
// integrator's scripts work unchanged:
//
//	POST   /access/v1/credentials/mfa_code?user_id=…|external_id=…  {"code":"…"} → 200 {"code":"…"}
//	DELETE /access/v1/credentials/mfa_code?user_id=…|external_id=…&code=…      → 200 {}
//
// Their query strings carry a code, so the access log never records query
// strings.

// verkadaUser resolves exactly one of user_id and external_id.
func (s *Server) verkadaUser(q url.Values) (string, error) {
	for _, k := range []string{"user_id", "external_id", "code"} {
		if len(q[k]) > 1 {
			return "", badField(k, "must be given once")
		}
	}
	uid, ext := q.Get("user_id"), q.Get("external_id")
	_, hasU := q["user_id"]
	_, hasE := q["external_id"]
	if hasU == hasE || (hasU && uid == "") || (hasE && ext == "") {
		return "", badField("user_id", "exactly one of user_id and external_id is required")
	}
	if hasU {
		return uid, nil // an unknown one is the store's not-found
	}
	u, err := s.st.UserByExternalID(ext)
	if err != nil {
		return "", err
	}
	return u.UserID, nil
}

func (s *Server) verkadaAddMFA(w http.ResponseWriter, r *http.Request, c caller) error {
	return s.withCode(r, func(b []byte) error {
		uid, err := s.verkadaUser(r.URL.Query())
		if err != nil {
			return err
		}
		if _, err := s.st.AddMFACode(uid, b, c.actor()); err != nil {
			return err
		}
		// Verkada's reply echoes the code that was added; this and the generate
		// reply are the only responses that ever carry a code.
		writeJSON(w, http.StatusOK, apitype.Code{Code: string(b)})
		return nil
	})
}

func (s *Server) verkadaDeleteMFA(w http.ResponseWriter, r *http.Request, c caller) error {
	q := r.URL.Query()
	uid, err := s.verkadaUser(q)
	if err != nil {
		return err
	}
	if _, ok := q["code"]; !ok {
		return badField("code", "is required")
	}
	b := []byte(q.Get("code"))
	defer wipe(b)
	if err := store.ValidateCode(b); err != nil {
		return err
	}
	return verkadaOK(w, s.st.DeleteMFACodeByValue(uid, b, c.actor()))
}

// verkadaOK answers a Verkada write that returns nothing: 200 with {}
// when err is nil (Verkada's clients read a JSON body), else err.
func verkadaOK(w http.ResponseWriter, err error) error {
	if err == nil {
		writeJSON(w, http.StatusOK, struct{}{})
	}
	return err
}
