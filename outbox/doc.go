// Package outbox delivers the event log to other systems — an MQTT broker,
// webhooks, and the fleet's event upload — without losing or
// reordering an event, and without the door ever waiting for one of them
// (docs/integrations.md, "The outbox").
//
// What the outbox owns (other packages call it, none keeps a copy):
//   - the delivery contract of a Destination: events in seq order, at
//     least once, each with the stable delivery id DeliveryID
//     ("<controller>:<seq>"), so a receiver drops a repeat by its id;
//   - the cursor rule: a destination's cursor (kept by the store, one per
//     destination name, Store.Cursor and SetCursor) moves only after the
//     destination acknowledged, and only forward; a destination seen for
//     the first time starts at the end of the log (it receives what
//     happens from then on, not the whole history);
//   - counting what a destination will never receive: events that
//     retention removed from the log before the destination acknowledged
//     them (reason door.DropRetention), and events the destination gave up
//     on (door.DropExpired, a Dropper); each run of them is counted in
//     Stats and said in one delivery_dropped event;
//   - the rate budget (Options.Rate, DefaultRate): all destinations
//     together are handed at most Rate events a second beyond a burst of
//     Batch, so that draining a backlog leaves the door a core
//     (budget.go); a Rater (the fleet's upload) has a budget of its own;
//   - the doors first: with Options.Gate (latchd: the store's) every batch
//     waits, at most GateLimit, while a door is busy (a frame arriving, a
//     decision: package quiet), so delivery's CPU work does not meet a
//     decision.
//
// Each destination runs in its own goroutine that reads at most Batch
// events at a time from the store (bounded memory), so a slow or dead
// destination slows only itself. The outbox reads only what the store has
// already written: it follows the store's live feed (Store.Subscribe) as a
// wake-up signal, never the door.
package outbox
