package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// The sync reads the creds bucket's stream with an ordered pull consumer
// rather than the KV watcher: its buffer in the client is bounded (a
// pull asks for at most followPull messages), so a controller applying a
// million documents slower than the server sends them neither grows its
// memory nor becomes a slow consumer whose messages are dropped.

const followPull = 500

// kvEntry is one message of a bucket's stream as the sync uses it.
type kvEntry struct {
	key     string
	rev     uint64
	op      jetstream.KeyValueOp
	value   []byte
	pending uint64 // messages after this one when it was sent
}

func (e *kvEntry) Key() string                     { return e.key }
func (e *kvEntry) Revision() uint64                { return e.rev }
func (e *kvEntry) Operation() jetstream.KeyValueOp { return e.op }
func (e *kvEntry) Value() []byte                   { return e.value }

// follower delivers a bucket's entries on a channel; a nil entry marks
// the first time the consumer had nothing pending (caught up).
type follower struct {
	ch chan *kvEntry
	cc jetstream.ConsumeContext
}

func (f *follower) Updates() <-chan *kvEntry { return f.ch }
func (f *follower) Stop()                    { f.cc.Stop() }

// next waits for the next entry (nil: the caught-up marker); ctx's error
// when ctx ends first, and an error when the watch has ended (when says
// what the caller was doing, e.g. " during a rebuild").
func (f *follower) next(ctx context.Context, when string) (*kvEntry, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case e, ok := <-f.ch:
		if !ok {
			return nil, errors.New("fleet: the watch ended" + when)
		}
		return e, nil
	}
}

// follow starts an ordered consumer on bucket: from revision start, or,
// with start 0, the last value of every key (a rebuild). empty says the
// stream held nothing to deliver at the start, so the caught-up marker
// comes at once.
func (m *Member) followBucket(ctx context.Context, bucket string, start uint64, empty bool) (*follower, error) {
	// No NamePrefix: each start gets a random name, so the consumer of a
	// run that ended (the server keeps it a while) is never in the way.
	// One filter subject: NATS 2.9 (Debian's) needs it for last-per-subject.
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy,
		FilterSubjects: []string{"$KV." + bucket + ".>"}}
	if start > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	}
	cons, err := m.js.OrderedConsumer(ctx, "KV_"+bucket, cfg)
	if err != nil {
		return nil, fmt.Errorf("fleet: follow %s: %w", bucket, err)
	}
	f := &follower{ch: make(chan *kvEntry, followPull)}
	prefix := "$KV." + bucket + "."
	marked := false
	if empty {
		f.ch <- nil
		marked = true
	}
	f.cc, err = cons.Consume(func(msg jetstream.Msg) {
		md, err := msg.Metadata()
		if err != nil {
			return
		}
		e := &kvEntry{key: strings.TrimPrefix(msg.Subject(), prefix), rev: md.Sequence.Stream, value: msg.Data(), pending: md.NumPending}
		switch msg.Headers().Get("KV-Operation") {
		case "DEL":
			e.op = jetstream.KeyValueDelete
		case "PURGE":
			e.op = jetstream.KeyValuePurge
		}
		select {
		case f.ch <- e:
		case <-ctx.Done():
			return
		}
		if !marked && md.NumPending == 0 {
			marked = true
			select {
			case f.ch <- nil:
			case <-ctx.Done():
			}
		}
	}, jetstream.PullMaxMessages(followPull))
	if err != nil {
		return nil, fmt.Errorf("fleet: follow %s: %w", bucket, err)
	}
	return f, nil
}
