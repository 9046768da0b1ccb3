package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/internal/eventfmt"
)

// TestConsoleWriter: zerolog lines come out as internal/eventfmt draws them
// (its tests cover the format), one line each; other text passes through.
func TestConsoleWriter(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		color bool
		want  string
	}{
		{"grant", `{"time":"2026-03-02T08:00:01.250Z","seq":7,"event":"access_granted","door":"front","reader":"front-in","user_id":"u1","external_id":"alice","card":{"format":"h10301","facility_code":1,"card_number":1001},"method":"card_and_code"}`,
			false, "2026-03-02 08:00:01.250 front        access_granted   method=card_and_code user=alice (u1) reader=front-in card=h10301/1/1001\n"},
		{"deny", `{"time":"2026-03-02T08:00:01.250Z","event":"access_denied","door":"front","reason":"wrong_code","reader":"front-in"}`,
			false, "2026-03-02 08:00:01.250 front        access_denied    reason=wrong_code reader=front-in\n"},
		{"mode", `{"time":"2026-03-02T08:00:00.000Z","event":"mode_changed","door":"front","from":"access_controlled","to":"card_and_code","cause":"schedule"}`,
			false, "2026-03-02 08:00:00.000 front        mode_changed     cause=schedule from=access_controlled to=card_and_code\n"},
		{"coloured deny", `{"time":"2026-03-02T08:00:01.250Z","event":"access_denied","door":"front","reason":"bad_read"}`,
			true, eventfmt.Grey + "2026-03-02 08:00:01.250" + eventfmt.Reset + " " + eventfmt.Bold + "front       " + eventfmt.Reset + " " + eventfmt.Red + "access_denied   " + eventfmt.Reset + " reason=bad_read\n"},
		{"plain", `{"level":"warn","component":"door","time":"2026-03-02T08:00:00Z","message":"dps input is noisy","door":"front"}`,
			false, "2026-03-02 08:00:00.000 WARN  door: dps input is noisy door=front\n"},
		{"secrets dropped", `{"level":"info","time":"2026-03-02T08:00:00Z","message":"x","code":"123456","keys":"99#","token":"abc"}`,
			false, "2026-03-02 08:00:00.000 INFO  x\n"},
		{"not json", "hello\n", false, "hello\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := newConsoleWriter(&buf, tc.color)
			w.style.Loc = time.UTC
			n, err := w.Write([]byte(tc.line))
			if err != nil || n != len(tc.line) {
				t.Fatalf("Write = %d, %v", n, err)
			}
			if got := buf.String(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
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
	if _, _, err := newLogger(nil, "xml", "info"); err == nil || !strings.Contains(err.Error(), "log format \"xml\"") {
		t.Errorf("format: %v", err)
	}
	if _, _, err := newLogger(nil, "json", "loud"); err == nil || !strings.Contains(err.Error(), "log level \"loud\"") {
		t.Errorf("level: %v", err)
	}
}
