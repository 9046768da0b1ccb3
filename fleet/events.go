package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/latchd/latch/outbox"
	"github.com/latchd/latch/store"
)

// Events (docs/fleet.md "Events"): every controller uploads its event
// log to the site's stream through the outbox (Uploader, one more
// outbox.Destination with its own cursor); a manager creates the stream
// and appends what it holds to its own log (ingestLoop, below).

// UploadDestination is the uploader's outbox destination name, so its
// cursor's name in the store.
const UploadDestination = "fleet"

// NoDoor is the subject token of an event that belongs to no door
// (credential_changed, events_lost, delivery_dropped, …). A door name
// starts with a letter or digit, so it never is "_".
const NoDoor = "_"

// DuplicateWindow is the stream's duplicate window: a message whose id
// (<controller>:<seq>) the stream took within it is dropped. An upload
// whose acknowledgement was lost is sent again after the connection is
// back, so the window covers an outage of NATS of up to a day; the
// server keeps the ids of that window in memory.
const DuplicateWindow = 24 * time.Hour

// maxEventBytes bounds one event on the wire (DecodeEvent).
const maxEventBytes = 64 << 10

// uploadAckWait bounds the wait for the acknowledgements of one batch.
const uploadAckWait = 10 * time.Second

// Events is the site's event stream: latch_<site>_events.
func (n Names) Events() string { return "latch_" + n.Site + "_events" }

// EventSubjects is the stream's subjects: latch.<site>.events.>.
func (n Names) EventSubjects() string { return "latch." + n.Site + ".events.>" }

// EventSubject is the subject of controller's event of door:
// latch.<site>.events.<controller>.<door>, <door> = NoDoor for an event
// of no door. A door name holding '.' spans as many tokens.
func (n Names) EventSubject(controller, door string) string {
	if door == "" {
		door = NoDoor
	}
	return "latch." + n.Site + ".events." + controller + "." + door
}

// eventNameRE is the rule of an event name on the wire: the names
// door.Events() lists, and those a newer controller may send.
var eventNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// EncodeEvent is the wire form of controller's event e: the event as the
// log stores it (docs/events.md), with its controller.
func EncodeEvent(controller string, e store.Event) ([]byte, error) {
	e.Controller = controller
	e.ControllerSeq = 0
	return json.Marshal(e)
}

// DecodeEvent decodes a message of the site's event stream on subject:
// at most 64 KiB, one JSON object of the event's shape, whose
// controller, seq, event name and door agree with its subject. The event
// it returns carries its controller's seq in ControllerSeq and no Seq
// (the reader's log gives it one). It never panics (FuzzDecodeEvent).
func (n Names) DecodeEvent(subject string, data []byte) (store.Event, error) {
	if len(data) > maxEventBytes {
		return store.Event{}, fmt.Errorf("fleet: event: more than %d bytes", maxEventBytes)
	}
	rest, ok := strings.CutPrefix(subject, "latch."+n.Site+".events.")
	ctl, door, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || CheckController(ctl) != nil || door == "" {
		return store.Event{}, errors.New("fleet: event: the subject is not latch.<site>.events.<controller>.<door>")
	}
	var e store.Event
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&e); err != nil || dec.More() {
		return store.Event{}, errors.New("fleet: event: not one JSON object of the event's shape")
	}
	switch {
	case e.Controller != ctl:
		return store.Event{}, errors.New("fleet: event: its controller is not its subject's")
	case e.Seq == 0:
		return store.Event{}, errors.New("fleet: event: no seq")
	case !eventNameRE.MatchString(e.Event):
		return store.Event{}, errors.New("fleet: event: the event name must be 1–64 of a-z, 0-9, '_'")
	case e.Time.IsZero():
		return store.Event{}, errors.New("fleet: event: no time")
	case (e.Door == "" && door != NoDoor) || (e.Door != "" && e.Door != door):
		return store.Event{}, errors.New("fleet: event: its door is not its subject's")
	}
	e.ControllerSeq, e.Seq = e.Seq, 0
	return e, nil
}

// Uploader is a controller's event upload, an outbox.Destination: it
// publishes each event to the site's stream with message id
// <controller>:<seq> (outbox.DeliveryID) and acknowledges it once the
// stream stored it. Give it to the member in Config.Uploader: it
// publishes on the member's connection.
type Uploader struct {
	names      Names
	controller string
	conn       atomic.Pointer[uploadConn]
	// probe: the next Deliver sends its first event alone (Deliver).
	probe atomic.Bool
}

type uploadConn struct {
	nc *nats.Conn
	js jetstream.JetStream
}

// NewUploader returns the event upload of controller in site.
func NewUploader(site, controller string) (*Uploader, error) {
	if err := CheckSite(site); err != nil {
		return nil, fmt.Errorf("fleet: site: %w", err)
	}
	if err := CheckController(controller); err != nil {
		return nil, fmt.Errorf("fleet: controller: %w", err)
	}
	return &Uploader{names: Names{Site: site}, controller: controller}, nil
}

// Name is UploadDestination.
func (u *Uploader) Name() string { return UploadDestination }

// Backoff after the n-th failed upload in a row: 1 s doubling to 5 s. A
// failed upload is cheap (nothing is sent while NATS is down), and a
// short wait makes the drain start soon after NATS is back.
func (u *Uploader) Backoff(n int) time.Duration {
	return min(time.Second<<min(max(n-1, 0), 3), 5*time.Second)
}

// attach gives the upload its connection. Its JetStream context times an
// acknowledgement out after uploadAckWait, so a publish the server never
// answers does not stay pending for ever (and stall later ones).
// UploadRate bounds the events a second the upload hands the stream
// (the outbox's Rater; it is the upload's own budget, outside the one
// the integrations share): high enough to drain an outage's backlog at
// well over 10,000 events/s where the machine can, bounded so that a
// drain never takes every core from the doors (docs/fleet.md "Events").
const UploadRate = 15000

// Rate is UploadRate: the outbox paces this destination by it alone.
func (u *Uploader) Rate() float64 { return UploadRate }

func (u *Uploader) attach(nc *nats.Conn) error {
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(uploadAckWait))
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	u.conn.Store(&uploadConn{nc: nc, js: js})
	u.probe.Store(true)
	return nil
}

// ErrNoStream says the site's event stream does not exist yet: a manager
// creates it. The events wait in the local log.
var ErrNoStream = errors.New("fleet: the site's event stream does not exist yet (a manager creates it); events wait in the local log")

// Deliver publishes batch with asynchronous JetStream publishes and then
// waits for their acknowledgements: acked is the seq of the last event
// such that it and all before it were stored.
//
// The order in the stream is the log's: after a failure (and at the
// start) the first event goes alone and is awaited before the rest are
// sent, so a batch whose stream appeared or came back in the middle
// cannot store a later event before an earlier one (its earlier ones
// failing, the later ones not). The connection buffers nothing while it
// reconnects (Member's options), so what reaches the server of a batch
// is always a prefix of it.
func (u *Uploader) Deliver(ctx context.Context, batch []store.Event) (acked uint64, err error) {
	c := u.conn.Load()
	if c == nil || !c.nc.IsConnected() {
		return 0, ErrOffline
	}
	defer func() {
		if err != nil {
			u.probe.Store(true)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, uploadAckWait)
	defer cancel()
	if u.probe.Load() && len(batch) > 0 {
		msg, opts, err := u.message(batch[0])
		if err != nil {
			return 0, err
		}
		if _, err := c.js.PublishMsg(ctx, msg, opts...); err != nil {
			return 0, uploadErr(batch[0].Seq, err)
		}
		u.probe.Store(false)
		acked, batch = batch[0].Seq, batch[1:]
	}
	futs := make([]jetstream.PubAckFuture, 0, len(batch))
	var perr error
	for _, e := range batch {
		msg, opts, err := u.message(e)
		if err != nil {
			perr = err
			break
		}
		f, err := c.js.PublishMsgAsync(msg, opts...)
		if err != nil {
			perr = fmt.Errorf("fleet: publish event %d: %w", e.Seq, err)
			break
		}
		futs = append(futs, f)
	}
	for i, f := range futs {
		select {
		case <-f.Ok():
			acked = batch[i].Seq
		case err := <-f.Err():
			return acked, uploadErr(batch[i].Seq, err)
		case <-ctx.Done():
			return acked, fmt.Errorf("fleet: upload of event %d: no acknowledgement: %w", batch[i].Seq, ctx.Err())
		}
	}
	return acked, perr
}

// message is e's message on the stream and its publish options: the
// message id and the stream it must land in.
func (u *Uploader) message(e store.Event) (*nats.Msg, []jetstream.PublishOpt, error) {
	data, err := EncodeEvent(u.controller, e)
	if err != nil {
		return nil, nil, fmt.Errorf("fleet: event %d: %w", e.Seq, err)
	}
	return &nats.Msg{Subject: u.names.EventSubject(u.controller, e.Door), Data: data},
		[]jetstream.PublishOpt{jetstream.WithMsgID(outbox.DeliveryID(u.controller, e.Seq)), jetstream.WithExpectStream(u.names.Events())}, nil
}

// uploadErr says why the stream did not take event seq; no responders
// means the stream does not exist.
func uploadErr(seq uint64, err error) error {
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
		err = ErrNoStream
	}
	return fmt.Errorf("fleet: upload of event %d: %w", seq, err)
}

// InitUploadCursor gives the upload a cursor at the start of log when it
// has none (a controller's first start in a site): the stream gets every
// event the local log holds, not only those from then on as a new
// integration does. Call it before the outbox's Init.
func InitUploadCursor(log outbox.Log) error {
	_, ok, err := log.Cursor(UploadDestination)
	if err != nil || ok {
		return err
	}
	first, _, err := log.EventBounds()
	if err != nil {
		return err
	}
	return log.SetCursor(UploadDestination, first-1)
}

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
