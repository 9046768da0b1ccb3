package main

import (
	"bufio"
	"errors"
	"io"
	"os"

	"golang.org/x/term"
)

// The interactive simulator's line editor (docs/scenarios.md, "latchd
// --sim"). When latchd --sim's standard input and standard error are both
// terminals, commands are read by golang.org/x/term's Terminal: line editing
// (arrows, Home/End, Ctrl-A/E/K/U/W, Backspace), a history (Up and Down), and
// every line latchd writes to that terminal — the log when standard output is
// the same terminal, the replies and errors on standard error — is drawn above
// the prompt, so a log line never breaks the command being typed. Ctrl-D on an
// empty line and Ctrl-C end the input like quit. Otherwise (a pipe, a file:
// the tests, a script) commands are read line by line as they always were.

// simPrompt is the prompt of the interactive simulator.
const simPrompt = "sim> "

// simTerm is the terminal the simulator edits lines on.
type simTerm struct {
	t       *term.Terminal
	file    *os.File // the terminal's output, for the log's colour decision
	restore func()   // puts the terminal back as it was (cooked mode)
}

// openSimTerm returns the line editor when stdin and stderr are terminals,
// with stdin in raw mode (restore undoes it); nil when they are not.
func openSimTerm(stdin io.Reader, stderr io.Writer) (*simTerm, error) {
	in, ok := stdin.(*os.File)
	out, ok2 := stderr.(*os.File)
	if !ok || !ok2 || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return nil, nil
	}
	old, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return nil, err
	}
	return &simTerm{t: newSimTerminal(in, out), file: out, restore: func() { term.Restore(int(in.Fd()), old) }}, nil
}

// newSimTerminal is the line editor over any reader and writer (the tests
// drive it through pipes, with the keys a terminal sends).
func newSimTerminal(r io.Reader, w io.Writer) *term.Terminal {
	return term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{r, w}, simPrompt)
}

// Write draws p above the prompt.
func (s *simTerm) Write(p []byte) (int, error) { return s.t.Write(p) }

// logFile is the terminal the log is drawn on (startLog's colour decision).
func (s *simTerm) logFile() *os.File { return s.file }

// readLines returns the next command line of the terminal; io.EOF after
// Ctrl-D or Ctrl-C. A pasted line is a line like any other.
func readLines(t *term.Terminal) func() (string, error) {
	return func() (string, error) {
		line, err := t.ReadLine()
		if errors.Is(err, term.ErrPasteIndicator) {
			err = nil
		}
		return line, err
	}
}

// scanLines returns the next line of r; io.EOF at its end.
func scanLines(r io.Reader) func() (string, error) {
	sc := bufio.NewScanner(r)
	return func() (string, error) {
		if sc.Scan() {
			return sc.Text(), nil
		}
		if err := sc.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
}
