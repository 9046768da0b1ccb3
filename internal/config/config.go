package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones built in: a Pi image or a CI container may lack /usr/share/zoneinfo

	toml "github.com/pelletier/go-toml/v2"
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/mqtt"
	"github.com/latchd/latch/reader"
	"github.com/latchd/latch/webhook"
)

// Config is a loaded, checked configuration with every default filled in.
type Config struct {
	File       string // absolute path of the file it was loaded from ("" for Parse without a path)
	Controller Controller
	API        API
	Log        Log
	MFA        door.MFAConfig
	Readers    []Reader
	Doors      []Door
	Groups     []Group
	Inputs     []Input
	// MQTT is the [mqtt] section; nil when the file has none.
	MQTT *mqtt.Config
	// Webhooks are the [[webhook]] sections.
	Webhooks []webhook.Config
	// Fleet is the [fleet] section; nil without one (docs/fleet.md).
	Fleet *Fleet
	// Warnings are what loads but is probably a mistake (an empty file, a
	// pin that is not on the 40-pin header), in file order. check-config
	// prints them and latchd logs them; neither refuses the file.
	Warnings []Issue
}

// Input is one [[input]] (docs/operations.md): a line whose active level
// releases doors (emergency_release), locks them down (lockdown), or is
// only recorded (alarm).
type Input struct {
	Name   string
	Pin    string
	Active gpio.Level // the level that means active
	Action string     // door.InputEmergencyRelease, door.InputLockdown, door.InputAlarm
	Doors  []string   // every door when the file leaves doors out
	Line   int
}

// Controller is the [controller] section.
type Controller struct {
	Name           string
	Database       string         // absolute path
	KeyFile        string         // absolute path
	TimeZone       string         // IANA name
	Location       *time.Location // TimeZone loaded
	EventRetention int
	// DuressOutput is the pin of the duress output line ("" = none);
	// DuressActive the level that signals duress (default high).
	// docs/operations.md, "Duress codes".
	DuressOutput string
	DuressActive gpio.Level
}

// API is the [api] section.
type API struct {
	Socket string // absolute path of the Unix socket, always served
	Listen string // optional TCP address; "" = none
	// TLSCert and TLSKey are the PEM certificate (chain) and key files of
	// the TCP listener; "" = plain HTTP. Set both or neither, only with
	// Listen.
	TLSCert, TLSKey string
	// MaxConnections and MaxConnectionsPerPeer cap the TCP listener's
	// connections at once, in all and from one peer (an IPv4 address or
	// an IPv6 /64); HeaderTimeout bounds a request header's arrival on
	// every listener. Defaults: api.DefaultMaxConns, …PerPeer,
	// api.DefaultHeaderTimeout.
	MaxConnections, MaxConnectionsPerPeer int
	HeaderTimeout                         time.Duration
	// ImportSpoolMax bounds a CSV import's body, spooled next to the
	// database; an upload may also spool at most half the free space
	// there. Default api.DefaultImportLimit.
	ImportSpoolMax int64
}

// Log is the [log] section.
type Log struct {
	Format string // "json" or "console"
	Level  string // zerolog level name: trace, debug, info, warn, error
}

// Reader is one [[reader]]: its decoder's configuration, as
// reader.NewDecoder takes it, and its wiring.
type Reader struct {
	reader.Config
	Door      string              // the [[door]] it serves
	Direction string              // door.DirectionIn or door.DirectionOut
	D0, D1    string              // pin names
	Feedback  reader.FeedbackPins // led_green, led_red, beeper, feedback_active
	Line      int                 // line of the [[reader]] header
}

// HasKeypad reports whether the reader sends keys.
func (r Reader) HasKeypad() bool { return r.Keypad != reader.KeypadNone }

// Door is one [[door]]: its settings, as door.New takes them (DoorConfig
// adds the relay output, the readers, the groups and [mfa]), and its wiring.
type Door struct {
	door.Config
	// TimeZone is the IANA name of Config.Location; the controller's when
	// the file leaves it empty.
	TimeZone string
	// Relay is the strike relay's pin name; it hides Config.Relay, the
	// output DoorConfig fills in.
	Relay     string
	DPS       string     // door position switch pin; "" = none
	DPSOpen   gpio.Level // level that means open
	REX       string     // exit button pin; "" = none
	REXActive gpio.Level // level that means pressed
	Line      int        // line of the [[door]] header
}

// Group is one [[group]]: its members may use Doors during Schedule (always
// when Schedule is empty).
type Group struct {
	door.Group
	Line int
}

// Defaults (config.md).
const (
	DefaultName           = "latch"
	DefaultDatabase       = "/var/lib/latch/latch.db"
	DefaultKeyFile        = "/var/lib/latch/device.key"
	DefaultTimeZone       = "Europe/Berlin"
	DefaultEventRetention = 100000
	DefaultSocket         = "/run/latch/api.sock"
)

// Load reads and checks the file at path. Relative paths inside it are
// resolved against the file's folder. On a broken rule it returns *Error.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// maxFileSize bounds what Parse accepts; a real file is a few kilobytes.
const maxFileSize = 1 << 20

// Parse checks data as if read from path (used for messages and to resolve
// relative paths; "" resolves against the working directory).
func Parse(data []byte, path string) (*Config, error) {
	name := path
	if name == "" {
		name = "<config>"
	}
	if len(data) > maxFileSize {
		return nil, &Error{Issues: []Issue{{File: name, Rule: fmt.Sprintf("file is larger than %d bytes", maxFileSize)}}}
	}
	var doc map[string]any
	if err := toml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		issues := decodeIssues(name, err)
		indexKeys(issues, indexPositions(data))
		return nil, &Error{Issues: issues}
	}
	dir := ""
	if path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		dir = filepath.Dir(abs)
		path = abs
	} else if wd, err := os.Getwd(); err == nil {
		dir = wd
	}
	b := &builder{file: name, dir: dir, pos: indexPositions(data)}
	root := &table{m: doc}
	b.tables = append(b.tables, root)
	cfg := b.build(root)
	b.unknownKeys()
	if len(b.typeIssues) > 0 {
		// The rest is checked once the file's keys and types are right.
		sortIssues(b.typeIssues)
		return nil, &Error{Issues: b.typeIssues}
	}
	if len(b.issues) > 0 {
		sortIssues(b.issues)
		return nil, &Error{Issues: b.issues}
	}
	switch {
	case len(bytes.TrimSpace(stripComments(data))) == 0:
		b.warn("", "the file is empty: every key takes its default and there is no door to run (deploy/latch.toml is an example)")
	case len(cfg.Doors) == 0:
		b.warn("", "no [[door]]: latchd would run no door")
	}
	sortIssues(b.warnings)
	cfg.Warnings = b.warnings
	cfg.File = path
	return cfg, nil
}

// stripComments blanks every line that holds only a TOML comment.
func stripComments(data []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(data, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, t...)
		}
	}
	return out
}

// decodeIssues turns go-toml's error (the file is not TOML) into an issue.
func decodeIssues(file string, err error) []Issue {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return []Issue{{File: file, Line: row, Key: strings.Join(de.Key(), "."), Rule: strings.TrimPrefix(de.Error(), "toml: ")}}
	}
	return []Issue{{File: file, Rule: strings.TrimPrefix(err.Error(), "toml: ")}}
}

// indexKeys writes the keys of decoder issues as the builder's are written:
// go-toml names "door.name" for a key in the second [[door]], the builder
// "door[1].name"; an issue without a key (a number too large) gets the key
// on its line. The key's line picks the table it is in; a key the index
// does not know (a syntax error stops the index) is left as it is.
func indexKeys(issues []Issue, pos positions) {
	for i, is := range issues {
		if is.Line == 0 {
			continue
		}
		if is.Key == "" {
			issues[i].Key = keyOnLine(pos, is.Line)
			continue
		}
		// The key on the issue's line; else (a key defined twice: the
		// index has the first) the nearest same key above it.
		best, bestLine := "", 0
		for path, line := range pos {
			bare := indexRE.ReplaceAllString(path, "")
			same := bare == is.Key || strings.HasSuffix(bare, "."+is.Key)
			if !same || line > is.Line {
				continue
			}
			if line > bestLine || (line == bestLine && path < best) {
				best, bestLine = path, line
			}
		}
		if best != "" {
			issues[i].Key = best
		}
	}
}

// keyOnLine is the one key written on line, or "" (none, or several).
func keyOnLine(pos positions, line int) string {
	key := ""
	for path, l := range pos {
		if l != line {
			continue
		}
		if key != "" && !strings.HasPrefix(path, key) && !strings.HasPrefix(key, path) {
			return ""
		}
		if len(path) > len(key) {
			key = path
		}
	}
	return key
}

var indexRE = regexp.MustCompile(`\[[0-9]+\]`)
