package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/internal/version"
	"github.com/latchd/latch/mqtt"
	"github.com/latchd/latch/outbox"
	"github.com/latchd/latch/webhook"
)

// integrations are the outbox and its destinations: [mqtt] and every
// [[webhook]] (docs/integrations.md). They read the event log after the
// store has it; the doors never wait for them.
type integrations struct {
	ob     *outbox.Outbox
	mq     *mqtt.Client
	cancel context.CancelFunc
	done   chan struct{}
}

// mqttStopWait bounds the MQTT client's clean disconnect on the way out.
const mqttStopWait = 2 * time.Second

// startIntegrations builds the destinations of cfg, puts every new one's
// cursor at the end of the log (before the doors start: a new destination
// gets every event from then on) and starts delivering. With neither
// [mqtt] nor [[webhook]] it does nothing.
func (d *daemon) startIntegrations(cfg *config.Config, metrics *api.Metrics) error {
	up, err := fleetUploader(cfg, d.store)
	if err != nil {
		return err
	}
	if cfg.MQTT == nil && len(cfg.Webhooks) == 0 && up == nil {
		return nil
	}
	ver := version.Get().Version
	ob := outbox.New(d.store, outbox.Options{Emit: d.ew.Emit, Gate: d.store.Gate(), Log: d.log})
	var mq *mqtt.Client
	if cfg.MQTT != nil {
		var doors []mqtt.DoorInfo
		for _, dc := range cfg.Doors {
			doors = append(doors, mqtt.DoorInfo{Name: dc.Name, HasDPS: dc.DPS != ""})
		}
		opts := mqtt.Options{Controller: cfg.Controller.Name, SWVersion: ver, Doors: doors, Log: d.log}
		if cfg.MQTT.Commands {
			opts.Commander = mqtt.DoorCommands(func() (mqtt.DoorController, error) {
				if ctl := d.site.controller(); ctl != nil { // the doors running now: a reload replaces them
					return ctl, nil
				}
				return nil, door.ErrNotRunning
			})
		}
		c, err := mqtt.New(*cfg.MQTT, opts)
		if err != nil {
			return err
		}
		mq = c
		ob.Add(c)
	}
	for _, wc := range cfg.Webhooks {
		w, err := webhook.New(wc, webhook.Options{Controller: cfg.Controller.Name, UserAgent: "latch/" + ver})
		if err != nil {
			return err
		}
		ob.Add(w)
	}
	if up != nil {
		ob.Add(up)
		d.site.uploader, d.site.eventBacklog = up, destBacklog(ob, up.Name())
	}
	if err := ob.Init(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	if mq != nil {
		if err := mq.Start(ctx); err != nil {
			cancel()
			return err
		}
	}
	in := &integrations{ob: ob, mq: mq, cancel: cancel, done: make(chan struct{})}
	d.site.guard("outbox", func() {
		defer close(in.done)
		if err := ob.Run(ctx); err != nil {
			d.fatal <- fmt.Errorf("latchd: outbox: %w", err)
		}
	})
	metrics.SetOutbox(ob.Stats)
	d.integ = in
	return nil
}

// stopIntegrations ends delivery (what was not acknowledged is delivered
// after the next start) and disconnects from the broker, which then
// publishes "offline".
func (d *daemon) stopIntegrations() {
	in := d.integ
	if in == nil {
		return
	}
	d.integ = nil
	in.cancel()
	<-in.done
	if in.mq != nil {
		ctx, cancel := context.WithTimeout(context.Background(), mqttStopWait)
		defer cancel()
		if err := in.mq.Stop(ctx); err != nil {
			d.log.Warn().Err(err).Str("component", "mqtt").Msg("disconnecting from the broker")
		}
	}
}

// integrationsChanged names what of [mqtt] and [[webhook]] a reload
// changed: those need a restart.
func integrationsChanged(old, next *config.Config) bool {
	if (old.MQTT == nil) != (next.MQTT == nil) || (old.MQTT != nil && *old.MQTT != *next.MQTT) {
		return true
	}
	return !slices.EqualFunc(old.Webhooks, next.Webhooks, func(a, b webhook.Config) bool {
		return a.Name == b.Name && a.URL == b.URL && a.SecretFile == b.SecretFile && a.Timeout == b.Timeout && slices.Equal(a.Events, b.Events)
	})
}
