// Package apitype holds the JSON shapes of the management API's requests
// and replies (docs/api.md, "Resources"): plain structs with json tags and
// no logic. The api package writes them and cmd/latchctl reads them, so the
// two cannot drift. Times are RFC 3339 strings in UTC; an empty string is
// "unbounded" or "not set".
package apitype

// User is a user as the API returns it. Cards, HasEntryCode and MFACodes
// are present only for roles that may manage credentials; codes themselves
// never appear.
type User struct {
	UserID       string     `json:"user_id"`
	ExternalID   string     `json:"external_id,omitempty"`
	FirstName    string     `json:"first_name"`
	LastName     string     `json:"last_name"`
	Email        string     `json:"email,omitempty"`
	Start        string     `json:"start,omitempty"`
	End          string     `json:"end,omitempty"`
	Suspended    bool       `json:"suspended"`
	Groups       []string   `json:"groups"`
	Cards        *[]Card    `json:"cards,omitempty"`
	HasEntryCode *bool      `json:"has_entry_code,omitempty"`
	MFACodes     *[]MFACode `json:"mfa_codes,omitempty"`
	Created      string     `json:"created"`
	Updated      string     `json:"updated"`
}

// UserFields is the body of POST /v1/users and PATCH /v1/users/{id}: a
// nil field is absent, and PATCH leaves it alone. Start and End are RFC
// 3339 times; "" clears one.
type UserFields struct {
	ExternalID *string   `json:"external_id,omitempty"`
	FirstName  *string   `json:"first_name,omitempty"`
	LastName   *string   `json:"last_name,omitempty"`
	Email      *string   `json:"email,omitempty"`
	Start      *string   `json:"start,omitempty"`
	End        *string   `json:"end,omitempty"`
	Suspended  *bool     `json:"suspended,omitempty"`
	Groups     *[]string `json:"groups,omitempty"`
}

// UserPage is GET /v1/users: one page, and the user_id to pass as after=
// for the next (empty on the last page).
type UserPage struct {
	Users []User `json:"users"`
	Next  string `json:"next,omitempty"`
}

// Card is one card of a user: the reply of every card route, and the body
// of POST …/cards (Active defaults to true there).
type Card struct {
	Format       string `json:"format"`
	FacilityCode uint32 `json:"facility_code"`
	CardNumber   uint64 `json:"card_number"`
	Active       bool   `json:"active"`
}

// CardList is GET …/cards.
type CardList struct {
	Cards []Card `json:"cards"`
}

// Code is the body of every request that sets a code (PUT …/entry_code,
// POST and PUT …/mfa_codes, the Verkada-shaped POST), and the Verkada
// reply that echoes it.
type Code struct {
	Code string `json:"code"`
}

// MFACode describes an MFA code without its digits.
type MFACode struct {
	ID        string `json:"id"`
	Length    int    `json:"length"`
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

// MFACodeList is GET …/mfa_codes.
type MFACodeList struct {
	MFACodes []MFACode `json:"mfa_codes"`
}

// GenerateMFACode is the body of POST …/mfa_codes/generate; Length 0 =
// the default, 6.
type GenerateMFACode struct {
	Length int `json:"length,omitempty"`
}

// GeneratedMFACode is the reply to POST …/mfa_codes/generate: the only
// reply that carries a generated code's digits.
type GeneratedMFACode struct {
	Code string `json:"code"`
	MFACode
}

// Token is an API token's metadata. Token, the secret, is only in the
// reply that created it.
type Token struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Created string `json:"created,omitempty"`
	Token   string `json:"token,omitempty"`
}

// NewToken is the body of POST /v1/tokens.
type NewToken struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// TokenList is GET /v1/tokens.
type TokenList struct {
	Tokens []Token `json:"tokens"`
}

// EventPage is GET /v1/events: E is the event (the api package sends
// store.Event; a client may read json.RawMessage). Next is the seq to pass
// as after= for the next page.
type EventPage[E any] struct {
	Events []E    `json:"events"`
	Next   uint64 `json:"next,omitempty"`
}

// ImportResult is the reply to POST /v1/import.
type ImportResult struct {
	Rows             int `json:"rows"`
	UsersCreated     int `json:"users_created"`
	UsersUpdated     int `json:"users_updated"`
	CredentialsAdded int `json:"credentials_added"`
}

// Window is one weekly schedule window, as in the config file.
type Window struct {
	Days  []string `json:"days"`
	Start string   `json:"start"` // HH:MM
	End   string   `json:"end"`   // HH:MM, "24:00" allowed
	Mode  string   `json:"mode,omitempty"`
}

// Exception is a dated override of a door's weekly schedule.
type Exception struct {
	Date  string `json:"date"` // YYYY-MM-DD
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
	Mode  string `json:"mode"`
}

// Group is a configured access group (read-only through the API).
type Group struct {
	Name     string   `json:"name"`
	Doors    []string `json:"doors"`
	Schedule []Window `json:"schedule,omitempty"` // empty = always
}

// GroupList is GET /v1/groups.
type GroupList struct {
	Groups []Group `json:"groups"`
}

// Door is a configured door (read-only through the API).
type Door struct {
	Name         string      `json:"name"`
	TimeZone     string      `json:"time_zone"`
	DefaultMode  string      `json:"default_mode"`
	SecondFactor string      `json:"second_factor"`
	Readers      []string    `json:"readers"`
	Schedule     []Window    `json:"schedule,omitempty"`
	Exceptions   []Exception `json:"exceptions,omitempty"`
}

// DoorState is a configured door with its mode now ("unknown" while the
// wall clock is not plausible) and its next scheduled change: GET
// /v1/doors/{name}.
type DoorState struct {
	Door
	Mode       string `json:"mode"`
	NextChange string `json:"next_change,omitempty"`
	NextMode   string `json:"next_mode,omitempty"`
	// Controller and Online: on a fleet manager, the controller that owns
	// the door and whether its status is current (docs/fleet.md).
	Controller string `json:"controller,omitempty"`
	Online     *bool  `json:"online,omitempty"`
}

// DoorList is GET /v1/doors.
type DoorList struct {
	Doors []DoorState `json:"doors"`
}

// Error is the body of every error reply. Field and Rule name the broken
// rule of a 400; Rows lists every bad row of a refused CSV import.
type Error struct {
	Error string     `json:"error"`
	Field string     `json:"field,omitempty"`
	Rule  string     `json:"rule,omitempty"`
	Rows  []RowError `json:"rows,omitempty"`
}

// RowError is one bad row of a CSV import.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Rule   string `json:"rule"`
}
