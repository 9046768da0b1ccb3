package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/internal/apitest"
	"github.com/latchd/latch/store"
)

// TestDeadLineIsFatal: a reader's capture or a door input's watch that
// fails (here injected into the simulated hardware, as a broken line
// request fails on the Pi) is fatal: while the strike is released by a
// grant, the line dies; the daemon locks the strike, the health check the
// watchdog uses fails naming the line, /v1/health answers 503 with the
// line and /metrics shows latch_line_dead, and the daemon exits 1 with the
// strike locked and the database closed.
func TestDeadLineIsFatal(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		fail       func(hw *simHW, err error) error
	}{
		{"reader", "reader r1", func(hw *simHW, err error) error { return hw.failReader("r1", err) }},
		{"dps", "dps front", func(hw *simHW, err error) error { return hw.failInput("GPIO5", err) }},
		{"rex", "rex front", func(hw *simHW, err error) error { return hw.failInput("GPIO6", err) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(simConfig, "unlock_time = \"60s\"\n", "unlock_time = \"60s\"\ndps = \"GPIO5\"\nrex = \"GPIO6\"\n", 1)
			r := newSimRun(t, text, true, false)
			cfg, st, hw, d, logs := r.cfg, r.st, r.hw, r.d, r.logs
			token, err := st.CreateToken("monitor", "viewer", store.Actor{Name: "test"})
			if err != nil {
				t.Fatal(err)
			}
			hw.setInitial("GPIO5", gpio.Low) // closed (dps_open high)
			hw.setInitial("GPIO6", gpio.High)
			var releasedAt gpio.Level
			d.extra = func(ctx context.Context, d *daemon) error {
				var err error
				if releasedAt, err = r.badgeUntilReleased("", ""); err != nil {
					return err
				}
				if err := tc.fail(hw, fmt.Errorf("test: read events: %w", syscall.EIO)); err != nil {
					return err
				}
				// The daemon must stop at once; a bound only so that a
				// daemon that keeps running fails the test (exit 0)
				// instead of hanging it. Not waited for when it passes.
				bound := time.NewTimer(10 * time.Second)
				defer bound.Stop()
				select {
				case <-ctx.Done():
					return nil
				case <-bound.C:
					return errors.New("test: still running 10 s after the line died")
				}
			}
			client := apitest.UnixClient(cfg.API.Socket)
			get := func(path string) (int, string) {
				req, _ := http.NewRequest("GET", "http://latchd"+path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				if err != nil {
					return 0, err.Error()
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			var fatalErr, healthErr error
			var lockedAtFatal gpio.Level
			var healthCode int
			var health struct {
				Status    string   `json:"status"`
				DeadLines []string `json:"dead_lines"`
			}
			var metricsText string
			d.onFatal = func(err error) {
				fatalErr = err
				lockedAtFatal = hw.outputs["GPIO23"].Level()
				healthErr = d.site.healthy() // what the watchdog checks before each keep-alive
				var body string
				healthCode, body = get("/v1/health")
				if err := json.Unmarshal([]byte(body), &health); err != nil {
					t.Errorf("health body %q: %v", body, err)
				}
				_, metricsText = get("/metrics")
			}
			if code := d.run(cfg); code != exitFatal {
				t.Errorf("exit code %d, want %d; log:\n%s", code, exitFatal, logs.String())
			}
			var le *lineError
			if !errors.As(fatalErr, &le) || le.Line != tc.line || !errors.Is(fatalErr, syscall.EIO) {
				t.Fatalf("fatal error %v, want a dead %s (EIO); log:\n%s", fatalErr, tc.line, logs.String())
			}
			relay := hw.outputs["GPIO23"]
			// relay_active = "low": released is Low, locked High.
			if releasedAt != gpio.Low || lockedAtFatal != gpio.High || relay.Level() != gpio.High {
				t.Errorf("relay %s while released, %s when the line died, %s at exit (history %v); want Low, High, High",
					releasedAt, lockedAtFatal, relay.Level(), relay.Levels())
			}
			if healthErr == nil || !strings.Contains(healthErr.Error(), tc.line) {
				t.Errorf("watchdog health check: %v, want an error naming %s", healthErr, tc.line)
			}
			if healthCode != http.StatusServiceUnavailable || health.Status != "failing" || !slices.Equal(health.DeadLines, []string{tc.line}) {
				t.Errorf("/v1/health: %d %+v, want 503 failing [%s]", healthCode, health, tc.line)
			}
			if want := fmt.Sprintf("latch_line_dead{line=%q} 1\n", tc.line); !strings.Contains(metricsText, want) {
				t.Errorf("/metrics has no %q:\n%s", want, metricsText)
			}
			if !strings.Contains(logs.String(), `"dead_line":"`+tc.line+`"`) || !strings.Contains(logs.String(), "fatal; strikes locked") {
				t.Errorf("no fatal log line naming %s in\n%s", tc.line, logs.String())
			}
			r.checkClosed(t)
		})
	}
}

// TestDeadLineStopsWatchdog: the watchdog's keep-alives stop at the first
// tick after a line dies, whatever the daemon's main loop is doing (here:
// no main loop at all, only the site and its hardware).
func TestDeadLineStopsWatchdog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, hw, parse, stop := testSite(t, t.TempDir())
		cfg := parse("high", "high")
		if err := s.start(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		hw.reportCrashes(make(chan error, 4))
		var mu sync.Mutex
		sent := 0
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() {
			done <- runWatchdog(ctx, 10*time.Second, func(string) error { mu.Lock(); sent++; mu.Unlock(); return nil }, s.healthy)
		}()
		time.Sleep(11 * time.Second) // virtual time: two keep-alives
		synctest.Wait()
		if err := hw.failReader("r1", syscall.EIO); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		var err error
		ended := false
		select {
		case err = <-done:
			ended = true
		case <-time.After(time.Minute): // virtual time
			err = errors.New("still sending keep-alives a minute after the line died")
		}
		mu.Lock()
		if sent != 2 || !errors.Is(err, errUnhealthy) || !strings.Contains(err.Error(), "reader r1") {
			t.Errorf("keep-alives %d, watchdog %v; want 2, then unhealthy naming reader r1", sent, err)
		}
		mu.Unlock()
		cancel()
		if !ended {
			<-done
		}
		stop()
	})
}
