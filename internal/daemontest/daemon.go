package daemontest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/latchd/latch/internal/syncio"
)

// Daemon is a running latchd (most often latchd --sim) for a test.
type Daemon struct {
	t        testing.TB
	Cmd      *exec.Cmd
	Stdin    io.WriteCloser
	Lines    chan map[string]any // stdout, one JSON log line each
	ErrLines chan string         // stderr, line by line (the banner)
	Stdout   *syncio.Buffer      // all of stdout
	Stderr   *syncio.Buffer      // all of stderr, for failure messages
	Deadline <-chan time.Time    // bounds WaitFor: 30 s from the start
	All      *Log                // every stdout line, also those WaitFor passed over
	Started  map[string]any      // the "latchd started" line
	errDone  chan struct{}       // closed when stderr is read to its end
}

// Start starts bin with args and extra environment variables and waits for
// "latchd started"; the process is killed at the test's end.
func Start(t testing.TB, bin string, args []string, env ...string) *Daemon {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	d := &Daemon{t: t, Cmd: cmd, Stdin: stdin, Lines: make(chan map[string]any, 100), ErrLines: make(chan string, 1000),
		Stdout: &syncio.Buffer{}, Stderr: &syncio.Buffer{}, errDone: make(chan struct{}), Deadline: time.After(30 * time.Second), All: &Log{}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); d.Wait() })
	go func() {
		defer close(d.Lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(d.Stdout, sc.Text())
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				d.All.add(m)
				d.Lines <- m
			}
		}
	}()
	go func() {
		defer close(d.errDone)
		defer close(d.ErrLines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(d.Stderr, sc.Text())
			select {
			case d.ErrLines <- sc.Text():
			default:
			}
		}
	}()
	d.Started = d.WaitFor("start", func(m map[string]any) bool { return m["message"] == "latchd started" })
	return d
}

// Wait reads stdout and stderr to their ends and waits for the process.
func (d *Daemon) Wait() error {
	for range d.Lines {
	}
	<-d.errDone
	return d.Cmd.Wait()
}

// WaitFor reads log lines until one matches and returns it; the deadline
// only bounds a hung daemon, nothing sleeps.
func (d *Daemon) WaitFor(what string, match func(map[string]any) bool) map[string]any {
	d.t.Helper()
	for {
		select {
		case m, ok := <-d.Lines:
			if !ok {
				d.t.Fatalf("daemon ended before %s; stderr:\n%s", what, d.Stderr.String())
			}
			if match(m) {
				return m
			}
			if m["event"] == "access_denied" || m["level"] == "error" {
				d.t.Logf("log: %v", m)
			}
		case <-d.Deadline:
			d.t.Fatalf("no %s within 30 s; stderr:\n%s", what, d.Stderr.String())
		}
	}
}

// ExitsCleanly waits for the daemon, told to stop, to end (30 s at most,
// then it is killed) and checks that it closed its database and exited 0.
// It reads the log to its end, also after Drain.
func (d *Daemon) ExitsCleanly() {
	d.t.Helper()
	bound := time.AfterFunc(30*time.Second, func() { d.Cmd.Process.Kill() })
	err := d.Wait()
	if !bound.Stop() {
		err = fmt.Errorf("still running 30 s after it was told to stop: %v", err)
	}
	if err != nil {
		d.t.Errorf("latchd exit: %v; stderr:\n%s", err, d.Stderr.String())
	}
	if d.All.Find(func(m map[string]any) bool { return m["message"] == "database closed" }) == nil {
		d.t.Errorf("latchd ended without \"database closed\"; stderr:\n%s", d.Stderr.String())
	}
}

// Drain reads the log lines from now on so that the daemon never blocks
// on its stdout, for a test that polls All instead of calling WaitFor.
func (d *Daemon) Drain() {
	go func() {
		for range d.Lines {
		}
	}()
}

// Send types line on the daemon's standard input (a --sim command).
func (d *Daemon) Send(line string) {
	d.t.Helper()
	if _, err := io.WriteString(d.Stdin, line+"\n"); err != nil {
		d.t.Fatal(err)
	}
}

// Log keeps every JSON log line a daemon wrote.
type Log struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (l *Log) add(m map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, m)
}

// Len is how many lines were logged so far.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

// FindFrom returns the first line from the i-th on (0: the first) logged
// so far that matches, or nil.
func (l *Log) FindFrom(i int, match func(map[string]any) bool) map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.lines[i:] {
		if match(m) {
			return m
		}
	}
	return nil
}

// Find returns the first line logged so far that matches, or nil.
func (l *Log) Find(match func(map[string]any) bool) map[string]any {
	return l.FindFrom(0, match)
}

// Count is how many lines logged so far match.
func (l *Log) Count(match func(map[string]any) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.lines {
		if match(m) {
			n++
		}
	}
	return n
}
