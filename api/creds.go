package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// ruleFormat is the store's rule for a card format.
var ruleFormat = store.RuleFormat

// checkCard checks a card's fields against its format: the field widths of
// the reader's format definitions (store.CardLimits), the same check
// store.AddCard and the CSV import make.
func checkCard(format string, fc uint32, cn uint64) error {
	maxFC, maxCN, ok := store.CardLimits(format)
	if !ok {
		return badField("format", ruleFormat)
	}
	if fc > maxFC {
		return badField("facility_code", store.FacilityRule(format, maxFC))
	}
	if cn > maxCN {
		return badField("card_number", store.CardNumberRule(format, maxCN))
	}
	return nil
}

// userCard reads the path's user_id and the card it names.
func userCard(r *http.Request) (string, store.CardKey, error) {
	var k store.CardKey
	id, err := userID(r)
	if err != nil {
		return "", k, err
	}
	k.Format = r.PathValue("format")
	fc, err := strconv.ParseUint(r.PathValue("facility_code"), 10, 32)
	if err != nil {
		return "", k, badField("facility_code", "must be a decimal integer")
	}
	cn, err := strconv.ParseUint(r.PathValue("card_number"), 10, 64)
	if err != nil {
		return "", k, badField("card_number", "must be a decimal integer")
	}
	k.FacilityCode, k.CardNumber = uint32(fc), cn
	return id, k, checkCard(k.Format, k.FacilityCode, k.CardNumber)
}

func toCardOut(c store.Card) apitype.Card {
	return apitype.Card{Format: c.Format, FacilityCode: c.FacilityCode, CardNumber: c.CardNumber, Active: c.Active}
}

func (s *Server) listCards(w http.ResponseWriter, r *http.Request, c caller) error {
	u, err := s.pathUser(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitype.CardList{Cards: toCardsOut(u.Cards)})
	return nil
}

// cardIn is the body of POST …/cards: apitype.Card, with the fields that
// must be given (or default) told apart from zero.
type cardIn struct {
	Format       *string `json:"format"`
	FacilityCode uint32  `json:"facility_code"`
	CardNumber   *uint64 `json:"card_number"`
	Active       *bool   `json:"active"`
}

// userBody is how a handler on the user of the path ({user_id}) with a
// JSON body starts: the user's id and the body decoded into T
// (allowEmpty: an empty body is T's zero value).
func userBody[T any](s *Server, r *http.Request, allowEmpty bool) (string, T, error) {
	var in T
	id, err := userID(r)
	if err != nil {
		return "", in, err
	}
	err = decodeJSON(r.Body, s.bodyLimit, &in, allowEmpty)
	return id, in, err
}

func (s *Server) addCard(w http.ResponseWriter, r *http.Request, c caller) error {
	id, in, err := userBody[cardIn](s, r, false)
	if err != nil {
		return err
	}
	if in.Format == nil {
		return badField("format", "is required; "+ruleFormat)
	}
	if in.CardNumber == nil {
		return badField("card_number", "is required")
	}
	if err := checkCard(*in.Format, in.FacilityCode, *in.CardNumber); err != nil {
		return err
	}
	card := store.Card{Format: *in.Format, FacilityCode: in.FacilityCode, CardNumber: *in.CardNumber, Active: in.Active == nil || *in.Active}
	if err := s.st.AddCard(id, card, c.actor()); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toCardOut(card))
	return nil
}

func (s *Server) setCardActive(active bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		id, k, err := userCard(r)
		if err != nil {
			return err
		}
		if err := s.st.SetCardActive(id, k, active, c.actor()); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, apitype.Card{Format: k.Format, FacilityCode: k.FacilityCode, CardNumber: k.CardNumber, Active: active})
		return nil
	}
}

func (s *Server) deleteCard(w http.ResponseWriter, r *http.Request, c caller) error {
	id, k, err := userCard(r)
	if err != nil {
		return err
	}
	return noContent(w, s.st.DeleteCard(id, k, c.actor()))
}

// noContent answers 204 when err is nil.
func noContent(w http.ResponseWriter, err error) error {
	if err == nil {
		w.WriteHeader(http.StatusNoContent)
	}
	return err
}

// codeIn is the body of every request that carries a code (apitype.Code,
// read into memory the handler wipes).
type codeIn struct {
	Code code `json:"code"`
}

// withCode decodes a codeIn body, checks its code and calls f with it. The
// code's bytes are wiped when withCode returns, on every path: f must not
// keep them.
func (s *Server) withCode(r *http.Request, f func(code []byte) error) error {
	var in codeIn
	defer in.Code.wipe()
	if err := decodeJSON(r.Body, s.bodyLimit, &in, false); err != nil {
		return err
	}
	b, err := in.Code.valid()
	if err != nil {
		return err
	}
	return f(b)
}

// putCode is the handler of PUT /v1/users/{id}/KIND_code for a user's
// entry or duress code: the body's code, checked, given to set; 204.
func (s *Server) putCode(set func(userID string, code []byte, by store.Actor) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		id, err := userID(r)
		if err != nil {
			return err
		}
		return s.withCode(r, func(b []byte) error {
			return noContent(w, set(id, b, c.actor()))
		})
	}
}

// deleteCode is the handler of DELETE /v1/users/{id}/KIND_code: del
// removes the code; 204.
func deleteCode(del func(userID string, by store.Actor) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		id, err := userID(r)
		if err != nil {
			return err
		}
		return noContent(w, del(id, c.actor()))
	}
}

func (s *Server) setEntryCode(w http.ResponseWriter, r *http.Request, c caller) error {
	return s.putCode(s.st.SetEntryCode)(w, r, c)
}

func (s *Server) deleteEntryCode(w http.ResponseWriter, r *http.Request, c caller) error {
	return deleteCode(s.st.DeleteEntryCode)(w, r, c)
}

func (s *Server) listMFA(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	ms, err := s.st.MFACodes(id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitype.MFACodeList{MFACodes: toMFAsOut(ms)})
	return nil
}

func (s *Server) addMFA(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := userID(r)
	if err != nil {
		return err
	}
	return s.withCode(r, func(b []byte) error {
		info, err := s.st.AddMFACode(id, b, c.actor())
		return replyMFA(w, http.StatusCreated, info, err)
	})
}

// lengthIn is the body of a generate request (apitype.GenerateMFACode,
// kept raw so that a length that is not a JSON integer gets its rule).
type lengthIn struct {
	Length json.RawMessage `json:"length"`
}

func (s *Server) generateMFA(w http.ResponseWriter, r *http.Request, c caller) error {
	id, in, err := userBody[lengthIn](s, r, true)
	if err != nil {
		return err
	}
	length := 0 // the store's default, 6
	if len(in.Length) > 0 && string(in.Length) != "null" {
		if err := json.Unmarshal(in.Length, &length); err != nil || length < 4 || length > 16 {
			return badField("length", "must be a JSON integer 4–16 (default 6)")
		}
	}
	code, info, err := s.st.GenerateMFACode(id, length, c.actor())
	if errors.Is(err, store.ErrConflict) { // every draw was a code the user has
		return &apiError{Status: http.StatusConflict, Msg: "api: could not draw a code this user does not have yet; ask for a longer one"}
	}
	if err != nil {
		return err
	}
	defer wipe(code)
	// The only reply that carries a generated code's digits.
	writeJSON(w, http.StatusCreated, apitype.GeneratedMFACode{Code: string(code), MFACode: toMFAOut(info)})
	return nil
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// replyMFA answers status with the MFA code's info (never its digits), or
// returns err when the operation that produced it failed.
func replyMFA(w http.ResponseWriter, status int, info store.MFACodeInfo, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, status, toMFAOut(info))
	return nil
}

// userMFA reads the path's user_id and MFA code id.
func userMFA(r *http.Request) (uid, id string, err error) {
	uid, err = userID(r)
	if err != nil {
		return "", "", err
	}
	id = r.PathValue("id")
	if id == "" || len(id) > 64 {
		return "", "", badField("id", "must be an MFA code id as listed by GET …/mfa_codes")
	}
	return uid, id, nil
}

func (s *Server) replaceMFA(w http.ResponseWriter, r *http.Request, c caller) error {
	uid, id, err := userMFA(r)
	if err != nil {
		return err
	}
	return s.withCode(r, func(b []byte) error {
		info, err := s.st.ReplaceMFACode(uid, id, b, c.actor())
		return replyMFA(w, http.StatusOK, info, err)
	})
}

func (s *Server) deleteMFA(w http.ResponseWriter, r *http.Request, c caller) error {
	uid, id, err := userMFA(r)
	if err != nil {
		return err
	}
	return noContent(w, s.st.DeleteMFACode(uid, id, c.actor()))
}
