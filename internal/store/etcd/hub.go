package etcd

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/stratus-cloud/stratus/internal/store"
)

// A hub is the one etcd watch on the store's whole prefix that every
// store watcher shares. It keeps the events it has received in a bounded,
// revision-ordered buffer; each watcher reads the buffer at its own pace in
// its own goroutine, so the hub never waits for a watcher and a slow
// watcher delays nobody. A watcher that starts before the buffer's oldest
// revision, or falls behind it, or outlives a failed hub, goes on with an
// etcd watch of its own (which answers ErrCompacted if etcd no longer has
// the history).
type hub struct {
	s      *Store
	cancel context.CancelFunc

	mu sync.RWMutex
	// evs[start:] are the buffered events, in revision order.
	evs   []store.Event
	start int
	bytes int
	// oldest is the first revision whose events are all in the buffer.
	oldest int64
	// rev is the revision the hub has every event up to.
	rev int64
	// changed closes when events arrive or rev moves (then is replaced);
	// progress closes when etcd sends a progress notification.
	changed, progress chan struct{}
	// err is set when the hub's etcd watch ended.
	err error
}

// maxBatch caps the events in one WatchBatch (a batch may exceed it only
// to keep one revision's events together).
const maxBatch = 1024

// sharedHub returns the running hub, starting one if there is none (or
// the last one failed).
func (s *Store) sharedHub(ctx context.Context) (*hub, error) {
	s.hubMu.Lock()
	defer s.hubMu.Unlock()
	if h := s.hub; h != nil {
		h.mu.RLock()
		failed := h.err != nil
		h.mu.RUnlock()
		if !failed {
			return h, nil
		}
	}
	r, err := s.Rev(ctx)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithCancel(clientv3.WithRequireLeader(s.ctx))
	h := &hub{s: s, cancel: cancel, oldest: r + 1, rev: r, changed: make(chan struct{}), progress: make(chan struct{})}
	wch := s.c.Watch(hctx, s.prefix, clientv3.WithPrefix(), clientv3.WithRev(r+1), clientv3.WithPrevKV(), clientv3.WithProgressNotify())
	go h.run(hctx, wch)
	s.hub = h
	s.hubs.Add(1)
	return h, nil
}

// run moves the etcd watch's responses into the buffer.
func (h *hub) run(ctx context.Context, wch clientv3.WatchChan) {
	defer h.cancel()
	for resp := range wch {
		switch {
		case resp.CompactRevision != 0:
			h.fail(store.ErrCompacted)
			return
		case resp.Canceled || resp.Err() != nil:
			err := h.s.err(resp.Err())
			if err == nil {
				err = errors.New("etcd store: shared watch cancelled")
			}
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			h.fail(err)
			return
		case resp.IsProgressNotify():
			h.mu.Lock()
			h.rev = max(h.rev, resp.Header.Revision)
			close(h.progress)
			h.progress = make(chan struct{})
			h.wake()
			h.mu.Unlock()
			continue
		}
		evs := h.s.events(resp.Events)
		h.mu.Lock()
		for i := range evs {
			h.bytes += eventSize(&evs[i])
		}
		h.evs = append(h.evs, evs...)
		if n := len(evs); n > 0 {
			h.rev = max(h.rev, evs[n-1].KV.ModRev)
		}
		h.trim()
		h.wake()
		h.mu.Unlock()
	}
	// The channel closed: the store closed, or the watch was cancelled.
	err := ctx.Err()
	if err == nil {
		err = errors.New("etcd store: shared watch ended")
	}
	h.fail(err)
}

// fail ends the hub: its watchers finish what is buffered, then go on
// with watches of their own.
func (h *hub) fail(err error) {
	h.mu.Lock()
	if h.err == nil {
		h.err = err
		h.wake()
	}
	h.mu.Unlock()
	if !errors.Is(err, context.Canceled) && !h.s.closed.Load() {
		h.s.log.Warn("shared etcd watch ended; watchers continue on their own watches", "err", err)
	}
}

// wake tells the watchers that something changed. h.mu must be held.
func (h *hub) wake() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// trim drops the oldest events, whole revisions at a time, while the
// buffer holds more than the store's limits. h.mu must be held.
func (h *hub) trim() {
	lim := &h.s.opts
	i := h.start
	for i < len(h.evs) && (len(h.evs)-i > lim.WatchCacheEvents || h.bytes > lim.WatchCacheBytes) {
		r := h.evs[i].KV.ModRev
		for i < len(h.evs) && h.evs[i].KV.ModRev == r {
			h.bytes -= eventSize(&h.evs[i])
			h.evs[i] = store.Event{}
			i++
		}
		h.oldest = r + 1
	}
	h.start = i
	// Reuse the front of the slice once half of it is dropped.
	if h.start > 0 && h.start >= len(h.evs)/2 {
		n := copy(h.evs, h.evs[h.start:])
		clear(h.evs[n:])
		h.evs = h.evs[:n]
		h.start = 0
	}
}

// compacted raises the buffer's oldest revision to rev, as etcd's history
// was compacted to it: a watch from before rev must answer ErrCompacted.
func (h *hub) compacted(rev int64) {
	h.mu.Lock()
	h.oldest = max(h.oldest, rev)
	h.mu.Unlock()
}

func eventSize(ev *store.Event) int {
	n := 64 + len(ev.KV.Key) + len(ev.KV.Value)
	if ev.Prev != nil {
		n += len(ev.Prev.Value)
	}
	return n
}

// collect returns the buffered events under prefix from revision next on
// (at most about maxBatch, whole revisions only) and the revision they
// bring the watcher up to. h.mu must be held.
func (h *hub) collect(prefix string, next int64) ([]store.Event, int64) {
	buf := h.evs[h.start:]
	lo, hi := 0, len(buf)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if buf[m].KV.ModRev < next {
			lo = m + 1
		} else {
			hi = m
		}
	}
	var evs []store.Event
	for i := lo; i < len(buf); i++ {
		ev := &buf[i]
		if len(evs) >= maxBatch && ev.KV.ModRev != evs[len(evs)-1].KV.ModRev {
			return evs, evs[len(evs)-1].KV.ModRev
		}
		if strings.HasPrefix(ev.KV.Key, prefix) {
			evs = append(evs, *ev)
		}
	}
	return evs, h.rev
}

// serve feeds one watcher from the hub, from revision next on, until ctx
// ends or the store closes. It hands over to an etcd watch of the
// watcher's own when the buffer no longer has what the watcher needs.
func (h *hub) serve(ctx context.Context, prefix string, next int64, progress bool, out chan<- store.WatchBatch) {
	s := h.s
	send := func(b store.WatchBatch) bool { return s.send(ctx, out, b) }
	var tick <-chan time.Time
	if progress {
		t := time.NewTicker(s.opts.ProgressInterval)
		defer t.Stop()
		tick = t.C
	}
	wantProgress := false
	for {
		h.mu.RLock()
		if next < h.oldest {
			h.mu.RUnlock()
			s.watchAlone(ctx, prefix, next, progress, out)
			return
		}
		evs, upTo := h.collect(prefix, next)
		changed, prog, failed := h.changed, h.progress, h.err != nil
		h.mu.RUnlock()
		if upTo >= next {
			if len(evs) > 0 {
				if !send(store.WatchBatch{Events: evs, Rev: upTo}) {
					return
				}
				wantProgress = false
			}
			next = upTo + 1
			if len(evs) >= maxBatch {
				continue // capped: more to read
			}
		}
		if wantProgress {
			// Caught up with nothing to send: say how far that is.
			if !send(store.WatchBatch{Rev: next - 1}) {
				return
			}
			wantProgress = false
		}
		if failed {
			// Everything the hub received is delivered.
			if ctx.Err() == nil && !s.closed.Load() {
				s.watchAlone(ctx, prefix, next, progress, out)
			}
			return
		}
		if !progress {
			prog = nil
		}
		select {
		case <-changed:
		case <-prog:
			wantProgress = true
		case <-tick:
			wantProgress = true
		case <-ctx.Done():
			return
		case <-s.done:
			return
		}
	}
}

// events converts etcd events to the store's.
func (s *Store) events(in []*clientv3.Event) []store.Event {
	evs := make([]store.Event, len(in))
	for i, ev := range in {
		if ev.Type == mvccpb.DELETE {
			evs[i] = store.Event{
				Type: store.EventDelete,
				KV:   &store.KV{Key: string(ev.Kv.Key[len(s.prefix):]), ModRev: ev.Kv.ModRevision},
				Prev: s.kv(ev.PrevKv),
			}
			continue
		}
		e := store.Event{Type: store.EventPut, KV: s.kv(ev.Kv)}
		if !ev.IsCreate() {
			e.Prev = s.kv(ev.PrevKv)
		}
		evs[i] = e
	}
	return evs
}
