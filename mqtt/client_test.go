package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/store"
)

type fakeCommander struct {
	mu   sync.Mutex
	got  []string
	err  error
	done chan struct{}
}

func (f *fakeCommander) DoorCommand(ctx context.Context, door, cmd string) error {
	f.mu.Lock()
	f.got = append(f.got, door+" "+cmd)
	f.mu.Unlock()
	f.done <- struct{}{}
	return f.err
}

func fastBackoff(int) time.Duration { return 20 * time.Millisecond }

func newClient(t *testing.T, b *broker, cfg Config, cmd Commander) *Client {
	t.Helper()
	cfg.URL = b.url()
	if cfg.DiscoveryPrefix == "" {
		cfg.DiscoveryPrefix = DefaultDiscoveryPrefix
	}
	return startClient(t, cfg, Options{Controller: "hq", SWVersion: "v1.2.3", Commander: cmd, Log: zerolog.Nop(), ReconnectBackoff: fastBackoff,
		Doors: []DoorInfo{{Name: "front", HasDPS: true}, {Name: "back.gate"}}})
}

// startClient makes and starts a client of cfg and o, stopped when the
// test or benchmark ends.
func startClient(tb testing.TB, cfg Config, o Options) *Client {
	tb.Helper()
	c, err := New(cfg, o)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		c.Stop(sctx)
		cancel()
	})
	return c
}

// TestDiscovery: availability online, and one retained discovery config
// per entity with Home Assistant's keys; a door without a DPS has no door
// sensor; without commands the lock is a binary_sensor of class lock.
func TestDiscovery(t *testing.T) {
	b := startBroker(t)
	newClient(t, b, Config{}, nil)
	b.waitFor(t, "online and discovery", func(ms []message) bool {
		return count(ms, "latch/hq/status") > 0 && count(ms, "homeassistant/sensor/latch_hq/back_gate_access/config") > 0
	})
	if v, ok := b.retained("latch/hq/status"); !ok || v != Online {
		t.Errorf("status retained %q, %v; want online", v, ok)
	}
	var lock map[string]any
	v, ok := b.retained("homeassistant/binary_sensor/latch_hq/front_lock/config")
	if !ok {
		t.Fatal("no retained lock config")
	}
	if err := json.Unmarshal([]byte(v), &lock); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"device_class": "lock", "state_topic": "latch/hq/doors/front/lock", "payload_on": "UNLOCKED", "payload_off": "LOCKED",
		"availability_topic": "latch/hq/status", "payload_available": "online", "payload_not_available": "offline", "unique_id": "latch_hq_front_lock"}
	for k, w := range want {
		if lock[k] != w {
			t.Errorf("lock config %s = %v, want %v", k, lock[k], w)
		}
	}
	if _, has := lock["command_topic"]; has {
		t.Error("a command topic with commands off")
	}
	dev, _ := lock["device"].(map[string]any)
	if dev["model"] != "latch" || dev["sw_version"] != "v1.2.3" || dev["name"] != "latch hq" {
		t.Errorf("device %v", dev)
	}
	if v, ok := b.retained("homeassistant/binary_sensor/latch_hq/front_door/config"); !ok || !strings.Contains(v, `"device_class":"door"`) {
		t.Errorf("front door sensor config %q", v)
	}
	if v, ok := b.retained("homeassistant/binary_sensor/latch_hq/back_gate_door/config"); ok && v != "" {
		t.Errorf("back.gate has no DPS but a door sensor config %q", v)
	}
	for _, topic := range []string{"homeassistant/binary_sensor/latch_hq/front_alarm/config", "homeassistant/sensor/latch_hq/front_access/config"} {
		if _, ok := b.retained(topic); !ok {
			t.Errorf("no retained %s", topic)
		}
	}
	// The strike is locked at every start.
	b.waitFor(t, "the lock state", func(ms []message) bool { return count(ms, "latch/hq/doors/back.gate/lock") > 0 })
	if v, _ := b.retained("latch/hq/doors/front/lock"); v != StateLocked {
		t.Errorf("lock state %q, want LOCKED", v)
	}

	// Home Assistant restarts: everything again.
	n := count(b.waitFor(t, "", func([]message) bool { return true }), "homeassistant/binary_sensor/latch_hq/front_lock/config")
	if err := b.srv.Publish("homeassistant/status", []byte("online"), false, 1); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "discovery again", func(ms []message) bool {
		return count(ms, "homeassistant/binary_sensor/latch_hq/front_lock/config") > n
	})
}

// TestEvents: each event on events/<door>/<event>, not retained, its JSON
// as stored, its delivery id; and the states they change, retained.
func TestEvents(t *testing.T) {
	b := startBroker(t)
	c := newClient(t, b, Config{}, nil)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	batch := []store.Event{
		{Seq: 10, Time: now, Event: door.EvAccessGranted, Door: "front", Reader: "front-in", UserID: "u1", ExternalID: "E-77", Method: door.MethodCard,
			Card: &store.EventCard{Format: "H10301", FacilityCode: 12, CardNumber: 4242}},
		{Seq: 11, Time: now, Event: door.EvStrikeReleased, Door: "front"},
		{Seq: 12, Time: now, Event: door.EvDoorForcedOpen, Door: "front"},
		{Seq: 13, Time: now, Event: "credential_changed", Action: "user_added"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	acked, err := c.Deliver(ctx, batch)
	if err != nil || acked != 13 {
		t.Fatalf("Deliver = %d, %v", acked, err)
	}
	msgs := b.waitFor(t, "the events", func(ms []message) bool { return count(ms, "latch/hq/events/_controller/credential_changed") > 0 })
	var got []message
	for _, m := range msgs {
		if strings.HasPrefix(m.topic, "latch/hq/events/") {
			got = append(got, m)
		}
	}
	wantTopics := []string{"latch/hq/events/front/access_granted", "latch/hq/events/front/strike_released", "latch/hq/events/front/door_forced_open", "latch/hq/events/_controller/credential_changed"}
	if len(got) != len(wantTopics) {
		t.Fatalf("event messages %v", got)
	}
	for i, m := range got {
		body, _ := json.Marshal(batch[i])
		if m.topic != wantTopics[i] || m.payload != string(body) || m.retain {
			t.Errorf("message %d: %s %s retain=%v; want %s %s not retained", i, m.topic, m.payload, m.retain, wantTopics[i], body)
		}
		if id := m.user["delivery_id"]; id != "hq:"+itoa(batch[i].Seq) {
			t.Errorf("message %d: delivery_id %q", i, id)
		}
	}
	b.waitFor(t, "states", func([]message) bool {
		v, _ := b.retained("latch/hq/doors/front/access")
		return strings.Contains(v, "E-77")
	})
	if v, _ := b.retained("latch/hq/doors/front/lock"); v != StateUnlocked {
		t.Errorf("lock %q, want UNLOCKED", v)
	}
	if v, _ := b.retained("latch/hq/doors/front/alarm"); !strings.Contains(v, `"state":"ON"`) || !strings.Contains(v, "door_forced_open") {
		t.Errorf("alarm %q", v)
	}
	v, _ := b.retained("latch/hq/doors/front/access")
	if strings.Contains(v, "4242") || strings.Contains(v, "u1") {
		t.Errorf("last access %q shows the card number or the user id", v)
	}
	var acc map[string]any
	json.Unmarshal([]byte(v), &acc)
	if acc["event"] != "access_granted" || acc["method"] != "card" || acc["external_id"] != "E-77" {
		t.Errorf("last access %v", acc)
	}
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }

// TestCommands: a command on doors/<door>/set reaches the Commander; a
// bad payload, an unknown door and a retained command do not; the lock
// config carries the command topic and payloads.
func TestCommands(t *testing.T) {
	b := startBroker(t)
	fc := &fakeCommander{done: make(chan struct{}, 8), err: nil}
	newClient(t, b, Config{Commands: true}, fc)
	b.waitFor(t, "the lock config", func(ms []message) bool {
		return count(ms, "homeassistant/lock/latch_hq/front/config") > 0
	})
	v, _ := b.retained("homeassistant/lock/latch_hq/front/config")
	var lock map[string]any
	json.Unmarshal([]byte(v), &lock)
	for k, w := range map[string]any{"command_topic": "latch/hq/doors/front/set", "payload_open": "OPEN", "payload_unlock": "UNLOCK", "payload_lock": "LOCK",
		"state_locked": "LOCKED", "state_unlocked": "UNLOCKED", "optimistic": false} {
		if lock[k] != w {
			t.Errorf("lock %s = %v, want %v", k, lock[k], w)
		}
	}
	if v, ok := b.retained("homeassistant/binary_sensor/latch_hq/front_lock/config"); ok && v != "" {
		t.Errorf("the binary_sensor lock is still configured: %q", v)
	}
	// The subscription is made on connect, after the discovery: wait for
	// it by a command that must arrive.
	deadline := time.After(10 * time.Second)
	for sent := false; !sent; {
		b.srv.Publish("latch/hq/doors/front/set", []byte("OPEN"), false, 1)
		select {
		case <-fc.done:
			sent = true
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("no command arrived")
		}
	}
	b.srv.Publish("latch/hq/doors/nowhere/set", []byte("OPEN"), false, 1)
	b.srv.Publish("latch/hq/doors/front/set", []byte("EXPLODE"), false, 1)
	b.srv.Publish("latch/hq/doors/front/set", []byte("UNLOCK"), true, 1) // retained: never run
	b.srv.Publish("latch/hq/doors/back.gate/set", []byte(" lock\n"), false, 1)
	select {
	case <-fc.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the LOCK did not arrive")
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	last := fc.got[len(fc.got)-1]
	if last != "back.gate LOCK" {
		t.Errorf("commands %v; want the last to be back.gate LOCK (the bad ones refused)", fc.got)
	}
	for _, g := range fc.got {
		if strings.Contains(g, "EXPLODE") || strings.Contains(g, "nowhere") || strings.Contains(g, "UNLOCK") {
			t.Errorf("ran %q", g)
		}
	}
}

func TestCommandsNeedCommander(t *testing.T) {
	if _, err := New(Config{URL: "tcp://127.0.0.1:1883", Commands: true}, Options{Controller: "hq"}); err == nil {
		t.Fatal("commands without a Commander accepted")
	}
}

// TestWillOnStop: a clean stop leaves "offline" retained.
func TestWillOnStop(t *testing.T) {
	b := startBroker(t)
	c := newClient(t, b, Config{}, nil)
	b.waitFor(t, "online", func(ms []message) bool { return count(ms, "latch/hq/status") > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "offline", func(ms []message) bool {
		v, _ := b.retained("latch/hq/status")
		return v == Offline
	})
}

// TestDeliverWaitsForTheBroker: with no broker Deliver acknowledges
// nothing, and returns when its context ends.
func TestDeliverWaitsForTheBroker(t *testing.T) {
	c := startClient(t, Config{URL: "tcp://127.0.0.1:1", DiscoveryPrefix: ""}, Options{Controller: "hq", Log: zerolog.Nop(), ReconnectBackoff: fastBackoff})
	dctx, dcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer dcancel()
	acked, err := c.Deliver(dctx, []store.Event{{Seq: 1, Event: door.EvREX}})
	if acked != 0 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Deliver without a broker = %d, %v", acked, err)
	}
}
