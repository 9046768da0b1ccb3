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
	UserID       string   `json:"user_id"`
	ExternalID   string   `json:"external_id,omitempty"`
	FirstName    string   `json:"first_name"`
	LastName     string   `json:"last_name"`
	Email        string   `json:"email,omitempty"`
	Start        string   `json:"start,omitempty"`
	End          string   `json:"end,omitempty"`
	Suspended    bool     `json:"suspended"`
	Groups       []string `json:"groups"`
	Cards        *[]Card  `json:"cards,omitempty"`
	HasEntryCode *bool    `json:"has_entry_code,omitempty"`
	// HasDuressCode: the user has a duress code (docs/operations.md).
	HasDuressCode *bool      `json:"has_duress_code,omitempty"`
	MFACodes      *[]MFACode `json:"mfa_codes,omitempty"`
	Created       string     `json:"created"`
	Updated       string     `json:"updated"`
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
	// VerkadaKey marks a token usable as a Verkada API key (docs/verkada.md).
	VerkadaKey bool `json:"verkada_key,omitempty"`
}

// NewToken is the body of POST /v1/tokens.
type NewToken struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// VerkadaKey makes the token usable as a Verkada API key too.
	VerkadaKey bool `json:"verkada_key,omitempty"`
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
	// Level is the precedence level the mode comes from (emergency,
	// lockdown, override, double_badge, exception, schedule, default),
	// LevelEnd when it ends on its own (RFC 3339, UTC; absent: it does
	// not). Override and Lockdown are set while there is one; Emergency
	// while an emergency_release input holds the door.
	Level     string        `json:"level,omitempty"`
	LevelEnd  string        `json:"level_end,omitempty"`
	Override  *DoorOverride `json:"override,omitempty"`
	Lockdown  *DoorLockdown `json:"lockdown,omitempty"`
	Emergency bool          `json:"emergency,omitempty"`
	Strike    string        `json:"strike,omitempty"` // locked, released
	Position  string        `json:"door,omitempty"`   // open, closed, unknown (no door position switch)
	// Controller and Online: on a fleet manager, the controller that owns
	// the door and whether its status is current (docs/fleet.md).
	Controller string `json:"controller,omitempty"`
	Online     *bool  `json:"online,omitempty"`
}

// DoorOverride is a door's override in the door view.
type DoorOverride struct {
	Mode  string `json:"mode"`
	Until string `json:"until"`
	// UntilLocal is Until in the door's time zone (RFC 3339 with offset).
	UntilLocal string `json:"until_local"`
	Actor      string `json:"actor,omitempty"`
	Role       string `json:"role,omitempty"`
}

// DoorLockdown is a door's lockdown in the door view: Actor is who
// commanded it ("" when only a lockdown input holds it).
type DoorLockdown struct {
	Actor string `json:"actor,omitempty"`
	Role  string `json:"role,omitempty"`
}

// UnlockRequest is POST /v1/doors/{name}/unlock; Duration is a Go
// duration (1s–60s), empty for the door's unlock_time.
type UnlockRequest struct {
	Duration string `json:"duration,omitempty"`
}

// UnlockReply is the answer to an unlock.
type UnlockReply struct {
	Door     string `json:"door"`
	Duration string `json:"duration"`
}

// OverrideRequest is PUT /v1/doors/{name}/override: Mode for For (a Go
// duration, 1m–168h) or until Until (RFC 3339), one of the two.
type OverrideRequest struct {
	Mode  string `json:"mode"`
	For   string `json:"for,omitempty"`
	Until string `json:"until,omitempty"`
}

// LockdownRequest is POST and DELETE /v1/lockdown; no doors = all.
type LockdownRequest struct {
	Doors []string `json:"doors,omitempty"`
}

// LockdownReply lists doors: those acted on (POST, DELETE) or those in
// lockdown (GET).
type LockdownReply struct {
	Doors []string `json:"doors"`
}

// AdminUnlockRequest is Verkada's POST /access/v1/door/admin_unlock.
type AdminUnlockRequest struct {
	DoorID string `json:"door_id"`
}

// AdminUnlockReply answers it: the door and the seconds it is unlocked.
type AdminUnlockReply struct {
	DoorID   string `json:"door_id"`
	Duration int    `json:"duration"`
}

// DoorList is GET /v1/doors.
type DoorList struct {
	Doors []DoorState `json:"doors"`
}

// Error is the body of every error reply. Field and Rule name the broken
// rule of a 400; Rows lists every bad row of a refused CSV import.
type Error struct {
	// Message is the error again, on the Verkada-compatible paths
	// (docs/verkada.md), whose clients read it.
	Message string     `json:"message,omitempty"`
	Error   string     `json:"error"`
	Field   string     `json:"field,omitempty"`
	Rule    string     `json:"rule,omitempty"`
	Rows    []RowError `json:"rows,omitempty"`
}

// RowError is one bad row of a CSV import.
type RowError struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Rule   string `json:"rule"`
}

// Duress is GET /v1/duress and the reply of DELETE /v1/duress: whether
// the duress output is active and since when (the first duress since the
// last clear); Cleared, in the reply of DELETE, whether it was active.
type Duress struct {
	Active  bool   `json:"active"`
	Since   string `json:"since,omitempty"`
	Cleared bool   `json:"cleared,omitempty"`
}

// Health is the reply of GET /v1/health: 200 with status "ok", or 503 with
// status "failing" and the dead lines (latchd is about to exit and restart).
type Health struct {
	Status    string   `json:"status"`
	Time      string   `json:"time"`
	Doors     int      `json:"doors"`
	DeadLines []string `json:"dead_lines,omitempty"`
	Version   Version  `json:"version"`
}

// Version is the build identity of the latchd that answers (latchd --version).
type Version struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Go      string `json:"go"`
}
