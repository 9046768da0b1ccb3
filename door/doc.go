// Package door is latch's decision-maker: the Card + Code state machine,
// door modes, strike, door position switch and exit button.
//
// The decisions are a pure function, step(state, input, now) → (state,
// actions), with no I/O and no goroutines. Door.Run is the one goroutine that
// owns the state: it selects on inputs (Submit, DoorSensor, ExitButton,
// Override), one timer and its context, does the store lookups step asks
// for, drives the relay and the reader feedback lines, and hands events to an
// Emitter. There is no mutex around the state; other goroutines read a
// snapshot with Status.
//
// Fail-secure: New drives the strike locked, Run locks it when it ends or
// panics, and Halt (to be deferred by whoever starts the door) locks it for
// good. The relay command never waits for an event's disk write: use
// EventWriter, whose Emit never blocks. An optional Observer
// (Config.Observer; the API's metrics) is told of every decision, with its
// latency from the frame's completion to the relay command, and of every
// bad read; it is called after the relay command, never before.
//
// Caveats: lockout counters are in memory and a restart clears them; a
// wall-clock step is noticed within a minute (the schedule timer is capped);
// until the wall clock is plausible the door is in Config.ClockUnknownMode.
// docs/door.md describes every mode, event and reason.
package door
