// Package config loads latch's TOML configuration file (docs/config.md): the
// controller, its API socket, logging, the MFA rules, the readers, the doors
// with their schedules and exceptions, the access groups, and the
// integrations ([mqtt] into mqtt.Config, [[webhook]] into webhook.Config,
// their URL, topic and event rules asked of those packages, their secret
// files checked by internal/secretfile).
//
// Load checks the file and returns either a complete Config with every
// default filled in and every relative path resolved against the file's
// folder, or an *Error listing each problem with the file, the line, the key
// and the rule that was broken. Unknown keys are refused.
//
// What it owns: the file's own rules — TOML syntax and types, unknown keys,
// required keys, names, pin names and pins used twice, paths, the ranges of
// its durations and sizes, and the references between sections (a reader's
// door, a group's doors, the readers that must have a keypad for a door's
// card_and_code). Everything else it decodes into the types of the package
// that owns the rule and asks that package once: a door's settings are a
// door.Config (defaults from door.DefaultConfig), a reader's decoding a
// reader.Config (card formats, byte order and keypad checked by
// reader.ParseFormatSpec, reader.Keypad.Validate and reader.NewDecoder), its
// feedback lines reader.FeedbackPins, and a door's or group's windows and
// exceptions schedule.WindowText and schedule.ExceptionText, parsed and then
// checked as a whole by schedule.New and schedule.NewAccess. Their errors
// become FILE:LINE: key: rule issues; the loader keeps no copy of their
// tables or rules. DoorConfig adds the outputs and the cross-section parts
// to make the door.Config a door runs with.
//
// The package decodes with github.com/pelletier/go-toml/v2 into plain TOML
// values (its decoder gives the line of a syntax error), and the builder
// reads each key it knows from its table (table.go): the keys it reads are
// the one list of the file's keys, so a key of the wrong type or one it
// never reads is an issue, with the known keys of its table as the hint.
// go-toml's unstable parser gives the line of every key, which every issue
// uses to name the line.
package config
