package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/sim"
)

// scenarioCmd is latchd scenario [--config FILE] SCRIPT: the §9 language on
// a virtual clock with a fresh database. Events go to stdout as JSON lines,
// nothing else; diagnostics go to stderr. Exit 0 when the script ran, 1 with
// FILE:LINE: message otherwise.
func scenarioCmd(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("latchd scenario", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "config file for a script without a config line")
	fs.StringVar(&o.logLevel, "log-level", "warn", "diagnostics on stderr: trace, debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: latchd scenario [--config FILE] [--log-level LEVEL] SCRIPT")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	lvl, err := zerolog.ParseLevel(o.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "latchd: log level %q: use trace, debug, info, warn or error\n", o.logLevel)
		return exitUsage
	}
	log := zerolog.New(stderr).Level(lvl).With().Timestamp().Logger()
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(stderr, "latchd:", err)
		return exitFatal
	}
	defer f.Close()
	script, err := sim.ParseScript(f, path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFatal
	}
	if err := sim.RunScript(script, sim.RunOptions{Config: o.config, Out: stdout, Log: log, Stderr: stderr}); err != nil {
		// FILE:LINE: message for a line that could not be carried out;
		// config: FILE:LINE: key: rule for a config the script names.
		fmt.Fprintln(stderr, err)
		return exitFatal
	}
	return exitOK
}
