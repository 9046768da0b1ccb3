package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/store"
)

// Users, entry codes, dates and cards on the Verkada-compatible paths
// (docs/verkada.md). Each handler translates the request into the store
// call latch's own route makes and the reply into Verkada's shape; the
// rules (code syntax, card ranges, field limits, uniqueness) are the
// store's and the reader's, as on latch's routes.

// vBool reads query parameter k as a boolean in any case (Verkada's
// clients send True and False); def when it is absent.
func vBool(q url.Values, k string, def bool) (bool, error) {
	if len(q[k]) > 1 {
		return false, badField(k, "must be given once")
	}
	v, ok := q[k]
	if !ok || strings.TrimSpace(v[0]) == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(v[0])))
	if err != nil {
		return false, badField(k, "must be true or false (any case)")
	}
	return b, nil
}

// vList reads query parameter k as a list: repeated, comma-joined, or both.
func vList(q url.Values, k string) []string {
	var out []string
	for _, v := range q[k] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// vOne reads query parameter k, which may be given at most once.
func vOne(q url.Values, k string) (string, error) {
	if len(q[k]) > 1 {
		return "", badField(k, "must be given once")
	}
	return q.Get(k), nil
}

// numText is a number a Verkada client may send as a JSON number or as a
// string of its digits (its PowerShell client sends strings).
type numText struct {
	s   string
	set bool
}

func (n *numText) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &n.s); err != nil {
			return err
		}
	} else {
		var num json.Number
		if err := json.Unmarshal(data, &num); err != nil {
			return errors.New("must be a number or a string of digits")
		}
		n.s = num.String()
	}
	n.s, n.set = strings.TrimSpace(n.s), true
	return nil
}

// uint parses n in base, naming field and the rule on failure.
func (n numText) uint(field string, base, bits int) (uint64, error) {
	v, err := strconv.ParseUint(n.s, base, bits)
	if err != nil {
		what := map[int]string{10: "decimal digits", 16: "hexadecimal digits", 36: "base-36 digits (0-9, a-z)"}[base]
		return 0, badField(field, "must be "+what+" of a number that fits the card format")
	}
	return v, nil
}

// flexBool is a boolean a client may send as true/false or as a string
// of either in any case.
type flexBool struct {
	v, set bool
}

func (b *flexBool) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		return nil
	}
	var s string
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
	} else {
		s = string(data)
	}
	v, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(s)))
	if err != nil {
		return errors.New("must be true or false")
	}
	b.v, b.set = v, true
	return nil
}

// unixText is a time as Verkada's Unix seconds in digits ("" = none).
func unixText(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := strconv.FormatInt(t.Unix(), 10)
	return &s
}

func (s *Server) site() string {
	if site := s.config().Site; site != "" {
		return site
	}
	return "latch"
}

// toVerkadaUser is u as Verkada's Access Information Object; its cards and
// entry code only for a role that may see credentials.
func (s *Server) toVerkadaUser(u store.User, c caller) apitype.VerkadaUser {
	site := s.site()
	o := apitype.VerkadaUser{
		UserID: u.UserID, ExternalID: u.ExternalID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		StartDate: unixText(u.Start), EndDate: unixText(u.End), AccessGroups: []apitype.VerkadaGroupRef{},
		LicensePlates: []struct{}{}, Suspended: u.Suspended,
	}
	for _, g := range u.Groups {
		o.AccessGroups = append(o.AccessGroups, apitype.VerkadaGroupRef{GroupID: NameUUID("group", site, g), Name: g})
	}
	if store.Allowed(c.Role, store.PermCredentials) {
		entry := ""
		if u.HasEntryCode {
			entry = "set" // never the digits: latch keeps only their MAC
		}
		cards := make([]apitype.VerkadaCard, 0, len(u.Cards))
		for _, cd := range u.Cards {
			cards = append(cards, toVerkadaCard(cd))
		}
		o.EntryCode, o.Cards = &entry, &cards
	}
	return o
}

// verkadaUserOrEmail resolves user_id, external_id or email (exactly one).
func (s *Server) verkadaUserOrEmail(q url.Values) (store.User, error) {
	if _, ok := q["email"]; !ok || q.Has("user_id") || q.Has("external_id") {
		uid, err := s.verkadaUser(q)
		if err != nil {
			return store.User{}, err
		}
		return s.st.User(uid)
	}
	email, err := vOne(q, "email")
	if err != nil {
		return store.User{}, err
	}
	if email == "" {
		return store.User{}, badField("email", "must not be empty")
	}
	after := ""
	for {
		users, next, err := s.st.ListUsers(store.ListQuery{After: after, Limit: 1000, Search: email})
		if err != nil {
			return store.User{}, err
		}
		for _, u := range users {
			if strings.EqualFold(u.Email, email) {
				return u, nil
			}
		}
		if next == "" {
			return store.User{}, &store.NotFoundError{What: "user"}
		}
		after = next
	}
}

// eachUser calls fn with every user, a page of the store's at a time.
func (s *Server) eachUser(fn func(store.User) error) error {
	after := ""
	for {
		users, next, err := s.st.ListUsers(store.ListQuery{After: after, Limit: 1000})
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := fn(u); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		after = next
	}
}

// verkadaListUsers answers every user in one reply, as Verkada does. The
// reply is written a page of users at a time, so that a large database
// does not sit in memory twice; a store error after the first page cuts
// the reply short (its status is sent) and is logged.
func (s *Server) verkadaListUsers(w http.ResponseWriter, r *http.Request, c caller) error {
	users, next, err := s.st.ListUsers(store.ListQuery{Limit: 1000})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `{"access_members":[`)
	n := 0
	for {
		for _, u := range users {
			b, _ := json.Marshal(apitype.VerkadaMember{
				UserID: u.UserID, ExternalID: u.ExternalID, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
				FullName: strings.TrimSpace(u.FirstName + " " + u.LastName),
			})
			if n > 0 {
				io.WriteString(w, ",")
			}
			w.Write(b)
			n++
		}
		if next == "" {
			break
		}
		if users, next, err = s.st.ListUsers(store.ListQuery{After: next, Limit: 1000}); err != nil {
			s.log.Error().Err(err).Msg("verkada list users: reply cut short")
			return nil
		}
	}
	io.WriteString(w, "]}\n")
	return nil
}

func (s *Server) verkadaGetUser(w http.ResponseWriter, r *http.Request, c caller) error {
	u, err := s.verkadaUserOrEmail(r.URL.Query())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toVerkadaUser(u, c))
	return nil
}

// replyVerkadaUser answers with the user uid as it is now.
func (s *Server) replyVerkadaUser(w http.ResponseWriter, uid string, c caller) error {
	u, err := s.st.User(uid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toVerkadaUser(u, c))
	return nil
}

// errHasEntryCode is the conflict of an entry code set without override
// on a user who has one.
var errHasEntryCode = &apiError{Status: http.StatusConflict, Msg: "api: the user already has an entry code; send override=true to replace it"}

func (s *Server) verkadaSetEntryCode(w http.ResponseWriter, r *http.Request, c caller) error {
	q := r.URL.Query()
	uid, err := s.verkadaUser(q)
	if err != nil {
		return err
	}
	override, err := vBool(q, "override", false)
	if err != nil {
		return err
	}
	var in struct {
		EntryCode code `json:"entry_code"`
	}
	defer in.EntryCode.wipe()
	if err := decodeJSON(r.Body, s.bodyLimit, &in, false); err != nil {
		return err
	}
	b, err := in.EntryCode.valid()
	if err != nil {
		return asEntryCodeField(err)
	}
	if !override {
		u, err := s.st.User(uid)
		if err != nil {
			return err
		}
		if u.HasEntryCode {
			return errHasEntryCode
		}
	}
	if err := s.st.SetEntryCode(uid, b, c.actor()); err != nil {
		return asEntryCodeField(err)
	}
	return s.replyVerkadaUser(w, uid, c)
}

// asEntryCodeField names the code rule's field as Verkada's body does.
func asEntryCodeField(err error) error {
	var ae *apiError
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ae) && ae.Field == "code":
		e := *ae
		e.Field, e.Msg = "entry_code", strings.Replace(e.Msg, "code:", "entry_code:", 1)
		return &e
	case errors.As(err, &ve) && ve.Field == "code":
		return badField("entry_code", ve.Rule)
	}
	return err
}

func (s *Server) verkadaDeleteEntryCode(w http.ResponseWriter, r *http.Request, c caller) error {
	return s.verkadaDeleteOf(s.st.DeleteEntryCode)(w, r, c)
}

// verkadaDeleteOf is the handler of a Verkada DELETE of the user the query
// names (user_id or external_id), or of something of theirs: del removes
// it; the answer is {}.
func (s *Server) verkadaDeleteOf(del func(userID string, by store.Actor) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		uid, err := s.verkadaUser(r.URL.Query())
		if err != nil {
			return err
		}
		return verkadaOK(w, del(uid, c.actor()))
	}
}

// verkadaSetDate is PUT …/user/start_date or /end_date: {"start_date":
// "UNIX SECONDS"} ("" or null clears it). The store checks that the end
// is after the start.
// verkadaUserBody is how a Verkada handler on the user the query names
// with a JSON body starts: the user's id and the body decoded into T.
func verkadaUserBody[T any](s *Server, r *http.Request) (string, T, error) {
	var in T
	uid, err := s.verkadaUser(r.URL.Query())
	if err != nil {
		return "", in, err
	}
	err = decodeJSON(r.Body, s.bodyLimit, &in, false)
	return uid, in, err
}

func (s *Server) verkadaSetDate(field string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		uid, in, err := verkadaUserBody[map[string]numText](s, r)
		if err != nil {
			return err
		}
		v, ok := in[field]
		if !ok || len(in) != 1 {
			return badField(field, "is required, and the only field")
		}
		var t time.Time
		if v.set && v.s != "" {
			secs, err := strconv.ParseInt(v.s, 10, 64)
			if err != nil || secs < 0 || secs > 253402300799 {
				return badField(field, "must be Unix seconds as digits (or empty to clear)")
			}
			t = time.Unix(secs, 0).UTC()
		}
		u, err := s.st.User(uid)
		if err != nil {
			return err
		}
		f := u.UserFields
		if field == "start_date" {
			f.Start = t
		} else {
			f.End = t
		}
		if _, err := s.st.UpdateUser(uid, f, c.actor()); err != nil {
			return err
		}
		return s.replyVerkadaUser(w, uid, c)
	}
}

// verkadaCardIn is the body of POST /access/v1/credentials/card.
type verkadaCardIn struct {
	Type             *string  `json:"type"`
	CardNumber       numText  `json:"card_number"`
	CardNumberHex    numText  `json:"card_number_hex"`
	CardNumberBase36 numText  `json:"card_number_base36"`
	FacilityCode     numText  `json:"facility_code"`
	Active           flexBool `json:"active"`
}

func (s *Server) verkadaAddCard(w http.ResponseWriter, r *http.Request, c caller) error {
	uid, in, err := verkadaUserBody[verkadaCardIn](s, r)
	if err != nil {
		return err
	}
	if in.Type == nil {
		return badField("type", "is required; "+ruleCardType)
	}
	format, ok := formatOfType(*in.Type)
	if !ok {
		return badField("type", ruleCardType)
	}
	var given []string
	for _, f := range []struct {
		name string
		n    numText
	}{{"card_number", in.CardNumber}, {"card_number_hex", in.CardNumberHex}, {"card_number_base36", in.CardNumberBase36}} {
		if f.n.set && f.n.s != "" {
			given = append(given, f.name)
		}
	}
	if len(given) != 1 {
		return badField("card_number", "exactly one of card_number, card_number_hex and card_number_base36 is required")
	}
	var cn uint64
	switch given[0] {
	case "card_number":
		cn, err = in.CardNumber.uint("card_number", 10, 64)
	case "card_number_hex":
		cn, err = in.CardNumberHex.uint("card_number_hex", 16, 64)
	default:
		cn, err = numText{s: strings.ToLower(in.CardNumberBase36.s)}.uint("card_number_base36", 36, 64)
	}
	if err != nil {
		return err
	}
	var fc uint64
	if in.FacilityCode.set && in.FacilityCode.s != "" {
		if fc, err = in.FacilityCode.uint("facility_code", 10, 32); err != nil {
			return err
		}
	}
	// The store checks the numbers against the format's field widths
	// (the reader's), and names the field.
	card := store.Card{Format: string(format), FacilityCode: uint32(fc), CardNumber: cn, Active: !in.Active.set || in.Active.v}
	if err := s.st.AddCard(uid, card, c.actor()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toVerkadaCard(card))
	return nil
}

// verkadaCard resolves the query's user and card_id.
func (s *Server) verkadaCard(q url.Values) (string, store.CardKey, error) {
	uid, err := s.verkadaUser(q)
	if err != nil {
		return "", store.CardKey{}, err
	}
	id, err := vOne(q, "card_id")
	if err != nil {
		return "", store.CardKey{}, err
	}
	k, ok := parseCardID(id)
	if !ok {
		return "", store.CardKey{}, badField("card_id", ruleCardID)
	}
	return uid, k, nil
}

func (s *Server) verkadaSetCardActive(active bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		uid, k, err := s.verkadaCard(r.URL.Query())
		if err != nil {
			return err
		}
		if err := s.st.SetCardActive(uid, k, active, c.actor()); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, toVerkadaCard(store.Card{Format: k.Format, FacilityCode: k.FacilityCode, CardNumber: k.CardNumber, Active: active}))
		return nil
	}
}

func (s *Server) verkadaDeleteCard(w http.ResponseWriter, r *http.Request, c caller) error {
	uid, k, err := s.verkadaCard(r.URL.Query())
	if err != nil {
		return err
	}
	return verkadaOK(w, s.st.DeleteCard(uid, k, c.actor()))
}

// groupByID is the configured group whose NameUUID is id.
func (s *Server) groupByID(id string) (Group, error) {
	site := s.site()
	for _, g := range s.config().Groups {
		if NameUUID("group", site, g.Name) == strings.ToLower(id) {
			return g, nil
		}
	}
	return Group{}, notFound("access group")
}

func (s *Server) verkadaListGroups(w http.ResponseWriter, r *http.Request, c caller) error {
	site := s.site()
	out := apitype.VerkadaGroups{AccessGroups: []apitype.VerkadaGroupRef{}}
	for _, g := range s.config().Groups {
		out.AccessGroups = append(out.AccessGroups, apitype.VerkadaGroupRef{GroupID: NameUUID("group", site, g.Name), Name: g.Name})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) queryGroup(q url.Values) (Group, error) {
	id, err := vOne(q, "group_id")
	if err != nil {
		return Group{}, err
	}
	if id == "" {
		return Group{}, badField("group_id", "is required")
	}
	return s.groupByID(id)
}

func (s *Server) verkadaGetGroup(w http.ResponseWriter, r *http.Request, c caller) error {
	g, err := s.queryGroup(r.URL.Query())
	if err != nil {
		return err
	}
	out := apitype.VerkadaGroup{GroupID: NameUUID("group", s.site(), g.Name), Name: g.Name, UserIDs: []string{}}
	err = s.eachUser(func(u store.User) error {
		if slices.Contains(u.Groups, g.Name) {
			out.UserIDs = append(out.UserIDs, u.UserID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// verkadaGroupUser adds the user to the group, or removes them: the
// user's groups, changed as latch's PATCH of a user changes them.
func (s *Server) verkadaGroupUser(add bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c caller) error {
		q := r.URL.Query()
		g, err := s.queryGroup(q)
		if err != nil {
			return err
		}
		uq := q
		if add { // the user is in the body: {"user_id"} or {"external_id"}
			var in struct {
				UserID     *string `json:"user_id"`
				ExternalID *string `json:"external_id"`
			}
			if err := decodeJSON(r.Body, s.bodyLimit, &in, false); err != nil {
				return err
			}
			uq = url.Values{}
			if in.UserID != nil {
				uq.Set("user_id", *in.UserID)
			}
			if in.ExternalID != nil {
				uq.Set("external_id", *in.ExternalID)
			}
		}
		uid, err := s.verkadaUser(uq)
		if err != nil {
			return err
		}
		u, err := s.st.User(uid)
		if err != nil {
			return err
		}
		f := u.UserFields
		has := slices.Contains(f.Groups, g.Name)
		switch {
		case add && !has:
			f.Groups = append(slices.Clone(f.Groups), g.Name)
		case !add && has:
			f.Groups = slices.DeleteFunc(slices.Clone(f.Groups), func(n string) bool { return n == g.Name })
		default: // already so: nothing to change
			writeJSON(w, http.StatusOK, struct{}{})
			return nil
		}
		if _, err := s.st.UpdateUser(uid, f, c.actor()); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, struct{}{})
		return nil
	}
}

func (s *Server) verkadaListDoors(w http.ResponseWriter, r *http.Request, c caller) error {
	want := vList(r.URL.Query(), "door_ids")
	site := s.site()
	out := apitype.VerkadaDoors{Doors: []apitype.VerkadaDoor{}}
	for _, d := range s.doorsOut() {
		id := NameUUID("door", site, d.Name)
		if len(want) > 0 && !slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(w, id) }) {
			continue
		}
		out.Doors = append(out.Doors, apitype.VerkadaDoor{DoorID: id, Name: d.Name, Mode: d.Mode,
			Site: apitype.VerkadaSite{SiteID: NameUUID("site", site, ""), Name: site}})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// verkadaNewUser is the body of POST /core/v1/user (Verkada's Create
// User). latch keeps the fields it has; the others Verkada's client may
// send are accepted and not kept (docs/verkada.md).
type verkadaNewUser struct {
	Email         string `json:"email"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	ExternalID    string `json:"external_id"`
	MiddleName    string `json:"middle_name"`
	CompanyName   string `json:"company_name"`
	Department    string `json:"department"`
	DepartmentID  string `json:"department_id"`
	EmployeeID    string `json:"employee_id"`
	EmployeeType  string `json:"employee_type"`
	EmployeeTitle string `json:"employee_title"`
	Phone         string `json:"phone"`
}

func (s *Server) verkadaCreateUser(w http.ResponseWriter, r *http.Request, c caller) error {
	var in verkadaNewUser
	if err := decodeJSON(r.Body, s.bodyLimit, &in, false); err != nil {
		return err
	}
	u, err := s.st.CreateUser(store.UserFields{ExternalID: in.ExternalID, FirstName: in.FirstName, LastName: in.LastName, Email: in.Email}, c.actor())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.toVerkadaUser(u, c))
	return nil
}

func (s *Server) verkadaDeleteUser(w http.ResponseWriter, r *http.Request, c caller) error {
	return s.verkadaDeleteOf(s.st.DeleteUser)(w, r, c)
}
