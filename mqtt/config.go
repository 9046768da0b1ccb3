package mqtt

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Config is the [mqtt] section (docs/config.md).
type Config struct {
	URL             string // tcp://, ssl:// (TLS verified), ws:// or wss://
	Username        string
	PasswordFile    string // "" = no password
	TLSCA           string // PEM CA bundle for ssl:// and wss://; "" = the system's roots
	ClientID        string // "" = DefaultClientID
	TopicPrefix     string // "" = DefaultTopicPrefix
	DiscoveryPrefix string // "" = no Home Assistant discovery
	Commands        bool   // accept door commands on doors/<door>/set
}

// DefaultDiscoveryPrefix is Home Assistant's.
const DefaultDiscoveryPrefix = "homeassistant"

// DefaultClientID is "latch-<controller>".
func DefaultClientID(controller string) string { return "latch-" + controller }

// DefaultTopicPrefix is "latch/<controller>".
func DefaultTopicPrefix(controller string) string { return "latch/" + controller }

// CheckURL checks a broker URL: tcp://host:port, ssl://host:port (TLS,
// the broker's certificate verified), ws://host:port/path or wss://…; no
// user or password in it (username and password_file say them).
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("must be a broker URL such as \"tcp://127.0.0.1:1883\"")
	}
	if u.User != nil {
		return errors.New("must not hold a user or password (use username and password_file)")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not have a ?query or #fragment")
	}
	switch u.Scheme {
	case "tcp", "ssl":
		if u.Port() == "" {
			return fmt.Errorf("%s:// needs a port (1883 for tcp, 8883 for ssl)", u.Scheme)
		}
		if u.Path != "" && u.Path != "/" {
			return fmt.Errorf("%s:// takes no path", u.Scheme)
		}
	case "ws", "wss":
	default:
		return fmt.Errorf("scheme %q: must be tcp://, ssl://, ws:// or wss://", u.Scheme)
	}
	return nil
}

// TLS reports whether the URL's scheme is TLS (ssl, wss).
func TLS(raw string) bool {
	return strings.HasPrefix(raw, "ssl://") || strings.HasPrefix(raw, "wss://")
}

// topicRE is a topic prefix: levels of printable characters without the
// wildcards + and #, no empty level, no leading or trailing '/'.
var topicRE = regexp.MustCompile(`^[^/+#\x00-\x20\x7f]+(/[^/+#\x00-\x20\x7f]+)*$`)

// CheckTopicPrefix checks topic_prefix or discovery_prefix: 1–128 bytes
// of MQTT topic levels without wildcards (+, #), spaces or empty levels,
// and not starting with '$' (the broker's own topics).
func CheckTopicPrefix(p string) error {
	switch {
	case p == "":
		return errors.New("must not be empty")
	case len(p) > 128:
		return errors.New("must be at most 128 bytes")
	case strings.HasPrefix(p, "$"):
		return errors.New("must not start with '$' (the broker's own topics)")
	case !topicRE.MatchString(p):
		return errors.New("must be MQTT topic levels separated by '/', without '+', '#', spaces or an empty level")
	}
	return nil
}

// clientIDRE is what every broker accepts in a client id (MQTT 5 §3.1.3.1
// guarantees 1–23 of these; brokers accept longer).
var clientIDRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// CheckClientID checks client_id: 1–64 letters, digits, '_', '.', '-'.
func CheckClientID(id string) error {
	if !clientIDRE.MatchString(id) {
		return errors.New("must be 1–64 letters, digits, '_', '.' or '-'")
	}
	return nil
}
