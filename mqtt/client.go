package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/rs/zerolog"

	"github.com/latchd/latch/internal/secretfile"
	"github.com/latchd/latch/outbox"
	"github.com/latchd/latch/store"
)

// DoorInfo is what discovery needs of a door.
type DoorInfo struct {
	Name   string
	HasDPS bool
}

// Commander runs door commands for MQTT: each one an operations command
// with actor "mqtt", audited and refused as the API would refuse it.
type Commander interface {
	DoorCommand(ctx context.Context, door, cmd string) error
}

// Options are what a Client needs besides [mqtt].
type Options struct {
	Controller string // the controller's name
	SWVersion  string // the device's sw_version in discovery
	Doors      []DoorInfo
	// Commander runs the commands; required when Config.Commands is set.
	Commander Commander
	Log       zerolog.Logger
	// ReconnectBackoff is the wait before connection attempt n; nil = 1 s
	// growing to 30 s, at random within that.
	ReconnectBackoff func(attempt int) time.Duration
}

// commandTimeout bounds one command.
const commandTimeout = 10 * time.Second

// commandQueue bounds commands waiting to run; more are refused (logged).
const commandQueue = 16

// Client is the MQTT connection of one controller and its outbox
// destination.
type Client struct {
	cfg    Config
	opts   Options
	topics topics
	device Device
	doors  []DoorInfo
	names  []string
	log    zerolog.Logger
	acfg   autopaho.ClientConfig

	cm *autopaho.ConnectionManager

	// mu guards states; pubMu serialises publishing the retained states,
	// so that an older snapshot never lands after a newer one.
	mu     sync.Mutex
	states map[string]*doorState
	pubMu  sync.Mutex

	refresh  chan struct{} // a connection came up or Home Assistant came online
	cmds     chan command
	wg       sync.WaitGroup
	stopWork context.CancelFunc // ends refresher and commander
}

type command struct{ door, cmd string }

var _ outbox.Destination = (*Client)(nil)

// New checks cfg and reads its password and CA files. Start connects.
func New(cfg Config, opts Options) (*Client, error) {
	if err := CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("mqtt: url %w", err)
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID(opts.Controller)
	}
	if cfg.TopicPrefix == "" {
		cfg.TopicPrefix = DefaultTopicPrefix(opts.Controller)
	}
	if cfg.Commands && opts.Commander == nil {
		return nil, errors.New("mqtt: commands = true, but this latchd has no door commands to run")
	}
	u, _ := url.Parse(cfg.URL)
	c := &Client{
		cfg:     cfg,
		opts:    opts,
		topics:  topics{prefix: cfg.TopicPrefix, discovery: cfg.DiscoveryPrefix, node: haID("latch_" + opts.Controller)},
		doors:   opts.Doors,
		log:     opts.Log.With().Str("component", "mqtt").Logger(),
		states:  map[string]*doorState{},
		refresh: make(chan struct{}, 1),
		cmds:    make(chan command, commandQueue),
	}
	c.device = Device{Identifiers: []string{c.topics.node}, Name: "latch " + opts.Controller, Model: "latch", Manufacturer: "latch", SWVersion: opts.SWVersion}
	for _, d := range opts.Doors {
		// The strike is locked on every start (docs/door.md); the events
		// delivered from here on move the states.
		c.states[d.Name] = &doorState{lock: StateLocked}
		c.names = append(c.names, d.Name)
	}
	var password []byte
	if cfg.PasswordFile != "" {
		p, err := secretfile.Read(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: password_file: %w", err)
		}
		password = p
	}
	var tlsCfg *tls.Config
	if TLS(cfg.URL) {
		tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
		if cfg.TLSCA != "" {
			pem, err := os.ReadFile(cfg.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("mqtt: tls_ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("mqtt: tls_ca %s: no PEM certificate in it", cfg.TLSCA)
			}
			tlsCfg.RootCAs = pool
		}
	}
	backoff := opts.ReconnectBackoff
	if backoff == nil {
		backoff = autopaho.NewExponentialBackoff(time.Second, 30*time.Second, 2*time.Second, 2)
	}
	c.acfg = autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		TlsCfg:                        tlsCfg,
		KeepAlive:                     30,
		CleanStartOnInitialConnection: true,
		SessionExpiryInterval:         0,
		ReconnectBackoff:              backoff,
		ConnectTimeout:                10 * time.Second,
		ConnectUsername:               cfg.Username,
		ConnectPassword:               password,
		// Retained "offline" when the connection drops without a
		// DISCONNECT, or with the one below.
		WillMessage: &paho.WillMessage{Topic: c.topics.status(), Payload: []byte(Offline), QoS: 1, Retain: true},
		// On a clean stop the broker is asked to publish the will too
		// (reason 0x04, "disconnect with will message").
		DisconnectPacketBuilder: func() *paho.Disconnect { return &paho.Disconnect{ReasonCode: 0x04} },
		OnConnectionUp: func(*autopaho.ConnectionManager, *paho.Connack) {
			c.log.Info().Str("url", u.Redacted()).Msg("connected to the broker")
			c.kick()
		},
		OnConnectError: func(err error) {
			c.log.Warn().Err(err).Msg("cannot connect to the broker; retrying")
		},
		ClientConfig: paho.ClientConfig{
			ClientID:          cfg.ClientID,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){c.received},
			OnClientError:     func(err error) { c.log.Warn().Err(err).Msg("broker connection lost") },
			OnServerDisconnect: func(d *paho.Disconnect) {
				c.log.Warn().Uint8("reason", d.ReasonCode).Msg("the broker closed the connection")
			},
		},
	}
	return c, nil
}

// Name is "mqtt".
func (c *Client) Name() string { return "mqtt" }

// Start connects (and reconnects, by itself) until ctx ends or Stop.
func (c *Client) Start(ctx context.Context) error {
	cm, err := autopaho.NewConnection(ctx, c.acfg)
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	c.cm = cm
	wctx, cancel := context.WithCancel(ctx)
	c.stopWork = cancel
	c.wg.Go(func() { c.refresher(wctx) })
	if c.cfg.Commands {
		c.wg.Go(func() { c.commander(wctx) })
	}
	return nil
}

// Stop disconnects (the broker publishes "offline") and waits for the
// client's goroutines; ctx bounds the wait.
func (c *Client) Stop(ctx context.Context) error {
	if c.cm == nil {
		return nil
	}
	c.stopWork() // a publish waiting for its PUBACK returns now
	c.wg.Wait()
	return c.cm.Disconnect(ctx)
}

func (c *Client) kick() {
	select {
	case c.refresh <- struct{}{}:
	default:
	}
}

// refresher publishes, on every connection and whenever Home Assistant
// comes online: "online", the discovery configs, every known state, and
// subscribes to Home Assistant's status and (commands) the set topics.
func (c *Client) refresher(ctx context.Context) {
	for {
		if _, ok := next(ctx, c.cm.Done(), c.refresh); !ok {
			return
		}
		if err := c.announce(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn().Err(err).Msg("announcing to the broker; again on the next connection")
		}
	}
}

func (c *Client) announce(ctx context.Context) error {
	var subs []paho.SubscribeOptions
	if c.topics.discovery != "" {
		subs = append(subs, paho.SubscribeOptions{Topic: c.topics.haStatus(), QoS: 1})
	}
	if c.cfg.Commands {
		// A retained command is never run (it would run again on every
		// reconnect): RetainHandling 2, none is sent at subscribe;
		// RetainAsPublished, one published retained later shows as such
		// and is refused (received).
		subs = append(subs, paho.SubscribeOptions{Topic: c.topics.prefix + "/doors/+/set", QoS: 1, RetainHandling: 2, RetainAsPublished: true})
	}
	if len(subs) > 0 {
		if _, err := c.cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: subs}); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
	}
	if err := c.publish(ctx, c.topics.status(), []byte(Online), true); err != nil {
		return err
	}
	for _, m := range c.discovery() {
		if err := c.publish(ctx, m.topic, m.payload, true); err != nil {
			return err
		}
	}
	all := map[string]map[string]bool{}
	for _, d := range c.names {
		all[d] = map[string]bool{}
		for _, w := range stateTopics {
			all[d][w] = true
		}
	}
	return c.publishStates(ctx, all)
}

func (c *Client) publish(ctx context.Context, topic string, payload []byte, retain bool) error {
	_, err := c.cm.Publish(ctx, &paho.Publish{QoS: 1, Retain: retain, Topic: topic, Payload: payload})
	if err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// publishStates publishes the retained states marked in which (door →
// topic) that are known.
func (c *Client) publishStates(ctx context.Context, which map[string]map[string]bool) error {
	if len(which) == 0 {
		return nil
	}
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	type msg struct {
		topic   string
		payload []byte
	}
	var msgs []msg
	c.mu.Lock()
	for _, d := range c.names {
		for _, w := range stateTopics {
			if !which[d][w] {
				continue
			}
			if p := c.states[d].payload(w); p != nil {
				msgs = append(msgs, msg{c.topics.door(d, w), p})
			}
		}
	}
	c.mu.Unlock()
	for _, m := range msgs {
		if err := c.publish(ctx, m.topic, m.payload, true); err != nil {
			return err
		}
	}
	return nil
}

// Deliver publishes each event on events/<door>/<event> (QoS 1, not
// retained, the delivery id as the user property delivery_id) and waits
// for its PUBACK, in order; then the retained states the batch changed.
func (c *Client) Deliver(ctx context.Context, batch []store.Event) (uint64, error) {
	if err := c.cm.AwaitConnection(ctx); err != nil {
		return 0, err
	}
	var acked uint64
	changed := map[string]map[string]bool{}
	var err error
	for _, e := range batch {
		var body []byte
		body, err = e.MarshalJSON() // what json.Marshal(e) writes, without its second pass
		if err != nil {
			break
		}
		_, err = c.cm.Publish(ctx, &paho.Publish{QoS: 1, Topic: c.topics.event(e), Payload: body,
			Properties: &paho.PublishProperties{ContentType: "application/json",
				User: paho.UserProperties{{Key: "delivery_id", Value: outbox.DeliveryID(c.opts.Controller, e.Seq)}}}})
		if err != nil {
			err = fmt.Errorf("event %d: %w", e.Seq, err)
			break
		}
		acked = e.Seq
		c.mu.Lock()
		if st := c.states[e.Door]; st != nil {
			for _, w := range st.apply(e) {
				if changed[e.Door] == nil {
					changed[e.Door] = map[string]bool{}
				}
				changed[e.Door][w] = true
			}
		}
		c.mu.Unlock()
	}
	// A state that fails to go out now goes out with the next
	// connection's announce.
	if serr := c.publishStates(ctx, changed); serr != nil && err == nil {
		c.log.Warn().Err(serr).Msg("publishing door states")
	}
	return acked, err
}

// received handles what the broker sends: Home Assistant's status and
// (commands) the set topics. It runs on paho's receive goroutine and
// never blocks.
func (c *Client) received(pr paho.PublishReceived) (bool, error) {
	p := pr.Packet
	if p == nil {
		return false, nil
	}
	if c.topics.discovery != "" && p.Topic == c.topics.haStatus() {
		if online, ok := ParseHAStatus(p.Payload); ok && online {
			c.log.Info().Msg("Home Assistant is online; publishing discovery again")
			c.kick()
		}
		return true, nil
	}
	if !c.cfg.Commands {
		return false, nil
	}
	door, cmd, err := ParseCommand(c.topics.prefix, p.Topic, p.Payload, c.names)
	if err != nil {
		c.log.Warn().Str("topic", short(p.Topic)).Str("error", err.Error()).Msg("mqtt command refused")
		return true, nil
	}
	if p.Retain {
		c.log.Warn().Str("door", door).Str("command", cmd).Msg("mqtt command refused: a retained command is never run")
		return true, nil
	}
	select {
	case c.cmds <- command{door, cmd}:
	default:
		c.log.Warn().Str("door", door).Str("command", cmd).Int("queued", commandQueue).Msg("mqtt command refused: too many commands waiting")
	}
	return true, nil
}

// commander runs the commands one at a time, in the order they came.
func (c *Client) commander(ctx context.Context) {
	for {
		cmd, ok := next(ctx, c.cm.Done(), c.cmds)
		if !ok {
			return
		}
		cctx, cancel := context.WithTimeout(ctx, commandTimeout)
		err := c.opts.Commander.DoorCommand(cctx, cmd.door, cmd.cmd)
		cancel()
		if err != nil {
			c.log.Warn().Str("door", cmd.door).Str("command", cmd.cmd).Err(err).Msg("mqtt command refused")
			continue
		}
		c.log.Info().Str("door", cmd.door).Str("command", cmd.cmd).Msg("mqtt command done")
	}
}

// next waits for a worker's next job on ch; false when ctx ended or the
// connection manager stopped (done) first.
func next[T any](ctx context.Context, done <-chan struct{}, ch <-chan T) (T, bool) {
	var zero T
	select {
	case <-ctx.Done():
		return zero, false
	case <-done:
		return zero, false
	case v := <-ch:
		return v, true
	}
}
