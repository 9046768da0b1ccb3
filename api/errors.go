package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// apiError is an error with the HTTP status it maps to and, for 400, the
// field and rule that were broken. Its message never carries a code or token.
type apiError struct {
	Status int
	Msg    string
	Field  string
	Rule   string
	Rows   []store.RowError // CSV import: every bad row
}

func (e *apiError) Error() string { return e.Msg }

// badField is a 400 naming the field and the rule.
func badField(field, rule string) *apiError {
	msg := "api: " + rule
	if field != "" {
		msg = "api: " + field + ": " + rule
	}
	return &apiError{Status: http.StatusBadRequest, Msg: msg, Field: field, Rule: rule}
}

func notFound(what string) *apiError {
	return &apiError{Status: http.StatusNotFound, Msg: "api: " + what + " not found"}
}

// notFoundFrom words a 404 from the store's error, which says what was not
// found and, when it is no secret, its id ("api: mfa code not found: m9").
func notFoundFrom(nf *store.NotFoundError) *apiError {
	ae := notFound(nf.What)
	if nf.ID != "" {
		ae.Msg += ": " + printable(nf.ID)
	}
	return ae
}

// toAPIError maps an error from the store or a decoder to its status. A
// store.NotFoundError says what was not found; what names the resource a
// store.ErrConflict (or a bare ErrNotFound) refers to ("card", …).
// Errors it does not know become 500 and are logged by the caller.
func toAPIError(err error, what string) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		return &apiError{Status: http.StatusBadRequest, Msg: ve.Error(), Field: ve.Field, Rule: ve.Rule}
	}
	var ie *store.ImportError
	if errors.As(err, &ie) {
		e := &apiError{Status: http.StatusBadRequest, Msg: fmt.Sprintf("api: import refused: %d bad rows, nothing was written", len(ie.Rows)), Field: "body", Rule: "every row must pass"}
		e.Rows = ie.Rows
		return e
	}
	var ue *store.UnavailableError
	if errors.As(err, &ue) {
		// A fleet member whose site cannot take the change (docs/fleet.md).
		return &apiError{Status: http.StatusServiceUnavailable, Msg: "api: " + what + ": not changed: " + strings.TrimPrefix(ue.Error(), "store: ")}
	}
	var nf *store.NotFoundError
	var oc *store.OwnCodeError // a duress code and the user's own entry or MFA code
	switch {
	case errors.As(err, &nf):
		return notFoundFrom(nf)
	case errors.Is(err, store.ErrNotFound):
		return notFound(what)
	case errors.As(err, &oc):
		return &apiError{Status: http.StatusConflict, Msg: "api: " + oc.What + " " + oc.Rule}
	case errors.Is(err, store.ErrConflict):
		return &apiError{Status: http.StatusConflict, Msg: "api: " + what + " already used by another user"}
	}
	return nil
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil { // only our own types are marshalled; cannot happen
		b = []byte(`{"error":"api: internal error"}`)
	}
	w.Write(append(b, '\n'))
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	body := apitype.Error{Error: e.Msg, Field: e.Field, Rule: e.Rule}
	if rec, ok := w.(*recorder); ok && rec.verkada {
		body.Message = e.Msg
	}
	for _, r := range e.Rows {
		body.Rows = append(body.Rows, apitype.RowError{Line: r.Line, Column: r.Column, Rule: r.Rule})
	}
	writeJSON(w, e.Status, body)
}
