// Package config loads latch's TOML configuration file (docs/config.md,
// ../shared/spec/config.md): the controller, its API socket, logging, the MFA
// rules, the readers, the doors with their schedules and exceptions, and the
// access groups.
//
// Load checks every rule of the file format and returns either a complete
// Config with every default filled in and every relative path resolved
// against the file's folder, or an *Error listing each problem with the file,
// the line, the key and the rule that was broken. Unknown keys are refused.
//
// The package decodes with github.com/pelletier/go-toml/v2: its decoder gives
// the line and key of every syntax error, type mismatch and unknown key (strict
// mode), and its unstable parser gives the line of every key, which the
// semantic checks (ranges, references, overlaps) use to name the line too.
package config
