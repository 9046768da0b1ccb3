package door

import "slices"

// Every name the door writes into an event or passes to an Observer is
// defined here, once, and listed by a function (Events, Methods, Reasons,
// Causes, Results, LostReasons) that the metrics and the console formatter
// range over instead of retyping the strings: a new name added here is
// counted and drawn as itself, never as "other". docs/events.md describes
// each one.

// Event names.
const (
	EvAccessGranted  = "access_granted"
	EvAccessDenied   = "access_denied"
	EvCodeRequested  = "code_requested"
	EvStrikeReleased = "strike_released"
	EvStrikeLocked   = "strike_locked"
	EvKeypadLockout  = "keypad_lockout"
	EvDoorOpened     = "door_opened"
	EvDoorClosed     = "door_closed"
	EvDoorForcedOpen = "door_forced_open"
	EvDoorHeldOpen   = "door_held_open"
	EvREX            = "rex"
	EvModeChanged    = "mode_changed"
	// EvEventsLost stands for events that were never stored: written by
	// the EventWriter with the first batch that is stored again.
	EvEventsLost = "events_lost"
	// Operations (docs/operations.md).
	EvLockdownStarted = "lockdown_started"
	EvLockdownEnded   = "lockdown_ended"
	EvInputAlarm      = "input_alarm"
	EvInputNormal     = "input_normal"
)

// Grant methods (access_granted's method).
const (
	MethodCard         = "card"
	MethodEntryCode    = "entry_code"
	MethodCardAndCode  = "card_and_code"
	MethodUnlockedMode = "unlocked_mode"
	MethodRemote       = "remote" // an unlock command (docs/operations.md)
)

// Denial reasons (access_denied's reason).
const (
	ReasonBadRead        = "bad_read"
	ReasonUnknownCard    = "unknown_card"
	ReasonCardInactive   = "card_inactive"
	ReasonUserInactive   = "user_inactive"
	ReasonNoAccess       = "no_access"
	ReasonDoorLocked     = "door_locked"
	ReasonCardRequired   = "card_required"
	ReasonNoSecondFactor = "no_second_factor"
	ReasonCodeTimeout    = "code_timeout"
	ReasonBadCode        = "bad_code"
	ReasonWrongCode      = "wrong_code"
	ReasonCodeAbandoned  = "code_abandoned"
	ReasonLockedOut      = "locked_out"
	ReasonUnknownCode    = "unknown_code"
	ReasonLockdown       = "lockdown" // the door is locked down (docs/operations.md)
)

// Causes of a mode change (mode_changed's cause).
const (
	CauseSchedule  = "schedule"
	CauseException = "exception"
	CauseOverride  = "override"
	CauseStart     = "start"
	// The levels of docs/operations.md's precedence.
	CauseEmergency     = "emergency"
	CauseLockdown      = "lockdown"
	CauseDoubleBadge   = "double_badge"
	CauseFirstPersonIn = "first_person_in"
)

// Decision results passed to Observer.ObserveDecision.
const (
	ResultGranted = "granted"
	ResultDenied  = "denied"
)

// Reasons an event was lost, for EventWriter.OnLost (the metrics' labels).
const (
	LostWriteFailed = "write_failed" // AppendEvents failed (disk full or broken)
	LostQueueFull   = "queue_full"   // dropped from a full queue (MaxQueue)
)

var (
	events = []string{EvAccessGranted, EvAccessDenied, EvCodeRequested, EvStrikeReleased, EvStrikeLocked,
		EvKeypadLockout, EvDoorOpened, EvDoorClosed, EvDoorForcedOpen, EvDoorHeldOpen, EvREX, EvModeChanged,
		EvEventsLost, EvLockdownStarted, EvLockdownEnded, EvInputAlarm, EvInputNormal}
	methods = []string{MethodCard, MethodEntryCode, MethodCardAndCode, MethodUnlockedMode, MethodRemote}
	reasons = []string{ReasonBadRead, ReasonUnknownCard, ReasonCardInactive, ReasonUserInactive, ReasonNoAccess,
		ReasonDoorLocked, ReasonCardRequired, ReasonNoSecondFactor, ReasonCodeTimeout, ReasonBadCode,
		ReasonWrongCode, ReasonCodeAbandoned, ReasonLockedOut, ReasonUnknownCode, ReasonLockdown}
	causes = []string{CauseSchedule, CauseException, CauseOverride, CauseStart, CauseEmergency, CauseLockdown,
		CauseDoubleBadge, CauseFirstPersonIn}
	results     = []string{ResultGranted, ResultDenied}
	lostReasons = []string{LostWriteFailed, LostQueueFull}
)

// Events lists every event the door package writes (the door's and the
// EventWriter's events_lost).
func Events() []string { return slices.Clone(events) }

// Methods lists every grant method.
func Methods() []string { return slices.Clone(methods) }

// Reasons lists every denial reason.
func Reasons() []string { return slices.Clone(reasons) }

// Causes lists every cause of a mode change.
func Causes() []string { return slices.Clone(causes) }

// Results lists the decision results an Observer is told.
func Results() []string { return slices.Clone(results) }

// LostReasons lists the reasons an event is lost (EventWriter.OnLost).
func LostReasons() []string { return slices.Clone(lostReasons) }
