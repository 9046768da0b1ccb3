package door

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
)

// Reader directions.
const (
	DirectionIn  = "in"
	DirectionOut = "out"
)

// Second-factor policies (docs/config.md, door.second_factor).
const (
	SecondFactorAlways    = "always"     // every reader of the door asks for the code
	SecondFactorEntryOnly = "entry_only" // "out" readers skip the code
)

// ReaderConfig is one reader of a door.
type ReaderConfig struct {
	Name      string
	Direction string // DirectionIn or DirectionOut; "" = in
	Keypad    bool   // the reader has a keypad (config keypad != "")
	// Feedback is the reader's green LED, red LED and beeper; each line
	// may be nil. They are driven to Feedback.Active to light or sound
	// (readers are usually active low, docs/config.md, "[[reader]]").
	Feedback reader.Feedback
}

// Group is an access group from the config: its members may use Doors
// during Schedule (no windows = always). Windows have no mode.
type Group struct {
	Name     string
	Doors    []string
	Schedule []schedule.Window
}

// MFAConfig is the [mfa] section of the config.
type MFAConfig struct {
	EntryCodeFallback bool          // a user without MFA codes may use the entry code as second factor
	CodeTimeout       time.Duration // badge → first key
	KeyTimeout        time.Duration // key → next key
	MaxCodeAttempts   int           // wrong codes per card per door …
	LockoutWindow     time.Duration // … within this window …
	LockoutTime       time.Duration // … lock the card out for this long
}

// Config is one door. Start from DefaultConfig: the zero values of the
// levels and booleans are not the docs/config.md defaults. Zero durations and
// counts are replaced by the defaults in New.
type Config struct {
	Name     string
	Location *time.Location // nil = UTC

	Relay       gpio.PinOut // the strike relay; required
	RelayActive gpio.Level  // level that releases the strike

	Debounce      time.Duration // DPS and REX inputs; negative = none (inputs debounced in hardware)
	UnlockTime    time.Duration // 1s–60s
	RexUnlocks    bool
	RexUnlockTime time.Duration
	RelockOnOpen  bool
	HeldOpenTime  time.Duration

	DefaultMode schedule.Mode
	// ClockUnknownMode is the fail-secure mode while the wall clock is not
	// plausible (a Pi boots at 1970 until NTP sets the time). Default locked.
	ClockUnknownMode schedule.Mode
	SecondFactor     string // SecondFactorAlways or SecondFactorEntryOnly

	Schedule   []schedule.Window
	Exceptions []schedule.Exception

	Readers []ReaderConfig
	// Groups are all access groups of the config; the door keeps those that
	// name it.
	Groups []Group
	MFA    MFAConfig

	// Now is the wall clock; nil = time.Now. Timeouts use the monotonic
	// reading of the times it returns.
	Now    func() time.Time
	Logger zerolog.Logger
	// Observer, when set, is told of every decision (with its latency on
	// Now's clock) and every bad read; nil = none.
	Observer Observer
	// Lockouts, when set, keeps the lockout counters across reloads,
	// restarts and crashes (*store.Store implements it); nil = in memory.
	Lockouts LockoutStore
	// State, when set, gives back the door's operating state (override,
	// lockdown, double-badge toggle, first-person-in opening) when it
	// starts (*store.Store implements it); the state is saved with the
	// events that change it (docs/operations.md). nil = in memory.
	State StateStore

	// Inputs are the [[input]]s that act on this door (docs/operations.md).
	Inputs []InputConfig
	// DoubleBadge: a member of DoubleBadgeGroups (empty: anyone granted)
	// who badges the same card twice within DoubleBadgeWindow toggles the
	// door to unlocked, and back (docs/operations.md).
	DoubleBadge       bool
	DoubleBadgeGroups []string
	DoubleBadgeWindow time.Duration
}

// Defaults (docs/config.md).
const (
	DefaultDebounce      = 50 * time.Millisecond
	DefaultUnlockTime    = 10 * time.Second
	DefaultRexUnlockTime = 3 * time.Second
	DefaultHeldOpenTime  = 60 * time.Second
	DefaultCodeTimeout   = 10 * time.Second
	DefaultKeyTimeout    = 5 * time.Second
	DefaultMaxAttempts   = 3
	DefaultLockoutWindow = 5 * time.Minute
	DefaultLockoutTime   = 60 * time.Second
	// DefaultDoubleBadgeWindow is double_badge_window's default.
	DefaultDoubleBadgeWindow = 5 * time.Second
)

// Limit is the range a duration setting may take, Min to Max inclusive.
type Limit struct{ Min, Max time.Duration }

// The ranges of the door's settings in the config file (docs/config.md);
// the loader checks them, New enforces UnlockTime's (the others only must
// not be negative, so a test may run a door faster than a site would).
var (
	// DPS/REX are dry contacts; 20–50 ms is usual, 1 s is far beyond any bounce.
	DebounceLimit = Limit{0, time.Second}
	// 1–60 s: the range seen on commercial controllers.
	UnlockTimeLimit    = Limit{time.Second, time.Minute}
	RexUnlockTimeLimit = Limit{time.Second, time.Minute}
	HeldOpenTimeLimit  = Limit{time.Second, 24 * time.Hour}
	CodeTimeoutLimit   = Limit{time.Second, 5 * time.Minute}
	KeyTimeoutLimit    = Limit{time.Second, 5 * time.Minute}
	LockoutWindowLimit = Limit{time.Second, 24 * time.Hour}
	LockoutTimeLimit   = Limit{time.Second, 24 * time.Hour}
	// Two badges more than 30 s apart are no gesture.
	DoubleBadgeWindowLimit = Limit{time.Second, 30 * time.Second}
)

// MaxCodeAttemptsMin and MaxCodeAttemptsMax bound mfa.max_code_attempts.
const (
	MaxCodeAttemptsMin = 1
	MaxCodeAttemptsMax = 100
)

// DefaultConfig is a door with every docs/config.md default; the caller sets
// Name, Relay and Readers.
func DefaultConfig() Config {
	return Config{
		RelayActive:       gpio.High,
		Debounce:          DefaultDebounce,
		UnlockTime:        DefaultUnlockTime,
		RexUnlockTime:     DefaultRexUnlockTime,
		RelockOnOpen:      true,
		HeldOpenTime:      DefaultHeldOpenTime,
		DefaultMode:       schedule.AccessControlled,
		ClockUnknownMode:  schedule.Locked,
		SecondFactor:      SecondFactorAlways,
		DoubleBadgeWindow: DefaultDoubleBadgeWindow,
		MFA: MFAConfig{
			EntryCodeFallback: true,
			CodeTimeout:       DefaultCodeTimeout,
			KeyTimeout:        DefaultKeyTimeout,
			MaxCodeAttempts:   DefaultMaxAttempts,
			LockoutWindow:     DefaultLockoutWindow,
			LockoutTime:       DefaultLockoutTime,
		},
	}
}

// NoKeypad says why card_and_code cannot be used on the door, or "" when it
// can: every reader that would ask for the code (each reader with
// SecondFactorAlways, the "in" readers with SecondFactorEntryOnly) needs a
// keypad, and there must be one such reader.
func (c Config) NoKeypad() string {
	var missing []string
	asking := 0
	for _, r := range c.Readers {
		if c.SecondFactor == SecondFactorEntryOnly && r.Direction == DirectionOut {
			continue
		}
		asking++
		if !r.Keypad {
			missing = append(missing, r.Name)
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Sprintf("card_and_code needs a keypad, and reader %s of door %q has none (keypad = \"\")",
			strings.Join(missing, ", "), c.Name)
	case asking == 0:
		return fmt.Sprintf("card_and_code needs a reader with a keypad, and door %q has no reader that asks for the code", c.Name)
	}
	return ""
}

// config is the validated, resolved form of Config used by step.
type config struct {
	Config
	sched   *schedule.Schedule
	readers map[string]*readerCfg
	groups  map[string]*schedule.Access // groups granting this door; nil value = always
}

type readerCfg struct {
	ReaderConfig
	out      bool // an exit reader
	feedback bool // has at least one feedback line
}

func defDur(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

func resolveConfig(c Config) (*config, error) {
	if c.Name == "" {
		return nil, errors.New("door: name: must not be empty")
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("door: %s: "+format, append([]any{c.Name}, a...)...)
	}
	if c.Relay == nil {
		return nil, fail("relay: a relay pin is required")
	}
	if c.Location == nil {
		c.Location = time.UTC
	}
	defDur(&c.Debounce, DefaultDebounce)
	defDur(&c.UnlockTime, DefaultUnlockTime)
	defDur(&c.RexUnlockTime, DefaultRexUnlockTime)
	defDur(&c.HeldOpenTime, DefaultHeldOpenTime)
	defDur(&c.MFA.CodeTimeout, DefaultCodeTimeout)
	defDur(&c.MFA.KeyTimeout, DefaultKeyTimeout)
	defDur(&c.MFA.LockoutWindow, DefaultLockoutWindow)
	defDur(&c.MFA.LockoutTime, DefaultLockoutTime)
	defDur(&c.DoubleBadgeWindow, DefaultDoubleBadgeWindow)
	if c.MFA.MaxCodeAttempts == 0 {
		c.MFA.MaxCodeAttempts = DefaultMaxAttempts
	}
	if l := UnlockTimeLimit; c.UnlockTime < l.Min || c.UnlockTime > l.Max {
		return nil, fail("unlock_time %s: must be %gs–%gs", c.UnlockTime, l.Min.Seconds(), l.Max.Seconds())
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"rex_unlock_time", c.RexUnlockTime}, {"held_open_time", c.HeldOpenTime},
		{"mfa.code_timeout", c.MFA.CodeTimeout}, {"mfa.key_timeout", c.MFA.KeyTimeout},
		{"mfa.lockout_window", c.MFA.LockoutWindow}, {"mfa.lockout_time", c.MFA.LockoutTime}} {
		if d.v < 0 {
			return nil, fail("%s %s: must not be negative", d.name, d.v)
		}
	}
	if c.MFA.MaxCodeAttempts < MaxCodeAttemptsMin {
		return nil, fail("mfa.max_code_attempts %d: must be at least %d", c.MFA.MaxCodeAttempts, MaxCodeAttemptsMin)
	}
	if c.DefaultMode == schedule.Unknown {
		c.DefaultMode = schedule.AccessControlled
	}
	if c.ClockUnknownMode == schedule.Unknown {
		c.ClockUnknownMode = schedule.Locked
	}
	if _, err := schedule.ParseMode(string(c.ClockUnknownMode)); err != nil {
		return nil, fail("clock_unknown_mode: %w", err)
	}
	switch c.SecondFactor {
	case "":
		c.SecondFactor = SecondFactorAlways
	case SecondFactorAlways, SecondFactorEntryOnly:
	default:
		return nil, fail("second_factor %q: must be \"always\" or \"entry_only\"", c.SecondFactor)
	}
	seenInput := map[string]bool{}
	for _, in := range c.Inputs {
		switch {
		case in.Name == "":
			return nil, fail("input: name must not be empty")
		case seenInput[in.Name]:
			return nil, fail("input %q: named twice", in.Name)
		}
		seenInput[in.Name] = true
		switch in.Action {
		case InputEmergencyRelease, InputLockdown, InputAlarm:
		default:
			return nil, fail("input %q: action %q: must be %q, %q or %q", in.Name, in.Action,
				InputEmergencyRelease, InputLockdown, InputAlarm)
		}
	}
	if c.DoubleBadgeWindow < 0 {
		return nil, fail("double_badge_window %s: must not be negative", c.DoubleBadgeWindow)
	}
	rc := &config{readers: map[string]*readerCfg{}, groups: map[string]*schedule.Access{}}
	for _, r := range c.Readers {
		if r.Name == "" {
			return nil, fail("reader: name must not be empty")
		}
		if _, dup := rc.readers[r.Name]; dup {
			return nil, fail("reader %q: named twice", r.Name)
		}
		switch r.Direction {
		case "":
			r.Direction = DirectionIn
		case DirectionIn, DirectionOut:
		default:
			return nil, fail("reader %q: direction %q: must be \"in\" or \"out\"", r.Name, r.Direction)
		}
		rc.readers[r.Name] = &readerCfg{
			ReaderConfig: r,
			out:          r.Direction == DirectionOut,
			feedback:     r.Feedback.Green != nil || r.Feedback.Red != nil || r.Feedback.Beeper != nil,
		}
	}
	why := c.NoKeypad()
	if c.ClockUnknownMode == schedule.CardAndCode && why != "" {
		return nil, fail("clock_unknown_mode: %s", why)
	}
	s, err := schedule.New(schedule.Config{Location: c.Location, Default: c.DefaultMode,
		Windows: c.Schedule, Exceptions: c.Exceptions, Keypad: why == "", NoKeypad: why})
	if err != nil {
		return nil, fmt.Errorf("door: %s: %w", c.Name, err)
	}
	rc.sched = s
	for _, g := range c.Groups {
		for _, d := range g.Doors {
			if d != c.Name {
				continue
			}
			var a *schedule.Access
			if len(g.Schedule) > 0 {
				if a, err = schedule.NewAccess(c.Location, g.Schedule); err != nil {
					return nil, fmt.Errorf("door: %s: group %q: %w", c.Name, g.Name, err)
				}
			}
			rc.groups[g.Name] = a
		}
	}
	rc.Config = c
	return rc, nil
}

// attemptLimit bounds a Card + Code attempt from its badge to its '#':
// code_timeout for the first key, then key_timeout for each of the longest
// code's other digits and for '#' (10 s + 16 × 5 s = 90 s by default). '*'
// clears the digits but not the attempt's clock, so an attempt cannot be
// kept pending by typing.
func (c *config) attemptLimit() time.Duration {
	return c.MFA.CodeTimeout + maxCodeDigits*c.MFA.KeyTimeout
}
