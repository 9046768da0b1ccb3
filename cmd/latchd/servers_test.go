package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// serverProc is a real server program the end-to-end tests run beside
// latchd (Debian's nats-server, mosquitto) on a loopback address, with a
// configuration file of the test's; its output goes to a file beside it.
type serverProc struct {
	t      *testing.T
	scheme string   // of its URL: "nats", "tcp"
	addr   string   // host:port it listens on
	args   []string // the program and its arguments
	log    string   // the file of its output
	cmd    *exec.Cmd
	done   chan struct{} // closed when the program has ended
}

// startServer starts args (the program first), which make it listen on
// addr, with its output into the file log; it is stopped at the test's
// end.
func startServer(t *testing.T, scheme, addr, log string, args ...string) *serverProc {
	t.Helper()
	s := &serverProc{t: t, scheme: scheme, addr: addr, args: args, log: log}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *serverProc) url() string { return s.scheme + "://" + s.addr }

// start starts the program again and polls its port until it listens;
// the program's end before that fails the test with its output.
func (s *serverProc) start() {
	s.t.Helper()
	out, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer out.Close() // the program has its own descriptor
	cmd := exec.Command(s.args[0], s.args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	pollUntil(s.t, s.args[0]+" listening on "+s.addr, 20*time.Second, func() bool {
		select {
		case <-done:
			b, _ := os.ReadFile(s.log)
			s.t.Fatalf("%s exited: %s", s.args[0], b)
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// stop ends the program with SIGTERM (mosquitto saves its persistence
// file, nats-server its JetStream state) and waits for it, 10 s at most
// before it is killed.
func (s *serverProc) stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// natsServer runs Debian's nats-server on addr with the configuration
// conf, written into dir.
func natsServer(t *testing.T, dir, addr, conf string) *serverProc {
	t.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server is not installed (.ci/run installs Debian's nats-server)")
	}
	path := filepath.Join(dir, "nats-server.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServer(t, "nats", addr, filepath.Join(dir, "nats-server.log"), bin, "-c", path)
}

// mosquittoBin finds Debian's mosquitto. In CI (.ci/run installs it) a
// missing broker fails the test; elsewhere it skips, saying how to get it.
func mosquittoBin(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"mosquitto", "/usr/sbin/mosquitto"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("mosquitto is not installed; .ci/run installs Debian's mosquitto package")
	}
	t.Skip("mosquitto not found: apt-get install mosquitto to run the MQTT end-to-end test (CI always runs it)")
	return ""
}

// startMosquitto runs a real broker on a loopback port, with persistence,
// so that the test subscriber's session and its queued messages outlive a
// broker restart; access is its config's lines on who may connect
// (anonymousOK, or users and an ACL).
func startMosquitto(t *testing.T, access string) *serverProc {
	t.Helper()
	bin := mosquittoBin(t)
	dir := t.TempDir()
	addr := freePort(t)
	host, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "mosquitto.conf")
	// user root: as root mosquitto would switch to the mosquitto user,
	// which cannot write the test's folder; as anyone else it is ignored.
	body := fmt.Sprintf("listener %s %s\n%spersistence true\npersistence_location %s/\nuser root\nmax_queued_messages 100000\nlog_dest stderr\n", port, host, access, dir)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return startServer(t, "tcp", addr, filepath.Join(dir, "mosquitto.log"), bin, "-c", conf)
}

// anonymousOK lets any client connect to startMosquitto's broker.
const anonymousOK = "allow_anonymous true\n"
