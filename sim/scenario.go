package sim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/latchd/latch/reader"
)

// StepKind is one command of the scenario language (docs/scenarios.md).
type StepKind string

// The scenario commands.
const (
	StepConfig   StepKind = "config"   // Path
	StepClock    StepKind = "clock"    // Time
	StepUser     StepKind = "user"     // Name, Groups, Start, End, Suspended
	StepCard     StepKind = "card"     // Name, Format, FacilityCode, CardNumber, Inactive
	StepEntry    StepKind = "entry"    // Name, Code
	StepMFA      StepKind = "mfa"      // Name, Code
	StepBadge    StepKind = "badge"    // Reader (optional), Format, FacilityCode, CardNumber
	StepBadgeRaw StepKind = "badgeraw" // Reader (optional), Bits
	StepKeys     StepKind = "keys"     // Reader (optional), Keys
	StepWait     StepKind = "wait"     // Wait
	StepOpen     StepKind = "open"     // Door (optional)
	StepClose    StepKind = "close"    // Door (optional)
	StepREX      StepKind = "rex"      // Door (optional)
	StepDuress   StepKind = "duress"   // Name, Code: the user's duress code (docs/operations.md)
)

// Commands is every command of the language, in the order docs/scenarios.md
// gives them: the parser's refusal of an unknown command and latchd --sim's
// help name them from this list (TestCommandsAreParsed keeps it whole).
func Commands() []StepKind {
	return []StepKind{StepConfig, StepClock, StepUser, StepCard, StepEntry, StepMFA, StepDuress,
		StepBadge, StepBadgeRaw, StepKeys, StepWait, StepOpen, StepClose, StepREX,
		StepUnlock, StepOverride, StepLockdown, StepInput, StepRestart}
}

// commandList is Commands for a message: "config, clock, … or restart".
func commandList() string {
	cs := Commands()
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = string(c)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Step is one parsed scenario line. Only the fields its Kind lists are set.
type Step struct {
	Line int
	Kind StepKind

	Path string    // config
	Time time.Time // clock

	Name      string    // user, card, entry, mfa, duress: the user's external_id
	Groups    []string  // user
	Start     time.Time // user; zero = unbounded
	End       time.Time // user; zero = unbounded
	Suspended bool      // user

	Reader       string        // badge, badgeraw, keys; "" = the only (first) reader
	Format       reader.Format // card, badge
	FacilityCode uint32        // card, badge
	CardNumber   uint64        // card, badge
	Inactive     bool          // card: "active=false" (an extension of the language, to test card_inactive)
	Bits         string        // badgeraw: '0'/'1', first bit first

	// Code is an entry, MFA or duress code (entry, mfa, duress) and Keys the keys pressed
	// (keys). Both are secrets: never log them.
	Code []byte
	Keys []byte

	Wait time.Duration // wait
	Door string        // open, close, rex; "" = the only (first) door; unlock, override: the door

	OpFields // unlock, override, lockdown, input, restart (scenario_ops.go)
}

// ScriptError is a malformed scenario line (ParseScript, ParseLine) or one
// that could not be carried out (RunScript: an unknown reader or user, a
// code the store refuses). Its message is "FILE:LINE: message" and never
// contains a code or keys from the line.
type ScriptError struct {
	File string
	Line int
	Msg  string
}

func (e *ScriptError) Error() string {
	if e.File == "" { // a line typed at latchd --sim
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Script is a parsed scenario file.
type Script struct {
	File  string
	Steps []Step
}

// Limits that keep a script's work bounded.
const (
	maxLineLen   = 4096
	maxKeys      = 64  // a keys line; 17+ digits is how a test provokes bad_code
	maxRawBits   = 128 // badgeraw; the longest real format is 56 bits (raw CSN)
	maxWait      = 366 * 24 * time.Hour
	maxScriptLen = 100000 // lines
)

// ParseScript reads a whole scenario. config and clock may appear at most once
// each, before any other command.
func ParseScript(r io.Reader, file string) (*Script, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxLineLen)
	s := &Script{File: file}
	n := 0
	seenOther := false
	seen := map[StepKind]int{}
	for sc.Scan() {
		n++
		if n > maxScriptLen {
			return nil, &ScriptError{file, n, fmt.Sprintf("script is longer than %d lines", maxScriptLen)}
		}
		st, ok, err := ParseLine(sc.Text(), n)
		if err != nil {
			var se *ScriptError
			if errors.As(err, &se) {
				se.File = file
			}
			return nil, err
		}
		if !ok {
			continue
		}
		switch st.Kind {
		case StepConfig, StepClock:
			if l, dup := seen[st.Kind]; dup {
				return nil, &ScriptError{file, n, fmt.Sprintf("%s is already set on line %d", st.Kind, l)}
			}
			if seenOther {
				return nil, &ScriptError{file, n, fmt.Sprintf("%s must come before the first command that is not config or clock", st.Kind)}
			}
			seen[st.Kind] = n
		default:
			seenOther = true
		}
		s.Steps = append(s.Steps, st)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ScriptError{file, n + 1, fmt.Sprintf("line is longer than %d bytes", maxLineLen)}
		}
		return nil, fmt.Errorf("sim: read %s: %w", file, err)
	}
	return s, nil
}

// ParseLine parses one line. ok is false for a blank or comment-only line.
// A comment is a field that starts with '#' — except the keys field of a
// keys line, which is taken literally ("keys 1234#", "keys #").
// A *ScriptError from ParseLine has an empty File.
func ParseLine(line string, n int) (st Step, ok bool, err error) {
	fail := func(format string, args ...any) (Step, bool, error) {
		return Step{}, false, &ScriptError{Line: n, Msg: fmt.Sprintf(format, args...)}
	}
	if len(line) > maxLineLen {
		return fail("line is longer than %d bytes", maxLineLen)
	}
	fields := strings.Fields(line)
	if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
		return Step{}, false, nil
	}
	cmd, args := fields[0], fields[1:]
	st = Step{Line: n, Kind: StepKind(cmd)}
	if st.Kind == StepKeys {
		return parseKeys(st, args, fail)
	}
	args = stripComment(args)
	want := func(min, max int) bool { return len(args) >= min && len(args) <= max }
	switch st.Kind {
	case StepConfig:
		if !want(1, 1) {
			return fail("usage: config PATH")
		}
		st.Path = args[0]
	case StepClock:
		if !want(1, 1) {
			return fail("usage: clock RFC3339-TIME, e.g. clock 2026-03-29T00:59:00+01:00")
		}
		t, err := time.Parse(time.RFC3339, args[0])
		if err != nil {
			return fail("clock: %q is not an RFC 3339 time such as 2026-03-29T00:59:00+01:00", args[0])
		}
		st.Time = t
	case StepUser:
		if !want(1, 5) {
			return fail("usage: user NAME [groups=a;b] [start=RFC3339] [end=RFC3339] [suspended=true]")
		}
		st.Name = args[0]
		if msg := checkName("user name", st.Name); msg != "" {
			return fail("%s", msg)
		}
		seen := map[string]bool{}
		for _, kv := range args[1:] {
			k, v, found := strings.Cut(kv, "=")
			if !found {
				return fail("user: %q is not key=value (keys: groups, start, end, suspended)", kv)
			}
			if seen[k] {
				return fail("user: %s is given twice", k)
			}
			seen[k] = true
			switch k {
			case "groups":
				for g := range strings.SplitSeq(v, ";") {
					if msg := checkName("group name", g); msg != "" {
						return fail("user: groups: %s", msg)
					}
					st.Groups = append(st.Groups, g)
				}
			case "start", "end":
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					return fail("user: %s: %q is not an RFC 3339 time", k, v)
				}
				if k == "start" {
					st.Start = t
				} else {
					st.End = t
				}
			case "suspended":
				b, err := strconv.ParseBool(v)
				if err != nil {
					return fail("user: suspended: %q is not true or false", v)
				}
				st.Suspended = b
			default:
				return fail("user: unknown key %q (keys: groups, start, end, suspended)", k)
			}
		}
		if !st.Start.IsZero() && !st.End.IsZero() && !st.End.After(st.Start) {
			return fail("user: end is not after start")
		}
	case StepCard:
		if len(args) == 5 {
			switch args[4] {
			case "active=false":
				st.Inactive = true
			case "active=true":
			default:
				return fail("card: %q: the only option is active=false or active=true", truncate(args[4]))
			}
			args = args[:4]
		}
		if !want(4, 4) {
			return fail("usage: card NAME FORMAT FC CN [active=false]")
		}
		st.Name = args[0]
		if msg := checkName("user name", st.Name); msg != "" {
			return fail("%s", msg)
		}
		if st.Format, st.FacilityCode, st.CardNumber, err = parseCard(args[1], args[2], args[3]); err != nil {
			return fail("card: %v", err)
		}
	case StepEntry, StepMFA, StepDuress:
		if !want(2, 2) {
			return fail("usage: %s NAME CODE", cmd)
		}
		st.Name = args[0]
		if msg := checkName("user name", st.Name); msg != "" {
			return fail("%s", msg)
		}
		if !isDigits(args[1]) || len(args[1]) < 4 || len(args[1]) > 16 {
			// The code itself is never repeated in a message.
			return fail("%s: the code must be 4–16 ASCII digits 0-9", cmd)
		}
		st.Code = []byte(args[1])
	case StepBadge:
		if !want(3, 4) {
			return fail("usage: badge [READER] FORMAT FC CN")
		}
		if len(args) == 4 {
			st.Reader, args = args[0], args[1:]
		}
		if st.Format, st.FacilityCode, st.CardNumber, err = parseCard(args[0], args[1], args[2]); err != nil {
			return fail("badge: %v", err)
		}
	case StepBadgeRaw:
		if !want(1, 2) {
			return fail("usage: badgeraw [READER] BITS")
		}
		if len(args) == 2 {
			st.Reader, args = args[0], args[1:]
		}
		if len(args[0]) > maxRawBits || strings.Trim(args[0], "01") != "" {
			return fail("badgeraw: bits must be 1–%d characters 0 or 1", maxRawBits)
		}
		st.Bits = args[0]
	case StepWait:
		if !want(1, 1) {
			return fail("usage: wait DURATION (a Go duration: 500ms, 10s, 2h)")
		}
		d, err := time.ParseDuration(args[0])
		if err != nil {
			return fail("wait: %q is not a Go duration such as 500ms, 10s or 2h", args[0])
		}
		if d < 0 || d > maxWait {
			return fail("wait: %s is outside 0–%s", d, maxWait)
		}
		st.Wait = d
	case StepOpen, StepClose, StepREX:
		if !want(0, 1) {
			return fail("usage: %s [DOOR]", cmd)
		}
		if len(args) == 1 {
			st.Door = args[0]
		}
	default:
		if handled, msg := parseOp(&st, args); handled {
			if msg != "" {
				return fail("%s", msg)
			}
			break
		}
		return fail("unknown command %q: use %s", truncate(cmd), commandList())
	}
	if st.Reader != "" {
		if msg := checkName("reader name", st.Reader); msg != "" {
			return fail("%s", msg)
		}
	}
	if st.Door != "" {
		if msg := checkName("door name", st.Door); msg != "" {
			return fail("%s", msg)
		}
	}
	return st, true, nil
}

// parseKeys handles "keys [READER] KEYS [# comment]".
func parseKeys(st Step, args []string, fail func(string, ...any) (Step, bool, error)) (Step, bool, error) {
	if len(args) == 0 {
		return fail("usage: keys [READER] KEYS (0-9, * and #)")
	}
	if !isKeys(args[0]) {
		// Not made of keys, so it names the reader.
		st.Reader, args = args[0], args[1:]
		if msg := checkName("reader name", st.Reader); msg != "" {
			return fail("%s", msg)
		}
		if len(args) == 0 || !isKeys(args[0]) {
			return fail("keys: after the reader name come the keys: 0-9, * and # only")
		}
	}
	if len(args[0]) > maxKeys {
		return fail("keys: at most %d keys on one line", maxKeys)
	}
	st.Keys = []byte(args[0])
	if rest := args[1:]; len(rest) > 0 && !strings.HasPrefix(rest[0], "#") {
		return fail("keys: unexpected text after the keys (a comment starts with #)")
	}
	return st, true, nil
}

func stripComment(args []string) []string {
	for i, a := range args {
		if strings.HasPrefix(a, "#") {
			return args[:i]
		}
	}
	return args
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isKeys(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '*' && s[i] != '#' {
			return false
		}
	}
	return s != ""
}

func checkName(what, s string) string {
	if s == "" || len(s) > 128 {
		return what + " must be 1–128 characters"
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return what + " must be printable ASCII without spaces"
		}
	}
	return ""
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// cardFields gives the facility and card number widths of each format a
// scenario can badge (docs/formats.md, "Card formats").
var cardFields = map[reader.Format]struct{ fcBits, cnBits uint }{
	reader.H10301:      {8, 16},
	reader.H10306:      {16, 16},
	reader.Corp1000x35: {12, 20},
	reader.H10302:      {0, 35},
	reader.H10304:      {16, 19},
	reader.Corp1000x48: {22, 23},
}

func parseCard(format, fc, cn string) (reader.Format, uint32, uint64, error) {
	f := reader.Format(format)
	w, ok := cardFields[f]
	if !ok {
		return "", 0, 0, fmt.Errorf("%q is not a card format: use h10301, h10306, h10302, h10304, corp1000_35 or corp1000_48", truncate(format))
	}
	fcv, err := strconv.ParseUint(fc, 10, 64)
	if err != nil || fcv >= 1<<w.fcBits && !(w.fcBits == 0 && fcv == 0) {
		if w.fcBits == 0 {
			return "", 0, 0, fmt.Errorf("%s has no facility code: FC must be 0", f)
		}
		return "", 0, 0, fmt.Errorf("facility code %q is not a number 0–%d (%d bits in %s)", truncate(fc), uint64(1)<<w.fcBits-1, w.fcBits, f)
	}
	cnv, err := strconv.ParseUint(cn, 10, 64)
	if err != nil || cnv >= 1<<w.cnBits {
		return "", 0, 0, fmt.Errorf("card number %q is not a number 0–%d (%d bits in %s)", truncate(cn), uint64(1)<<w.cnBits-1, w.cnBits, f)
	}
	return f, uint32(fcv), cnv, nil
}
