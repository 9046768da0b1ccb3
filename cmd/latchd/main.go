// Command latchd is latch's door-controller daemon. See README.md and docs/.
//
//	latchd [--config FILE] [--log-format json|console] [--log-level LEVEL]   run on the Pi's GPIO
//	latchd --sim [--config FILE] …                                           simulated hardware, commands on stdin
//	latchd --version                                                         print version, commit, build date
//	latchd check-config FILE                                                 check a config file, exit 0 or 1
//	latchd scenario [--config FILE] SCRIPT                                   run a scenario on a virtual clock
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/internal/plural"
	"github.com/latchd/latch/internal/version"
)

// defaultConfigPath is where the config lives on a Pi (config.md).
const defaultConfigPath = "/etc/latch/latch.toml"

func main() {
	// Log times as events have them: RFC 3339, UTC, milliseconds.
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000Z07:00"
	zerolog.TimestampFunc = func() time.Time { return time.Now().UTC() }
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// options are latchd's flags.
type options struct {
	config    string
	sim       bool
	logFormat string
	logLevel  string
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  latchd [--config FILE] [--log-format json|console] [--log-level LEVEL]
  latchd --sim [--config FILE] [--log-format …] [--log-level …]
  latchd check-config FILE
  latchd --version
  latchd scenario [--config FILE] SCRIPT
  latchd wiring-test [--config FILE] [--for DURATION] [--show-keys] [--sim]

flags:
`)
}

func newFlagSet(name string, o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "config file (default "+defaultConfigPath+"; with --sim, the built-in demo)")
	fs.BoolVar(&o.sim, "sim", false, "run on simulated hardware, reading scenario commands from stdin")
	fs.StringVar(&o.logFormat, "log-format", "", `"json" (default) or "console"; overrides [log] format`)
	fs.StringVar(&o.logLevel, "log-level", "", "trace, debug, info (default), warn, error; overrides [log] level")
	fs.Usage = func() { usage(stderr); fs.PrintDefaults() }
	return fs
}

// run is main without os.Exit, for tests. It returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// First thing, whatever the command: no core dump of a memory that
	// holds the device key or a code being typed (harden_linux.go).
	if err := harden(); err != nil {
		fmt.Fprintln(stderr, err)
		return exitFatal
	}
	if len(args) > 0 {
		switch args[0] {
		case "check-config":
			return checkConfig(args[1:], stdout, stderr)
		case "scenario":
			return scenarioCmd(args[1:], stdout, stderr)
		case "wiring-test":
			return wiringCmd(args[1:], stdin, stdout, stderr)
		case "--man":
			if err := writeMan(stdout); err != nil {
				fmt.Fprintln(stderr, "latchd:", err)
				return exitFatal
			}
			return 0
		case "version", "-version", "--version":
			fmt.Fprintln(stdout, version.Get().String("latchd"))
			return 0
		case "help", "-h", "-help", "--help":
			var o options
			fs := newFlagSet("latchd", &o, stdout)
			fs.Usage()
			return 0
		}
	}
	var o options
	fs := newFlagSet("latchd", &o, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "latchd: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if o.sim {
		return runSim(o, stdin, stdout, stderr)
	}
	return runDaemon(o, stdout, stderr)
}

// checkConfig runs the loader alone: exit 0 when the file is good, 1 when it
// is not (each broken rule on its own line on stderr), 2 on a usage error.
func checkConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: latchd check-config FILE")
		return 2
	}
	cfg, err := config.Load(args[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, "warning: "+w.String())
	}
	fmt.Fprintf(stdout, "%s: ok (%s, %s, %s)\n", args[0], plural.S(len(cfg.Doors), "door"), plural.S(len(cfg.Readers), "reader"), plural.S(len(cfg.Groups), "group"))
	return 0
}
