package door

import (
	"slices"
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
func (w *lockoutWriter) load(s *state, now time.Time) {
	ls, err := w.ls.LoadLockouts(w.door, now)
	if err != nil {
		w.log.Error().Err(err).Msg("lockout counters not loaded; the door starts without them")
		return
	}
	s.loadLockouts(ls)
}

// ---- the counters (pure: step keeps them, the writer above saves them) ----
func (s *state) cardFailures(k CardKey) *failures { return failuresOf(s.cardFails, k) }

func (s *state) readerFailures(r string) *failures { return failuresOf(s.readerFails, r) }

// failuresOf is m's counter for k, made when there is none.
func failuresOf[K comparable](m map[K]*failures, k K) *failures {
	f := m[k]
	if f == nil {
		f = &failures{}
		m[k] = f
	}
	return f
}

// fail records a wrong code at now and reports whether it starts a lockout.
func (s *state) fail(f *failures, now time.Time) bool {
	f.prune(now, s.cfg.MFA.LockoutWindow)
	f.times = append(f.times, now)
	if len(f.times) < s.cfg.MFA.MaxCodeAttempts {
		return false
	}
	f.times = f.times[:0]
	f.lockedUntil = now.Add(s.cfg.MFA.LockoutTime)
	return true
}

func (f *failures) prune(now time.Time, window time.Duration) {
	keep := f.times[:0]
	for _, t := range f.times {
		if now.Sub(t) < window {
			keep = append(keep, t)
		}
	}
	f.times = keep
}

// gcFailures drops counters with nothing left in the window and no
// lockout, so that the maps stay small (and the store's copies go).
func (s *state) gcFailures(o *out) {
	now := o.now
	s.lastFailuresGC = now
	for k, f := range s.cardFails {
		f.prune(now, s.cfg.MFA.LockoutWindow)
		if len(f.times) == 0 && !now.Before(f.lockedUntil) {
			delete(s.cardFails, k)
			s.saveCard(o, k)
		}
	}
	for k, f := range s.readerFails {
		f.prune(now, s.cfg.MFA.LockoutWindow)
		if len(f.times) == 0 && !now.Before(f.lockedUntil) {
			delete(s.readerFails, k)
			s.saveReader(o, k)
		}
	}
}

// resetReader clears reader rdr's entry-code count (a grant).
func (s *state) resetReader(o *out, rdr string) {
	if _, ok := s.readerFails[rdr]; ok {
		delete(s.readerFails, rdr)
		s.saveReader(o, rdr)
	}
}

// saveCard and saveReader hand a counter as it is now to the lockout
// store (gone from the map: a delete).
func (s *state) saveCard(o *out, k CardKey) {
	o.do(actLockout{s.lockoutRecord(Lockout{Card: k}, s.cardFails[k])})
}

func (s *state) saveReader(o *out, rdr string) {
	o.do(actLockout{s.lockoutRecord(Lockout{Reader: rdr}, s.readerFails[rdr])})
}

// lockoutRecord fills l from f (nil: l stays a delete). Expires is when
// the counter is of no more use: the lockout over and the last failure out
// of the window.
func (s *state) lockoutRecord(l Lockout, f *failures) Lockout {
	if f == nil {
		return l
	}
	l.Failures = slices.Clone(f.times)
	l.LockedUntil = f.lockedUntil
	l.Expires = f.lockedUntil
	if n := len(f.times); n > 0 {
		if e := f.times[n-1].Add(s.cfg.MFA.LockoutWindow); e.After(l.Expires) {
			l.Expires = e
		}
	}
	return l // a zero Expires (nothing counted, no lockout): a delete
}

// loadLockouts puts counters from the lockout store into a new state.
func (s *state) loadLockouts(ls []Lockout) {
	for _, l := range ls {
		f := &failures{times: slices.Clone(l.Failures), lockedUntil: l.LockedUntil}
		if l.Reader != "" {
			s.readerFails[l.Reader] = f
		} else {
			s.cardFails[l.Card] = f
		}
	}
}

// cardLocked reports whether card k is locked out of this door at now.
func (s *state) cardLocked(k CardKey, now time.Time) bool {
	f := s.cardFails[k]
	return f != nil && now.Before(f.lockedUntil)
}

// readerLocked reports whether reader rdr is locked out of entry codes at now.
func (s *state) readerLocked(rdr string, now time.Time) bool {
	f := s.readerFails[rdr]
	return f != nil && now.Before(f.lockedUntil)
}
