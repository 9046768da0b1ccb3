package config

import "github.com/latchd/latch/schedule"

// The raw* types mirror the TOML file one to one. Pointers mark keys that
// have a default, so "absent" and "zero" can be told apart. Everything is
// decoded as plain TOML types; meaning (durations, times, pins, references)
// is checked afterwards in build, where the key's line is known, by the
// package that owns each rule.

type rawFile struct {
	Controller *rawController `toml:"controller"`
	API        *rawAPI        `toml:"api"`
	Log        *rawLog        `toml:"log"`
	MFA        *rawMFA        `toml:"mfa"`
	Reader     []rawReader    `toml:"reader"`
	Door       []rawDoor      `toml:"door"`
	Group      []rawGroup     `toml:"group"`
	Input      []rawInput     `toml:"input"`
	MQTT       *rawMQTT       `toml:"mqtt"`
	Webhook    []rawWebhook   `toml:"webhook"`
	Fleet      *rawFleet      `toml:"fleet"`
}

// rawInput is an [[input]] (docs/operations.md).
type rawInput struct {
	Name   *string  `toml:"name"`
	Pin    *string  `toml:"pin"`
	Active *string  `toml:"active"`
	Action *string  `toml:"action"`
	Doors  []string `toml:"doors"`
}

type rawController struct {
	Name           *string `toml:"name"`
	Database       *string `toml:"database"`
	KeyFile        *string `toml:"key_file"`
	TimeZone       *string `toml:"time_zone"`
	EventRetention *int64  `toml:"event_retention"`

	DuressOutput       *string `toml:"duress_output"`
	DuressOutputActive *string `toml:"duress_output_active"`
}

type rawAPI struct {
	Socket  *string `toml:"socket"`
	Listen  *string `toml:"listen"`
	TLSCert *string `toml:"tls_cert"`
	TLSKey  *string `toml:"tls_key"`

	MaxConnections        *int64  `toml:"max_connections"`
	MaxConnectionsPerPeer *int64  `toml:"max_connections_per_peer"`
	HeaderTimeout         *string `toml:"header_timeout"`
	ImportSpoolMax        *string `toml:"import_spool_max"`
}

type rawLog struct {
	Format *string `toml:"format"`
	Level  *string `toml:"level"`
}

type rawMFA struct {
	EntryCodeFallback *bool   `toml:"entry_code_fallback"`
	CodeTimeout       *string `toml:"code_timeout"`
	KeyTimeout        *string `toml:"key_timeout"`
	MaxCodeAttempts   *int64  `toml:"max_code_attempts"`
	LockoutWindow     *string `toml:"lockout_window"`
	LockoutTime       *string `toml:"lockout_time"`
}

type rawKeys struct {
	Star *int64 `toml:"star"`
	Hash *int64 `toml:"hash"`
}

type rawReader struct {
	Name           *string  `toml:"name"`
	Door           *string  `toml:"door"`
	Direction      *string  `toml:"direction"`
	D0             *string  `toml:"d0"`
	D1             *string  `toml:"d1"`
	Formats        []string `toml:"formats"`
	Keypad         *string  `toml:"keypad"`
	Keys           *rawKeys `toml:"keys"`
	MaxFrameGap    *string  `toml:"max_frame_gap"`
	RawByteOrder   *string  `toml:"raw_byte_order"`
	LEDGreen       *string  `toml:"led_green"`
	LEDRed         *string  `toml:"led_red"`
	Beeper         *string  `toml:"beeper"`
	FeedbackActive *string  `toml:"feedback_active"`
}

type rawDoor struct {
	Name          *string `toml:"name"`
	TimeZone      *string `toml:"time_zone"`
	Relay         *string `toml:"relay"`
	RelayActive   *string `toml:"relay_active"`
	DPS           *string `toml:"dps"`
	DPSOpen       *string `toml:"dps_open"`
	REX           *string `toml:"rex"`
	REXActive     *string `toml:"rex_active"`
	Debounce      *string `toml:"debounce"`
	UnlockTime    *string `toml:"unlock_time"`
	REXUnlocks    *bool   `toml:"rex_unlocks"`
	REXUnlockTime *string `toml:"rex_unlock_time"`
	RelockOnOpen  *bool   `toml:"relock_on_open"`
	HeldOpenTime  *string `toml:"held_open_time"`
	DefaultMode   *string `toml:"default_mode"`
	ClockUnknown  *string `toml:"clock_unknown_mode"`
	SecondFactor  *string `toml:"second_factor"`
	// Double badge (docs/operations.md).
	DoubleBadge       *bool    `toml:"double_badge"`
	DoubleBadgeGroups []string `toml:"double_badge_groups"`
	DoubleBadgeWindow *string  `toml:"double_badge_window"`
	// A door's windows and exceptions decode into the schedule package's
	// spelling of them (keys matched by name: days, start, end, mode, date).
	Schedule  []schedule.WindowText    `toml:"schedule"`
	Exception []schedule.ExceptionText `toml:"exception"`
}

// rawGroupWindow is a group's access window: it has no mode.
type rawGroupWindow struct {
	Days  []string `toml:"days"`
	Start *string  `toml:"start"`
	End   *string  `toml:"end"`
}

type rawGroup struct {
	Name     *string          `toml:"name"`
	Doors    []string         `toml:"doors"`
	Schedule []rawGroupWindow `toml:"schedule"`
}

type rawMQTT struct {
	URL             *string `toml:"url"`
	Username        *string `toml:"username"`
	PasswordFile    *string `toml:"password_file"`
	TLSCA           *string `toml:"tls_ca"`
	ClientID        *string `toml:"client_id"`
	TopicPrefix     *string `toml:"topic_prefix"`
	DiscoveryPrefix *string `toml:"discovery_prefix"`
	Commands        *bool   `toml:"commands"`
}

type rawWebhook struct {
	Name       *string  `toml:"name"`
	URL        *string  `toml:"url"`
	SecretFile *string  `toml:"secret_file"`
	Events     []string `toml:"events"`
	Timeout    *string  `toml:"timeout"`
}

type rawFleet struct {
	URL          *string `toml:"url"`
	Site         *string `toml:"site"`
	Controller   *string `toml:"controller"`
	CredsFile    *string `toml:"creds_file"`
	User         *string `toml:"user"`
	PasswordFile *string `toml:"password_file"`
	TLSCA        *string `toml:"tls_ca"`
	SiteKeyFile  *string `toml:"site_key_file"`
	EventMaxAge  *string `toml:"event_max_age"`
}
