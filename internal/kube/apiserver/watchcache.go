package apiserver

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
	"github.com/stratus-cloud/stratus/internal/store"
)

// The watch cache: one store watcher per watched resource, whose events are
// decoded once and encoded once per wire format, on first use, into the
// framed bytes every stream of that format writes as they are. What is
// left per stream is the namespace and selector check and a copy into its
// buffer. Streams read the cache's ring of recent events at their own pace;
// one that starts before the ring or falls out of it reads the store itself
// until it is back inside (the store then decides about 410 Gone).

const (
	// watchCacheCapacity is about how many recent events a watch cache
	// keeps (whole revisions: a little more when trimming would split one).
	watchCacheCapacity = 4096
	// watchCacheIdle is how long a cache nobody reads lives on, so a
	// stream that ends and is re-established finds it warm.
	watchCacheIdle = time.Minute
	// watchReadBatch caps the events one stream takes from the cache at
	// once (a flush each), so a stream far behind still flushes regularly.
	watchReadBatch = 1024
)

// Event types, as indices into the per-type encodings.
const (
	evAdded = iota
	evModified
	evDeleted
)

var evTypeNames = [...]string{evAdded: "ADDED", evModified: "MODIFIED", evDeleted: "DELETED"}

// watchEvent is one change, decoded once and shared by every stream that
// sends it. It is immutable but for its encodings, each made once.
type watchEvent struct {
	rev int64
	key string
	typ int
	// obj is the new state; for a delete, the last state with the deleting
	// revision as its resourceVersion.
	obj runtime.Object
	// cached: obj is the storage's cached decoding (whose JSON it caches).
	cached bool
	// prevKV is the state before a modification, for selector transitions.
	prevKV *store.KV

	prevOnce sync.Once
	prev     runtime.Object // decoded from prevKV on first use; nil if it fails

	fieldsOnce, prevFieldsOnce sync.Once
	fields, prevFields         fields.Set

	jsonOnce sync.Once
	json     []byte // `{"type":…,"object":…}\n` for typ
	jsonObj  []byte // the object inside json
	jsonErr  error
	pbOnce   sync.Once
	pb       []byte // the length-prefixed protobuf WatchEvent for typ
	pbErr    error
}

// newWatchEvent decodes one store event; nil means there is nothing to
// send for it.
func (s *Server) newWatchEvent(res *registry.Resource, ev store.Event) *watchEvent {
	if ev.Type == store.EventDelete {
		if ev.Prev == nil {
			return nil
		}
		obj, err := s.storage.DecodeDeleted(res, ev.Prev, ev.KV.ModRev)
		if err != nil {
			return nil
		}
		return &watchEvent{rev: ev.KV.ModRev, key: ev.KV.Key, typ: evDeleted, obj: obj}
	}
	obj, err := s.storage.Decode(res, ev.KV)
	if err != nil {
		s.log.Warn("watch: undecodable object", "key", ev.KV.Key, "err", err)
		return nil
	}
	typ := evModified
	if ev.Prev == nil {
		typ = evAdded
	}
	return &watchEvent{rev: ev.KV.ModRev, key: ev.KV.Key, typ: typ, obj: obj, cached: true, prevKV: ev.Prev}
}

// prevObj is the state before a modification (nil for a create, or when it
// cannot be decoded).
func (ev *watchEvent) prevObj(s *Server, res *registry.Resource) runtime.Object {
	ev.prevOnce.Do(func() {
		if ev.prevKV == nil {
			return
		}
		if p, err := s.storage.Decode(res, ev.prevKV); err == nil {
			ev.prev = p
		}
	})
	return ev.prev
}

// matches applies pred to the new state (or, with prev, to the state
// before), computing the selectable fields once per event.
func (ev *watchEvent) matches(s *Server, res *registry.Resource, pred registry.Predicate, prev bool) bool {
	obj, once, set := ev.obj, &ev.fieldsOnce, &ev.fields
	if prev {
		if obj = ev.prevObj(s, res); obj == nil {
			return false
		}
		once, set = &ev.prevFieldsOnce, &ev.prevFields
	}
	if pred.Label != nil && !pred.Label.Empty() {
		m, err := meta.Accessor(obj)
		if err != nil || !pred.Label.Matches(labels.Set(m.GetLabels())) {
			return false
		}
	}
	if pred.Field != nil && !pred.Field.Empty() {
		once.Do(func() { *set = registry.FieldSet(res, obj) })
		if !pred.Field.Matches(*set) {
			return false
		}
	}
	return true
}

// jsonFrame is the JSON watch line of this event as type typ. The line for
// the event's own type is made once; another type (a selector transition)
// reuses its object encoding.
func (ev *watchEvent) jsonFrame(s *Server, res *registry.Resource, typ int) ([]byte, error) {
	ev.jsonOnce.Do(func() {
		var obj []byte
		if ev.cached {
			obj, ev.jsonErr = s.storage.JSON(res, ev.obj, s.codecs.JSON)
		} else {
			obj, ev.jsonErr = s.encode(target{mediaType: mtJSON}, ev.obj)
			obj = bytes.TrimSuffix(obj, []byte("\n"))
		}
		if ev.jsonErr == nil {
			ev.json, ev.jsonObj = appendJSONEvent(nil, evTypeNames[ev.typ], obj)
		}
	})
	if ev.jsonErr != nil || typ == ev.typ {
		return ev.json, ev.jsonErr
	}
	line, _ := appendJSONEvent(nil, evTypeNames[typ], ev.jsonObj)
	return line, nil
}

// appendJSONEvent appends one watch line and returns it with the object
// part of it.
func appendJSONEvent(b []byte, typ string, obj []byte) (line, objPart []byte) {
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","object":`...)
	start := len(b)
	b = append(b, obj...)
	end := len(b)
	b = append(b, "}\n"...)
	return b, b[start:end:end]
}

// pbFrame is the protobuf watch frame of this event as type typ; the one
// for the event's own type is made once.
func (ev *watchEvent) pbFrame(s *Server, typ int) ([]byte, error) {
	if typ != ev.typ {
		return s.protobufWatchFrame(evTypeNames[typ], ev.obj)
	}
	ev.pbOnce.Do(func() { ev.pb, ev.pbErr = s.protobufWatchFrame(evTypeNames[ev.typ], ev.obj) })
	return ev.pb, ev.pbErr
}

// protobufWatchFrame encodes a WatchEvent as a protobuf watch stream
// carries it: a length prefix, then the event.
func (s *Server) protobufWatchFrame(typ string, obj runtime.Object) ([]byte, error) {
	var raw bytes.Buffer
	if err := s.codecs.Protobuf.Encode(obj, &raw); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := s.protobufWatchEncoder(&out).Encode(&metav1.WatchEvent{Type: typ, Object: runtime.RawExtension{Raw: raw.Bytes()}}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// protobufWatchEncoder frames protobuf watch events onto w.
func (s *Server) protobufWatchEncoder(w interface{ Write([]byte) (int, error) }) streaming.Encoder {
	info, _ := runtime.SerializerInfoForMediaType(s.codecs.Factory.SupportedMediaTypes(), mtProtobuf)
	return streaming.NewEncoder(info.StreamSerializer.Framer.NewFrameWriter(w), info.StreamSerializer.Serializer)
}

// watchCache follows one resource in the store for every stream on it.
type watchCache struct {
	s      *Server
	res    *registry.Resource
	cancel context.CancelFunc // ends the store watch

	capacity  int
	idleAfter time.Duration

	mu       sync.RWMutex
	events   []*watchEvent // every event of the resource with rev > oldest
	oldest   int64
	rev      int64  // the store revision the cache has reached
	progress uint64 // progress notifications seen (bookmarks)
	wake     chan struct{}
	stopped  bool
	// expired: stopped by ExpireWatches; its streams end with 410.
	expired bool
	subs    int
	idle    time.Time // since when subs is 0
}

// watchCaches are the server's caches, one per resource being watched.
type watchCaches struct {
	mu sync.Mutex
	m  map[*registry.Resource]*watchCache
	wg sync.WaitGroup // the caches' goroutines
	// capacity and idle default to watchCacheCapacity and watchCacheIdle
	// (tests shrink them).
	capacity int
	idle     time.Duration
}

func (wc *watchCaches) limits() (capacity int, idle time.Duration) {
	capacity, idle = wc.capacity, wc.idle
	if capacity <= 0 {
		capacity = watchCacheCapacity
	}
	if idle <= 0 {
		idle = watchCacheIdle
	}
	return capacity, idle
}

// acquireWatchCache returns the resource's cache, starting it if need be,
// with one more reader counted; the caller releases it. It returns nil when
// no cache can be had (the stream then reads the store).
func (s *Server) acquireWatchCache(res *registry.Resource) *watchCache {
	wc := &s.watchCaches
	wc.mu.Lock()
	defer wc.mu.Unlock()
	if c := wc.m[res]; c != nil {
		c.mu.Lock()
		c.subs++
		c.mu.Unlock()
		return c
	}
	if s.base.Err() != nil {
		return nil
	}
	cur, err := s.opts.Store.Rev(s.base)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithCancel(s.base)
	ch, err := s.opts.Store.Watch(ctx, registry.Prefix(res, ""), store.WatchOptions{Rev: cur + 1, ProgressNotify: true})
	if err != nil {
		cancel()
		return nil
	}
	c := &watchCache{s: s, res: res, cancel: cancel, oldest: cur, rev: cur, wake: make(chan struct{}), subs: 1}
	c.capacity, c.idleAfter = wc.limits()
	if wc.m == nil {
		wc.m = map[*registry.Resource]*watchCache{}
	}
	wc.m[res] = c
	wc.wg.Add(1)
	go c.run(ctx, ch)
	return c
}

func (c *watchCache) release() {
	c.mu.Lock()
	c.subs--
	if c.subs == 0 {
		c.idle = time.Now()
	}
	c.mu.Unlock()
}

// dropIfIdle stops the cache when nobody has read it for watchCacheIdle.
func (c *watchCache) dropIfIdle() bool {
	wc := &c.s.watchCaches
	wc.mu.Lock()
	defer wc.mu.Unlock()
	c.mu.Lock()
	idle := c.subs == 0 && time.Since(c.idle) >= c.idleAfter
	c.mu.Unlock()
	if idle {
		c.stop()
	}
	return idle
}

// stop ends the cache: streams still on it go to the store. The caller
// holds the server's watchCaches.mu; stopping twice is harmless.
func (c *watchCache) stop() {
	c.cancel()
	wc := &c.s.watchCaches
	if wc.m[c.res] == c {
		delete(wc.m, c.res)
	}
	c.mu.Lock()
	if !c.stopped {
		c.stopped = true
		close(c.wake)
	}
	c.mu.Unlock()
}

// run follows the store. Streams are woken at once when the resource was
// quiet, and at most every watchFlushInterval while it is busy, so each
// stream wakes once for a batch of events, not once per event.
func (c *watchCache) run(ctx context.Context, ch <-chan store.WatchBatch) {
	wc := &c.s.watchCaches
	defer wc.wg.Done()
	defer func() {
		wc.mu.Lock()
		c.stop()
		wc.mu.Unlock()
	}()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	idle := time.NewTicker(c.idleAfter / 4)
	defer idle.Stop()
	var lastWake time.Time
	pending, armed := false, false
	for {
		select {
		case b, ok := <-ch:
			if !ok {
				return
			}
			if b.Err != nil {
				if !errors.Is(b.Err, store.ErrCompacted) {
					c.s.log.Warn("watch cache: store watch ended", "resource", c.res.Name, "err", b.Err)
				}
				return
			}
			c.add(b)
			pending = true
		case <-timer.C:
			armed = false
		case <-idle.C:
			if c.dropIfIdle() {
				return
			}
			continue
		}
		if !pending || armed {
			continue
		}
		if wait := watchFlushInterval - time.Since(lastWake); wait > 0 {
			timer.Reset(wait)
			armed = true
			continue
		}
		c.mu.Lock()
		if !c.stopped { // stop closed it for good
			close(c.wake)
			c.wake = make(chan struct{})
		}
		c.mu.Unlock()
		pending, lastWake = false, time.Now()
	}
}

// add appends one store batch (decoded outside the lock).
func (c *watchCache) add(b store.WatchBatch) {
	evs := make([]*watchEvent, 0, len(b.Events))
	for _, e := range b.Events {
		if ev := c.s.newWatchEvent(c.res, e); ev != nil {
			evs = append(evs, ev)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, evs...)
	if len(b.Events) == 0 {
		c.progress++
	}
	c.rev = max(c.rev, b.Rev)
	// Trim as the store does: a quarter over capacity, back to capacity,
	// whole revisions only, into a new array (readers copy out under the
	// lock, so the old one is free once they are done).
	if n := len(c.events); n > c.capacity+c.capacity/4 {
		over := n - c.capacity
		cut := c.events[over-1].rev
		for over < n && c.events[over].rev == cut {
			over++
		}
		c.oldest = cut
		c.events = append(make([]*watchEvent, 0, c.capacity+c.capacity/4+1), c.events[over:]...)
	}
}

// cacheRead is what one read of the cache gives a stream.
type cacheRead struct {
	events   []*watchEvent
	upTo     int64 // the stream has everything up to this revision after events
	progress uint64
	wake     <-chan struct{} // closed when there is more to read
}

// closedChan is always ready: more is to be read at once.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// read returns the events from revision next on (whole revisions, about
// watchReadBatch at most). ok is false when the cache cannot serve next:
// it is older than the ring, or the cache stopped.
func (c *watchCache) read(next int64, buf []*watchEvent) (cacheRead, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.stopped || next-1 < c.oldest {
		return cacheRead{}, false
	}
	evs := c.events
	i := sort.Search(len(evs), func(i int) bool { return evs[i].rev >= next })
	j := min(len(evs), i+watchReadBatch)
	for j < len(evs) && j > i && evs[j].rev == evs[j-1].rev {
		j++
	}
	r := cacheRead{events: append(buf[:0], evs[i:j]...), upTo: c.rev, progress: c.progress, wake: c.wake}
	if j < len(evs) {
		r.upTo, r.wake = evs[j-1].rev, closedChan
	}
	return r, true
}

// covers reports whether the cache can serve a stream from revision next.
func (c *watchCache) covers(next int64) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return !c.stopped && next-1 >= c.oldest
}

// stopWatchCaches ends every cache and waits for their goroutines (Stop).
func (s *Server) stopWatchCaches() {
	wc := &s.watchCaches
	wc.mu.Lock()
	for _, c := range wc.m {
		c.stop()
	}
	wc.mu.Unlock()
	wc.wg.Wait()
}

// ExpireWatches ends every watch stream served from a watch cache with 410
// "too old resource version", as the real API does after an etcd restore,
// and stops the caches; clients relist. It is called just before the
// store's state is replaced (a reset or a snapshot restore), so no stream
// sees the replacement as events; new watches start new caches.
func (s *Server) ExpireWatches() {
	wc := &s.watchCaches
	wc.mu.Lock()
	for _, c := range wc.m {
		c.mu.Lock()
		c.expired = true
		c.mu.Unlock()
		c.stop()
	}
	wc.mu.Unlock()
}

func (c *watchCache) isExpired() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.expired
}
