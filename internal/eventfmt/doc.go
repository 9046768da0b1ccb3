// Package eventfmt draws latch's console lines: the readable, optionally
// coloured, one-line form of an event (docs/events.md) and of any other
// zerolog JSON line. latchd --log-format console and latchctl events print
// through it, so a technician sees the same line in both:
//
//	2026-03-02 09:00:01.568 front        access_granted   method=card_and_code user=alice (u…1) reader=front-in card=h10301/1/1001
//
// Fields whose name could hold a secret (code, keys, token, …) are dropped
// before anything is drawn, so a mistake elsewhere cannot put one on a
// screen. Colours are ANSI escapes, for terminals only: ColorFor decides.
// Event names are the door's (door.Events), never retyped here; eventfmt
// owns only how each is drawn.
package eventfmt
