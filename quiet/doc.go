// Package quiet owns one rule: background work keeps off the CPU while a
// door is deciding.
//
// A controller is a small computer (two or four cores) that runs, beside
// its doors, work that can wait: the outbox's deliveries to MQTT, webhooks
// and the fleet, and the store's warm-up of the page cache after a boot.
// Delivery on a local network is CPU work end to end (encoding, system
// calls, the broker's and the receiver's own work); when it runs while a
// door decides, the door's thread waits for a core and its decision takes
// longer. So the door's path says when it is busy, and background work
// waits for the door before each piece of work.
//
// A Gate is that signal. The door's path calls Busy: the capture loop of
// every reader (package reader) from a frame's first edge, for as long as
// the frame may still grow (its end-of-frame silence), and the store at
// each of the door's reads. Busy holds the gate for that long and for the
// gate's Tail after it, the decision's time. Background work calls Wait
// before each piece of work (a batch of events, a megabyte of pages): it
// returns at once while the door is idle, and otherwise when the hold
// ends, or after its limit, so that a door that is never idle (a reader
// whose lines chatter) slows the background work without stopping it.
//
// A Wiegand frame takes tens of milliseconds to arrive (26 bits at the
// usual 1–2 ms a bit, then the silence that ends it), so work in flight
// at its first edge (a batch being delivered) is done well before the
// frame is, and the decision runs on an idle CPU. See docs/integrations.md
// ("Performance") for the figures and docs/architecture.md for the owners.
//
// The gate reads the time package's clock (monotonic), so tests run it in a
// testing/synctest bubble. A nil *Gate is never busy.
package quiet
