package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchd/latch/mqtt"
	"github.com/latchd/latch/webhook"
)

// secret is what the integrations' secret files hold: no error may show it.
var secret = []byte("the-secret-value\n")

func TestIntegrations(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "mqtt.pw", secret, 0o600)
	writeFile(t, dir, "soc.secret", secret, 0o600)
	doc := `[controller]
name = "hq"
` + minimal + `
[mqtt]
url           = "tcp://127.0.0.1:1883"
username      = "latch"
password_file = "mqtt.pw"
commands      = true

[[webhook]]
name        = "soc"
url         = "https://soc.example.com/latch"
secret_file = "soc.secret"
events      = ["access_denied", "door_forced_open"]

[[webhook]]
name        = "local"
url         = "http://127.0.0.1:9000/hook"
secret_file = "soc.secret"
timeout     = "2s"
`
	cfg := loadFile(t, filepath.Join(dir, "latch.toml"), doc)
	want := mqtt.Config{URL: "tcp://127.0.0.1:1883", Username: "latch", PasswordFile: filepath.Join(dir, "mqtt.pw"),
		ClientID: "latch-hq", TopicPrefix: "latch/hq", DiscoveryPrefix: "homeassistant", Commands: true}
	if cfg.MQTT == nil || *cfg.MQTT != want {
		t.Errorf("mqtt = %+v, want %+v", cfg.MQTT, want)
	}
	if len(cfg.Webhooks) != 2 {
		t.Fatalf("webhooks %+v", cfg.Webhooks)
	}
	w := cfg.Webhooks[0]
	if w.Name != "soc" || w.SecretFile != filepath.Join(dir, "soc.secret") || w.Timeout != webhook.DefaultTimeout || len(w.Events) != 2 {
		t.Errorf("webhook[0] %+v", w)
	}
	if cfg.Webhooks[1].Timeout != 2*time.Second || len(cfg.Webhooks[1].Events) != 0 {
		t.Errorf("webhook[1] %+v", cfg.Webhooks[1])
	}

	// No [mqtt]: no MQTT. discovery_prefix = "": no discovery.
	cfg, err := Parse([]byte(minimal+"[mqtt]\nurl = \"ssl://broker.lan:8883\"\ndiscovery_prefix = \"\"\n"), "")
	if err != nil || cfg.MQTT.DiscoveryPrefix != "" || cfg.MQTT.Commands {
		t.Errorf("no discovery: %+v, %v", cfg.MQTT, err)
	}
	if cfg, _ := Parse([]byte(minimal), ""); cfg.MQTT != nil || cfg.Webhooks != nil {
		t.Error("integrations without their sections")
	}
}

func TestIntegrationIssues(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "open.secret", secret, 0o644)
	writeFile(t, dir, "ok.secret", secret, 0o600)
	urlErr := mqtt.CheckURL("mqtt://x:1")
	cases := []struct {
		name, doc, key, rule string
		line                 int
	}{
		{"mqtt url missing", "[mqtt]\nusername = \"x\"\n", "mqtt.url", "is required", 1},
		{"mqtt scheme", "[mqtt]\nurl = \"mqtt://x:1\"\n", "mqtt.url", urlErr.Error(), 2},
		{"mqtt topic", "[mqtt]\nurl = \"tcp://x:1\"\ntopic_prefix = \"latch/#\"\n", "mqtt.topic_prefix", "without '+', '#'", 3},
		{"mqtt client id", "[mqtt]\nurl = \"tcp://x:1\"\nclient_id = \"a b\"\n", "mqtt.client_id", "letters, digits", 3},
		{"mqtt password open", "[mqtt]\nurl = \"tcp://x:1\"\nusername = \"u\"\npassword_file = \"open.secret\"\n", "mqtt.password_file", "must be 0600", 4},
		{"mqtt ca without tls", "[mqtt]\nurl = \"tcp://x:1\"\ntls_ca = \"ok.secret\"\n", "mqtt.tls_ca", "only with an ssl://", 3},
		{"mqtt ca not pem", "[mqtt]\nurl = \"ssl://x:1\"\ntls_ca = \"ok.secret\"\n", "mqtt.tls_ca", "no PEM certificate", 3},
		{"mqtt unknown key", "[mqtt]\nurl = \"tcp://x:1\"\nretain = true\n", "mqtt.retain", "unknown key", 3},
		{"webhook http", "[[webhook]]\nname = \"soc\"\nurl = \"http://soc.example.com/\"\nsecret_file = \"ok.secret\"\n", "webhook[0].url", "must be https://", 3},
		{"webhook secret open", "[[webhook]]\nname = \"soc\"\nurl = \"https://soc.example.com/\"\nsecret_file = \"open.secret\"\n", "webhook[0].secret_file", "must be 0600", 4},
		{"webhook secret missing", "[[webhook]]\nname = \"soc\"\nurl = \"https://soc.example.com/\"\n", "webhook[0].secret_file", "is required", 1},
		{"webhook event", "[[webhook]]\nname = \"soc\"\nurl = \"https://x/\"\nsecret_file = \"ok.secret\"\nevents = [\"door_open\"]\n", "webhook[0].events", "not an event name", 5},
		{"webhook timeout", "[[webhook]]\nname = \"soc\"\nurl = \"https://x/\"\nsecret_file = \"ok.secret\"\ntimeout = \"5m\"\n", "webhook[0].timeout", "outside", 5},
		{"webhook twice", "[[webhook]]\nname = \"soc\"\nurl = \"https://x/\"\nsecret_file = \"ok.secret\"\n[[webhook]]\nname = \"soc\"\nurl = \"https://y/\"\nsecret_file = \"ok.secret\"\n", "webhook[1].name", "already defined", 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ce := parseIssues(t, c.doc, filepath.Join(dir, "latch.toml"))
			for _, is := range ce.Issues {
				if is.Key == c.key && strings.Contains(is.Rule, c.rule) {
					if is.Line != c.line {
						t.Errorf("%s at line %d, want %d", is.Key, is.Line, c.line)
					}
					if strings.Contains(ce.Error(), "the-secret-value") {
						t.Errorf("the error shows the secret: %v", ce)
					}
					return
				}
			}
			t.Errorf("no issue %s: …%s… in\n%v", c.key, c.rule, ce)
		})
	}
}
