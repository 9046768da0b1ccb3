package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/store"
)

// Lockdown across the site (docs/fleet.md "Lockdown across the site"): a
// manager's lockdown of every door is the state bucket's lockdown key;
// every controller watches it and applies each new revision to all its
// doors through its door.Controller (so each door persists it with its
// lockdown_started event, as a local command would), then records the
// revision in its store. A controller cut off when the lockdown began
// applies it when it hears of it, and its doors keep it across restarts.

// KeyLockdown is the state bucket's key of the site lockdown.
const KeyLockdown = "lockdown"

// LockdownValue is the value of the lockdown key: on (every door of the
// site locked down) or off (released), who did it and when.
type LockdownValue struct {
	V     int       `json:"v"`
	On    bool      `json:"on"`
	Doors string    `json:"doors"` // "all": every door of the site
	Actor Actor     `json:"actor"`
	Since time.Time `json:"since"`
}

const maxLockdownBytes = 1 << 10

// DecodeLockdown decodes a lockdown key's value read from NATS.
func DecodeLockdown(data []byte) (LockdownValue, error) {
	var v LockdownValue
	if err := decodeStrict("lockdown", data, maxLockdownBytes, &v); err != nil {
		return LockdownValue{}, err
	}
	if v.V != 1 || v.Doors != "all" {
		return LockdownValue{}, errors.New(`fleet: lockdown: v must be 1 and doors "all"`)
	}
	if err := checkActor(v.Actor); err != nil {
		return LockdownValue{}, fmt.Errorf("fleet: lockdown: %w", err)
	}
	return v, nil
}

// startCommands starts a controller's command service and its lockdown
// watch.
func (m *Member) startCommands(ctx context.Context) error {
	if err := m.serveCommands(); err != nil {
		return err
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.lockdownLoop(ctx)
	}()
	return nil
}

// kickStatus has the status written now.
func (m *Member) kickStatus() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// lockdownLoop watches the lockdown key until ctx ends, again after any
// error or reconnect.
func (m *Member) lockdownLoop(ctx context.Context) {
	b := newBackoff(30 * time.Second)
	var logged distinctErr
	for ctx.Err() == nil {
		err := m.watchLockdown(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errReconnected) {
			b.reset()
			continue
		}
		if !errors.Is(err, ErrOffline) && logged.isNew(err) {
			m.log.Warn().Err(err).Msg("fleet: lockdown watch stopped; retrying")
		}
		if !b.wait(ctx, m.lockReconnect) {
			return
		}
	}
}

// errReconnected ends a watch so that it starts again on the new
// connection, reading the key's current value.
var errReconnected = errors.New("fleet: reconnected")

// watchLockdown follows the lockdown key: its current value first, then
// every change.
func (m *Member) watchLockdown(ctx context.Context) error {
	if !m.nc.IsConnected() {
		return ErrOffline
	}
	bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	kv, err := m.js.KeyValue(bctx, m.names.State())
	cancel()
	if err != nil {
		return fmt.Errorf("fleet: bucket %s: %w", m.names.State(), err)
	}
	w, err := kv.Watch(ctx, KeyLockdown)
	if err != nil {
		return fmt.Errorf("fleet: watch %s: %w", KeyLockdown, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.lockReconnect:
			return errReconnected
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("fleet: the lockdown watch ended")
			}
			if e == nil {
				continue // the current value (if any) was delivered
			}
			if err := m.applyLockdown(ctx, e); err != nil {
				return err
			}
		}
	}
}

// applyLockdown applies one revision of the lockdown key to every door,
// unless it is the one last applied. A release is applied only after a
// site lockdown this controller applied (a controller joining a site
// whose lockdown ended long ago keeps its own doors' state).
func (m *Member) applyLockdown(ctx context.Context, e jetstream.KeyValueEntry) error {
	last, err := m.cfg.Store.SiteLockdown()
	if err != nil {
		return err
	}
	v := LockdownValue{V: 1, Doors: "all"} // a deleted key: released
	if e.Operation() == jetstream.KeyValuePut {
		if v, err = DecodeLockdown(e.Value()); err != nil {
			m.log.Error().Err(err).Uint64("revision", e.Revision()).Msg("fleet: the site's lockdown key does not decode; ignored")
			return nil
		}
	}
	rec := store.SiteLockdown{Revision: e.Revision(), On: v.On, Actor: v.Actor.Name, Role: v.Actor.Role, Since: v.Since.UTC()}
	if last.Revision == rec.Revision && last.On == rec.On && last.Since.Equal(rec.Since) {
		return nil // applied already (a restart, or a watch started again)
	}
	if v.On || last.On {
		ctl := (*door.Controller)(nil)
		if m.cfg.Control != nil {
			ctl = m.cfg.Control()
		}
		if ctl == nil {
			return door.ErrNotRunning
		}
		by := door.Actor{Name: v.Actor.Name, Role: v.Actor.Role}
		cctx, cancel := context.WithTimeout(ctx, commandWait)
		var doors []string
		if v.On {
			doors, err = ctl.Lockdown(cctx, nil, by)
		} else {
			doors, err = ctl.ReleaseLockdown(cctx, nil, by)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("fleet: site lockdown (on %v) not applied: %w", v.On, err)
		}
		m.log.Info().Bool("on", v.On).Strs("doors", doors).Str("actor", by.Name).Uint64("revision", rec.Revision).Msg("fleet: site lockdown applied")
		m.kickStatus()
	}
	return m.cfg.Store.SetSiteLockdown(rec)
}
