// Package sim holds the scenario runner: the scenario language (ParseScript,
// ParseLine) and its engine, which steps the doors and the readers' fake
// lines (reader/readertest, each read by reader.Capture) on a virtual clock
// against a fresh database. latchd scenario runs it; latchd --sim shares its
// command parser and setup lines (Setup, KeyFrame). Only tests and cmd
// import it.
package sim
