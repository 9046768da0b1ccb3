package sim

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/scenarios/*.jsonl from the current output")

// TestScenarios runs every testdata/scenarios/*.scn end to end — pulse trains
// through the real reader.Decoder, the real door and store on the virtual
// clock — and compares the events with the .jsonl golden file next to it.
func TestScenarios(t *testing.T) {
	eachScenario(t, func(t *testing.T, s *Script) []byte {
		var out bytes.Buffer
		err := RunScript(s, RunOptions{Out: &out, Dir: t.TempDir(), Now: func() time.Time {
			t.Fatal("scenario without a clock line")
			return time.Time{}
		}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	})
}

// eachScenario runs, as one subtest per testdata/scenarios/*.scn, the parsed
// script through run, checks that no code of the script shows in its
// events, and compares them with the .jsonl golden file next to it
// (rewritten instead with -update).
func eachScenario(t *testing.T, run func(t *testing.T, s *Script) []byte) {
	t.Helper()
	eachScenarioNorm(t, run, nil)
}

// eachScenarioNorm is eachScenario comparing norm(golden) with norm(out)
// (nil: as they are).
func eachScenarioNorm(t *testing.T, run func(t *testing.T, s *Script) []byte, norm func([]byte) []byte) {
	t.Helper()
	files, err := filepath.Glob("../testdata/scenarios/*.scn")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".scn")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := ParseScript(bytes.NewReader(src), path)
			if err != nil {
				t.Fatal(err)
			}
			out := run(t, s)
			checkNoSecrets(t, s, out)
			golden := strings.TrimSuffix(path, ".scn") + ".jsonl"
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./sim -run TestScenarios -update)", err)
			}
			if norm != nil {
				want, out = norm(want), norm(out)
			}
			if d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(out), "\n")); d != "" {
				t.Errorf("%s (-want +got):\n%s", golden, d)
			}
		})
	}
}

// checkNoSecrets fails when an entry or MFA code of the script appears in
// an event (outside time and seq, which are digits by nature).
func checkNoSecrets(t *testing.T, s *Script, out []byte) {
	t.Helper()
	var codes []string
	for _, st := range s.Steps {
		if st.Kind == StepEntry || st.Kind == StepMFA {
			codes = append(codes, string(st.Code))
		}
	}
	for i, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		delete(m, "time")
		delete(m, "seq")
		rest, _ := json.Marshal(m)
		for _, c := range codes {
			if bytes.Contains(rest, []byte(c)) && !cardNumberHolds(m, c) {
				t.Errorf("event %d reveals a code: %s", i+1, line)
			}
		}
	}
}

// cardNumberHolds reports whether c is part of the event's card number (a
// number, not a secret).
func cardNumberHolds(m map[string]any, c string) bool {
	card, ok := m["card"].(map[string]any)
	if !ok {
		return false
	}
	b, _ := json.Marshal(card)
	return bytes.Contains(b, []byte(c))
}
