package apiserver

import (
	"context"
	"errors"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
	"github.com/stratus-cloud/stratus/internal/store"
)

// DefaultEventTTL is kube-apiserver's --event-ttl default.
const DefaultEventTTL = time.Hour

// eventExpiry removes Events once EventTTL has passed since their last
// write. kube-apiserver gets the same from etcd: every write of an Event
// attaches a lease of --event-ttl, and etcd deletes the key when it runs
// out. Here one loop follows the store's Event keys and deletes each at
// its deadline, conditioned on the revision it saw, so an Event written
// again in the meantime lives on. Watchers see the delete as a DELETED
// event, as they do when etcd's lease expires.
//
// Events present when the loop starts (a restart) are given their
// deadline from their own newest timestamp (creation, lastTimestamp,
// eventTime, series.lastObservedTime), since the store does not record
// write times.
type eventExpiry struct {
	s   *Server
	ttl time.Duration
	r   *registry.Resource
	// due is each Event key's deadline and the revision it was set for.
	due map[string]dueAt
	// sweep is how often deadlines are checked.
	sweep time.Duration
}

type dueAt struct {
	at  time.Time
	rev int64
}

func (s *Server) startEventExpiry() {
	ttl := s.opts.EventTTL
	if ttl == 0 {
		ttl = DefaultEventTTL
	}
	r := s.reg.Lookup("", "v1", "events")
	if ttl < 0 || r == nil {
		return
	}
	e := &eventExpiry{s: s, ttl: ttl, r: r, due: map[string]dueAt{}, sweep: min(ttl/10, time.Minute)}
	s.eventsDone = make(chan struct{})
	go e.run(s.base)
}

// run follows the Event keys until ctx ends, relisting when the watch
// falls out of the store's history.
func (e *eventExpiry) run(ctx context.Context) {
	defer close(e.s.eventsDone)
	for ctx.Err() == nil {
		err := e.follow(ctx)
		if err != nil && ctx.Err() == nil {
			e.s.log.Debug("event expiry: relisting", "err", err)
			t := time.NewTimer(time.Second)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
}

func (e *eventExpiry) follow(ctx context.Context) error {
	prefix := registry.Prefix(e.r, "")
	res, err := e.s.opts.Store.List(ctx, prefix, store.ListOptions{})
	if err != nil {
		return err
	}
	clear(e.due)
	for _, kv := range res.KVs {
		at := e.s.now()
		if obj, err := e.s.storage.Decode(e.r, kv); err == nil {
			if ev, ok := obj.(*corev1.Event); ok {
				at = lastEventTime(ev)
			}
		}
		e.due[kv.Key] = dueAt{at: at.Add(e.ttl), rev: kv.ModRev}
	}
	ch, err := e.s.opts.Store.Watch(ctx, prefix, store.WatchOptions{Rev: res.Rev + 1})
	if err != nil {
		return err
	}
	t := time.NewTicker(e.sweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case b, ok := <-ch:
			if !ok {
				return errors.New("watch closed")
			}
			if b.Err != nil {
				return b.Err
			}
			now := e.s.now()
			for _, ev := range b.Events {
				if ev.Type == store.EventDelete {
					delete(e.due, ev.KV.Key)
				} else {
					e.due[ev.KV.Key] = dueAt{at: now.Add(e.ttl), rev: ev.KV.ModRev}
				}
			}
		case <-t.C:
			e.expire(ctx)
		}
	}
}

// expire deletes the Events past their deadline, many per transaction
// (Events come and go by the thousand on a busy cluster, and each
// transaction of a durable store costs a disk sync). An Event written since
// its deadline was set fails its condition: it is left out and the rest
// retried; its new deadline comes with the watch.
func (e *eventExpiry) expire(ctx context.Context) {
	now := e.s.now()
	var ops []store.Op
	for key, d := range e.due {
		if !now.Before(d.at) {
			ops = append(ops, store.DeleteAt(key, d.rev))
		}
	}
	for len(ops) > 0 && ctx.Err() == nil {
		batch := ops[:min(len(ops), eventDeleteBatch)]
		_, err := e.s.opts.Store.Txn(ctx, batch...)
		var ce *store.ConflictError
		switch {
		case err == nil:
			for _, op := range batch {
				delete(e.due, op.Key)
			}
			ops = ops[len(batch):]
		case errors.As(err, &ce):
			delete(e.due, ce.Key)
			ops = slices.DeleteFunc(ops, func(op store.Op) bool { return op.Key == ce.Key })
		default:
			if ctx.Err() == nil {
				e.s.log.Warn("event expiry: delete", "err", err)
			}
			return
		}
	}
}

// eventDeleteBatch caps the deletes of one expiry transaction.
const eventDeleteBatch = 256

// lastEventTime is the newest time an Event records about itself.
func lastEventTime(ev *corev1.Event) time.Time {
	t := ev.CreationTimestamp.Time
	for _, c := range []time.Time{ev.LastTimestamp.Time, ev.EventTime.Time} {
		if c.After(t) {
			t = c
		}
	}
	if ev.Series != nil && ev.Series.LastObservedTime.After(t) {
		t = ev.Series.LastObservedTime.Time
	}
	return t
}
