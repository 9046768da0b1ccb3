// Package sim holds the scenario runner: the scenario language (ParseScript,
// ParseLine) and its engine, which steps the doors and the readers' fake
// lines (reader/readertest, each read by reader.Capture) on a virtual clock
// against a fresh database. latchd scenario runs it; latchd --sim shares its
// command parser and setup lines (Setup, KeyFrame) and its door commands
// (Command: unlock, override, lockdown through door.Controller, as
// CommandActor; docs/operations.md). Only tests and cmd import it.
package sim
