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
func (b *builder) integrations(raw *rawFile, cfg *Config) {
	ctl := cfg.Controller.Name
	if rm := raw.MQTT; rm != nil {
		m := &mqtt.Config{}
		if rm.URL == nil {
			b.fail("mqtt.url", "is required: the broker, e.g. \"tcp://127.0.0.1:1883\"")
		} else {
			m.URL = *rm.URL
			if err := mqtt.CheckURL(m.URL); err != nil {
				b.fail("mqtt.url", "%v", err)
			}
		}
		m.Username = str(rm.Username, "")
		if strings.ContainsAny(m.Username, "\x00\n\r") || len(m.Username) > 256 {
			b.fail("mqtt.username", "must be at most 256 bytes, without a control character")
		}
		if rm.PasswordFile != nil && *rm.PasswordFile != "" {
			m.PasswordFile = b.secretFile("mqtt.password_file", rm.PasswordFile)
			if m.Username == "" {
				b.fail("mqtt.password_file", "needs username too")
			}
		}
		if rm.TLSCA != nil && *rm.TLSCA != "" {
			m.TLSCA = b.path("mqtt.tls_ca", rm.TLSCA, "")
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
		m.ClientID = str(rm.ClientID, mqtt.DefaultClientID(ctl))
		if err := mqtt.CheckClientID(m.ClientID); err != nil {
			b.fail("mqtt.client_id", "%v", err)
		}
		m.TopicPrefix = str(rm.TopicPrefix, mqtt.DefaultTopicPrefix(ctl))
		if err := mqtt.CheckTopicPrefix(m.TopicPrefix); err != nil {
			b.fail("mqtt.topic_prefix", "%v", err)
		}
		m.DiscoveryPrefix = str(rm.DiscoveryPrefix, mqtt.DefaultDiscoveryPrefix)
		if m.DiscoveryPrefix != "" {
			if err := mqtt.CheckTopicPrefix(m.DiscoveryPrefix); err != nil {
				b.fail("mqtt.discovery_prefix", "%v (or \"\": no discovery)", err)
			}
		}
		m.Commands = boolean(rm.Commands, false)
		cfg.MQTT = m
	}

	names := map[string]string{}
	for i := range raw.Webhook {
		key := idx("webhook", i)
		rw := &raw.Webhook[i]
		w := webhook.Config{}
		w.Name = b.uniqueName(key, "webhook", rw.Name, names)
		if rw.URL == nil {
			b.fail(key+".url", "is required: the receiver, e.g. \"https://soc.example.com/latch\"")
		} else {
			w.URL = *rw.URL
			if err := webhook.CheckURL(w.URL); err != nil {
				b.fail(key+".url", "%v", err)
			}
		}
		if rw.SecretFile == nil {
			b.fail(key+".secret_file", "is required: the file holding the HMAC key (mode 0600)")
		} else {
			w.SecretFile = b.secretFile(key+".secret_file", rw.SecretFile)
		}
		if err := webhook.CheckEvents(rw.Events); err != nil {
			b.fail(key+".events", "%v", err)
		}
		w.Events = append([]string(nil), rw.Events...)
		w.Timeout = b.duration(key+".timeout", rw.Timeout, webhook.DefaultTimeout, door.Limit{Min: webhook.MinTimeout, Max: webhook.MaxTimeout})
		cfg.Webhooks = append(cfg.Webhooks, w)
	}
}

// secretFile resolves a secret file's path and checks it as the
// integration will read it (internal/secretfile: regular, mode 0600, not
// empty); the issue names the file, never its contents.
func (b *builder) secretFile(key string, p *string) string {
	path := b.path(key, p, "")
	if path == "" {
		return ""
	}
	if _, err := secretfile.Read(path); err != nil {
		b.fail(key, "%v", err)
	}
	return path
}
