package door

import "time"

// Observer is told of every access decision and every bad read, for
// metrics (*api.Metrics implements it). The door calls it on its own loop
// goroutine, after the relay command of the step: implementations must be
// quick and must not block or call back into the door. Arguments come from
// fixed vocabularies (Results, Methods, Reasons, reader.BadReason); no code
// or key is ever passed.
type Observer interface {
	// ObserveDecision reports one access_granted or access_denied. latency
	// runs, on the door's clock (Config.Now), from the completion of the
	// frame that decided (reader.Read.At of the card, or of the '#' key's
	// frame for a code) to the relay command; a denial has no relay
	// command and is measured to the moment it is decided. A decision no
	// frame caused (a code timeout on the door's timer) is measured from
	// the moment the door handled the deadline. result is "granted" or
	// "denied"; reason is the grant's method or the denial's reason.
	ObserveDecision(latency time.Duration, result, reason string)
	// ObserveBadRead reports a frame of one of the door's readers that was
	// not a card or a key: reason is its reader.BadReason (parity, length,
	// overflow, glitch, keypad).
	ObserveBadRead(reason string)
}
