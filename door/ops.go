package door

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/schedule"
	"github.com/latchd/latch/store"
)

// Operating a door (docs/operations.md): the levels above the schedule
// (emergency inputs, lockdown, override, double badge), first person in,
// the commands that set them, the inputs, and their persistence. The mode
// itself is decided by Resolve (precedence.go) from s.levels.

// Input actions ([[input]] action).
const (
	InputEmergencyRelease = "emergency_release"
	InputLockdown         = "lockdown"
	InputAlarm            = "alarm"
)

// InputConfig is an [[input]] that acts on this door. Report is set on
// one door of an alarm input (its first): that door records the input's
// input_alarm and input_normal events, so that each edge is one event.
type InputConfig struct {
	Name   string
	Action string // InputEmergencyRelease, InputLockdown or InputAlarm
	Report bool
}

// StateStore keeps a door's operating state across restarts and crashes
// (store.DoorState); *store.Store implements it. The state is written by
// AppendEvents with the event that changed it (Event.State), so only the
// load is here.
type StateStore interface {
	LoadDoorState(door string) (store.DoorState, error)
}

// Mode is schedule.Mode: a door mode, as the command API takes it.
type Mode = schedule.Mode

// DoorState is store.DoorState.
type DoorState = store.DoorState

// Actor is who gave a command: an API token's name and role,
// "local-owner", "scenario", an input's name, "mqtt" (docs/operations.md).
type Actor struct {
	Name string
	Role string // the token's role, or ""
}

// Command limits (docs/operations.md, "Commands").
var (
	// RemoteUnlockLimit bounds an unlock command's duration.
	RemoteUnlockLimit = UnlockTimeLimit
	// OverrideLimit bounds an override's duration (for, or until − now).
	OverrideLimit = Limit{time.Minute, 7 * 24 * time.Hour}
)

// ErrLockdown refuses an unlock command on a door in lockdown.
var ErrLockdown = errors.New("door is in lockdown")

// ErrNotRunning refuses a command on a door that is not running (not yet
// started, or stopped).
var ErrNotRunning = errors.New("door is not running")

// ErrUnknownDoor is matched (errors.Is) by a command naming no door of the
// controller; the error is an *UnknownError naming it.
var ErrUnknownDoor = errors.New("unknown door")

// ErrUnknownInput is matched by Input naming no configured input.
var ErrUnknownInput = errors.New("unknown input")

// UnknownError names the door or input a command named that does not exist.
type UnknownError struct {
	What string // "door" or "input"
	Name string
}

func (e *UnknownError) Error() string { return fmt.Sprintf("no %s %q", e.What, e.Name) }

// Is makes errors.Is(err, ErrUnknownDoor) (or ErrUnknownInput) true.
func (e *UnknownError) Is(target error) bool {
	return (e.What == "door" && target == ErrUnknownDoor) || (e.What == "input" && target == ErrUnknownInput)
}

// ValueError is a command's bad value: the field and the rule it breaks.
type ValueError struct {
	Field string
	Rule  string
}

func (e *ValueError) Error() string { return e.Field + ": " + e.Rule }

// ---- inputs of the loop ----

// inCommand is a command; step answers on reply (buffered) through
// actReply, after the step's state is published.
type inCommand struct {
	cmd   any // cmdUnlock, cmdOverride, cmdLockdown
	reply chan error
}

type cmdUnlock struct {
	d  time.Duration
	by Actor
}

// cmdOverride sets an override until until; mode "" clears it.
type cmdOverride struct {
	mode  schedule.Mode
	until time.Time
	by    Actor
}

type cmdLockdown struct {
	on bool
	by Actor
}

// inInput is an [[input]]'s raw (not debounced) level: active or not.
type inInput struct {
	name   string
	active bool
}

func (inCommand) isInput() {}
func (inInput) isInput()   {}

// actReply answers a command, after the step's state is published.
type actReply struct {
	ch  chan error
	err error
}

func (actReply) isAction() {}

// ---- state ----

// ops is the door's operating state, a part of state.
type ops struct {
	eff       Effective
	emergency map[string]bool // active emergency_release inputs
	lockIn    map[string]bool // active lockdown inputs
	lockdown  *store.LockdownState
	ovr       *store.OverrideState
	ovrMode   schedule.Mode
	ovrUntil  time.Time
	dblUntil  time.Time // double-badge toggle's end; zero = off
	fpiUntil  time.Time // an opened first-person-in window's end; zero = none
	fpiWindow bool      // the window in force is a first-person-in window
	fpiGroups []string
	inputs    map[string]*inputState
	inputList []string        // their names in config order
	lastBadge lastBadge       // the last card grant, for a double badge
	saved     store.DoorState // the operating state as last handed to the store
}

type inputState struct {
	cfg InputConfig
	deb debouncer
}

type lastBadge struct {
	card CardKey
	at   time.Time
	ok   bool
}

func (s *state) initOps() {
	s.emergency = map[string]bool{}
	s.lockIn = map[string]bool{}
	s.inputs = map[string]*inputState{}
	s.inputList = nil
	for _, in := range s.cfg.Inputs {
		s.inputs[in.Name] = &inputState{cfg: in}
		s.inputList = append(s.inputList, in.Name)
	}
}

// loadState puts the stored operating state into a new state (before
// start; expired parts are dropped at start).
func (s *state) loadState(ds store.DoorState) {
	if ds.Override != nil {
		if m, err := schedule.ParseMode(ds.Override.Mode); err == nil {
			o := *ds.Override
			s.ovr, s.ovrMode, s.ovrUntil = &o, m, o.Until
		}
	}
	if ds.Lockdown != nil {
		l := *ds.Lockdown
		s.lockdown = &l
	}
	s.dblUntil = ds.DoubleBadgeUntil
	s.fpiUntil = ds.FirstPersonUntil
	s.saved = *s.snapshot()
}

// presetInput sets an input's level as read when the door starts: stable
// at once, no debounce (the line was read, not seen changing).
func (s *state) presetInput(name string, active bool) {
	if in := s.inputs[name]; in != nil {
		in.deb = debouncer{stable: active}
		s.inputLevel(in, active)
	}
}

// snapshot is the operating state to persist.
func (s *state) snapshot() *store.DoorState {
	ds := &store.DoorState{DoubleBadgeUntil: s.dblUntil, FirstPersonUntil: s.fpiUntil}
	if s.ovr != nil {
		o := *s.ovr
		ds.Override = &o
	}
	if s.lockdown != nil {
		l := *s.lockdown
		ds.Lockdown = &l
	}
	return ds
}

// changedState is the operating state to store with the next event, or
// nil when it is what was last stored.
func (s *state) changedState() *store.DoorState {
	ds := s.snapshot()
	if sameState(ds, &s.saved) {
		return nil
	}
	s.saved = *s.snapshot()
	return ds
}

func sameState(a, b *store.DoorState) bool {
	if !a.DoubleBadgeUntil.Equal(b.DoubleBadgeUntil) || !a.FirstPersonUntil.Equal(b.FirstPersonUntil) ||
		(a.Override == nil) != (b.Override == nil) || (a.Lockdown == nil) != (b.Lockdown == nil) {
		return false
	}
	if a.Override != nil && (a.Override.Mode != b.Override.Mode || !a.Override.Until.Equal(b.Override.Until) ||
		a.Override.Actor != b.Override.Actor || a.Override.Role != b.Override.Role) {
		return false
	}
	return a.Lockdown == nil || (a.Lockdown.Actor == b.Lockdown.Actor && a.Lockdown.Role == b.Lockdown.Role &&
		a.Lockdown.Since.Equal(b.Lockdown.Since))
}

// levels is what decides the mode now (see Resolve).
func (s *state) levels() Levels {
	l := Levels{
		Emergency:   len(s.emergency) > 0,
		Lockdown:    s.lockedDown(),
		Override:    s.ovrMode,
		DoubleBadge: !s.dblUntil.IsZero(),
		Default:     s.cfg.sched.Default(),
	}
	switch s.schedSrc {
	case schedule.SourceUnknown:
		l.Default = s.cfg.ClockUnknownMode
	case schedule.SourceException:
		l.Exception = s.schedMode
	case schedule.SourceWeekly:
		l.Window = s.schedMode
		if s.fpiWindow {
			l.WindowGated = s.fpiUntil.IsZero()
			l.WindowOpened = !l.WindowGated
		}
	}
	return l
}

func (s *state) lockedDown() bool { return s.lockdown != nil || len(s.lockIn) > 0 }

// levelEnd is when the level deciding the mode ends; zero = not on its own.
func (s *state) levelEnd() time.Time {
	switch s.eff.Level {
	case LevelOverride:
		return s.ovrUntil
	case LevelDoubleBadge:
		return s.dblUntil
	case LevelException, LevelSchedule, LevelDefault:
		// The schedule's next change (for a gated first-person-in window:
		// its end, or an earlier change).
		return s.nextChange
	}
	return time.Time{}
}

// opsDeadline is the earliest end of an operating level.
func (s *state) opsDeadline(min func(time.Time)) {
	if s.ovr != nil {
		min(s.ovrUntil)
	}
	min(s.dblUntil)
	for _, in := range s.inputs {
		min(in.deb.at)
	}
}

// opsTick ends what has ended at now and debounces the inputs.
func (s *state) opsTick(o *out) {
	now := o.now
	for _, name := range s.inputList {
		in := s.inputs[name]
		if in.deb.due(now) {
			s.inputChanged(o, in)
		}
	}
	changed := false
	if s.ovr != nil && !now.Before(s.ovrUntil) {
		s.ovr, s.ovrMode, s.ovrUntil = nil, schedule.Unknown, time.Time{}
		changed = true
	}
	if !s.dblUntil.IsZero() && !now.Before(s.dblUntil) {
		s.dblUntil = time.Time{}
		changed = true
	}
	if changed {
		s.applyModeWith(o, false, "", Actor{}, "")
	}
}

// expireAtStart drops what ended while the door was not running: a timed
// override, a double-badge toggle, a first-person-in opening.
func (s *state) expireAtStart(now time.Time) {
	if s.ovr != nil && !now.Before(s.ovrUntil) {
		s.ovr, s.ovrMode, s.ovrUntil = nil, schedule.Unknown, time.Time{}
	}
	if !s.dblUntil.IsZero() && !now.Before(s.dblUntil) {
		s.dblUntil = time.Time{}
	}
	if !s.fpiUntil.IsZero() && !now.Before(s.fpiUntil) {
		s.fpiUntil = time.Time{}
	}
}

// onInput debounces an input's raw level.
func (s *state) onInput(o *out, in inInput) {
	st := s.inputs[in.name]
	if st == nil {
		return
	}
	if st.deb.raw(in.active, o.now, s.cfg.Debounce) {
		s.inputChanged(o, st)
	}
}

// inputChanged acts on an input's new stable level.
func (s *state) inputChanged(o *out, in *inputState) {
	active := in.deb.stable
	switch in.cfg.Action {
	case InputAlarm:
		if in.cfg.Report {
			ev := EvInputNormal
			if active {
				ev = EvInputAlarm
			}
			o.emit(Event{Event: ev, Input: in.cfg.Name, Mode: string(s.mode)})
		}
		return
	case InputLockdown:
		// One lockdown_started/ended per source: this input's edge, even
		// when a command (or another input) holds the door locked down too.
		s.inputLevel(in, active)
		ev := EvLockdownEnded
		if active {
			ev = EvLockdownStarted
			s.dblUntil = time.Time{} // a lockdown ends a double-badge toggle
		}
		o.emit(Event{Event: ev, Actor: in.cfg.Name, Input: in.cfg.Name, Mode: string(s.mode), State: s.changedState()})
	default:
		s.inputLevel(in, active)
	}
	s.applyModeWith(o, false, "", Actor{Name: in.cfg.Name}, in.cfg.Name)
}

// inputLevel records an emergency or lockdown input's level.
func (s *state) inputLevel(in *inputState, active bool) {
	var m map[string]bool
	switch in.cfg.Action {
	case InputEmergencyRelease:
		m = s.emergency
	case InputLockdown:
		m = s.lockIn
	default:
		return
	}
	if active {
		m[in.cfg.Name] = true
	} else {
		delete(m, in.cfg.Name)
	}
}

// onCommand carries out a command and answers it.
func (s *state) onCommand(o *out, in inCommand) {
	var err error
	switch c := in.cmd.(type) {
	case cmdUnlock:
		err = s.unlock(o, c)
	case cmdOverride:
		s.override(o, c)
	case cmdLockdown:
		s.setLockdown(o, c)
	default:
		err = errors.New("door: unknown command")
	}
	o.do(actReply{ch: in.reply, err: err})
}

func (s *state) unlock(o *out, c cmdUnlock) error {
	if s.lockedDown() {
		return ErrLockdown
	}
	d := c.d
	if d == 0 {
		d = s.cfg.UnlockTime
	}
	o.decide(Event{Event: EvAccessGranted, Method: MethodRemote, Actor: c.by.Name, Role: c.by.Role,
		Duration: d.String(), Mode: string(s.mode)})
	s.release(o, d)
	return nil
}

func (s *state) override(o *out, c cmdOverride) {
	if c.mode == schedule.Unknown {
		if s.ovr == nil {
			return
		}
		s.ovr, s.ovrMode, s.ovrUntil = nil, schedule.Unknown, time.Time{}
		s.applyModeWith(o, false, CauseOverride, c.by, "")
		return
	}
	s.ovr = &store.OverrideState{Mode: string(c.mode), Until: c.until, Actor: c.by.Name, Role: c.by.Role}
	s.ovrMode, s.ovrUntil = c.mode, c.until
	s.applyModeWith(o, false, CauseOverride, c.by, "")
}

func (s *state) setLockdown(o *out, c cmdLockdown) {
	switch {
	case c.on && s.lockdown == nil:
		s.lockdown = &store.LockdownState{Actor: c.by.Name, Role: c.by.Role, Since: o.now}
	case !c.on && s.lockdown != nil:
		s.lockdown = nil
	default:
		return // nothing changes: no event
	}
	// One event per command that changes the door's lockdown; a door
	// also held by a lockdown input stays locked down after a release.
	ev := EvLockdownEnded
	if c.on {
		ev = EvLockdownStarted
		s.dblUntil = time.Time{} // a lockdown ends a double-badge toggle
	}
	o.emit(Event{Event: ev, Actor: c.by.Name, Role: c.by.Role, Mode: string(s.mode), State: s.changedState()})
	s.applyModeWith(o, false, "", c.by, "")
}

// ---- door rules: double badge, first person in ----

// cardGranted is told of every card grant at the door (after the grant):
// it toggles a double badge and opens a first-person-in window.
func (s *state) cardGranted(o *out, c reader.Card, u *UserView, alone bool) {
	now := o.now
	s.firstPerson(o, u)
	if !s.cfg.DoubleBadge || !alone || len(s.emergency) > 0 || s.lockedDown() {
		s.lastBadge = lastBadge{}
		return
	}
	if !memberOf(u, s.cfg.DoubleBadgeGroups) {
		s.lastBadge = lastBadge{}
		return
	}
	k := cardKey(c)
	lb := s.lastBadge
	if !lb.ok || lb.card != k || now.Sub(lb.at) > s.cfg.DoubleBadgeWindow {
		s.lastBadge = lastBadge{card: k, at: now, ok: true}
		return
	}
	s.lastBadge = lastBadge{}
	if s.dblUntil.IsZero() {
		s.dblUntil = endOfDay(now, s.cfg.Location)
	} else {
		s.dblUntil = time.Time{}
	}
	s.applyModeWith(o, true, CauseDoubleBadge, Actor{Name: u.ExternalID}, "")
}

// firstPerson opens a gated first-person-in window for a member of its
// groups (empty: anyone granted).
func (s *state) firstPerson(o *out, u *UserView) {
	if !s.fpiWindow || !s.fpiUntil.IsZero() || s.schedSrc != schedule.SourceWeekly || u == nil {
		return
	}
	if !memberOf(u, s.fpiGroups) {
		return
	}
	_, end, ok := s.cfg.sched.WindowAt(o.now)
	if !ok {
		return
	}
	s.fpiUntil = end
	s.applyModeWith(o, true, CauseFirstPersonIn, Actor{Name: u.ExternalID}, "")
}

// memberOf: u is in one of groups, or groups is empty.
func memberOf(u *UserView, groups []string) bool {
	if len(groups) == 0 {
		return true
	}
	for _, g := range u.Groups {
		if slices.Contains(groups, g) {
			return true
		}
	}
	return false
}

// endOfDay is the next local midnight after t in loc.
func endOfDay(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	d := schedule.Date{Year: lt.Year(), Month: lt.Month(), Day: lt.Day() + 1}
	n := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return schedule.Resolve(loc, schedule.Date{Year: n.Year(), Month: n.Month(), Day: n.Day()}, 0)
}

// applyModeWith evaluates the precedence and emits one mode_changed if the
// mode changed (always at start; always when force is set, for a command
// or rule whose event is that mode_changed even when the mode stays, such
// as an override under a lockdown). cause, when set, is the event's cause;
// otherwise transitionCause decides. by and input name who did it.
func (s *state) applyModeWith(o *out, force bool, cause string, by Actor, input string) {
	force = force || cause == CauseOverride
	old := s.eff
	eff := Resolve(s.levels())
	s.eff = eff
	start := old.Level == 0
	if !start && eff.Mode == old.Mode && !force {
		return
	}
	if cause == "" {
		cause = transitionCause(old, eff)
	}
	if start {
		cause = CauseStart
	}
	ev := Event{Event: EvModeChanged, From: string(s.mode), To: string(eff.Mode), Cause: cause, Mode: string(eff.Mode),
		Actor: by.Name, Role: by.Role, Input: input}
	if cause == CauseOverride && s.ovr != nil {
		ev.Until = s.ovrUntil.UTC().Format(store.TimeFormat)
	}
	ev.State = s.changedState()
	s.setMode(o, ev)
}

// logStateErr logs a store error loading the state.
func logStateErr(l zerolog.Logger, err error) {
	l.Error().Err(err).Msg("door state not loaded; the door starts without its override, lockdown and toggles")
}
