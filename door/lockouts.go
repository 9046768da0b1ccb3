package door

import (
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// LockoutStore keeps a door's lockout counters (card wrong codes, reader
// unknown entry codes) across reloads, restarts and crashes, keyed by door
// and card or reader, never by a code. *store.Store implements it.
type LockoutStore interface {
	// LoadLockouts returns door's counters not expired at now (and drops
	// the expired ones).
	LoadLockouts(door string, now time.Time) ([]Lockout, error)
	// SaveLockouts stores changed counters; a zero Expires deletes one.
	SaveLockouts(door string, ls []Lockout) error
}

// lockoutID names a counter: a reader's, or else a card's.
type lockoutID struct {
	reader string
	card   CardKey
}

// lockoutWriter writes changed counters to the LockoutStore off the
// decision path: a step's changes are queued (the latest per counter wins)
// after the step has driven the relay, and a goroutine of Run writes them;
// Run writes what is left before it returns, so a door restarted by a
// reload loads them. A crash loses at most the counters of the last
// moments (a write is one short transaction).
type lockoutWriter struct {
	ls   LockoutStore
	door string
	log  zerolog.Logger

	mu      sync.Mutex
	pending map[lockoutID]Lockout
	kick    chan struct{}
}

func newLockoutWriter(ls LockoutStore, door string, log zerolog.Logger) *lockoutWriter {
	return &lockoutWriter{ls: ls, door: door, log: log, pending: map[lockoutID]Lockout{}, kick: make(chan struct{}, 1)}
}

func (w *lockoutWriter) put(ls []Lockout) {
	w.mu.Lock()
	for _, l := range ls {
		w.pending[lockoutID{reader: l.Reader, card: l.Card}] = l
	}
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// run writes queued counters until stop closes, then writes what is left.
func (w *lockoutWriter) run(stop <-chan struct{}) {
	for {
		select {
		case <-w.kick:
			w.flush()
		case <-stop:
			w.flush()
			return
		}
	}
}

// flush writes the queued counters in one transaction. On a store error
// they are logged and queued again (unless a newer value came meanwhile),
// for the next change or the final flush.
func (w *lockoutWriter) flush() {
	w.mu.Lock()
	batch := w.pending
	w.pending = map[lockoutID]Lockout{}
	w.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	ls := make([]Lockout, 0, len(batch))
	for _, l := range batch {
		ls = append(ls, l)
	}
	if err := w.ls.SaveLockouts(w.door, ls); err != nil {
		w.log.Error().Err(err).Int("counters", len(ls)).Msg("lockout counters not saved; kept in memory")
		w.mu.Lock()
		for id, l := range batch {
			if _, newer := w.pending[id]; !newer {
				w.pending[id] = l
			}
		}
		w.mu.Unlock()
	}
}

// load reads the door's counters into s; an error is logged and the door
// starts with what it has (in memory).
func (w *lockoutWriter) load(s state, now time.Time) {
	ls, err := w.ls.LoadLockouts(w.door, now)
	if err != nil {
		w.log.Error().Err(err).Msg("lockout counters not loaded; the door starts without them")
		return
	}
	s.loadLockouts(ls)
}
