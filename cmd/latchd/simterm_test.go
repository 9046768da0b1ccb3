package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/internal/syncio"
	"github.com/latchd/latch/sim"
)

// TestSimLineEditor drives the interactive simulator's line editor with
// the bytes a terminal sends: a typing mistake corrected with Backspace and
// the cursor keys, Up to repeat the last command from the history, a log
// line written while a command is half typed (drawn above the prompt, the
// half-typed command kept), and Ctrl-D to end like quit.
func TestSimLineEditor(t *testing.T) {
	inR, inW := io.Pipe()
	var screen syncio.Buffer
	tm := newSimTerminal(inR, &screen)
	var got []string
	stepped := make(chan struct{}, 8)
	done := make(chan error, 1)
	go func() {
		done <- simCommands(context.Background(), newSimHW(zerolog.Nop()), readLines(tm), tm, func(s sim.Step) error {
			got = append(got, fmt.Sprintf("%s %s %d|%s", s.Kind, s.Format, s.CardNumber, s.Keys))
			stepped <- struct{}{}
			return nil
		})
	}()
	send := func(s string) {
		t.Helper()
		if _, err := io.WriteString(inW, s); err != nil {
			t.Fatal(err)
		}
	}
	// "badge h10301 1 10011", Backspace, then Left ×4 and an inserted "x"
	// deleted again: the line is "badge h10301 1 1001".
	send("badge h10301 1 10011\x7f\x1b[D\x1b[D\x1b[D\x1b[Dx\x7f\r")
	<-stepped
	// Up: the history gives the same line back.
	send("\x1b[A\r")
	<-stepped
	// A log line while "keys 12" is typed: drawn above the prompt; the
	// command goes on where it was.
	send("keys 12")
	if _, err := tm.Write([]byte("{\"event\":\"code_requested\"}\n")); err != nil {
		t.Fatal(err)
	}
	send("34#\r")
	<-stepped
	send("\x04") // Ctrl-D on an empty line
	if err := <-done; err != nil {
		t.Fatalf("simCommands: %v", err)
	}
	want := []string{"badge h10301 1001|", "badge h10301 1001|", "keys  0|1234#"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(screen.String(), "code_requested") || !strings.Contains(screen.String(), simPrompt) {
		t.Errorf("screen: %q", screen.String())
	}
}

// TestSimHelpListsCommands: the simulator's help names every command of
// the scenario language it carries out (sim.Commands; config and clock are
// the scripts' own).
func TestSimHelpListsCommands(t *testing.T) {
	for _, c := range sim.Commands() {
		if c == sim.StepConfig || c == sim.StepClock {
			continue
		}
		if !strings.Contains(simHelp, "  "+string(c)+" ") && !strings.Contains(simHelp, " "+string(c)+" ") {
			t.Errorf("help does not list %q", c)
		}
	}
}
