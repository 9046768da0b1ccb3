package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/reader/readertest"
)

// runDuressScript runs testdata/scenarios/duress.scn with edit applied to
// its text, and returns its events (without the credential_changed of the
// setup lines) and the output lines' histories.
func runDuressScript(t *testing.T, edit func(string) string) ([]map[string]any, map[string][]readertest.Change) {
	t.Helper()
	src, err := os.ReadFile("../testdata/scenarios/duress.scn")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseScript(strings.NewReader(edit(string(src))), "../testdata/scenarios/duress.scn")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	lines := map[string][]readertest.Change{}
	err = RunScript(s, RunOptions{Out: &out, Dir: t.TempDir(), Lines: func(pin, what string, h []readertest.Change) {
		lines[what+" "+pin] = h
	}})
	if err != nil {
		t.Fatal(err)
	}
	var evs []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		if m["event"] == "credential_changed" {
			continue
		}
		delete(m, "seq")
		evs = append(evs, m)
	}
	return evs, lines
}

// TestDuressScenarioShowsNothing: the duress scenario against the same
// script with the normal codes typed instead. What the doors do — every
// event but the duress ones, with its time, and every relay level with
// its time — is the same; the duress output goes active at the first
// duress grant and stays active.
func TestDuressScenarioShowsNothing(t *testing.T) {
	duressEvs, duressLines := runDuressScript(t, func(s string) string { return s })
	normal := func(s string) string {
		// The keys lines only: the setup lines keep the duress codes.
		s = strings.ReplaceAll(s, "keys front-in 913579#", "keys front-in 246810#")
		return strings.ReplaceAll(s, "keys side-in 9876#", "keys side-in 4321#")
	}
	normalEvs, normalLines := runDuressScript(t, normal)
	var shown []map[string]any
	var duress []string
	for _, e := range duressEvs {
		if e["event"] == "duress" {
			duress = append(duress, fmt.Sprint(e["time"], " ", e["door"], " ", e["reader"], " ", e["external_id"]))
			continue
		}
		shown = append(shown, e)
	}
	if d := cmp.Diff(normalEvs, shown); d != "" {
		t.Errorf("the doors show a difference (-normal +duress):\n%s", d)
	}
	want := []string{"2026-03-02T08:00:09.130Z front front-in alice", "2026-03-02T08:00:23.154Z side side-in bob"}
	if !cmp.Equal(duress, want) {
		t.Errorf("duress events %q, want %q", duress, want)
	}
	for what, h := range normalLines {
		if strings.HasPrefix(what, "relay") && !cmp.Equal(h, duressLines[what]) {
			t.Errorf("%s: %v, normal %v", what, duressLines[what], h)
		}
	}
	if len(normalLines) != 3 {
		t.Errorf("lines reported: %v", normalLines)
	}
	out := duressLines["duress_output GPIO21"]
	if len(out) != 2 || out[0].Level != gpio.Low || out[1].Level != gpio.High ||
		out[1].At.UTC().Format("15:04:05.000") != "08:00:09.130" {
		t.Errorf("duress output %v: want low, then high from the first duress grant on", out)
	}
	if h := normalLines["duress_output GPIO21"]; len(h) != 1 || h[0].Level != gpio.Low {
		t.Errorf("duress output without a duress code: %v", h)
	}
}
