package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/latchd/latch/store"
)

// A manager serves the site's events (docs/fleet.md "Events"): it creates
// the site's event stream and reads it from the position its store
// recorded, appending each controller's events to its own event log with
// the stream sequence in the same transaction (store.AppendSiteEvents),
// so every reader of that log serves the site's events.

// ingestBatch bounds the events one store transaction appends.
const ingestBatch = 1000

// ingestPauseMax bounds the wait before reading the stream again after
// an error (NATS down, the stream being made).
const ingestPauseMax = 5 * time.Second

// eventStream creates the site's event stream, or brings its settings
// to this manager's: max age [fleet] event_max_age, duplicate window
// DuplicateWindow (at most the max age), file storage.
func (m *Member) eventStream(ctx context.Context) (jetstream.Stream, error) {
	age := m.cfg.EventMaxAge
	if age <= 0 {
		age = DefaultEventMaxAge
	}
	s, err := m.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: m.names.Events(), Subjects: []string{m.names.EventSubjects()},
		Description: "latch site " + m.cfg.Site + ": every controller's events",
		Storage:     jetstream.FileStorage, Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld,
		MaxAge: age, Duplicates: min(DuplicateWindow, age),
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: create stream %s: %w", m.names.Events(), err)
	}
	return s, nil
}

// DefaultEventMaxAge is the stream's max age when Config.EventMaxAge is
// not set: [fleet] event_max_age's default, a year.
const DefaultEventMaxAge = 8760 * time.Hour

// ingestLoop reads the site's events until ctx ends, starting again
// after any error.
func (m *Member) ingestLoop(ctx context.Context) {
	b := newBackoff(ingestPauseMax)
	var logged distinctErr
	for ctx.Err() == nil {
		read, err := m.ingestOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if read {
			b.reset()
		}
		if logged.isNew(err) {
			m.log.Warn().Err(err).Msg("fleet: reading the site's events stopped; retrying")
		}
		if !b.wait(ctx, nil) {
			return
		}
	}
}

// ingestOnce makes sure the stream exists and appends its messages after
// the recorded position until an error; read says it appended some.
func (m *Member) ingestOnce(ctx context.Context) (read bool, err error) {
	if !m.nc.IsConnected() {
		return false, ErrOffline
	}
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	stream, err := m.eventStream(sctx)
	scancel()
	if err != nil {
		return false, err
	}
	prev, err := m.cfg.Store.SiteEventsSeq()
	if err != nil {
		return false, err
	}
	state := stream.CachedInfo().State
	start := prev + 1
	if prev > state.LastSeq {
		m.log.Warn().Uint64("position", prev).Uint64("stream_last_seq", state.LastSeq).
			Msg("fleet: the site's event stream is younger than this manager's position (it was made again); reading it from its start")
		start = 1
	}
	if start < state.FirstSeq {
		m.log.Warn().Uint64("first_seq", start).Uint64("last_seq", state.FirstSeq-1).
			Msg("fleet: site events left the stream (event_max_age) before this manager read them")
		start = state.FirstSeq
	}
	cons, err := m.js.OrderedConsumer(ctx, m.names.Events(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{m.names.EventSubjects()},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy, OptStartSeq: start})
	if err != nil {
		return false, fmt.Errorf("fleet: read stream %s: %w", m.names.Events(), err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs := make(chan jetstream.Msg, ingestBatch)
	errs := make(chan error, 1)
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		select {
		case msgs <- msg:
		case <-ctx.Done():
		}
	}, jetstream.PullMaxMessages(ingestBatch/2), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		select {
		case errs <- err:
		default:
		}
	}))
	if err != nil {
		return false, fmt.Errorf("fleet: read stream %s: %w", m.names.Events(), err)
	}
	defer cc.Stop()
	floor := start - 1 // messages at or below it were appended already
	batch := make([]store.Event, 0, ingestBatch)
	for {
		var msg jetstream.Msg
		select {
		case <-ctx.Done():
			return read, ctx.Err()
		case err := <-errs:
			return read, fmt.Errorf("fleet: read stream %s: %w", m.names.Events(), err)
		case msg = <-msgs:
		}
		batch = batch[:0]
		top := floor
		for more := true; more; {
			if md, err := msg.Metadata(); err == nil && md.Sequence.Stream > top {
				top = md.Sequence.Stream
				if e, err := m.names.DecodeEvent(msg.Subject(), msg.Data()); err != nil {
					m.log.Warn().Str("subject", msg.Subject()).Uint64("stream_seq", top).Err(err).Msg("fleet: a site event does not decode; skipped")
					m.countRefusedEvent()
				} else {
					batch = append(batch, e)
				}
			}
			more = false
			if len(batch) < ingestBatch {
				select {
				case msg = <-msgs:
					more = true
				default:
				}
			}
		}
		if top == floor {
			continue
		}
		if err := m.cfg.Store.AppendSiteEvents(batch, prev, top); err != nil {
			if errors.Is(err, store.ErrSiteEventsMoved) {
				return read, fmt.Errorf("fleet: %w", err)
			}
			return read, err
		}
		prev, floor, read = top, top, true
	}
}

// countRefusedEvent counts a site event that did not decode (status).
func (m *Member) countRefusedEvent() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refusedEvents++
}
