package mqtt

import (
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// broker is an in-process MQTT 5 broker (mochi-mqtt) on a loopback port,
// with a recorder of every message published on it.
type broker struct {
	srv  *mochi.Server
	addr string

	mu     sync.Mutex
	msgs   []message
	notify chan struct{}
}

// message is one PUBLISH as the broker's subscriber got it.
type message struct {
	topic   string
	payload string
	retain  bool
	user    map[string]string
}

func startBroker(t *testing.T) *broker {
	t.Helper()
	return startBrokerAt(t, "127.0.0.1:0")
}

func startBrokerAt(t *testing.T, addr string) *broker {
	t.Helper()
	srv := mochi.New(&mochi.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "t", Address: addr})
	if err := srv.AddListener(tcp); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	b := &broker{srv: srv, addr: tcp.Address(), notify: make(chan struct{}, 1)}
	if err := srv.Subscribe("#", 1, func(_ *mochi.Client, _ packets.Subscription, pk packets.Packet) {
		m := message{topic: pk.TopicName, payload: string(pk.Payload), retain: pk.FixedHeader.Retain, user: map[string]string{}}
		for _, u := range pk.Properties.User {
			m.user[u.Key] = u.Val
		}
		b.mu.Lock()
		b.msgs = append(b.msgs, m)
		b.mu.Unlock()
		select {
		case b.notify <- struct{}{}:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return b
}

// startBrokerQuiet is a broker without the recorder (the benchmarks);
// it returns its address.
func startBrokerQuiet(tb testing.TB) string {
	tb.Helper()
	srv := mochi.New(&mochi.Options{InlineClient: false, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		tb.Fatal(err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "t", Address: "127.0.0.1:0"})
	if err := srv.AddListener(tcp); err != nil {
		tb.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	return tcp.Address()
}

func (b *broker) url() string { return "tcp://" + b.addr }

// waitFor waits until cond holds for the messages so far.
func (b *broker) waitFor(t *testing.T, what string, cond func([]message) bool) []message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		b.mu.Lock()
		msgs := append([]message(nil), b.msgs...)
		b.mu.Unlock()
		if cond(msgs) {
			return msgs
		}
		select {
		case <-b.notify:
		case <-deadline:
			t.Fatalf("broker: %s did not happen; got %d messages: %v", what, len(msgs), msgs)
		}
	}
}

// retained is the retained message on topic ("" and false when none).
func (b *broker) retained(topic string) (string, bool) {
	for _, pk := range b.srv.Topics.Messages(topic) {
		return string(pk.Payload), true
	}
	return "", false
}

// count is how many messages on topic have come so far.
func count(msgs []message, topic string) int {
	n := 0
	for _, m := range msgs {
		if m.topic == topic {
			n++
		}
	}
	return n
}
