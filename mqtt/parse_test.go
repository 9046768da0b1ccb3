package mqtt

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/eclipse/paho.golang/paho"
	"github.com/rs/zerolog"
)

var testDoors = []string{"front", "back.gate"}

func TestParseCommand(t *testing.T) {
	for _, c := range []struct {
		topic, payload, door, cmd string
	}{
		{"latch/hq/doors/front/set", "OPEN", "front", CmdOpen},
		{"latch/hq/doors/front/set", " unlock\r\n", "front", CmdUnlock},
		{"latch/hq/doors/back.gate/set", "Lock", "back.gate", CmdLock},
	} {
		d, cmd, err := ParseCommand("latch/hq", c.topic, []byte(c.payload), testDoors)
		if err != nil || d != c.door || cmd != c.cmd {
			t.Errorf("ParseCommand(%q, %q) = %q, %q, %v", c.topic, c.payload, d, cmd, err)
		}
	}
	for _, c := range []struct{ topic, payload, rule string }{
		{"latch/hq/doors/side/set", "OPEN", "no door"},
		{"latch/hq/doors/front/get", "OPEN", "not a command topic"},
		{"latch/hq/doors//set", "OPEN", "not a command topic"},
		{"latch/hq/doors/front/x/set", "OPEN", "not a command topic"},
		{"other/doors/front/set", "OPEN", "not a command topic"},
		{"latch/hq/doors/front/set", "OPEN SESAME", "want OPEN"},
		{"latch/hq/doors/front/set", "", "want OPEN"},
		{"latch/hq/doors/front/set", strings.Repeat("A", 1000), "1000 bytes"},
	} {
		_, _, err := ParseCommand("latch/hq", c.topic, []byte(c.payload), testDoors)
		if err == nil || !strings.Contains(err.Error(), c.rule) {
			t.Errorf("ParseCommand(%q, %q) err %v, want %q", c.topic, c.payload, err, c.rule)
		}
	}
}

func TestParseHAStatus(t *testing.T) {
	for p, want := range map[string][2]bool{"online": {true, true}, "offline": {false, true}, " Online\n": {true, true}, "": {false, false}, "onlin": {false, false}} {
		on, ok := ParseHAStatus([]byte(p))
		if on != want[0] || ok != want[1] {
			t.Errorf("ParseHAStatus(%q) = %v, %v", p, on, ok)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for _, ok := range []string{"tcp://127.0.0.1:1883", "ssl://broker.lan:8883", "ws://broker.lan:8080/mqtt", "wss://broker.lan/mqtt"} {
		if err := CheckURL(ok); err != nil {
			t.Errorf("CheckURL(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"tcp://127.0.0.1", "mqtt://x:1883", "http://x/", "tcp://u:p@x:1883", "x:1883", "", "tcp://x:1883/path", "ws://x:8080/mqtt?token=1"} {
		if err := CheckURL(bad); err == nil {
			t.Errorf("CheckURL(%q) accepted", bad)
		}
	}
}

func TestCheckTopicPrefix(t *testing.T) {
	for _, ok := range []string{"latch/hq", "homeassistant", "a/b/c.d-e_f"} {
		if err := CheckTopicPrefix(ok); err != nil {
			t.Errorf("CheckTopicPrefix(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "latch/+", "latch/#", "/latch", "latch/", "a//b", "$SYS", "has space", strings.Repeat("a", 129)} {
		if err := CheckTopicPrefix(bad); err == nil {
			t.Errorf("CheckTopicPrefix(%q) accepted", bad)
		}
	}
	if err := CheckClientID("latch-hq"); err != nil {
		t.Error(err)
	}
	if err := CheckClientID("bad id"); err == nil {
		t.Error("client id with a space accepted")
	}
}

// FuzzParseCommand: no panic; a command parsed is one of the three words
// for one of the doors; an error is valid UTF-8 and short.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"OPEN", "unlock", " LOCK\n", "", "\xff\xfe", strings.Repeat("x", 40)} {
		f.Add("latch/hq/doors/front/set", []byte(s))
	}
	f.Add("latch/hq/doors/\x00/set", []byte("OPEN"))
	f.Add("latch/hq/doors/back.gate/set", []byte("LOCK"))
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		d, cmd, err := ParseCommand("latch/hq", topic, payload, testDoors)
		if err != nil {
			if cmd != "" {
				t.Fatalf("error %v with a command %q", err, cmd)
			}
			if !utf8.ValidString(err.Error()) || len(err.Error()) > 200 {
				t.Fatalf("error %q: not short valid UTF-8", err)
			}
			return
		}
		if d != "front" && d != "back.gate" {
			t.Fatalf("door %q", d)
		}
		if cmd != CmdOpen && cmd != CmdUnlock && cmd != CmdLock {
			t.Fatalf("command %q", cmd)
		}
	})
}

func FuzzParseHAStatus(f *testing.F) {
	for _, s := range []string{"online", "offline", "", "ONLINE ", "\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		on, ok := ParseHAStatus(p)
		if on && !ok {
			t.Fatal("online but not ok")
		}
		if ok && len(p) > 32 {
			t.Fatalf("a %d-byte status accepted", len(p))
		}
	})
}

// FuzzReceived feeds the client's receive handler (what the broker sends)
// any topic, payload and retain flag: it never panics and never blocks,
// and only a well-formed, live command reaches the queue.
func FuzzReceived(f *testing.F) {
	f.Add("latch/hq/doors/front/set", []byte("OPEN"), false)
	f.Add("latch/hq/doors/front/set", []byte("UNLOCK"), true)
	f.Add("homeassistant/status", []byte("online"), false)
	f.Add("homeassistant/status", []byte("\xff"), true)
	f.Add("latch/hq/doors/+/set", []byte("LOCK"), false)
	c, err := New(Config{URL: "tcp://127.0.0.1:1883", DiscoveryPrefix: DefaultDiscoveryPrefix, Commands: true},
		Options{Controller: "hq", Commander: &fakeCommander{}, Log: zerolog.Nop(), Doors: []DoorInfo{{Name: "front"}, {Name: "back.gate"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, topic string, payload []byte, retain bool) {
		before := len(c.cmds)
		handled, err := c.received(paho.PublishReceived{Packet: &paho.Publish{Topic: topic, Payload: payload, Retain: retain}})
		if err != nil {
			t.Fatal(err)
		}
		_ = handled
		if len(c.cmds) > before {
			cmd := <-c.cmds
			if retain {
				t.Fatalf("a retained command was queued: %+v", cmd)
			}
			if _, _, err := ParseCommand("latch/hq", topic, payload, testDoors); err != nil {
				t.Fatalf("queued %+v from a message ParseCommand refuses: %v", cmd, err)
			}
		}
		for len(c.cmds) > 0 {
			<-c.cmds
		}
		select {
		case <-c.refresh:
		default:
		}
	})
}
