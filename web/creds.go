package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// addCard adds a card by format, facility code and number, or by the
// number in hex (store.CardNumberHex, the CSV's rule).
func (s *Server) addCard(w http.ResponseWriter, r *http.Request, q *req) {
	body := map[string]any{"format": r.PostFormValue("format")}
	num, hx := strings.TrimSpace(r.PostFormValue("card_number")), strings.TrimSpace(r.PostFormValue("card_hex"))
	bad := func(field, rule string) {
		s.done(w, r, q, &apiErr{Status: http.StatusBadRequest, E: apitype.Error{Field: field, Rule: rule}}, "")
	}
	if fc := strings.TrimSpace(r.PostFormValue("facility_code")); fc != "" {
		v, err := strconv.ParseUint(fc, 10, 32)
		if err != nil {
			bad("facility_code", "must be a decimal integer")
			return
		}
		body["facility_code"] = v
	}
	switch {
	case num != "" && hx != "":
		bad("card_hex", "give the card number in decimal or in hex, not both")
		return
	case hx != "":
		v, ok := store.CardNumberHex(hx)
		if !ok {
			bad("card_hex", store.RuleCardNumberHex)
			return
		}
		body["card_number"] = v
	case num != "":
		v, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			bad("card_number", "must be a decimal integer")
			return
		}
		body["card_number"] = v
	}
	s.done(w, r, q, s.call(r.Context(), q, http.MethodPost, userPath(r)+"/cards", body, nil), "cardadded")
}

// cardAction activates, deactivates or deletes the card the form names.
func (s *Server) cardAction(action string) func(http.ResponseWriter, *http.Request, *req) {
	return func(w http.ResponseWriter, r *http.Request, q *req) {
		path := userPath(r) + "/cards/" + url.PathEscape(r.PostFormValue("format")) + "/" +
			url.PathEscape(r.PostFormValue("facility_code")) + "/" + url.PathEscape(r.PostFormValue("card_number"))
		method := http.MethodPost
		if action == "delete" {
			method = http.MethodDelete
		} else {
			path += "/" + action
		}
		s.done(w, r, q, s.call(r.Context(), q, method, path, nil, nil), "card"+action)
	}
}

// codeBody is the API's body for a typed code. The form's value is not
// kept: the page never shows a typed code again.
func codeBody(r *http.Request) map[string]string {
	return map[string]string{"code": r.PostFormValue("code")}
}

func (s *Server) setEntry(w http.ResponseWriter, r *http.Request, q *req) {
	s.done(w, r, q, s.call(r.Context(), q, http.MethodPut, userPath(r)+"/entry_code", codeBody(r), nil), "entryset")
}

func (s *Server) deleteEntry(w http.ResponseWriter, r *http.Request, q *req) {
	s.done(w, r, q, s.call(r.Context(), q, http.MethodDelete, userPath(r)+"/entry_code", nil, nil), "entryremoved")
}

// setDuress sets or replaces the user's duress code (docs/operations.md,
// "Duress codes"): the API's PUT, so its rules, refusals and audit. A
// refusal of the code is shown at the duress field, not the entry code's.
func (s *Server) setDuress(w http.ResponseWriter, r *http.Request, q *req) {
	err := s.call(r.Context(), q, http.MethodPut, userPath(r)+"/duress_code", codeBody(r), nil)
	if ae, ok := err.(*apiErr); ok && ae.E.Field == "code" {
		ae.E.Field = "duress_code"
	}
	s.done(w, r, q, err, "duressset")
}

func (s *Server) deleteDuress(w http.ResponseWriter, r *http.Request, q *req) {
	s.done(w, r, q, s.call(r.Context(), q, http.MethodDelete, userPath(r)+"/duress_code", nil, nil), "duressremoved")
}

type mfaData struct {
	U      store.User
	ID     string // the code being edited
	Length string
	Code   string // shown once, on the page after saving
	Info   apitype.MFACode
}

// mfaUser loads the path's user for an MFA page, or answers 404.
func (s *Server) mfaUser(w http.ResponseWriter, r *http.Request, q *req) (store.User, bool) {
	u, err := s.st.User(r.PathValue("user_id"))
	if err != nil {
		s.refuse(w, r, q, http.StatusNotFound, "err.nouser")
		return u, false
	}
	return u, true
}

// mfaNew is the Add MFA code form: a code field with Save, and a length
// (4–16, default 6) with Generate.
func (s *Server) mfaNew(w http.ResponseWriter, r *http.Request, q *req) {
	s.showMFAForm(w, r, q, s.newPage(w, r, q), http.StatusOK, "mfa_new", "")
}

func (s *Server) showMFAForm(w http.ResponseWriter, r *http.Request, q *req, p *page, status int, tmpl, id string) {
	u, ok := s.mfaUser(w, r, q)
	if !ok {
		return
	}
	length := r.PostFormValue("length")
	if length == "" {
		length = "6"
	}
	w.WriteHeader(status)
	s.render(w, tmpl, p.with("users", mfaData{U: u, ID: id, Length: length}))
}

// showOnce is the one page that shows a code's digits: after it was saved
// or generated, with a copy button and the warning that it will not be
// shown again. The reply is never cached.
func (s *Server) showOnce(w http.ResponseWriter, r *http.Request, q *req, code string, info apitype.MFACode) {
	u, ok := s.mfaUser(w, r, q)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	s.render(w, "mfa_shown", s.newPage(w, r, q).with("users", mfaData{U: u, Code: code, Info: info}))
}

func (s *Server) mfaAdd(w http.ResponseWriter, r *http.Request, q *req) {
	if r.PostFormValue("action") == "generate" {
		body := map[string]any{}
		if l := strings.TrimSpace(r.PostFormValue("length")); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil {
				body["length"] = l // the API names the rule
			} else {
				body["length"] = n
			}
		}
		var g apitype.GeneratedMFACode
		if err := s.call(r.Context(), q, http.MethodPost, userPath(r)+"/mfa_codes/generate", body, &g); err != nil {
			p := s.newPage(w, r, q)
			fieldErr(p, err)
			s.showMFAForm(w, r, q, p, http.StatusBadRequest, "mfa_new", "")
			return
		}
		s.showOnce(w, r, q, g.Code, g.MFACode)
		clear([]byte(g.Code))
		return
	}
	var info apitype.MFACode
	code := codeBody(r)
	if err := s.call(r.Context(), q, http.MethodPost, userPath(r)+"/mfa_codes", code, &info); err != nil {
		p := s.newPage(w, r, q)
		fieldErr(p, err)
		s.showMFAForm(w, r, q, p, http.StatusBadRequest, "mfa_new", "")
		return
	}
	s.showOnce(w, r, q, code["code"], info)
}

func mfaPath(r *http.Request) string {
	return userPath(r) + "/mfa_codes/" + url.PathEscape(r.PathValue("id"))
}

// mfaEdit is the Edit form: a new code replaces the code with this id.
func (s *Server) mfaEdit(w http.ResponseWriter, r *http.Request, q *req) {
	s.showMFAForm(w, r, q, s.newPage(w, r, q), http.StatusOK, "mfa_edit", r.PathValue("id"))
}

func (s *Server) mfaReplace(w http.ResponseWriter, r *http.Request, q *req) {
	var info apitype.MFACode
	code := codeBody(r)
	if err := s.call(r.Context(), q, http.MethodPut, mfaPath(r), code, &info); err != nil {
		p := s.newPage(w, r, q)
		fieldErr(p, err)
		s.showMFAForm(w, r, q, p, http.StatusBadRequest, "mfa_edit", r.PathValue("id"))
		return
	}
	s.showOnce(w, r, q, code["code"], info)
}

// mfaDeleteConfirm asks before Delete (a page, so it works without script).
func (s *Server) mfaDeleteConfirm(w http.ResponseWriter, r *http.Request, q *req) {
	u, ok := s.mfaUser(w, r, q)
	if !ok {
		return
	}
	for _, m := range u.MFACodes {
		if m.ID == r.PathValue("id") {
			s.render(w, "mfa_delete", s.newPage(w, r, q).with("users", mfaData{U: u, ID: m.ID, Info: apitype.MFACode{ID: m.ID, Length: m.Length}}))
			return
		}
	}
	s.refuse(w, r, q, http.StatusNotFound, "err.nomfa")
}

func (s *Server) mfaDelete(w http.ResponseWriter, r *http.Request, q *req) {
	s.done(w, r, q, s.call(r.Context(), q, http.MethodDelete, mfaPath(r), nil, nil), "mfadeleted")
}
