package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/latchd/latch/store"
)

// subscriber is the test's MQTT client: a persistent session (the broker
// queues what arrives while it is away) on latch/# and homeassistant/#.
type subscriber struct {
	cm     *autopaho.ConnectionManager
	mu     sync.Mutex
	msgs   []message
	notify chan struct{}
}

type message struct {
	topic, payload, deliveryID string
	retain                     bool
}

func subscribe(t *testing.T, brokerURL string) *subscriber {
	t.Helper()
	u, _ := url.Parse(brokerURL)
	s := &subscriber{notify: make(chan struct{}, 1)}
	subs := &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "latch/#", QoS: 1}, {Topic: "homeassistant/#", QoS: 1}}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		KeepAlive:                     10,
		CleanStartOnInitialConnection: false,
		SessionExpiryInterval:         3600,
		ReconnectBackoff:              autopaho.NewConstantBackoff(100 * time.Millisecond),
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			go cm.Subscribe(ctx, subs)
		},
		ClientConfig: paho.ClientConfig{
			ClientID:          "e2e-subscriber",
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){s.received},
		},
	})
	if err := s.await(ctx, cm, err, subs); err != nil {
		t.Fatal(err)
	}
	return s
}

// received records a message (with its delivery_id user property, when
// it has one) and wakes waitFor.
func (s *subscriber) received(pr paho.PublishReceived) (bool, error) {
	p := pr.Packet
	m := message{topic: p.Topic, payload: string(p.Payload), retain: p.Retain}
	if p.Properties != nil {
		m.deliveryID = p.Properties.User.Get("delivery_id")
	}
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return true, nil
}

// await takes the connection autopaho.NewConnection made (or its error),
// waits up to 10 s for it to be up and subscribes to subs (nil: nothing).
func (s *subscriber) await(ctx context.Context, cm *autopaho.ConnectionManager, err error, subs *paho.Subscribe) error {
	if err != nil {
		return err
	}
	s.cm = cm
	actx, acancel := context.WithTimeout(ctx, 10*time.Second)
	defer acancel()
	if err := cm.AwaitConnection(actx); err != nil {
		return fmt.Errorf("cannot connect: %w", err)
	}
	if subs != nil {
		if _, err := cm.Subscribe(actx, subs); err != nil {
			return err
		}
	}
	return nil
}

// waitFor waits (60 s at most: a broker restart and latchd's reconnect
// take a few seconds) until cond holds for the messages so far.
func (s *subscriber) waitFor(t *testing.T, what string, cond func([]message) bool) []message {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		s.mu.Lock()
		msgs := append([]message(nil), s.msgs...)
		s.mu.Unlock()
		if cond(msgs) {
			return msgs
		}
		select {
		case <-s.notify:
		case <-deadline:
			t.Fatalf("mqtt: %s did not happen (%d messages)", what, len(msgs))
		}
	}
}

// events are the event messages so far, in the order they arrived.
func events(msgs []message) []store.Event {
	var out []store.Event
	for _, m := range msgs {
		if !strings.HasPrefix(m.topic, "latch/hq/events/") {
			continue
		}
		var e store.Event
		if err := json.Unmarshal([]byte(m.payload), &e); err == nil {
			out = append(out, e)
		}
	}
	return out
}

// maxSeq is the highest seq of evs.
func maxSeq(evs []store.Event) uint64 {
	var n uint64
	for _, e := range evs {
		n = max(n, e.Seq)
	}
	return n
}

func lastRetained(msgs []message, topic string) (string, bool) {
	v, ok := "", false
	for _, m := range msgs {
		if m.topic == topic {
			v, ok = m.payload, true
		}
	}
	return v, ok
}

// TestMQTTEndToEnd runs the built latchd --sim against Debian's mosquitto
// on loopback, with a webhook to an httptest receiver beside it:
// discovery configs retained; OPEN from a client releases the strike
// (actor mqtt); every event arrives as stored; the broker stopped and
// restarted loses nothing; latchd killed with SIGKILL mid-burst delivers
// every stored event at least once afterwards, none out of order.
func TestMQTTEndToEnd(t *testing.T) {
	bin := buildLatchd(t)
	broker := startMosquitto(t, anonymousOK)
	sub := subscribe(t, broker.url())

	var hmu sync.Mutex
	var hooks []store.Event
	secret := "e2e-webhook-secret"
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(r.Header.Get("X-Latch-Timestamp") + "." + string(b)))
		if r.Header.Get("X-Latch-Signature") != "sha256="+hex.EncodeToString(m.Sum(nil)) {
			t.Errorf("webhook: bad signature for %s", b)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var e store.Event
		json.Unmarshal(b, &e)
		if r.Header.Get("X-Latch-Delivery") != "hq:"+strconv.FormatUint(e.Seq, 10) {
			t.Errorf("webhook: delivery id %q for seq %d", r.Header.Get("X-Latch-Delivery"), e.Seq)
		}
		hmu.Lock()
		hooks = append(hooks, e)
		hmu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()

	cfg := strings.Replace(simConfig, "[controller]\n", "[controller]\nname = \"hq\"\n", 1)
	cfg = strings.Replace(cfg, "unlock_time = \"60s\"\n", "unlock_time = \"2s\"\ndps = \"GPIO5\"\n", 1)
	cfg += fmt.Sprintf("\n[mqtt]\nurl = %q\ncommands = true\n\n[[webhook]]\nname = \"soc\"\nurl = %q\nsecret_file = \"hook.secret\"\n", broker.url(), recv.URL+"/hook")
	dir, cfgPath := seededDir(t, cfg)
	if err := os.WriteFile(filepath.Join(dir, "hook.secret"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}

	d := startSim(t, bin, cfgPath)
	d.Drain()

	// Discovery: retained configs, the device, availability.
	msgs := sub.waitFor(t, "discovery and online", func(ms []message) bool {
		v, _ := lastRetained(ms, "latch/hq/status")
		_, lock := lastRetained(ms, "homeassistant/lock/latch_hq/front/config")
		_, dps := lastRetained(ms, "homeassistant/binary_sensor/latch_hq/front_door/config")
		return v == "online" && lock && dps
	})
	lockCfg, _ := lastRetained(msgs, "homeassistant/lock/latch_hq/front/config")
	var lc map[string]any
	if err := json.Unmarshal([]byte(lockCfg), &lc); err != nil {
		t.Fatal(err)
	}
	if lc["command_topic"] != "latch/hq/doors/front/set" || lc["payload_open"] != "OPEN" || lc["availability_topic"] != "latch/hq/status" {
		t.Errorf("lock config %v", lc)
	}
	// A second client sees the configs retained.
	check := subscribeOnce(t, broker.url(), "homeassistant/lock/latch_hq/front/config")
	if !strings.Contains(check, `"unique_id":"latch_hq_front_lock"`) {
		t.Errorf("retained lock config %q", check)
	}

	// OPEN from a client: the strike is released, by actor mqtt.
	pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer pcancel()
	if _, err := sub.cm.Publish(pctx, &paho.Publish{Topic: "latch/hq/doors/front/set", QoS: 1, Payload: []byte("OPEN")}); err != nil {
		t.Fatal(err)
	}
	msgs = sub.waitFor(t, "strike released after OPEN", func(ms []message) bool {
		for _, e := range events(ms) {
			if e.Event == "strike_released" {
				return true
			}
		}
		return false
	})
	var granted bool
	for _, e := range events(msgs) {
		if e.Event == "access_granted" && e.Actor == "mqtt" {
			granted = true
		}
	}
	if !granted {
		t.Errorf("no access_granted by actor mqtt in %v", events(msgs))
	}
	sub.waitFor(t, "lock state UNLOCKED", func(ms []message) bool {
		v, _ := lastRetained(ms, "latch/hq/doors/front/lock")
		return v == "UNLOCKED"
	})

	// The broker stops; events happen; it comes back: nothing is lost.
	before := maxSeq(events(sub.waitFor(t, "", func([]message) bool { return true })))
	broker.stop()
	for i := range 10 {
		d.Send(fmt.Sprintf("badge h10301 9 %d", 5000+i)) // unknown cards: access_denied
	}
	broker.start()
	sub.waitFor(t, "the denials after the broker restart", func(ms []message) bool {
		n := 0
		for _, e := range events(ms) {
			if e.Event == "access_denied" && e.Seq > before {
				n++
			}
		}
		return n >= 10
	})

	// latchd is killed mid-burst and started again.
	start := maxSeq(events(sub.waitFor(t, "", func([]message) bool { return true })))
	for i := range 100 {
		d.Send(fmt.Sprintf("badge h10301 8 %d", 6000+i))
	}
	sub.waitFor(t, "part of the burst", func(ms []message) bool { return maxSeq(events(ms)) >= start+10 })
	d.Cmd.Process.Signal(syscall.SIGKILL)
	d.Wait()
	d2 := startSim(t, bin, cfgPath)
	d2.Drain()
	d2.Send("badge h10301 7 7000") // one more after the restart
	sub.waitFor(t, "the event after the restart", func(ms []message) bool {
		for _, e := range events(ms) {
			if e.Event == "access_denied" && e.Card != nil && e.Card.CardNumber == 7000 {
				return true
			}
		}
		return false
	})
	d2.Send("quit")
	if err := d2.Wait(); err != nil {
		t.Fatalf("latchd: %v", err)
	}

	// Every stored event after the first delivered one reached MQTT at
	// least once, byte for byte as stored; the first delivery of each
	// came in seq order with no gap.
	st, err := store.Open(store.Options{Path: filepath.Join(dir, "data", "latch.db"), KeyFile: filepath.Join(dir, "data", "device.key")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cursor, _, _ := st.Cursor("mqtt")
	var stored []store.Event
	for q := (store.EventQuery{Limit: 1000}); ; {
		evs, err := st.Events(q)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, evs...)
		if len(evs) < q.Limit {
			break
		}
		q.After = evs[len(evs)-1].Seq
	}
	msgs = sub.waitFor(t, "every stored event", func(ms []message) bool { return maxSeq(events(ms)) >= cursor })
	got := map[uint64]string{}
	var first []uint64
	dups := 0
	for _, m := range msgs {
		if !strings.HasPrefix(m.topic, "latch/hq/events/") {
			continue
		}
		var e store.Event
		if err := json.Unmarshal([]byte(m.payload), &e); err != nil {
			t.Fatalf("event payload %q: %v", m.payload, err)
		}
		if m.deliveryID != "hq:"+strconv.FormatUint(e.Seq, 10) || m.retain {
			t.Errorf("event %d: delivery id %q, retained %v", e.Seq, m.deliveryID, m.retain)
		}
		if want := "latch/hq/events/" + e.Door + "/" + e.Event; e.Door != "" && m.topic != want {
			t.Errorf("event %d on %s, want %s", e.Seq, m.topic, want)
		}
		if old, ok := got[e.Seq]; ok {
			dups++
			if old != m.payload {
				t.Errorf("event %d delivered twice, differently: %s / %s", e.Seq, old, m.payload)
			}
			continue
		}
		got[e.Seq] = m.payload
		first = append(first, e.Seq)
	}
	for i := 1; i < len(first); i++ {
		if first[i] != first[i-1]+1 {
			t.Fatalf("first deliveries out of order or with a gap at %d: %d after %d", i, first[i], first[i-1])
		}
	}
	n := 0
	for _, e := range stored {
		if e.Seq < first[0] {
			continue // before the MQTT destination existed
		}
		b, _ := json.Marshal(e)
		if got[e.Seq] != string(b) {
			t.Errorf("stored event %d %s; MQTT got %q", e.Seq, b, got[e.Seq])
		}
		n++
	}
	t.Logf("%d stored events delivered over MQTT, %d repeats after the SIGKILL", n, dups)
	// At least: the OPEN's grant and release, the 10 denials while the
	// broker was down, 10 of the burst and the one after the restart.
	if n < 23 {
		t.Errorf("only %d events checked", n)
	}

	// The webhook got every one too, in order.
	hmu.Lock()
	defer hmu.Unlock()
	seen := map[uint64]bool{}
	var last uint64
	for _, e := range hooks {
		if !seen[e.Seq] && last != 0 && e.Seq != last+1 {
			t.Fatalf("webhook: seq %d after %d", e.Seq, last)
		}
		if !seen[e.Seq] {
			last = e.Seq
		}
		seen[e.Seq] = true
	}
	for _, e := range stored {
		if e.Seq >= first[0] && !seen[e.Seq] {
			t.Errorf("webhook: event %d never arrived", e.Seq)
		}
	}
}

// subscribeOnce connects a fresh client, subscribes to topic and returns
// the retained message the broker sends at once.
func subscribeOnce(t *testing.T, brokerURL, topic string) string {
	t.Helper()
	u, _ := url.Parse(brokerURL)
	got := make(chan string, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 10, CleanStartOnInitialConnection: true,
		ClientConfig: paho.ClientConfig{ClientID: "e2e-once", OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) {
				if pr.Packet.Retain {
					select {
					case got <- string(pr.Packet.Payload):
					default:
					}
				}
				return true, nil
			}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cm.Disconnect(context.Background())
	if err := cm.AwaitConnection(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: topic, QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		return v
	case <-ctx.Done():
		t.Fatalf("no retained message on %s", topic)
		return ""
	}
}
