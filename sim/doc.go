// Package sim holds latch's hardware fakes (Wiegand reader, relay, DPS, REX,
// LEDs, beeper) and the scenario runner. Only tests and cmd import it.
package sim
