package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/outbox"
	"github.com/latchd/latch/store"
)

const testSecret = "s3cret-hmac-key-for-tests"

func secretFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "soc.secret")
	if err := os.WriteFile(p, []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// received is one request as the receiver saw it.
type received struct {
	header http.Header
	body   []byte
}

func TestCheckURL(t *testing.T) {
	for _, ok := range []string{"https://soc.example.com/latch", "https://10.0.0.5:8443/x", "http://127.0.0.1:9000/hook", "http://[::1]/h", "http://localhost:8080/"} {
		if err := CheckURL(ok); err != nil {
			t.Errorf("CheckURL(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"http://soc.example.com/latch", "http://10.0.0.5/", "ftp://x/", "soc.example.com", "https://user:pw@soc.example.com/", "https:///nohost", "https://x/#frag", "::"} {
		if err := CheckURL(bad); err == nil {
			t.Errorf("CheckURL(%q) accepted", bad)
		}
	}
}

func TestCheckEvents(t *testing.T) {
	if err := CheckEvents([]string{"access_denied", "door_forced_open", "credential_changed"}); err != nil {
		t.Error(err)
	}
	if err := CheckEvents([]string{"acces_denied"}); err == nil {
		t.Error("misspelt event accepted")
	}
	if err := CheckEvents([]string{"rex", "rex"}); err == nil {
		t.Error("repeated event accepted")
	}
}

// TestSignedPosts: one POST per event, in order, the body the event's
// JSON, the headers of docs/integrations.md, a signature a receiver can
// check with nothing but the secret; the filter acknowledges what it
// leaves out.
func TestSignedPosts(t *testing.T) {
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Header.Clone(), b})
		mu.Unlock()
		if r.Method != http.MethodPost {
			t.Errorf("method %s", r.Method)
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	now := time.Unix(1_790_000_000, 0)
	w, err := New(Config{Name: "soc", URL: srv.URL + "/latch", SecretFile: secretFile(t), Events: []string{door.EvAccessDenied, door.EvDoorForcedOpen}},
		Options{Controller: "hq", Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if w.Name() != "webhook:soc" {
		t.Errorf("Name = %q", w.Name())
	}
	batch := []store.Event{
		{Seq: 7, Time: now, Event: door.EvAccessDenied, Door: "front", Reason: door.ReasonUnknownCard},
		{Seq: 8, Time: now, Event: door.EvREX, Door: "front"}, // filtered out
		{Seq: 9, Time: now, Event: door.EvDoorForcedOpen, Door: "front"},
	}
	acked, err := w.Deliver(context.Background(), batch)
	if err != nil || acked != 9 {
		t.Fatalf("Deliver = %d, %v; want 9", acked, err)
	}
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2 (rex is filtered out)", len(got))
	}
	for i, e := range []store.Event{batch[0], batch[2]} {
		r := got[i]
		want, _ := json.Marshal(e)
		if string(r.body) != string(want) {
			t.Errorf("body %s, want the event's JSON %s", r.body, want)
		}
		if id := r.header.Get(HeaderDelivery); id != "hq:"+strconv.FormatUint(e.Seq, 10) {
			t.Errorf("delivery id %q", id)
		}
		ts := r.header.Get(HeaderTimestamp)
		if ts != strconv.FormatInt(now.Unix(), 10) {
			t.Errorf("timestamp %q", ts)
		}
		// What a receiver does: HMAC over "<timestamp>.<body>".
		m := hmac.New(sha256.New, []byte(testSecret))
		m.Write([]byte(ts + "." + string(r.body)))
		if sig := r.header.Get(HeaderSignature); sig != "sha256="+hex.EncodeToString(m.Sum(nil)) {
			t.Errorf("signature %q does not verify", sig)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
		for k, vs := range r.header {
			for _, v := range vs {
				if strings.Contains(v, testSecret) {
					t.Errorf("header %s carries the secret", k)
				}
			}
		}
	}
}

// TestFailuresAreNotAcks: anything but a 2xx stops the batch at that event;
// a redirect is not followed.
func TestFailuresAreNotAcks(t *testing.T) {
	var redirected bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { redirected = true }))
	defer target.Close()
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status == http.StatusFound {
			http.Redirect(w, r, target.URL, status)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	w, err := New(Config{Name: "soc", URL: srv.URL, SecretFile: secretFile(t)}, Options{Controller: "hq"})
	if err != nil {
		t.Fatal(err)
	}
	batch := []store.Event{{Seq: 1, Time: time.Now(), Event: door.EvREX}, {Seq: 2, Time: time.Now(), Event: door.EvREX}}
	for _, code := range []int{http.StatusInternalServerError, http.StatusFound, http.StatusUnauthorized, http.StatusNotModified} {
		status = code
		acked, err := w.Deliver(context.Background(), batch)
		if err == nil || acked != 0 {
			t.Errorf("answer %d: Deliver = %d, %v; want no ack and an error", code, acked, err)
		}
		if err != nil && strings.Contains(err.Error(), testSecret) {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
	if redirected {
		t.Error("the redirect was followed")
	}
	srv.Close()
	if _, err := w.Deliver(context.Background(), batch); err == nil {
		t.Error("a refused connection acknowledged")
	}
	// A token in the receiver's query never reaches an error (the log).
	wq, err := New(Config{Name: "soc", URL: srv.URL + "/hook?token=q-secret", SecretFile: secretFile(t)}, Options{Controller: "hq"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wq.Deliver(context.Background(), batch); err == nil || strings.Contains(err.Error(), "q-secret") || !strings.Contains(err.Error(), "/hook") {
		t.Errorf("error %v: want one naming the receiver without its query", err)
	}
}

// TestTLSVerified: a receiver whose certificate the system does not trust
// gets nothing.
func TestTLSVerified(t *testing.T) {
	hit := false
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit = true }))
	defer srv.Close()
	w, err := New(Config{Name: "soc", URL: srv.URL, SecretFile: secretFile(t)}, Options{Controller: "hq"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Deliver(context.Background(), []store.Event{{Seq: 1, Time: time.Now(), Event: door.EvREX}})
	if err == nil || !strings.Contains(err.Error(), "certificate") || hit {
		t.Fatalf("untrusted certificate: err %v, request reached the server: %v", err, hit)
	}
	// With the receiver's CA trusted, it goes through.
	w2, err := New(Config{Name: "soc", URL: srv.URL, SecretFile: secretFile(t)}, Options{Controller: "hq", Transport: srv.Client().Transport})
	if err != nil {
		t.Fatal(err)
	}
	if acked, err := w2.Deliver(context.Background(), []store.Event{{Seq: 1, Time: time.Now(), Event: door.EvREX}}); err != nil || acked != 1 {
		t.Fatalf("trusted: %d, %v", acked, err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	w, err := New(Config{Name: "soc", URL: srv.URL, SecretFile: secretFile(t), Timeout: 50 * time.Millisecond}, Options{Controller: "hq"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Deliver(context.Background(), []store.Event{{Seq: 1, Time: time.Now(), Event: door.EvREX}}); err == nil {
		t.Fatal("a receiver that never answers acknowledged")
	}
}

func TestNewRefuses(t *testing.T) {
	p := filepath.Join(t.TempDir(), "open.secret")
	os.WriteFile(p, []byte(testSecret), 0o644)
	os.Chmod(p, 0o644)
	if _, err := New(Config{Name: "soc", URL: "https://x.example/", SecretFile: p}, Options{}); err == nil || strings.Contains(err.Error(), testSecret) {
		t.Errorf("a secret file readable by others: %v", err)
	}
	if _, err := New(Config{Name: "soc", URL: "http://x.example/", SecretFile: secretFile(t)}, Options{}); err == nil {
		t.Error("plain http to a remote host accepted")
	}
}

func TestBackoffSteps(t *testing.T) {
	for _, j := range []float64{0, 0.5, 0.9999} {
		w := &Webhook{opts: Options{Jitter: func() float64 { return j }}}
		base := FirstBackoff
		for n := 1; n <= 14; n++ {
			got := w.Backoff(n)
			lo, hi := time.Duration(float64(base)*0.8), min(time.Duration(float64(base)*1.2), MaxBackoff)
			if got < lo || got > hi {
				t.Errorf("jitter %v: Backoff(%d) = %s, want %s–%s", j, n, got, lo, hi)
			}
			base = min(base*2, MaxBackoff)
		}
	}
}

// failingTransport answers every request with its status, and notes when.
type failingTransport struct {
	mu     sync.Mutex
	status int
	times  []time.Time
}

func (f *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.times = append(f.times, time.Now())
	if r.Body != nil {
		r.Body.Close()
	}
	if f.status == 0 {
		return nil, errors.New("connection refused")
	}
	return &http.Response{StatusCode: f.status, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
}

var errStop = errors.New("stop")

// TestRetriesFor24Hours runs a webhook in the outbox against a receiver
// that refuses everything, on synctest's clock: attempts 1 s apart doubling
// to 10 min with jitter, for 24 h; then the event is dropped (counted, a
// delivery_dropped event) and the next one goes out when the receiver is
// back.
func TestRetriesFor24Hours(t *testing.T) {
	synctestRun(t, func(t *testing.T, st *store.Store) {
		tr := &failingTransport{}
		w, err := New(Config{Name: "soc", URL: "https://soc.example/latch", SecretFile: secretFile(t)}, Options{Controller: "hq", Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var emitted []store.Event
		ob := outbox.New(st, outbox.Options{Emit: func(e store.Event) { mu.Lock(); emitted = append(emitted, e); mu.Unlock() }})
		ob.Add(w)
		if err := ob.Init(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancelCause(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); ob.Run(ctx) }()
		start := time.Now()
		if err := st.AppendEvents([]store.Event{{Event: door.EvDoorForcedOpen, Door: "front"}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(MaxAge + time.Hour) // the bubble's clock
		wait(t)
		tr.mu.Lock()
		times := append([]time.Time(nil), tr.times...)
		tr.status = http.StatusNoContent // the receiver is back
		tr.mu.Unlock()
		if len(times) < 100 {
			t.Fatalf("%d attempts in 25 h, want one every ≤10 min", len(times))
		}
		if last := times[len(times)-1].Sub(start); last < MaxAge || last > MaxAge+MaxBackoff {
			t.Errorf("last attempt %s after the event, want at 24 h (within one backoff)", last)
		}
		base := FirstBackoff
		for i := 1; i < len(times); i++ {
			gap := times[i].Sub(times[i-1])
			lo, hi := time.Duration(float64(base)*0.8), min(time.Duration(float64(base)*1.2), MaxBackoff)
			if gap < lo || gap > hi {
				t.Fatalf("gap %d = %s, want %s–%s", i, gap, lo, hi)
			}
			base = min(base*2, MaxBackoff)
		}
		s := ob.Stats()[0]
		if s.Dropped[door.DropExpired] != 1 {
			t.Errorf("dropped %v, want 1 expired", s.Dropped)
		}
		mu.Lock()
		if len(emitted) != 1 || emitted[0].Event != door.EvDeliveryDropped || emitted[0].Destination != "webhook:soc" || emitted[0].FirstSeq != 1 {
			t.Errorf("emitted %+v, want one delivery_dropped for seq 1", emitted)
		}
		mu.Unlock()
		// The receiver is back: the next event goes out at once.
		if err := st.AppendEvents([]store.Event{{Event: door.EvREX, Door: "front"}}); err != nil {
			t.Fatal(err)
		}
		wait(t)
		if c, _, _ := st.Cursor("webhook:soc"); c != 2 {
			t.Errorf("cursor %d, want 2", c)
		}
		cancel(errStop)
		<-done
	})
}
