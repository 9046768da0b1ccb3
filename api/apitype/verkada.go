package apitype

// The request and reply shapes of the Verkada-compatible API
// (docs/verkada.md). Their field names are Verkada's; a few fields latch
// adds are marked so.

// VerkadaToken is the reply of POST /token.
type VerkadaToken struct {
	Token string `json:"token"`
}

// VerkadaMessage is the body of an expired session's 401, exactly.
type VerkadaMessage struct {
	Message string `json:"message"`
}

// VerkadaMember is one user of GET /access/v1/access_users.
type VerkadaMember struct {
	UserID     string `json:"user_id"`
	ExternalID string `json:"external_id"`
	Email      string `json:"email"`
	FirstName  string `json:"first_name"`
	LastName   string `json:"last_name"`
	FullName   string `json:"full_name"`
}

// VerkadaMembers is GET /access/v1/access_users: every user, in one reply.
type VerkadaMembers struct {
	AccessMembers []VerkadaMember `json:"access_members"`
}

// VerkadaGroupRef names an access group.
type VerkadaGroupRef struct {
	GroupID string `json:"group_id"`
	Name    string `json:"name"`
}

// VerkadaCard is Verkada's Access Card Object. card_id is a string of
// digits that names the card (format, facility code, number).
type VerkadaCard struct {
	CardID           string `json:"card_id"`
	Type             string `json:"type"`
	CardNumber       string `json:"card_number"`
	CardNumberHex    string `json:"card_number_hex"`
	CardNumberBase36 string `json:"card_number_base36"`
	FacilityCode     string `json:"facility_code"`
	Active           bool   `json:"active"`
}

// VerkadaUser is Verkada's Access Information Object. EntryCode is "" or
// "set", never the digits; it and Cards are left out for a role that may
// not see credentials.
type VerkadaUser struct {
	UserID        string            `json:"user_id"`
	ExternalID    string            `json:"external_id"`
	Email         string            `json:"email"`
	FirstName     string            `json:"first_name"`
	LastName      string            `json:"last_name"`
	StartDate     *string           `json:"start_date"` // Unix seconds as digits; null = unbounded
	EndDate       *string           `json:"end_date"`
	EntryCode     *string           `json:"entry_code,omitempty"`
	AccessGroups  []VerkadaGroupRef `json:"access_groups"`
	Cards         *[]VerkadaCard    `json:"cards,omitempty"`
	BLEUnlock     bool              `json:"ble_unlock"`
	RemoteUnlock  bool              `json:"remote_unlock"`
	LicensePlates []struct{}        `json:"license_plates"`
	Suspended     bool              `json:"suspended"` // latch's
}

// VerkadaGroups is GET /access/v1/access_groups.
type VerkadaGroups struct {
	AccessGroups []VerkadaGroupRef `json:"access_groups"`
}

// VerkadaGroup is GET /access/v1/access_groups/group.
type VerkadaGroup struct {
	GroupID string   `json:"group_id"`
	Name    string   `json:"name"`
	UserIDs []string `json:"user_ids"`
}

// VerkadaSite is a door's site: the controller.
type VerkadaSite struct {
	SiteID string `json:"site_id"`
	Name   string `json:"name"`
}

// VerkadaDoor is one door of GET /access/v1/doors.
type VerkadaDoor struct {
	DoorID string      `json:"door_id"`
	Name   string      `json:"name"`
	Site   VerkadaSite `json:"site"`
	Mode   string      `json:"mode"` // latch's: the door's mode now
}

// VerkadaDoors is GET /access/v1/doors.
type VerkadaDoors struct {
	Doors []VerkadaDoor `json:"doors"`
}

// VerkadaEvent is one event of GET /events/v1/access.
type VerkadaEvent struct {
	EventID   string           `json:"event_id"`
	EventType string           `json:"event_type"`
	Timestamp string           `json:"timestamp"` // ISO 8601, UTC, ms
	DoorID    string           `json:"door_id"`
	DeviceID  string           `json:"device_id"` // the door's id: latch's doors are its devices
	SiteID    string           `json:"site_id"`
	UserID    string           `json:"user_id"`
	EventInfo VerkadaEventInfo `json:"event_info"`
}

// VerkadaEventInfo is latch's own event, in its own names (docs/events.md).
type VerkadaEventInfo struct {
	Event      string `json:"event"`
	Seq        uint64 `json:"seq"`
	Door       string `json:"door,omitempty"`
	Reader     string `json:"reader,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	Method     string `json:"method,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Mode       string `json:"mode,omitempty"`
	Card       string `json:"card,omitempty"` // FORMAT/FACILITY/NUMBER
}

// VerkadaEvents is a page of GET /events/v1/access. NextPageToken is null
// on the last page.
type VerkadaEvents struct {
	Events        []VerkadaEvent `json:"events"`
	NextPageToken *string        `json:"next_page_token"`
}
