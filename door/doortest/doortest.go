// Package doortest makes doors for the tests of the packages above door
// (api, web, fleet), as store/storetest opens stores: a real door.Door on
// a real store, its relay a recording pin of reader/readertest and its
// events appended to the store at once. It is imported only by _test.go
// files.
package doortest

import (
	"periph.io/x/conn/v3/gpio"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/reader/readertest"
	"github.com/latchd/latch/store"
)

// StoreEvents is a door.Emitter that appends each event to St at once; an
// append that fails is dropped (a test that wants the event finds it
// missing).
type StoreEvents struct{ St *store.Store }

// Emit appends ev to the store.
func (e StoreEvents) Emit(ev door.Event) { _ = e.St.AppendEvents([]door.Event{ev}) }

// New makes door c.Name on st: its credentials, state and events in st,
// its relay a recording pin named "<name>-relay", initially low. The rest
// of c (location, clock, timings) is the caller's.
func New(c door.Config, st *store.Store) (*door.Door, error) {
	c.Relay = readertest.NewOutPin(c.Name+"-relay", gpio.Low, nil)
	c.State = st
	return door.New(c, st, StoreEvents{st})
}
