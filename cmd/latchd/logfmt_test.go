package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/internal/eventfmt"
)

// TestConsoleWriter: each zerolog line comes out as internal/eventfmt draws
// it (its tests cover the format), coloured when asked, one line each, with
// no secret field's value; other text passes through.
func TestConsoleWriter(t *testing.T) {
	// write writes line through a console writer, as it were the terminal's.
	write := func(line string, color bool) string {
		t.Helper()
		var buf bytes.Buffer
		w := newConsoleWriter(&buf, color)
		w.style.Loc = time.UTC
		n, err := w.Write([]byte(line))
		if err != nil || n != len(line) {
			t.Fatalf("Write(%q) = %d, %v", line, n, err)
		}
		return buf.String()
	}
	grant := `{"time":"2026-03-02T08:00:01.250Z","seq":7,"event":"access_granted","door":"front","reader":"front-in","user_id":"u1","external_id":"alice","card":{"format":"h10301","facility_code":1,"card_number":1001},"method":"card_and_code"}`
	secrets := `{"level":"info","time":"2026-03-02T08:00:00Z","message":"x","code":"123456","keys":"99#","token":"abc"}`
	if got, want := write(grant, false), "2026-03-02 08:00:01.250 front        access_granted   method=card_and_code user=alice (u1) reader=front-in card=h10301/1/1001\n"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	for _, line := range []string{
		grant,
		`{"time":"2026-03-02T08:00:01.250Z","event":"access_denied","door":"front","reason":"bad_read"}`,
		`{"level":"warn","component":"door","time":"2026-03-02T08:00:00Z","message":"dps input is noisy","door":"front"}`,
		secrets,
	} {
		for _, color := range []bool{false, true} {
			m, err := eventfmt.Decode([]byte(line)) // Line takes fields out of m
			if err != nil {
				t.Fatal(err)
			}
			want := eventfmt.Style{Color: color, Loc: time.UTC}.Line(m) + "\n"
			if got := write(line, color); got != want {
				t.Errorf("color %v: got  %q\nwant %q", color, got, want)
			}
		}
	}
	for _, secret := range []string{"123456", "99#", "abc"} {
		if got := write(secrets, false); strings.Contains(got, secret) {
			t.Errorf("%q shows %q", got, secret)
		}
	}
	// A refused reload's config key is shown: "key" is not a secret name.
	refused := `{"level":"error","time":"2026-03-02T08:00:00Z","message":"reload refused; running config kept","file":"latch.toml","line":12,"key":"door[1].unlock_time","rule":"must be 1s–60s"}`
	if got := write(refused, false); !strings.Contains(got, "key=door[1].unlock_time") || !strings.Contains(got, "line=12") {
		t.Errorf("refused reload: %q, want its key and line", got)
	}
	if got := write("hello\n", false); got != "hello\n" {
		t.Errorf("not JSON: got %q, want it as it is", got)
	}
}

// TestConsoleWriterZerolog: the writer works as zerolog's output, one line per event.
func TestConsoleWriterZerolog(t *testing.T) {
	var buf bytes.Buffer
	w := newConsoleWriter(&buf, false)
	log := zerolog.New(w).With().Timestamp().Logger()
	log.Info().Str("event", "rex").Str("door", "front").Send()
	log.Error().Str("component", "gpio").Msg("relay write failed")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "front        rex") || !strings.Contains(lines[1], "ERROR gpio: relay write failed") {
		t.Errorf("got %q", lines)
	}
}

func TestNewLoggerErrors(t *testing.T) {
	if _, _, err := newLogger(nil, false, "xml", "info"); err == nil || !strings.Contains(err.Error(), "log format \"xml\"") {
		t.Errorf("format: %v", err)
	}
	if _, _, err := newLogger(nil, false, "json", "loud"); err == nil || !strings.Contains(err.Error(), "log level \"loud\"") {
		t.Errorf("level: %v", err)
	}
}
