// Package door is latch's decision-maker: the Card + Code state machine,
// door modes, strike, door position switch and exit button.
//
// # What it owns
//
// The access rules (who may open at which mode and instant, the second
// factor, the attempt and key timeouts, the never-a-downgrade rule), the
// keypad lockouts, the door modes and their changes, the strike's release
// and relock, the forced and held-open alarms, the reader feedback
// patterns, and the names it writes: event names, grant methods, denial
// reasons, causes of a mode change, decision results and the reasons an
// event is lost, all in names.go and listed by Events, Methods, Reasons,
// Causes, Results and LostReasons, which the metrics and the console
// formatter range over. Card formats are the reader's, credentials and
// events the store's (storeapi.go), schedules the schedule package's.
//
// # The loop is one-way
//
// Inputs (types.go) go in, actions come out, and nothing else: Door.Run
// (or a Stepper) turns a reader's frame into inputs (a card, a bad frame,
// one input per key, each carrying the frame's completion time), queues
// them on a chan input with the door position switch, the exit button and
// overrides, and hands each to Door.apply. apply calls step, which decides
// and returns actions: drive the relay, set feedback lines, emit an event,
// report a decision (actDecision: result, method or reason, the frame's
// time) or a bad read to the Observer, log a line, save a lockout counter,
// or ask the store (actLookupCard, actVerify, actLookupEntry). apply
// carries them out in a fixed order — the relay first, then the rest in
// step's order, the lockout counters last — and answer turns each store
// query into the input step takes next (inCardAnswer, inVerified,
// inEntry). apply never looks into an event to guess what step meant, and
// step never calls out: a card is looked up because step asked, exactly as
// a code is checked. The test driver (helpers_test.go) steps through the
// same apply and answer, so FuzzStep checks the order Run uses.
//
// step is a method on *state that changes the state in place, as
// text/template/parse's lexer steps itself, rather than a function
// returning a new state: the state holds maps (readers, lockout counters)
// that a true copy would duplicate on every step, on the decision path,
// and a handle that merely looked like a new value would hide that the old
// one changed too. Run (or one Stepper) alone owns the state; there is no
// mutex around it, and other goroutines read a snapshot with Status.
//
// # Files
//
// types.go (inputs, actions, state), step.go (the transition, deadlines,
// the timer), modes.go (schedule, fail-secure mode), precedence.go (Resolve:
// the one decision between the levels of docs/operations.md), ops.go
// (emergency and lockdown inputs, lockdown, overrides, remote unlock,
// double badge, first person in, and their persistence), controller.go
// (Controller: the command API over all doors), strike.go
// (strike, DPS, REX, debounce), access.go (badges, keys, Card + Code,
// entry codes, grants and denials), lockouts.go (the counters and their
// writer), feedback.go (patterns), door.go (Door, Run, apply), stepper.go,
// storeapi.go (what the door asks of the store, and answer), events.go
// (EventWriter), observer.go, names.go, config.go.
//
// # Fail-secure
//
// New drives the strike locked, Run locks it when it ends or panics, and
// Halt (to be deferred by whoever starts the door) locks it for good. The
// relay command never waits for an event's disk write: use EventWriter,
// whose Emit never blocks. An optional Observer (Config.Observer; the API's
// metrics) is told of every decision, with its latency from the frame's
// completion to the relay command, and of every bad read; it is called
// after the relay command, never before. Lockout counters are saved off
// the decision path by a writer goroutine of Run and loaded when a door
// starts, so a reload or a restart keeps them.
//
// Caveats: a wall-clock step is noticed within a minute (the schedule timer
// is capped); until the wall clock is plausible the door is in
// Config.ClockUnknownMode. docs/door.md describes every mode, event and
// reason.
package door
