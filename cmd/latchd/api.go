package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/api/apitype"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/schedule"
	"github.com/latchd/latch/store"
	"github.com/latchd/latch/web"
)

// serveAPI serves the management API (docs/api.md) on the
// [api] socket, always, and on the [api] TCP address when one is set; it
// also starts m.Follow, the metrics' event counter. stop shuts the servers
// down (live streams end at once, other requests get a few seconds) and
// waits for the follower: call it before the store closes.
func serveAPI(ctx context.Context, cfg *config.Config, st *store.Store, s *site, m *api.Metrics, log zerolog.Logger) (stop func(), err error) {
	sock := cfg.API.Socket
	// The folder is usually /run/latch, which systemd makes
	// (RuntimeDirectory); elsewhere (--sim, a hand-started latchd) make it.
	if err := os.MkdirAll(filepath.Dir(sock), 0o750); err != nil {
		return nil, fmt.Errorf("latchd: api socket: %w", err)
	}
	// A socket someone still answers on is not stale: never take it over.
	if c, err := net.DialTimeout("unix", sock, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("latchd: api socket %s: another process is serving on it; stop it or set [api].socket", sock)
	}
	// Mode 0660: the daemon's user and group; a stale socket of a previous
	// run is replaced, any other file is refused.
	ul, err := api.ListenUnix(sock)
	if err != nil {
		return nil, fmt.Errorf("latchd: %w", err)
	}
	// TLS goes on in Server.ServeTLS, above the connection caps, which
	// count TCP connections.
	type listener struct {
		ln net.Listener
		tc *tls.Config
	}
	ls := []listener{{ln: ul}}
	pageOK, pageTLS := false, false
	if cfg.API.Listen != "" {
		var tc *tls.Config
		if cfg.API.TLSCert != "" {
			cs, err := newCertSource(cfg.API.TLSCert, cfg.API.TLSKey, log)
			if err != nil {
				ul.Close()
				return nil, err
			}
			tc = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cs.get}
		}
		tl, err := net.Listen("tcp", cfg.API.Listen)
		if err != nil {
			ul.Close()
			return nil, fmt.Errorf("latchd: api listen %s: %w", cfg.API.Listen, err)
		}
		if tc == nil && !loopback(tl.Addr()) {
			log.Warn().Str("component", "api").Str("listen", cfg.API.Listen).
				Msg("the API listens beyond this machine without TLS: tokens and codes cross the network in clear; set [api] tls_cert and tls_key")
		}
		ls = append(ls, listener{tl, tc})
		// The admin page (docs/web.md) is refused on an address beyond
		// this machine without TLS: its password and session cookie would
		// cross the network in clear.
		pageOK, pageTLS = tc != nil || loopback(tl.Addr()), tc != nil
		if !pageOK {
			log.Error().Str("component", "web").Str("listen", cfg.API.Listen).
				Msg("the admin page is not served: it listens beyond this machine without TLS; set [api] tls_cert and tls_key, or listen on 127.0.0.1")
		}
	}
	var duress api.DuressLatch
	if s.duress != nil {
		duress = s.duress // the controller's latch: DELETE /v1/duress drives its line
	}
	var siteDoors func(context.Context) ([]apitype.DoorState, error)
	var siteCmds api.DoorCommander
	if s.member != nil && cfg.FleetRole() == config.RoleManager {
		siteDoors = s.member.SiteDoors // a manager serves the site's doors (docs/fleet.md)
		siteCmds = s.member.Commands() // and sends door commands to their controllers
	}
	srv := api.New(api.Options{
		Duress:     duress,
		SiteDoors:  siteDoors,
		Store:      st,
		Doors:      api.DoorStatusFunc(s.doorStatus),
		Control:    s.controller,
		ConfigFunc: func() api.Config { return apiConfig(s.config()) },
		Metrics:    m,
		Logger:     log,
		Now:        time.Now, // the daemon's clock: the doors' too (their Config.Now is nil)
		LocalOwner: true,     // latchctl token … as latchd's own user while it holds the database
		TempDir:    filepath.Dir(cfg.Controller.Database),
		// Bounds on hostile clients (docs/api.md, "Limits and timeouts").
		ImportLimit:     cfg.API.ImportSpoolMax,
		MaxConns:        cfg.API.MaxConnections,
		MaxConnsPerPeer: cfg.API.MaxConnectionsPerPeer,
		HeaderTimeout:   cfg.API.HeaderTimeout,

		SiteCommands: siteCmds, // nil unless a fleet manager
	})
	if pageOK {
		page, err := web.New(web.Options{Store: st, API: srv, Logger: log, TLS: pageTLS, Now: time.Now,
			Location: func() *time.Location { return s.config().Controller.Location },
			DoorZone: func(door string) *time.Location {
				for _, d := range s.config().Doors {
					if d.Name == door {
						return d.Location
					}
				}
				return nil
			}})
		if err != nil {
			for _, l := range ls {
				l.ln.Close()
			}
			return nil, fmt.Errorf("latchd: %w", err)
		}
		srv.MountPage(page)
	}
	actx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	s.guard("api metrics", func() { defer wg.Done(); m.Follow(actx, st) })
	for _, l := range ls {
		// Server.ServeTLS sets ConnContext (api.ConnContext: the socket
		// peer's uid, for LocalOwner), caps a TCP listener's connections
		// and shuts down when actx ends.
		wg.Add(1)
		addr := l.ln.Addr().String()
		s.guard("api "+addr, func() {
			defer wg.Done()
			if err := srv.ServeTLS(actx, l.ln, l.tc); err != nil {
				log.Error().Err(err).Str("component", "api").Str("addr", addr).Msg("api server stopped")
			}
		})
	}
	ev := log.Info().Str("component", "api").Str("socket", sock)
	if cfg.API.Listen != "" {
		ev = ev.Str("listen", cfg.API.Listen).Bool("tls", cfg.API.TLSCert != "")
	}
	ev.Msg("api serving")
	return func() {
		cancel()
		wg.Wait()
		if err := os.Remove(sock); err != nil && !os.IsNotExist(err) {
			log.Warn().Err(err).Str("component", "api").Msg("removing the api socket")
		}
	}, nil
}

// doorStatus is every running door's mode now and next change, for the
// API. Door.Status is an atomic snapshot; s.mu only guards the map.
func (s *site) doorStatus() []api.DoorStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]api.DoorStatus, 0, len(s.doors))
	for name, run := range s.doors {
		st := run.d.Status()
		mode := string(st.Mode)
		if st.Level == 0 || (!st.ClockPlausible && st.Level >= door.LevelException) {
			// Not started yet, or the fail-secure mode until the wall clock is set.
			mode = "unknown"
		}
		hasDPS := s.cfg != nil && slices.ContainsFunc(s.cfg.Doors, func(d config.Door) bool { return d.Name == name && d.DPS != "" })
		out = append(out, api.DoorStatus{Name: name, Mode: mode, NextChange: st.Next, NextMode: string(st.NextMode), State: st, HasDPS: hasDPS})
	}
	slices.SortFunc(out, func(a, b api.DoorStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// weekdayNames are config.md's day names by time.Weekday.
var weekdayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// apiConfig is the part of the config the API serves read-only: groups and
// doors as the file has them.
func apiConfig(c *config.Config) api.Config {
	out := api.Config{Site: c.Controller.Name}
	for _, g := range c.Groups {
		out.Groups = append(out.Groups, api.Group{Name: g.Name, Doors: g.Doors, Schedule: apiWindows(g.Schedule)})
	}
	for _, d := range c.Doors {
		ad := api.Door{Name: d.Name, TimeZone: d.TimeZone, DefaultMode: string(d.DefaultMode),
			SecondFactor: d.SecondFactor, Schedule: apiWindows(d.Schedule), Readers: []string{}}
		if ad.TimeZone == "" {
			ad.TimeZone = c.Controller.TimeZone
		}
		for _, r := range c.Readers {
			if r.Door == d.Name {
				ad.Readers = append(ad.Readers, r.Name)
			}
		}
		for _, e := range d.Exceptions {
			ae := api.Exception{Date: e.Date.String(), Mode: string(e.Mode)}
			if !(e.Start == 0 && e.End == 24*60) { // a whole day has no times
				ae.Start, ae.End = e.Start.String(), e.End.String()
			}
			ad.Exceptions = append(ad.Exceptions, ae)
		}
		out.Doors = append(out.Doors, ad)
	}
	return out
}

func apiWindows(ws []schedule.Window) []api.Window {
	var out []api.Window
	for _, w := range ws {
		days := make([]string, 0, len(w.Days))
		for _, d := range w.Days {
			days = append(days, weekdayNames[d])
		}
		out = append(out, api.Window{Days: days, Start: w.Start.String(), End: w.End.String(), Mode: string(w.Mode)})
	}
	return out
}

// loopback reports whether a listener's address is on the loopback
// interface only.
func loopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// certSource serves the TCP listener's certificate, and loads the files
// again when either one's modification time or size changes (a renewed
// certificate is served from the next handshake, without a restart). A
// pair that does not load keeps the previous one serving, and says so in
// the log once per change.
type certSource struct {
	certFile, keyFile string
	log               zerolog.Logger

	mu     sync.Mutex
	cert   *tls.Certificate
	stamp  string // modification times and sizes of both files
	failed string // the stamp of a pair that did not load
}

func newCertSource(certFile, keyFile string, log zerolog.Logger) (*certSource, error) {
	c := &certSource{certFile: certFile, keyFile: keyFile, log: log.With().Str("component", "api").Logger()}
	stamp, err := c.stat()
	if err == nil {
		err = c.load(stamp)
	}
	if err != nil {
		return nil, fmt.Errorf("latchd: api tls: %w", err)
	}
	return c, nil
}

func (c *certSource) stat() (string, error) {
	var b strings.Builder
	for _, f := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%d/%d;", fi.ModTime().UnixNano(), fi.Size())
	}
	return b.String(), nil
}

// load reads the pair; c.mu is held or c is not shared yet.
func (c *certSource) load(stamp string) error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return err
	}
	c.cert, c.stamp = &cert, stamp
	return nil
}

func (c *certSource) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	stamp, err := c.stat()
	if err != nil || stamp == c.stamp || stamp == c.failed {
		return c.cert, nil
	}
	if err := c.load(stamp); err != nil {
		c.failed = stamp
		c.log.Error().Err(err).Str("cert", c.certFile).Msg("the renewed TLS certificate does not load; still serving the previous one")
		return c.cert, nil
	}
	c.failed = ""
	c.log.Info().Str("cert", c.certFile).Msg("TLS certificate loaded again")
	return c.cert, nil
}
