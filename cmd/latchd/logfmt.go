package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/latchd/latch/internal/syncio"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/internal/eventfmt"
)

// consoleWriter turns zerolog's JSON lines into one readable line each,
// drawn by internal/eventfmt (as latchctl events draws them): events (lines
// with an "event" field) as
//
//	15:04:05.000 front      access_granted  method=card user=alice reader=front-in card=h10301/1/1001
//
// and other log lines as "time LEVEL component: message key=value …".
// Fields that could hold a secret are dropped. It is safe for concurrent
// use.
type consoleWriter struct {
	mu    sync.Mutex
	out   io.Writer
	style eventfmt.Style
}

func newConsoleWriter(out io.Writer, color bool) *consoleWriter {
	return &consoleWriter{out: out, style: eventfmt.Style{Color: color, Loc: time.Local}}
}

func (w *consoleWriter) Write(p []byte) (int, error) {
	m, err := eventfmt.Decode(p)
	if err != nil {
		// Not JSON: pass it through as it is.
		w.mu.Lock()
		defer w.mu.Unlock()
		_, err := w.out.Write(p)
		return len(p), err
	}
	line := w.style.Line(m) + "\n"
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := io.WriteString(w.out, line); err != nil {
		return 0, err
	}
	return len(p), nil
}

// newLogger builds the process logger: JSON lines on out by default, or the
// console format. level is a zerolog level name.
// The returned writer is the logger's output, for lines written whole
// (events).
func newLogger(out io.Writer, color bool, format, level string) (zerolog.Logger, io.Writer, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Logger{}, nil, fmt.Errorf("latchd: log level %q: use trace, debug, info, warn or error", level)
	}
	var w io.Writer = out
	switch format {
	case "json":
		w = &syncio.Writer{W: out}
	case "console":
		w = newConsoleWriter(out, color)
	default:
		return zerolog.Logger{}, nil, fmt.Errorf("latchd: log format %q: use json or console", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), w, nil
}
