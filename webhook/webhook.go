package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/secretfile"
	"github.com/latchd/latch/outbox"
	"github.com/latchd/latch/store"
)

// Config is one [[webhook]] (docs/config.md).
type Config struct {
	Name       string
	URL        string
	SecretFile string
	Events     []string // nil or empty = every event
	Timeout    time.Duration
}

// Defaults and limits.
const (
	DefaultTimeout = 5 * time.Second
	MinTimeout     = 100 * time.Millisecond
	MaxTimeout     = time.Minute
	// MaxAge is how long an event is retried: one that still fails once
	// it is this old (by its time) is dropped.
	MaxAge = 24 * time.Hour
	// FirstBackoff and MaxBackoff bound the wait between attempts.
	FirstBackoff = time.Second
	MaxBackoff   = 10 * time.Minute
)

// Header names.
const (
	HeaderDelivery  = "X-Latch-Delivery"
	HeaderTimestamp = "X-Latch-Timestamp"
	HeaderSignature = "X-Latch-Signature"
)

// CheckURL checks a webhook URL: https://host[:port]/path, or http:// only
// to a loopback address (127.0.0.0/8, ::1, localhost), no user or
// password, no fragment.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("must be an absolute URL such as \"https://soc.example.com/latch\"")
	}
	if u.User != nil {
		return errors.New("must not hold a user or password (the request is signed with secret_file)")
	}
	if u.Fragment != "" {
		return errors.New("must not have a #fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("must be https:// (http:// only to a loopback address such as 127.0.0.1)")
	default:
		return fmt.Errorf("scheme %q: must be https:// (http:// only to a loopback address)", u.Scheme)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// KnownEvents is what an events filter may name: every event the door
// writes and the store's credential_changed.
func KnownEvents() []string { return append(door.Events(), "credential_changed") }

// CheckEvents checks an events filter: known names, each once.
func CheckEvents(evs []string) error {
	known := KnownEvents()
	seen := map[string]bool{}
	for _, e := range evs {
		if !slices.Contains(known, e) {
			return fmt.Errorf("%q is not an event name (one of %v)", e, known)
		}
		if seen[e] {
			return fmt.Errorf("%q is listed twice", e)
		}
		seen[e] = true
	}
	return nil
}

// Sign is the X-Latch-Signature value of body sent at timestamp ts (unix
// seconds): "sha256=" + hex(HMAC-SHA-256(secret, ts + "." + body)).
func Sign(secret []byte, ts int64, body []byte) string {
	return sign(hmac.New(sha256.New, secret), ts, body)
}

// sign is Sign with the secret's HMAC m, which it resets first (a batch
// signs all its events with one).
func sign(m hash.Hash, ts int64, body []byte) string {
	m.Reset()
	var buf [sha256.Size]byte
	m.Write(strconv.AppendInt(buf[:0], ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(buf[:0]))
}

// Options are a Webhook's seams; zero values mean the real thing.
type Options struct {
	// Controller is the controller's name, the first part of the delivery id.
	Controller string
	// Transport carries the requests; nil = a clone of
	// http.DefaultTransport (system roots, TLS verified). Redirects are
	// never followed whatever it is.
	Transport http.RoundTripper
	// Now is the clock of the timestamp and of MaxAge; nil = time.Now.
	Now func() time.Time
	// Jitter returns a number in [0, 1) for the backoff's jitter; nil =
	// math/rand/v2.
	Jitter func() float64
	// UserAgent; "" = "latch".
	UserAgent string
}

// Webhook is one [[webhook]] as an outbox destination.
type Webhook struct {
	cfg    Config
	opts   Options
	secret []byte
	filter map[string]bool
	client *http.Client

	mu      sync.Mutex
	dropped []uint64
}

var (
	_ outbox.Destination = (*Webhook)(nil)
	_ outbox.Dropper     = (*Webhook)(nil)
	_ outbox.Backoffer   = (*Webhook)(nil)
)

// New checks cfg and reads its secret file.
func New(cfg Config, opts Options) (*Webhook, error) {
	if err := CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("webhook %s: url %w", cfg.Name, err)
	}
	if err := CheckEvents(cfg.Events); err != nil {
		return nil, fmt.Errorf("webhook %s: events: %w", cfg.Name, err)
	}
	secret, err := secretfile.Read(cfg.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", cfg.Name, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Jitter == nil {
		opts.Jitter = rand.Float64
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "latch"
	}
	tr := opts.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil // a controller talks to its receiver, not through the environment's proxy
		tr = t
	}
	w := &Webhook{cfg: cfg, opts: opts, secret: secret, client: &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a 3xx is an answer, and not a 2xx
		},
	}}
	if len(cfg.Events) > 0 {
		w.filter = map[string]bool{}
		for _, e := range cfg.Events {
			w.filter[e] = true
		}
	}
	return w, nil
}

// Name is "webhook:<name>".
func (w *Webhook) Name() string { return "webhook:" + w.cfg.Name }

// Deliver posts the batch's events one by one, in order. An event the
// filter leaves out is acknowledged unsent. At the first that fails it
// returns the error (the outbox waits Backoff and hands the rest again),
// unless that event is MaxAge old: then it is given up on (TakeDropped)
// and the next is tried.
func (w *Webhook) Deliver(ctx context.Context, batch []store.Event) (uint64, error) {
	var acked uint64
	mac := hmac.New(sha256.New, w.secret)
	for _, e := range batch {
		if w.filter != nil && !w.filter[e.Event] {
			acked = e.Seq
			continue
		}
		err := w.post(ctx, mac, e)
		if err == nil {
			acked = e.Seq
			continue
		}
		if ctx.Err() != nil {
			return acked, ctx.Err()
		}
		if !e.Time.IsZero() && w.opts.Now().Sub(e.Time) >= MaxAge {
			w.mu.Lock()
			w.dropped = append(w.dropped, e.Seq)
			w.mu.Unlock()
			acked = e.Seq
			continue
		}
		return acked, err
	}
	return acked, nil
}

// TakeDropped returns the seqs given up on since the last call.
func (w *Webhook) TakeDropped() []uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.dropped
	w.dropped = nil
	return d
}

// Backoff is the wait after the n-th failure in a row: 1 s doubling to
// 10 min, each ±20 % at random (so that controllers retrying one receiver
// spread out), never above 10 min.
func (w *Webhook) Backoff(n int) time.Duration {
	d := FirstBackoff
	for i := 1; i < n && d < MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, MaxBackoff)
	j := time.Duration(float64(d) * (0.8 + 0.4*w.opts.Jitter()))
	return min(j, MaxBackoff)
}

// where is the receiver's URL for an error: scheme, host and path, never
// the query.
func (w *Webhook) where() string {
	u, err := url.Parse(w.cfg.URL)
	if err != nil {
		return "the receiver"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// statusError is a receiver's answer that is not a 2xx.
type statusError struct{ code int }

func (e *statusError) Error() string {
	return fmt.Sprintf("receiver answered %d %s (only a 2xx acknowledges)", e.code, http.StatusText(e.code))
}

func (w *Webhook) post(ctx context.Context, mac hash.Hash, e store.Event) error {
	body, err := e.MarshalJSON() // what json.Marshal(e) writes, without its second pass
	if err != nil {
		return fmt.Errorf("event %d: %w", e.Seq, err)
	}
	ts := w.opts.Now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", w.opts.UserAgent)
	req.Header.Set(HeaderDelivery, outbox.DeliveryID(w.opts.Controller, e.Seq))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, sign(mac, ts, body))
	resp, err := w.client.Do(req)
	if err != nil {
		// Not net/http's *url.Error as it is: it shows the whole URL, and
		// a receiver's URL may carry a token in its query.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST %s: %w", w.where(), err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &statusError{resp.StatusCode}
	}
	return nil
}
