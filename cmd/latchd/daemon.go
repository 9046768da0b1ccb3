package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/door"
	"github.com/latchd/latch/fleet"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/internal/eventfmt"
	"github.com/latchd/latch/internal/version"
	"github.com/latchd/latch/store"
)

// Exit codes.
const (
	exitOK    = 0
	exitFatal = 1 // could not start, or a fatal error or panic while running
	exitUsage = 2
)

// logSetup builds the logger: the flags win over the config's [log].
func logSetup(o options, cfg *config.Config, out *os.File) (zerolog.Logger, io.Writer, error) {
	return logSetupTo(o, cfg, out, eventfmt.ColorFor(out))
}

// logSetupTo is logSetup writing to w, coloured when color is set.
func logSetupTo(o options, cfg *config.Config, w io.Writer, color bool) (zerolog.Logger, io.Writer, error) {
	format, level := "json", "info"
	if cfg != nil {
		format, level = cfg.Log.Format, cfg.Log.Level
	}
	if o.logFormat != "" {
		format = o.logFormat
	}
	if o.logLevel != "" {
		level = o.logLevel
	}
	return newLogger(w, color, format, level)
}

// startLog begins both runs (the Pi's and --sim) once the configuration
// has been read: a configuration that did not load (cfgErr) is fatal; then
// the logger the options and [log] ask for writes to stdout (when it is a
// file, else os.Stdout). code is exitOK when both went well, else the exit
// code, with the error written to stderr.
func startLog(o options, cfg *config.Config, cfgErr error, stdout, stderr io.Writer) (log zerolog.Logger, w io.Writer, code int) {
	if cfgErr != nil {
		fmt.Fprintln(stderr, cfgErr)
		return log, nil, exitFatal
	}
	var log0 zerolog.Logger
	var w0 io.Writer
	var err error
	if t, ok := stdout.(*simTerm); ok {
		// The simulator's line editor: the log is drawn above its prompt.
		log0, w0, err = logSetupTo(o, cfg, t, eventfmt.ColorFor(t.logFile()))
	} else {
		out, _ := stdout.(*os.File)
		if out == nil {
			out = os.Stdout
		}
		log0, w0, err = logSetup(o, cfg, out)
	}
	log, w = log0, w0
	if err != nil {
		fmt.Fprintln(stderr, err)
		return log, nil, exitUsage
	}
	for _, is := range cfg.Warnings {
		log.Warn().Str("file", is.File).Int("line", is.Line).Str("key", is.Key).Str("rule", is.Rule).Msg("config warning")
	}
	return log, w, exitOK
}

// eventLogger writes events to the log as JSON lines at level info:
// {"level":"info","time":…,"seq":…,"event":…,…}. Codes never reach an event.
type eventLogger struct {
	log zerolog.Logger // for its level and for warnings
	w   io.Writer      // the logger's output (serialised)
}

func (l *eventLogger) write(ev store.Event) {
	if l.log.GetLevel() > zerolog.InfoLevel {
		return
	}
	b, err := json.Marshal(ev)
	if err != nil || len(b) < 2 {
		return
	}
	line := append([]byte(`{"level":"info",`), b[1:]...)
	line = append(line, '\n')
	_, _ = l.w.Write(line)
}

// follow logs every event the store publishes (door events after their
// write, credential changes made through the API) until ctx ends. A
// subscriber that falls behind is cut off by the store; it then says so and
// follows again.
func (l *eventLogger) follow(ctx context.Context, st *store.Store, ready chan<- struct{}) {
	first := true
	for ctx.Err() == nil {
		ch, cancel := st.Subscribe(4096)
		if first {
			close(ready)
			first = false
		}
		func() {
			defer cancel()
			for {
				select {
				case <-ctx.Done():
					// Log what was published before the end (the events of
					// the doors' stop), then return.
					for {
						select {
						case ev, ok := <-ch:
							if !ok {
								return
							}
							l.write(ev)
						default:
							return
						}
					}
				case ev, ok := <-ch:
					if !ok {
						l.log.Warn().Str("component", "events").Msg("event log fell behind; some events are in the database only")
						return
					}
					l.write(ev)
				}
			}
		}()
	}
}

// daemon is one run of latchd: real or simulated hardware, one store.
type daemon struct {
	log     zerolog.Logger
	events  *eventLogger
	cfgPath string // "" for the embedded demo: no reload
	hw      hardware
	store   *store.Store
	ew      *door.EventWriter
	site    *site
	notify  *notifier
	fatal   chan error
	// extra runs beside the daemon (the --sim command reader); it ends the
	// daemon gracefully by returning.
	extra func(ctx context.Context, d *daemon) error
	// onExit runs after every door is stopped and the hardware closed,
	// before the store closes (--sim reports the relays' final levels).
	onExit func()
	// appender is where the event writer stores events; nil = store
	// (tests put a store whose writes fail in between).
	appender door.Appender
	// onFatal (tests) runs on a fatal error once every strike is locked,
	// while the API still serves, just before the daemon stops.
	onFatal func(err error)

	// closer closes the database (nil: store); closeAfter is the timer
	// that bounds it (nil: time.After). Tests replace them.
	closer     io.Closer
	closeAfter func(time.Duration) <-chan time.Time
	closeOnce  sync.Once

	// integ is the outbox and its destinations (integrations.go); nil = none.
	integ *integrations
	// member is this latchd's membership in its site; nil without [fleet].
	member *fleet.Member
}

// closeWait bounds closing the database on the way out. bbolt's Close
// waits for every transaction to end; one that never does (a read stuck on
// a corrupt file, a bug) would keep latchd from exiting, and systemd from
// restarting it. The strikes are locked before; the file lock ends with
// the process.
const closeWait = 10 * time.Second

// openStore opens the database of cfg; onMigrate (may be nil) hears of
// each step of a migration (store.Options.OnMigrate).
func openStore(cfg *config.Config, log zerolog.Logger, onMigrate func(int)) (*store.Store, error) {
	keyFile := cfg.StoreKeyFile()
	for _, p := range []string{cfg.Controller.Database, keyFile} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, fmt.Errorf("latchd: %w", err)
		}
	}
	st, err := store.Open(store.Options{
		Path:           cfg.Controller.Database,
		KeyFile:        keyFile,
		EventRetention: cfg.Controller.EventRetention,
		Logger:         log, // store adds component=store itself
		OnMigrate:      onMigrate,
		SiteIDs:        cfg.Fleet != nil, // every member names a user alike (docs/fleet.md)

		EventController: fleetController(cfg), // a fleet member's events name it (docs/fleet.md "Events")
	})
	if err != nil {
		return nil, fmt.Errorf("latchd: %w", err)
	}
	if cfg.Fleet == nil && st.IsReplica() {
		log.Warn().Str("database", cfg.Controller.Database).Msg("the database is a fleet site's replica and the config has no [fleet]: the doors decide from it, changes of its users are refused; latchctl db detach makes it a stand-alone database (docs/fleet.md)")
	}
	return st, nil
}

// run starts the doors and serves until SIGTERM/SIGINT (exit 0), a fatal
// error or panic (exit 1, every strike driven locked first), or extra ending.
func (d *daemon) run(cfg *config.Config) (code int) {
	d.fatal = make(chan error, 16)
	d.hw.reportCrashes(d.fatal)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var app door.Appender = d.store
	if d.appender != nil {
		app = d.appender
	}
	d.ew = door.NewEventWriter(app, func(ev store.Event) {
		if ev.Seq == 0 { // not stored: the subscription will not see it, log it here
			d.events.write(ev)
		}
	}, d.log)
	// The doors report decision latencies and bad reads to the API's
	// metrics; the metrics count the rest from the events.
	metrics := api.NewMetrics()
	// A dead reader or input line shows on /metrics and /v1/health from
	// the moment it fails until latchd has exited.
	metrics.SetDeadLines(d.hw.deadLines)
	// Events never stored (disk full, queue overflow) count as dropped.
	d.ew.OnLost = metrics.ObserveEventsLost
	d.site = newSite(d.log, d.hw, d.store, d.ew, d.fatal)
	d.site.obs = metrics

	stopAPI := func() {}
	// Crash-only: a panic on this goroutine locks every strike and exits non-zero.
	defer func() {
		if r := recover(); r != nil {
			d.site.haltAll()
			d.log.Error().Str("panic", panicText(r)).Msg("latchd: panic; strikes locked, exiting")
			cancel()
			stopAPI()
			d.shutdown()
			code = exitFatal
		}
	}()

	ewctx, ewcancel := context.WithCancel(context.Background())
	ewDone := make(chan struct{})
	// Every goroutine of the daemon runs guarded: a panic anywhere locks
	// the strikes and exits non-zero, never leaves a strike released.
	d.site.guard("event writer", func() { defer close(ewDone); _ = d.ew.Run(ewctx) })
	fctx, fcancel := context.WithCancel(context.Background())
	followReady := make(chan struct{})
	followDone := make(chan struct{})
	d.site.guard("event log", func() { defer close(followDone); d.events.follow(fctx, d.store, followReady) })
	<-followReady
	// stopEvents writes what the event writer still holds, then lets the
	// log follower drain what the store published.
	stopEvents := func() {
		ewcancel()
		<-ewDone
		d.site.waitDuress()
		fcancel()
		<-followDone
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)

	// A start that fails stops what it started: strikes locked, exit 1.
	startFailed := func(msg string, err error) int {
		d.log.Error().Err(err).Msg(msg)
		d.site.stopAll()
		stopEvents()
		d.shutdown()
		return exitFatal
	}
	if err := d.site.openDuress(cfg); err != nil {
		return startFailed("latchd: cannot start", err)
	}
	d.site.runDuress(ewctx)
	// The outbox starts before the doors: a new destination's cursor is
	// put at the end of the log before their first event.
	if err := d.startIntegrations(cfg, metrics); err != nil {
		return startFailed("latchd: cannot start the integrations", err)
	}
	if err := d.site.start(ctx, cfg); err != nil {
		return startFailed("latchd: cannot start", err)
	}
	// The doors decide from now on; the door's buckets are read once in
	// the background so that the first badges after a boot find their
	// pages cached (docs/store.md, "First badge after boot").
	d.site.guard("warm", func() {
		st, err := d.store.WarmDoorPath(ctx)
		if err != nil {
			d.log.Warn().Err(err).Msg("reading the card records ahead failed; badges still work")
			return
		}
		d.log.Debug().Int("branch_pages", st.BranchPages).Int("leaf_pages", st.LeafPages).Int64("bytes", st.Bytes).Dur("took", st.Took).Msg("card records read ahead")
	})
	member, err := startFleet(ctx, cfg, d.store, d.site, d.log)
	if err != nil {
		return startFailed("latchd: cannot join the site", err)
	}
	if member != nil {
		defer member.Close()
		d.member = member
	}
	stop, err := serveAPI(ctx, cfg, d.store, d.site, metrics, d.log)
	if err != nil {
		return startFailed("latchd: cannot serve the API", err)
	}
	stopAPI = stop
	v := version.Get()
	d.log.Info().Int("doors", len(cfg.Doors)).Int("readers", len(cfg.Readers)).Str("config", cfg.File).
		Str("version", v.Version).Str("commit", v.Commit).Str("built", v.Date).Msg("latchd started")
	if err := d.notify.Notify("READY=1"); err != nil {
		d.log.Warn().Err(err).Msg("sd_notify")
	}
	if iv, ok, err := watchdogInterval(envOS, os.Getpid()); err != nil {
		d.log.Warn().Err(err).Msg("watchdog")
	} else if ok {
		d.site.guard("watchdog", func() {
			if err := runWatchdog(ctx, iv, d.notify.Notify, d.site.healthy); err != nil {
				d.fatal <- err
			}
		})
	}
	extraDone := make(chan error, 1)
	if d.extra != nil {
		d.site.guard("sim commands", func() { extraDone <- d.extra(ctx, d) })
	}

	graceful := true
loop:
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				d.reload(ctx)
				continue
			}
			d.log.Info().Str("signal", sig.String()).Msg("latchd stopping")
			break loop
		case err := <-extraDone:
			if err != nil {
				d.log.Error().Err(err).Msg("sim stopped")
			}
			break loop
		case err := <-d.fatal:
			// Lock first, talk later.
			d.site.haltAll()
			ev := d.log.Error().Err(err)
			// A dead line (crash-only): the controller can no longer
			// read a card or the door; systemd restarts latchd, which
			// requests the lines again (or fails to start, saying why).
			var le *lineError
			if errors.As(err, &le) {
				ev = ev.Str("dead_line", le.Line)
			}
			ev.Msg("latchd: fatal; strikes locked, exiting")
			_ = d.notify.Notify("STATUS=" + err.Error())
			if d.onFatal != nil {
				d.onFatal(err)
			}
			graceful = false
			break loop
		}
	}
	_ = d.notify.Notify("STOPPING=1")
	cancel()
	// The API goes first: no request may reach the store once it closes.
	stopAPI()
	if graceful {
		d.site.stopAll()
	} else {
		d.site.haltAll()
	}
	stopEvents()
	if d.member != nil {
		d.member.Close() // before the store closes
	}
	d.shutdown()
	if !graceful {
		return exitFatal
	}
	return exitOK
}

// shutdown closes what is left (strikes are already locked) and reports
// the outputs' final levels (--sim).
func (d *daemon) shutdown() {
	d.site.releaseDuress()
	d.stopIntegrations() // before the store closes: the outbox reads it
	if err := d.hw.Close(); err != nil {
		d.log.Error().Err(err).Msg("releasing GPIO")
	}
	if d.onExit != nil {
		d.onExit()
	}
	d.closeStore()
}

func (d *daemon) closeStore() {
	d.closeOnce.Do(func() {
		c, after := d.closer, d.closeAfter
		if c == nil {
			c = d.store
		}
		if after == nil {
			after = time.After
		}
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Errorf("panic: %s", panicText(r))
				}
			}()
			done <- c.Close()
		}()
		select {
		case err := <-done:
			if err != nil {
				d.log.Error().Err(err).Msg("closing the database")
				return
			}
			d.log.Info().Msg("database closed")
		case <-after(closeWait):
			d.log.Error().Dur("waited", closeWait).Msg("closing the database did not finish; exiting without it")
		}
	})
}

// reload handles SIGHUP: a bad file is refused and the running config stays.
func (d *daemon) reload(ctx context.Context) {
	if d.cfgPath == "" {
		d.log.Warn().Msg("reload: running on the built-in demo config; nothing to reload")
		return
	}
	_ = d.notify.Notify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", monotonicUsec()))
	defer d.notify.Notify("READY=1")
	next, err := config.Load(d.cfgPath)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			for _, is := range ce.Issues {
				d.log.Error().Str("file", is.File).Int("line", is.Line).Str("key", is.Key).Str("rule", is.Rule).Msg("reload refused; running config kept")
			}
		} else {
			d.log.Error().Err(err).Msg("reload refused; running config kept")
		}
		return
	}
	if integrationsChanged(d.site.config(), next) {
		d.log.Warn().Msg("reload: [mqtt] and [[webhook]] changes need a restart; the running ones are kept")
	}
	if err := d.site.reload(ctx, next); err != nil {
		d.fatal <- fmt.Errorf("latchd: reload: %w", err)
	}
}

// runDaemon is latchd on the Pi's GPIO.
func runDaemon(o options, stdout, stderr io.Writer) int {
	path := o.config
	if path == "" {
		path = defaultConfigPath
	}
	cfg, err := config.Load(path)
	log, w, code := startLog(o, cfg, err, stdout, stderr)
	if code != exitOK {
		return code
	}
	hw, err := newGPIOHW(log.With().Str("component", "gpio").Logger())
	if err != nil {
		log.Error().Err(err).Msg("latchd: cannot start")
		return exitFatal
	}
	notify := newNotifier(envOS)
	st, err := openStore(cfg, log, notify.migrating)
	if err != nil {
		_ = hw.Close()
		log.Error().Err(err).Msg("latchd: cannot start")
		return exitFatal
	}
	d := &daemon{log: log, events: &eventLogger{log: log, w: w}, cfgPath: path, hw: hw, store: st, notify: notify}
	return d.run(cfg)
}

// panicText describes a recovered panic value for the log without its
// contents: the value could hold anything the panicking code had in hand,
// a typed code included, so only its type is shown, plus the message of a
// runtime error (index out of range, nil dereference), which holds no data.
func panicText(v any) string {
	if re, ok := v.(runtime.Error); ok {
		return fmt.Sprintf("%T: %s", v, re.Error())
	}
	return fmt.Sprintf("%T", v)
}

// migrateExtend is how much longer systemd is asked to wait for the start
// after each step of a database migration (sd_notify EXTEND_TIMEOUT_USEC):
// a step of 20,000 cards takes seconds even on a slow SD card, and the
// default start timeout (90 s) may not hold a million.
const migrateExtend = 60 * time.Second

// migrating tells systemd that a database migration goes on (done records
// so far) and that the start may take migrateExtend longer.
func (n *notifier) migrating(done int) {
	_ = n.Notify(fmt.Sprintf("EXTEND_TIMEOUT_USEC=%d\nSTATUS=migrating the database: %d records converted", migrateExtend.Microseconds(), done))
}
