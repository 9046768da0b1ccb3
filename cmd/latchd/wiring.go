package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/internal/plural"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/sim"
)

// latchd wiring-test: the installer's check of a new site. It opens every
// reader's D0/D1 lines, every door's DPS and REX inputs and every [[input]] as the daemon
// does (same hardware layer, same decoders), prints each card, key, bad
// read and input change as it arrives, and a summary that names the lines
// that never showed anything. It never requests a relay or a reader's
// feedback lines: the strikes stay as they are, locked when latchd left
// them. With --sim it runs on the simulated hardware and reads the
// simulator's commands from stdin instead.

const wiringUsage = `usage: latchd wiring-test [--config FILE] [--for DURATION] [--leds] [--show-keys] [--sim]

Stop latchd first (systemctl stop latchd): it holds the GPIO lines.
Then badge a card at every reader, type a few keys, open and close every
door and press every exit button. Each read and change is printed as it
arrives; Ctrl-C (or --for) ends the test with a summary. The strike relays
are never touched; the reader LEDs and beepers only with --leds.

flags:
`

// wiringSignals ends the test on SIGINT or SIGTERM. A test in a synctest
// bubble replaces it: the signal package's goroutine is outside any bubble.
var wiringSignals = func(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

func wiringCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wiring-test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file (default "+defaultConfigPath+"; with --sim, the built-in demo)")
	dur := fs.Duration("for", 5*time.Minute, "end the test after this long")
	showKeys := fs.Bool("show-keys", false, "print the digits typed (never type a real code then); by default each digit is a •")
	leds := fs.Bool("leds", false, "first turn each reader's green LED, red LED and beeper on for a second, one after the other")
	simMode := fs.Bool("sim", false, "simulated hardware: read badge, keys, open, close, rex, wait and quit commands from stdin")
	fs.Usage = func() { fmt.Fprint(stderr, wiringUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitUsage
	}
	if fs.NArg() > 0 || *dur <= 0 {
		fs.Usage()
		return exitUsage
	}
	var cfg *config.Config
	var err error
	switch {
	case *cfgPath == "" && *simMode:
		cfg, err = config.Parse(demoConfig, filepath.Join(os.TempDir(), "demo.toml"))
	case *cfgPath == "":
		cfg, err = config.Load(defaultConfigPath)
	default:
		cfg, err = config.Load(*cfgPath)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFatal
	}
	log := zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: true}).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	var hw hardware
	var simhw *simHW
	if *simMode {
		// The simulated lines' changes (--leds) are debug lines: not for
		// the person at the terminal (the report says what is driven), but
		// for the tests, which set wiringSimLog.
		simhw = newSimHW(zerolog.New(zerolog.ConsoleWriter{Out: wiringSimLog, NoColor: true}).Level(zerolog.DebugLevel))
		for _, d := range cfg.Doors {
			if d.DPS != "" {
				simhw.setInitial(d.DPS, !d.DPSOpen) // closed
			}
			if d.REX != "" {
				simhw.setInitial(d.REX, !d.REXActive) // released
			}
		}
		hw = simhw
	} else {
		g, err := newGPIOHW(log)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFatal
		}
		hw = g
	}
	defer hw.Close()
	ctx, cancel := wiringSignals(context.Background())
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, *dur)
	defer cancelT()
	crashes := make(chan error, 16)
	hw.reportCrashes(crashes)

	touched := "the strike relays and reader LEDs are not touched"
	if *leds {
		touched = "the strike relays are not touched"
	}
	fmt.Fprintf(stdout, "wiring-test on %s (readers: %d, doors: %d): %s.\n", cfg.File, len(cfg.Readers), len(cfg.Doors), touched)
	fmt.Fprintf(stdout, "Badge, type keys, open and close the doors, press the exit buttons; Ctrl-C ends (or after %v).\n", *dur)
	rep := &wiringReport{out: stdout, showKeys: *showKeys, start: time.Now()}
	var stops []func()
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	fail := func(err error) int {
		if errors.Is(err, syscall.EBUSY) {
			err = fmt.Errorf("%w (is latchd running? stop it first: systemctl stop latchd)", err)
		}
		fmt.Fprintln(stderr, "latchd wiring-test:", err)
		return exitFatal
	}
	if *leds {
		if err := wiringLEDs(ctx, hw, cfg, rep); err != nil {
			return fail(err)
		}
	}
	for _, rc := range cfg.Readers {
		dec, err := reader.NewDecoder(rc.Config, reader.WithEpoch(hw.Epoch()), reader.WithLogger(log))
		if err != nil {
			return fail(fmt.Errorf("reader %s: %w", rc.Name, err))
		}
		line := rep.add(fmt.Sprintf("reader %s (door %s, D0 %s, D1 %s)", rc.Name, rc.Door, rc.D0, rc.D1))
		stop, err := hw.Reader(ctx, rc, dec, func(r reader.Read) { rep.read(line, r) })
		if err != nil {
			return fail(err)
		}
		stops = append(stops, stop)
	}
	for _, dc := range cfg.Doors {
		for _, in := range []struct {
			kind, pin  string
			active     gpio.Level
			on, off    string
			pull       gpio.Pull
			activeName string
		}{
			{"dps", dc.DPS, dc.DPSOpen, "open", "closed", pullTo(dc.DPSOpen), "dps_open"},
			{"rex", dc.REX, dc.REXActive, "pressed", "released", pullTo(!dc.REXActive), "rex_active"},
		} {
			if in.pin == "" {
				continue
			}
			line := rep.add(fmt.Sprintf("door %s %s (%s)", dc.Name, in.kind, in.pin))
			stop, err := hw.Input(ctx, in.pin, "wiring-test "+in.kind+" "+dc.Name, in.pull, func(l gpio.Level) {
				state := in.off
				if l == in.active {
					state = in.on
				}
				rep.level(line, fmt.Sprintf("%s (%s; %s is %s)", state, l, in.activeName, in.active))
			})
			if err != nil {
				return fail(err)
			}
			stops = append(stops, stop)
		}
	}
	for _, in := range cfg.Inputs {
		line := rep.add(fmt.Sprintf("input %s (%s)", in.Name, in.Pin))
		active := in.Active
		stop, err := hw.Input(ctx, in.Pin, "wiring-test input "+in.Name, pullTo(!active), func(l gpio.Level) {
			state := "inactive"
			if l == active {
				state = "active"
			}
			rep.level(line, fmt.Sprintf("%s (%s; active is %s)", state, l, active))
		})
		if err != nil {
			return fail(err)
		}
		stops = append(stops, stop)
	}
	if simhw != nil {
		if err := simCommands(ctx, simhw, scanLines(stdin), stderr, func(s sim.Step) error {
			if s.Kind == sim.StepInput {
				return simInputLine(cfg, simhw, s)
			}
			return simStep(ctx, cfg, nil, simhw, s)
		}); err != nil {
			fmt.Fprintln(stderr, "latchd wiring-test:", err)
		}
		cancelT()
	}
	select {
	case <-ctx.Done():
	case err := <-crashes:
		fmt.Fprintln(stderr, err)
		return exitFatal
	}
	for _, stop := range stops {
		stop()
	}
	stops = nil
	rep.summary()
	return 0
}

// wiringReport prints what the lines show. Readers and inputs call it
// from their own goroutines.
type wiringReport struct {
	mu       sync.Mutex
	out      io.Writer
	showKeys bool
	start    time.Time
	lines    []*wiringLine
}

type wiringLine struct {
	name                     string
	cards, keys, bad, change int
	input                    bool
}

func (w *wiringReport) add(name string) *wiringLine {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := &wiringLine{name: name}
	w.lines = append(w.lines, l)
	return l
}

func (w *wiringReport) printf(format string, args ...any) {
	fmt.Fprintf(w.out, "%8.3fs  ", time.Since(w.start).Seconds())
	fmt.Fprintf(w.out, format, args...)
	fmt.Fprintln(w.out)
}

func (w *wiringReport) read(l *wiringLine, r reader.Read) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch r.Kind {
	case reader.KindCard:
		l.cards++
		w.printf("%s: card %s facility %d number %d (%d bits)", l.name, r.Card.Format, r.Card.FacilityCode, r.Card.CardNumber, len(r.Card.Bits))
	case reader.KindKeys:
		l.keys += len(r.Keys)
		w.printf("%s: keys %s", l.name, w.keysText(r.Keys))
	case reader.KindBad:
		l.bad++
		if n := len(r.Card.Bits); n > 0 {
			w.printf("%s: bad read: %s (%d bits)", l.name, r.Bad, n)
		} else {
			w.printf("%s: bad read: %s", l.name, r.Bad)
		}
	}
}

// keysText shows the keys typed; digits are • unless --show-keys.
func (w *wiringReport) keysText(keys []byte) string {
	var b strings.Builder
	for _, k := range keys {
		if k >= '0' && k <= '9' && !w.showKeys {
			b.WriteString("•")
			continue
		}
		b.WriteByte(k)
	}
	return b.String()
}

// level reports an input's level: the first call is its level at the
// start, each later one a change.
func (w *wiringReport) level(l *wiringLine, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !l.input {
		l.input = true
		w.printf("%s: %s, at the start", l.name, text)
		return
	}
	l.change++
	w.printf("%s: %s", l.name, text)
}

// summary prints a line per reader and input, and says which showed
// nothing: those are the ones to check.
func (w *wiringReport) summary() {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintln(w.out, "summary:")
	quiet := 0
	for _, l := range w.lines {
		var s string
		if l.input {
			s = plural.S(l.change, "change")
			if l.change == 0 {
				s += ": never changed, check the wiring and the configured pin"
				quiet++
			}
		} else {
			s = plural.S(l.cards, "card") + ", " + plural.S(l.keys, "key") + ", " + plural.S(l.bad, "bad read")
			switch {
			case l.cards+l.keys+l.bad == 0:
				s += ": nothing received, check D0/D1, the reader's power and ground"
				quiet++
			case l.bad > 0 && l.cards+l.keys == 0:
				s += ": only bad reads, check the configured formats and keypad mode, and D0/D1 not swapped"
				quiet++
			}
		}
		fmt.Fprintf(w.out, "  %s: %s\n", l.name, s)
	}
	if quiet == 0 {
		fmt.Fprintln(w.out, "every line showed something.")
	}
}

// wiringSimLog receives the simulated lines' debug lines of wiring-test
// --sim (the outputs --leds drives); tests read it.
var wiringSimLog io.Writer = io.Discard

// ledOn is how long --leds keeps each feedback line on.
const ledOn = time.Second

// wiringLEDs turns each reader's green LED, red LED and beeper on for
// ledOn, one after the other, at the configured active level, then off
// again and releases the line (at its inactive level). Only those lines:
// never a relay.
func wiringLEDs(ctx context.Context, hw hardware, cfg *config.Config, rep *wiringReport) error {
	for _, rc := range cfg.Readers {
		on := rc.Feedback.Active
		for _, fl := range rc.Feedback.Lines() {
			l := struct{ what, pin, tag string }{feedbackWhat[fl.Key], fl.Pin, fl.Key}
			out, err := hw.Output(l.pin, !on, "wiring-test "+l.tag+" "+rc.Name)
			if err != nil {
				return fmt.Errorf("reader %s %s (%s): %w", rc.Name, l.what, l.pin, err)
			}
			rep.note("reader %s: %s (%s) on for %v at %s (feedback_active): is it %s?", rc.Name, l.what, l.pin, ledOn, on,
				map[bool]string{true: "sounding", false: "lit"}[l.tag == "beeper"])
			err = out.Out(on)
			if err == nil {
				t := time.NewTimer(ledOn)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
				err = out.Out(!on)
			}
			if rerr := hw.Release(out); err == nil {
				err = rerr
			}
			if err != nil {
				return fmt.Errorf("reader %s %s (%s): %w", rc.Name, l.what, l.pin, err)
			}
			if ctx.Err() != nil {
				return nil
			}
		}
	}
	return nil
}

// feedbackWhat names a feedback line (by its config key) for a person.
var feedbackWhat = map[string]string{"led_green": "green LED", "led_red": "red LED", "beeper": "beeper"}

// note prints a line of its own (not a read or a change).
func (w *wiringReport) note(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.printf(format, args...)
}
