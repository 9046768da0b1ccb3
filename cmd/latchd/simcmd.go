package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/sim"
	"github.com/latchd/latch/store"
	"golang.org/x/term"
)

//go:embed demo.toml
var demoConfig []byte

// demoUsers seed the demo database: who they are is what the banner says.
var demoUsers = []struct {
	name      string
	card      uint64
	mfa       string
	entry     string
	groups    []string
	suspended bool
}{
	{name: "alice", card: 1001, mfa: "1234", groups: []string{"staff"}},
	{name: "bob", card: 1002, entry: "4321", groups: []string{"staff"}},
	{name: "carol", card: 1003, mfa: "5555", groups: []string{"staff"}, suspended: true},
	{name: "dave", card: 1004, mfa: "6666"},
}

const demoBanner = `
latchd --sim: a simulated door "front" in Card + Code mode all week (built-in demo config).
Type a command and press Enter (events appear below):

  badge h10301 1 1001     alice badges; the door asks for her code (code_requested)
  keys 1234#              alice's MFA code: access_granted, the strike opens for 5 s
  badge h10301 1 1002     bob (no MFA code: his entry code is the second factor) …
  keys 4321#              … access_granted
  keys 9999#              a code without a badge: access_denied card_required
  badge h10301 1 1003     carol is suspended: access_denied user_inactive
  badge h10301 1 1004     dave is in no group for this door: access_denied no_access
  open, close, rex        the door switch and the exit button
  help                    every command;  quit (or Ctrl-D) stops

`

// demoAPIBanner tells where the demo's API listens; %[1]s is the socket,
// %[2]s the command that runs latchctl (latchctlCommand).
const demoAPIBanner = `The management API is on the socket %[1]s, e.g. in another terminal:

  export LATCH_TOKEN=$(%[2]s token create --socket %[1]s --name me --role access_system_admin)
  %[2]s users list --socket %[1]s
  %[2]s events --follow --socket %[1]s

`

// latchctlCommand is how the banner tells a new user to run latchctl, in
// this order: the latchctl built beside this latchd (make run runs
// bin/latchd, so bin/latchctl, as an absolute path that works from any
// terminal); latchctl on $PATH (an installed pair); else go run from the
// repository (latchd itself was started with go run).
func latchctlCommand(exe string, stat func(string) (os.FileInfo, error), lookPath func(string) (string, error)) string {
	if exe != "" {
		p := filepath.Join(filepath.Dir(exe), "latchctl")
		if fi, err := stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if _, err := lookPath("latchctl"); err == nil {
		return "latchctl"
	}
	return "go run ./cmd/latchctl"
}

const simHelp = `commands (docs/scenarios.md):
  badge    [READER] FORMAT FC CN     present a card (h10301, h10306, h10302, h10304, corp1000_35, corp1000_48)
  badgeraw [READER] BITS             present raw bits, e.g. a frame with a parity error
  keys     [READER] KEYS             press keys 0-9 * #, 250 ms apart
  wait     DURATION                  pause the command input (500ms, 10s)
  open | close | rex [DOOR]          door position switch, exit button
  user     NAME [groups=a;b] [start=RFC3339] [end=RFC3339] [suspended=true]
  card     NAME FORMAT FC CN [active=false]
  entry    NAME CODE  |  mfa NAME CODE  |  duress NAME CODE
  unlock   DOOR [DURATION]           remote unlock (docs/operations.md)
  override DOOR MODE for DURATION | override DOOR MODE until TIME | override DOOR clear
  lockdown all | DOOR...  |  lockdown release all | DOOR...
  input    NAME on|off               drive an [[input]] (fire alarm, panic button)
  restart  [DOWNTIME]                stop every door and start again
  help | quit
`

// productionConfig reports a config that looks like the Pi's own: the
// installed file, or a database in /var/lib. latchd --sim on it writes the
// site's real database, which is rarely what was meant.
func productionConfig(cfg *config.Config) bool {
	return cfg.File == defaultConfigPath || strings.HasPrefix(cfg.Controller.Database, "/var/lib/")
}

// runSim is latchd --sim: the daemon on simulated hardware, commands on stdin.
func runSim(o options, stdin io.Reader, stdout, stderr io.Writer) int {
	demo := o.config == ""
	var cfg *config.Config
	var err error
	var tmp string
	if demo {
		if tmp, err = os.MkdirTemp("", "latch-demo-"); err != nil {
			fmt.Fprintln(stderr, "latchd:", err)
			return exitFatal
		}
		defer os.RemoveAll(tmp)
		cfg, err = config.Parse(demoConfig, filepath.Join(tmp, "demo.toml"))
		if err == nil {
			cfg.API.Socket = filepath.Join(tmp, "api.sock")
		}
	} else {
		cfg, err = config.Load(o.config)
	}
	// On a terminal, the line editor (simterm.go): the replies, and the log
	// when it goes to the same terminal, are drawn above its prompt.
	next := scanLines(stdin)
	if err == nil {
		st, terr := openSimTerm(stdin, stderr)
		if terr != nil {
			fmt.Fprintln(stderr, "latchd --sim: the terminal:", terr)
			return exitFatal
		}
		if st != nil {
			defer st.restore()
			next = readLines(st.t)
			if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				stdout = st
			}
			stderr = st
		}
	}
	log, w, code := startLog(o, cfg, err, stdout, stderr)
	if code != exitOK {
		return code
	}
	hw := newSimHW(log.With().Str("component", "sim").Logger())
	for _, d := range cfg.Doors {
		if d.DPS != "" {
			hw.setInitial(d.DPS, !d.DPSOpen) // closed
		}
		if d.REX != "" {
			hw.setInitial(d.REX, !d.REXActive) // released
		}
	}
	st, err := openStore(cfg, log, nil)
	if err != nil {
		log.Error().Err(err).Msg("latchd: cannot start")
		return exitFatal
	}
	exe, _ := os.Executable()
	ctl := latchctlCommand(exe, os.Stat, exec.LookPath)
	if demo {
		if err := seedDemo(st); err != nil {
			st.Close()
			log.Error().Err(err).Msg("latchd: seeding the demo database")
			return exitFatal
		}
		fmt.Fprint(stderr, demoBanner)
		fmt.Fprintf(stderr, demoAPIBanner, cfg.API.Socket, ctl)
	} else {
		if productionConfig(cfg) {
			fmt.Fprintf(stderr, "latchd --sim: WARNING: %s is a production config: the simulation writes its database %s (events, lockout counters, and whatever you change through the API). Copy the config and point [controller] database and key_file elsewhere to keep them apart.\n", cfg.File, cfg.Controller.Database)
		}
		fmt.Fprintf(stderr, "latchd --sim on %s: type help for the commands.\n", cfg.File)
		fmt.Fprintf(stderr, "management API on the socket %s (%s … --socket %[1]s)\n", cfg.API.Socket, ctl)
	}
	d := &daemon{log: log, events: &eventLogger{log: log, w: w}, hw: hw, store: st, notify: newNotifier(envOS)}
	if !demo {
		d.cfgPath = cfg.File
	}
	d.extra = func(ctx context.Context, d *daemon) error {
		return simCommands(ctx, hw, next, stderr, func(s sim.Step) error {
			if handled, err := simOp(ctx, d.site, hw, s); handled {
				return err
			}
			return simStep(ctx, d.site.config(), d.store, hw, s)
		})
	}
	d.onExit = func() {
		for _, dc := range cfg.Doors {
			lvl := hw.finals()["relay "+dc.Name]
			locked := lvl != dc.RelayActive
			d.log.Info().Str("component", "sim").Str("door", dc.Name).Str("relay", lvl.String()).Bool("locked", locked).Msg("relay final level")
		}
	}
	return d.run(cfg)
}

func seedDemo(st *store.Store) error {
	by := store.Actor{Name: "demo", Role: "access_system_admin"}
	for _, u := range demoUsers {
		usr, err := st.CreateUser(store.UserFields{ExternalID: u.name, FirstName: u.name, Groups: u.groups, Suspended: u.suspended}, by)
		if err != nil {
			return err
		}
		if err := st.AddCard(usr.UserID, store.Card{Format: "h10301", FacilityCode: 1, CardNumber: u.card, Active: true}, by); err != nil {
			return err
		}
		if u.mfa != "" {
			if _, err := st.AddMFACode(usr.UserID, []byte(u.mfa), by); err != nil {
				return err
			}
		}
		if u.entry != "" {
			if err := st.SetEntryCode(usr.UserID, []byte(u.entry), by); err != nil {
				return err
			}
		}
	}
	return nil
}

// debugEnv enables the hidden "debug-panic" command, which panics in the
// command goroutine, and "debug-fail-reader", which makes the first
// reader's capture fail: the crash-only tests use them to check that a
// panic or a dead line leaves every strike locked, the database closed and
// the exit status 1.
const debugEnv = "LATCHD_DEBUG"

// simCommands reads scenario commands from next (a line of stdin, or of
// the line editor: simterm.go) on the real clock until quit, end of input
// or ctx ends, and hands each to step.
func simCommands(ctx context.Context, hw *simHW, next func() (string, error), stderr io.Writer, step func(sim.Step) error) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		for {
			line, err := next()
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				readErr <- err
				return
			}
			select {
			case lines <- line:
			case <-ctx.Done():
				return
			}
		}
	}()
	n := 0
	for {
		var line string
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			hw.settle(ctx)
			return err // end of input: stop like quit
		case line = <-lines:
		}
		n++
		cmd := strings.TrimSpace(line)
		switch cmd {
		case "quit", "exit":
			hw.settle(ctx)
			return nil
		case "help", "?":
			fmt.Fprint(stderr, simHelp)
			continue
		case "debug-panic":
			if os.Getenv(debugEnv) == "1" {
				panic("debug-panic command")
			}
		case "debug-fail-reader":
			// The first reader's capture fails, as a broken line request
			// does on the Pi: crash-only, latchd exits 1.
			if os.Getenv(debugEnv) == "1" {
				if err := hw.failReader("", errors.New("debug-fail-reader command")); err != nil {
					fmt.Fprintf(stderr, "line %d: %v\n", n, err)
				}
				continue
			}
		}
		st, ok, err := sim.ParseLine(line, n)
		if err != nil {
			var se *sim.ScriptError
			if errors.As(err, &se) {
				fmt.Fprintf(stderr, "line %d: %s\n", se.Line, se.Msg)
			} else {
				fmt.Fprintln(stderr, err)
			}
			continue
		}
		if !ok {
			continue
		}
		if err := step(st); err != nil {
			fmt.Fprintf(stderr, "line %d: %v\n", n, err)
		}
	}
}

// simStep carries out one command on the real clock: on the simulated
// lines of hw, and the database st (nil: the commands that set up users
// and credentials are refused).
func simStep(ctx context.Context, cfg *config.Config, db *store.Store, hw *simHW, st sim.Step) error {
	sleep := func(dur time.Duration) {
		t := time.NewTimer(dur)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	door := func(name string) (config.Door, error) {
		for _, dc := range cfg.Doors {
			if name == "" || dc.Name == name {
				return dc, nil
			}
		}
		return config.Door{}, fmt.Errorf("no door %q", name)
	}
	switch {
	case db != nil:
		if ok, err := sim.Setup(db, st); ok {
			return err
		}
	case st.Kind == sim.StepUser || st.Kind == sim.StepCard || st.Kind == sim.StepEntry || st.Kind == sim.StepMFA ||
		st.Kind == sim.StepDuress:
		return fmt.Errorf("%s: not available here (no database)", st.Kind)
	}
	switch st.Kind {
	case sim.StepConfig, sim.StepClock:
		return fmt.Errorf("%s: not available in --sim (real clock; the config is fixed at start)", st.Kind)
	case sim.StepBadge, sim.StepBadgeRaw:
		r, err := hw.reader(st.Reader)
		if err != nil {
			return err
		}
		bits := st.Bits
		if st.Kind == sim.StepBadge {
			spec, err := reader.ParseFormatSpec(string(st.Format), "")
			if err != nil {
				return err
			}
			if bits, err = spec.Encode(st.FacilityCode, st.CardNumber); err != nil {
				return err
			}
		}
		return r.send(bits)
	case sim.StepKeys:
		r, err := hw.reader(st.Reader)
		if err != nil {
			return err
		}
		if r.keypad.Mode == reader.KeypadNone {
			return fmt.Errorf("reader %q has no keypad", r.rc.Name)
		}
		for i, k := range st.Keys {
			if i > 0 {
				sleep(sim.KeyInterval)
			}
			bits, send, err := sim.KeyFrame(r.keypad, &r.pin, k)
			if err != nil {
				return err
			}
			if send {
				if err := r.send(bits); err != nil {
					return err
				}
			}
		}
	case sim.StepWait:
		sleep(st.Wait)
	case sim.StepOpen, sim.StepClose:
		dc, err := door(st.Door)
		if err != nil {
			return err
		}
		if dc.DPS == "" {
			return fmt.Errorf("door %q has no door position switch", dc.Name)
		}
		lvl := dc.DPSOpen
		if st.Kind == sim.StepClose {
			lvl = !lvl
		}
		return hw.set(dc.DPS, lvl)
	case sim.StepREX:
		dc, err := door(st.Door)
		if err != nil {
			return err
		}
		if dc.REX == "" {
			return fmt.Errorf("door %q has no exit button", dc.Name)
		}
		if err := hw.set(dc.REX, dc.REXActive); err != nil {
			return err
		}
		sleep(dc.Debounce + sim.REXPress)
		return hw.set(dc.REX, !dc.REXActive)
	}
	return nil
}
