package config

import (
	"crypto/x509"
	"os"
	"strings"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/secretfile"
	"github.com/latchd/latch/mqtt"
	"github.com/latchd/latch/webhook"
)

// integrations reads [mqtt] and [[webhook]] (docs/config.md,
// docs/integrations.md). The URL, topic, client id and event rules are
// package mqtt's and webhook's; the secret-file rule is
// internal/secretfile's: each is asked, its error is the rule.
func (b *builder) integrations(root *table, cfg *Config) {
	ctl := cfg.Controller.Name
	if rm := b.sub(root, "mqtt"); rm.present() {
		m := &mqtt.Config{}
		if u := b.str(rm, "url"); u == nil {
			b.fail("mqtt.url", "is required: the broker, e.g. \"tcp://127.0.0.1:1883\"")
		} else {
			m.URL = *u
			if err := mqtt.CheckURL(m.URL); err != nil {
				b.fail("mqtt.url", "%v", err)
			}
		}
		m.Username = str(b.str(rm, "username"), "")
		if strings.ContainsAny(m.Username, "\x00\n\r") || len(m.Username) > 256 {
			b.fail("mqtt.username", "must be at most 256 bytes, without a control character")
		}
		if p := b.str(rm, "password_file"); p != nil && *p != "" {
			m.PasswordFile = b.secretFile(rm, "password_file")
			if m.Username == "" {
				b.fail("mqtt.password_file", "needs username too")
			}
		}
		if p := b.str(rm, "tls_ca"); p != nil && *p != "" {
			m.TLSCA = b.path(rm, "tls_ca", "")
			switch {
			case !mqtt.TLS(m.URL):
				b.fail("mqtt.tls_ca", "only with an ssl:// or wss:// url")
			default:
				if pem, err := os.ReadFile(m.TLSCA); err != nil {
					b.fail("mqtt.tls_ca", "cannot read %s", m.TLSCA)
				} else if !x509.NewCertPool().AppendCertsFromPEM(pem) {
					b.fail("mqtt.tls_ca", "%s holds no PEM certificate", m.TLSCA)
				}
			}
		}
		m.ClientID = str(b.str(rm, "client_id"), mqtt.DefaultClientID(ctl))
		if err := mqtt.CheckClientID(m.ClientID); err != nil {
			b.fail("mqtt.client_id", "%v", err)
		}
		m.TopicPrefix = str(b.str(rm, "topic_prefix"), mqtt.DefaultTopicPrefix(ctl))
		if err := mqtt.CheckTopicPrefix(m.TopicPrefix); err != nil {
			b.fail("mqtt.topic_prefix", "%v", err)
		}
		m.DiscoveryPrefix = str(b.str(rm, "discovery_prefix"), mqtt.DefaultDiscoveryPrefix)
		if m.DiscoveryPrefix != "" {
			if err := mqtt.CheckTopicPrefix(m.DiscoveryPrefix); err != nil {
				b.fail("mqtt.discovery_prefix", "%v (or \"\": no discovery)", err)
			}
		}
		m.Commands = boolean(b.flag(rm, "commands"), false)
		cfg.MQTT = m
	}

	names := map[string]string{}
	for _, rw := range b.subs(root, "webhook") {
		key := rw.path
		w := webhook.Config{}
		w.Name = b.uniqueName(rw, "webhook", names)
		if u := b.str(rw, "url"); u == nil {
			b.fail(key+".url", "is required: the receiver, e.g. \"https://soc.example.com/latch\"")
		} else {
			w.URL = *u
			if err := webhook.CheckURL(w.URL); err != nil {
				b.fail(key+".url", "%v", err)
			}
		}
		if b.str(rw, "secret_file") == nil {
			b.fail(key+".secret_file", "is required: the file holding the HMAC key (mode 0600)")
		} else {
			w.SecretFile = b.secretFile(rw, "secret_file")
		}
		events := b.strs(rw, "events")
		if err := webhook.CheckEvents(events); err != nil {
			b.fail(key+".events", "%v", err)
		}
		w.Events = append([]string(nil), events...)
		w.Timeout = b.duration(rw, "timeout", webhook.DefaultTimeout, door.Limit{Min: webhook.MinTimeout, Max: webhook.MaxTimeout})
		cfg.Webhooks = append(cfg.Webhooks, w)
	}
}

// secretFile resolves a secret file's path and checks it as the
// integration will read it (internal/secretfile: regular, mode 0600, not
// empty); the issue names the file, never its contents.
func (b *builder) secretFile(t *table, name string) string {
	key, path := t.key(name), b.path(t, name, "")
	if path == "" {
		return ""
	}
	if _, err := secretfile.Read(path); err != nil {
		b.fail(key, "%v", err)
	}
	return path
}
