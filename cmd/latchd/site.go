package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/fleet"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/store"
)

// site is the running configuration: one door loop per [[door]], with its
// readers' capture and its DPS/REX inputs, all on one hardware.
type site struct {
	// member is this latchd's membership in its site ([fleet]); nil without.
	member *fleet.Member
	log    zerolog.Logger
	hw     hardware
	store  *store.Store
	ew     *door.EventWriter
	obs    door.Observer // every door's observer (the API's metrics); nil = none
	// fatal receives a panic or an unrecoverable error of any goroutine the
	// site started; the daemon then drives every strike locked and exits.
	fatal chan<- error

	// uploader is a fleet controller's event upload and eventBacklog its
	// backlog (fleetevents.go), set by startIntegrations; nil without.
	uploader     *fleet.Uploader
	eventBacklog func() uint64

	cfg     *config.Config        // guarded by mu
	outputs map[string]heldOutput // by pin name, kept across reloads

	// duress is the controller's duress latch (duress.go), duressPin its
	// output's pin ("" = none); duressDone closes when its writer ends.
	duress     *door.Duress
	duressPin  string
	duressOut  gpio.PinOut // the line; nil = none
	duressDone chan struct{}

	// mu guards doors and cfg: the main goroutine changes them, the
	// watchdog, the crash path and --sim commands read them.
	mu     sync.Mutex
	doors  map[string]*doorRun
	inputs map[string]*inputRun // the [[input]] watches (inputs.go); guarded by mu

	// ctl is the command API over the running doors (inputs.go).
	ctl atomic.Pointer[door.Controller]
}

// config is the running config.
func (s *site) config() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// heldOutput is an output line and the level it was requested at: its
// inactive level, the one Halt and the hardware's Close return it to.
type heldOutput struct {
	p       gpio.PinOut
	initial gpio.Level
}

// doorRun is one running door.
type doorRun struct {
	name   string
	d      *door.Door
	relay  gpio.PinOut
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	stops  []func()      // reader captures and input watches
}

func newSite(log zerolog.Logger, hw hardware, st *store.Store, ew *door.EventWriter, fatal chan<- error) *site {
	return &site{log: log, hw: hw, store: st, ew: ew, fatal: fatal, doors: map[string]*doorRun{}, outputs: map[string]heldOutput{},
		inputs: map[string]*inputRun{}}
}

// guard runs f in a goroutine; a panic becomes a fatal error (crash-only:
// the daemon locks every strike and exits non-zero, systemd restarts it).
func (s *site) guard(what string, f func()) {
	go func() {
		defer func() {
			if r := recover(); r != nil {
				s.fatal <- fmt.Errorf("latchd: panic in %s: %s", what, panicText(r))
			}
		}()
		f()
	}()
}

// output returns the output on pin, requesting it at initial the first
// time. A line held at another initial level (a reload changed
// relay_active or feedback_active) is driven to the new initial level and
// requested again at it, so that Halt and the hardware's Close return it
// to the level that is inactive now, not to the old one.
func (s *site) output(pin string, initial gpio.Level, label string) (gpio.PinOut, error) {
	if h, ok := s.outputs[pin]; ok {
		if h.initial == initial {
			return h.p, nil
		}
		if err := h.p.Out(initial); err != nil {
			return nil, fmt.Errorf("latchd: %s (%s): %w", label, pin, err)
		}
		if err := s.hw.Release(h.p); err != nil {
			return nil, fmt.Errorf("latchd: %s (%s): %w", label, pin, err)
		}
		delete(s.outputs, pin)
	}
	p, err := s.hw.Output(pin, initial, label)
	if err != nil {
		return nil, err
	}
	s.outputs[pin] = heldOutput{p: p, initial: initial}
	return p, nil
}

// start starts every door of cfg. On error the doors started so far are
// stopped again.
func (s *site) start(ctx context.Context, cfg *config.Config) error {
	s.mu.Lock()
	s.cfg = cfg
	s.mu.Unlock()
	if err := s.startInputs(ctx, cfg); err != nil {
		return err
	}
	for _, d := range cfg.Doors {
		if err := s.startDoor(ctx, cfg, d.Name); err != nil {
			s.stopAll()
			return err
		}
	}
	s.rebuildController()
	return nil
}

func (s *site) startDoor(ctx context.Context, cfg *config.Config, name string) (err error) {
	dc := configDoor(cfg, name)
	// The relay is requested at its inactive level: the strike stays locked
	// from the first instant, and a restart never pulses it (docs/door.md, "Strike, DPS, REX").
	relay, err := s.output(dc.Relay, !dc.RelayActive, "relay "+name)
	if err != nil {
		return err
	}
	fb := map[string]reader.Feedback{}
	for _, rc := range cfg.Readers {
		if rc.Door != name {
			continue
		}
		fb[rc.Name], err = rc.Feedback.Open(func(l reader.FeedbackLine, off gpio.Level) (gpio.PinOut, error) {
			return s.output(l.Pin, off, l.Key+" "+rc.Name)
		})
		if err != nil {
			return err
		}
	}
	c := cfg.DoorConfig(name, relay, fb)
	c.Logger = s.log
	c.Observer = s.obs
	// Lockout counters live in the database: a reload that restarts the
	// door, a restart and a crash keep them.
	c.Lockouts = s.store
	// So are its override, lockdown and toggles (docs/operations.md).
	c.State = s.store
	c.Duress = s.duress
	d, err := door.New(c, s.store, s.ew)
	if err != nil {
		return fmt.Errorf("latchd: %w", err)
	}
	dctx, cancel := context.WithCancel(ctx)
	run := &doorRun{name: name, d: d, relay: relay, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.presetInputs(d, c)
	s.doors[name] = run
	s.mu.Unlock()
	s.guard("door "+name, func() {
		defer close(run.done)
		if err := d.Run(dctx); err != nil {
			s.fatal <- fmt.Errorf("latchd: door %s: %w", name, err)
		}
	})
	defer func() {
		if err != nil {
			s.stopDoor(name)
		}
	}()
	for _, rc := range cfg.Readers {
		if rc.Door != name {
			continue
		}
		dec, err := reader.NewDecoder(rc.Config, reader.WithEpoch(s.hw.Epoch()),
			reader.WithLogger(s.log.With().Str("component", "reader").Logger()),
			reader.WithGate(s.store.Gate())) // the outbox waits on it (package quiet)
		if err != nil {
			return fmt.Errorf("latchd: reader %s: %w", rc.Name, err)
		}
		stop, err := s.hw.Reader(dctx, rc, dec, d.Submit)
		if err != nil {
			return err
		}
		run.stops = append(run.stops, stop)
	}
	if dc.DPS != "" {
		open := dc.DPSOpen
		// A door contact is a dry contact: pull the line to the level it
		// reads when the contact is open (the door open, for a usual NC
		// contact), so a cut wire reads "open".
		stop, err := s.hw.Input(dctx, dc.DPS, "dps "+name, pullTo(open), func(l gpio.Level) { d.DoorSensor(l == open) })
		if err != nil {
			return err
		}
		run.stops = append(run.stops, stop)
	}
	if dc.REX != "" {
		active := dc.REXActive
		// An exit button is a normally-open contact: pull to the released level.
		stop, err := s.hw.Input(dctx, dc.REX, "rex "+name, pullTo(!active), func(l gpio.Level) { d.ExitButton(l == active) })
		if err != nil {
			return err
		}
		run.stops = append(run.stops, stop)
	}
	return nil
}

func pullTo(l gpio.Level) gpio.Pull {
	if l == gpio.High {
		return gpio.PullUp
	}
	return gpio.PullDown
}

func configDoor(cfg *config.Config, name string) config.Door {
	i := slices.IndexFunc(cfg.Doors, func(d config.Door) bool { return d.Name == name })
	return cfg.Doors[i]
}

// stopDoor stops a door: its inputs, then its loop (which locks the
// strike), then Halt for good measure.
func (s *site) stopDoor(name string) {
	s.mu.Lock()
	run, ok := s.doors[name]
	s.mu.Unlock()
	if !ok {
		return
	}
	for _, stop := range run.stops {
		stop()
	}
	run.cancel()
	<-run.done
	if err := run.d.Halt(); err != nil {
		s.log.Error().Err(err).Str("door", name).Msg("halt failed")
	}
	s.mu.Lock()
	delete(s.doors, name)
	s.mu.Unlock()
}

func (s *site) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name := range s.doors {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func (s *site) stopAll() {
	s.stopInputs()
	for _, name := range s.names() {
		s.stopDoor(name)
	}
}

// haltAll drives every strike locked at once, from any goroutine, without
// waiting for the door loops (the crash path).
func (s *site) haltAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, run := range s.doors {
		_ = run.d.Halt()
	}
}

// healthy reports an error when a reader or input line is dead or a door
// loop has ended on its own: the watchdog keep-alives stop on it.
func (s *site) healthy() error {
	if dead := s.hw.deadLines(); len(dead) > 0 {
		return fmt.Errorf("dead lines: %s", strings.Join(dead, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, run := range s.doors {
		select {
		case <-run.done:
			return fmt.Errorf("door %s stopped", name)
		default:
		}
	}
	return nil
}

// reload applies a new config door by door. An unchanged door keeps running
// (a code being typed on it is not dropped); a changed or removed door is
// stopped with its strike locked; a changed or new door is started. Keys of
// [controller] and [api] need a restart; they are reported, not applied.
func (s *site) reload(ctx context.Context, next *config.Config) error {
	old := s.config()
	var ignored []string
	if old.Controller.Database != next.Controller.Database || old.Controller.KeyFile != next.Controller.KeyFile ||
		old.Controller.EventRetention != next.Controller.EventRetention {
		ignored = append(ignored, "controller.database/key_file/event_retention")
	}
	if err := s.duressPinTaken(next); err != nil {
		return err // before any door is touched
	}
	if duressChanged(old, next) {
		ignored = append(ignored, "controller.duress_output/duress_output_active")
	}
	if old.API != next.API {
		ignored = append(ignored, "api")
	}
	if old.Log != next.Log {
		ignored = append(ignored, "log")
	}
	if !reflect.DeepEqual(old.Fleet, next.Fleet) {
		ignored = append(ignored, "fleet")
	}
	var kept, restarted, stopped, started []string
	sameInputs := inputsUnchanged(old, next)
	if !sameInputs {
		s.stopInputs()
	}
	for _, d := range old.Doors {
		if config.DoorUnchanged(old, next, d.Name) {
			kept = append(kept, d.Name)
			continue
		}
		s.stopDoor(d.Name)
		if slices.ContainsFunc(next.Doors, func(n config.Door) bool { return n.Name == d.Name }) {
			restarted = append(restarted, d.Name)
		} else {
			stopped = append(stopped, d.Name)
		}
	}
	// A door restarted on the same relay pin with another relay_active
	// must not sit at its new active level until it starts: request its
	// relay at the new inactive level now.
	for _, d := range next.Doors {
		if _, running := s.doorByName(d.Name); running {
			continue
		}
		if _, held := s.outputs[d.Relay]; held {
			if _, err := s.output(d.Relay, !d.RelayActive, "relay "+d.Name); err != nil {
				s.log.Error().Err(err).Str("door", d.Name).Msg("relay write failed")
			}
		}
	}
	// Free outputs no longer used by any running or coming door, at their
	// inactive level.
	inUse := map[string]bool{s.duressPin: s.duressPin != ""}
	for _, d := range next.Doors {
		inUse[d.Relay] = true
	}
	for _, r := range next.Readers {
		for _, l := range r.Feedback.Lines() {
			inUse[l.Pin] = true
		}
	}
	for pin, h := range s.outputs {
		if !inUse[pin] {
			if err := errors.Join(h.p.Halt(), s.hw.Release(h.p)); err != nil {
				s.log.Warn().Err(err).Str("pin", pin).Msg("releasing an output failed")
			}
			delete(s.outputs, pin)
		}
	}
	var errs []error
	s.mu.Lock()
	s.cfg = next // the inputs' doors are the new config's
	s.mu.Unlock()
	if !sameInputs {
		if err := s.startInputs(ctx, next); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range next.Doors {
		if _, running := s.doorByName(d.Name); running {
			continue
		}
		if err := s.startDoor(ctx, next, d.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		if !slices.Contains(restarted, d.Name) {
			started = append(started, d.Name)
		}
	}
	s.rebuildController()
	ev := s.log.Info().Strs("kept", kept).Strs("restarted", restarted).Strs("started", started).Strs("stopped", stopped)
	if len(ignored) > 0 {
		ev = ev.Strs("needs_restart", ignored)
	}
	ev.Msg("config reloaded")
	return errors.Join(errs...)
}

// doorByName returns a running door (for the API seam and --sim commands).
func (s *site) doorByName(name string) (*door.Door, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	run, ok := s.doors[name]
	if !ok {
		return nil, false
	}
	return run.d, true
}
