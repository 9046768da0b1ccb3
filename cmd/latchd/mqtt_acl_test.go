package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
)

// docsACL is the mosquitto ACL of docs/integrations.md, taken from the
// page itself so that the page stays true.
func docsACL(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/integrations.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "```\n# latch (the controller)\n")
	if i < 0 {
		t.Fatal("docs/integrations.md: no ACL block starting \"# latch (the controller)\"")
	}
	s = s[i+4:]
	return s[:strings.Index(s, "```")]
}

// TestMosquittoACLOfTheDocs runs latchd against Debian's mosquitto with
// the ACL docs/integrations.md gives: latch publishes its discovery and
// events as the latch user; a command from another user never reaches the
// door, one from homeassistant does.
func TestMosquittoACLOfTheDocs(t *testing.T) {
	bin := buildLatchd(t)
	mosq := mosquittoBin(t)
	passwd, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		passwd = filepath.Join(filepath.Dir(mosq), "../bin/mosquitto_passwd")
	}
	brokerDir := t.TempDir()
	pwFile := filepath.Join(brokerDir, "passwd")
	for i, u := range []string{"latch", "homeassistant", "intruder"} {
		args := []string{"-b", pwFile, u, u + "-pw"}
		if i == 0 {
			args = append([]string{"-c"}, args...)
		}
		if out, err := exec.Command(passwd, args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd: %v: %s", err, out)
		}
	}
	acl := filepath.Join(brokerDir, "acl")
	if err := os.WriteFile(acl, []byte(docsACL(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	broker := startMosquitto(t, fmt.Sprintf("allow_anonymous false\npassword_file %s\nacl_file %s\n", pwFile, acl))

	ha := clientAs(t, broker.url(), "homeassistant", "latch/hq/#")
	cfg := strings.Replace(simConfig, "[controller]\n", "[controller]\nname = \"hq\"\n", 1)
	cfg = strings.Replace(cfg, "unlock_time = \"60s\"\n", "unlock_time = \"2s\"\n", 1)
	cfg += fmt.Sprintf("\n[mqtt]\nurl = %q\nusername = \"latch\"\npassword_file = \"mqtt.pw\"\ncommands = true\n", broker.url())
	dir, cfgPath := seededDir(t, cfg)
	os.WriteFile(filepath.Join(dir, "mqtt.pw"), []byte("latch-pw"), 0o600)
	d := startSim(t, bin, cfgPath)
	d.Drain()

	ha.waitFor(t, "latch online and its lock state, published as user latch", func(ms []message) bool {
		s, _ := lastRetained(ms, "latch/hq/status")
		l, _ := lastRetained(ms, "latch/hq/doors/front/lock")
		return s == "online" && l == "LOCKED"
	})
	intruder := clientAs(t, broker.url(), "intruder", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The intruder asks for an unlocked override; then Home Assistant
	// opens the door. Commands run in the order they come: had the
	// intruder's reached latch, its mode_changed would come first.
	intruder.cm.Publish(ctx, &paho.Publish{Topic: "latch/hq/doors/front/set", QoS: 1, Payload: []byte("UNLOCK")})
	if _, err := ha.cm.Publish(ctx, &paho.Publish{Topic: "latch/hq/doors/front/set", QoS: 1, Payload: []byte("OPEN")}); err != nil {
		t.Fatal(err)
	}
	msgs := ha.waitFor(t, "the grant of Home Assistant's OPEN", func(ms []message) bool {
		for _, e := range events(ms) {
			if e.Event == "access_granted" && e.Actor == "mqtt" {
				return true
			}
		}
		return false
	})
	for _, e := range events(msgs) {
		if e.Event == "mode_changed" && e.Cause == "override" {
			t.Fatalf("the intruder's UNLOCK reached the door: %+v", e)
		}
		if e.Event == "access_granted" {
			break
		}
	}
	if _, ok := lastRetained(msgs, "latch/hq/events/front/access_granted"); !ok {
		t.Error("no event message published by latch under the ACL")
	}
}

// clientAs connects as user (password user+"-pw") and subscribes to
// filter ("" = nothing).
func clientAs(t *testing.T, brokerURL, user, filter string) *subscriber {
	t.Helper()
	u, _ := url.Parse(brokerURL)
	s := &subscriber{notify: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var once sync.Once
	cm, err := autopaho.NewConnection(ctx, autopaho.ClientConfig{
		ServerUrls: []*url.URL{u}, KeepAlive: 10, CleanStartOnInitialConnection: true,
		ConnectUsername: user, ConnectPassword: []byte(user + "-pw"),
		ReconnectBackoff: autopaho.NewConstantBackoff(100 * time.Millisecond),
		OnConnectError:   func(err error) { once.Do(func() { t.Logf("%s: %v", user, err) }) },
		ClientConfig: paho.ClientConfig{
			ClientID:          "acl-" + user,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){s.received},
		},
	})
	var subs *paho.Subscribe
	if filter != "" {
		subs = &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}}
	}
	if err := s.await(ctx, cm, err, subs); err != nil {
		t.Fatalf("%s: %v", user, err)
	}
	return s
}
