package apiserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
	"github.com/stratus-cloud/stratus/internal/store"
)

// initialEventsEnd marks the bookmark that ends the initial events of a
// watch-list (sendInitialEvents=true).
const initialEventsEnd = "k8s.io/initial-events-end"

// watchFlushInterval is the shortest time between two flushes of a busy
// watch stream.
const watchFlushInterval = 5 * time.Millisecond

// watchBufferSize is the write buffer of one watch stream: once HTTP/2 has
// put its 9-byte frame header in front, a full buffer is exactly two full
// TLS records (16 KiB each), where 32 KiB would leave in three, the third
// carrying 9 bytes (and costing a write of its own).
const watchBufferSize = 2*16384 - 9

// watchWriter frames watch events for one HTTP stream.
type watchWriter struct {
	s       *Server
	w       io.Writer // bw, or the ResponseWriter for protobuf
	bw      *bufio.Writer
	flusher http.Flusher
	t       target
	res     *registry.Resource
	include string
	headers bool // table: column definitions not sent yet
	pb      streaming.Encoder
	buf     bytes.Buffer
}

func (ww *watchWriter) event(typ string, obj runtime.Object, cached bool) error {
	switch {
	case ww.t.mediaType == mtProtobuf:
		var raw bytes.Buffer
		if err := ww.s.codecs.Protobuf.Encode(obj, &raw); err != nil {
			return err
		}
		return ww.pb.Encode(&metav1.WatchEvent{Type: typ, Object: runtime.RawExtension{Raw: raw.Bytes()}})
	case ww.t.as == "Table" && typ != "BOOKMARK" && typ != "ERROR":
		tbl, err := ww.s.toTable(ww.res, []runtime.Object{obj}, ww.t.version, ww.include, ww.headers)
		if err != nil {
			return err
		}
		ww.headers = false
		tbl.ResourceVersion = objMetaRV(obj)
		data, err := ww.s.encode(target{mediaType: mtJSON}, tbl)
		if err != nil {
			return err
		}
		return ww.writeJSON(typ, bytes.TrimSuffix(data, []byte("\n")))
	case (ww.t.as == "PartialObjectMetadata" || ww.t.as == "PartialObjectMetadataList") && typ != "ERROR":
		data, err := ww.s.encode(target{mediaType: mtJSON}, partial(obj, ww.t.version))
		if err != nil {
			return err
		}
		return ww.writeJSON(typ, bytes.TrimSuffix(data, []byte("\n")))
	}
	var data []byte
	var err error
	if cached {
		data, err = ww.s.storage.JSON(ww.res, obj, ww.s.codecs.JSON)
	} else {
		data, err = ww.s.encode(target{mediaType: mtJSON}, obj)
		data = bytes.TrimSuffix(data, []byte("\n"))
	}
	if err != nil {
		return err
	}
	return ww.writeJSON(typ, data)
}

// send writes one event as type typ: plain objects as the framed bytes the
// event shares with every stream of the format, tables and metadata
// encoded for this stream.
func (ww *watchWriter) send(ev *watchEvent, typ int) error {
	if ww.t.as != "" {
		return ww.event(evTypeNames[typ], ev.obj, ev.cached)
	}
	var b []byte
	var err error
	if ww.t.mediaType == mtProtobuf {
		b, err = ev.pbFrame(ww.s, typ)
	} else {
		b, err = ev.jsonFrame(ww.s, ww.res, typ)
	}
	if err != nil {
		return err
	}
	_, err = ww.w.Write(b)
	return err
}

func (ww *watchWriter) writeJSON(typ string, obj []byte) error {
	b := &ww.buf
	b.Reset()
	b.WriteString(`{"type":"`)
	b.WriteString(typ)
	b.WriteString(`","object":`)
	b.Write(obj)
	b.WriteString("}\n")
	_, err := ww.w.Write(b.Bytes())
	return err
}

func (ww *watchWriter) flush() {
	if ww.bw != nil {
		_ = ww.bw.Flush()
	}
	if ww.flusher != nil {
		ww.flusher.Flush()
	}
}

func (ww *watchWriter) errorEvent(err error) {
	_ = ww.event("ERROR", watchErrorStatus(err), false)
	ww.flush()
}

// watchErrorStatus is the object of an ERROR watch event.
func watchErrorStatus(err error) *metav1.Status {
	st := statusOf(err)
	st.Kind, st.APIVersion = "Status", "v1"
	st.Status = metav1.StatusFailure
	return st
}

func (ww *watchWriter) bookmark(rev int64, end bool) error {
	return ww.event("BOOKMARK", bookmarkObject(ww.res, rev, end), false)
}

// bookmarkObject is the object of a BOOKMARK event at rev (end: the one
// that ends a watch-list's initial events).
func bookmarkObject(res *registry.Resource, rev int64, end bool) runtime.Object {
	obj := res.New()
	obj.GetObjectKind().SetGroupVersionKind(res.GVK())
	m, _ := meta.Accessor(obj)
	m.SetResourceVersion(strconv.FormatInt(rev, 10))
	if end {
		m.SetAnnotations(map[string]string{initialEventsEnd: "true"})
	}
	return obj
}

func tooOld(rv string, cur int64) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusGone,
		Reason: metav1.StatusReasonExpired, Message: fmt.Sprintf("too old resource version: %s (%d)", rv, cur)}}
}

func (s *Server) serveWatch(w http.ResponseWriter, r *http.Request, ri requestInfo, t target) {
	opts, pred, err := s.listOptions(r, ri.res)
	if err != nil {
		s.writeError(w, err)
		return
	}
	timeout := time.Duration(1800+rand.IntN(1800)) * time.Second
	if opts.TimeoutSeconds != nil && *opts.TimeoutSeconds > 0 {
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	stop := context.AfterFunc(s.base, cancel)
	defer stop()

	start, err := s.startWatch(ctx, ri.res, ri.namespace, opts, pred)
	if err != nil {
		s.writeError(w, err)
		return
	}
	ct := t.contentType()
	if t.mediaType == mtProtobuf {
		ct = mtProtobuf + ";stream=watch"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(http.StatusOK)
	// Events gather in a buffer larger than HTTP/2's 4 KiB handler chunks,
	// so a burst leaves in a few full frames.
	ww := &watchWriter{s: s, bw: bufio.NewWriterSize(w, watchBufferSize), t: t, res: ri.res, include: r.URL.Query().Get("includeObject"), headers: true}
	ww.w = ww.bw
	ww.flusher, _ = w.(http.Flusher)
	if t.mediaType == mtProtobuf {
		ww.pb = s.protobufWatchEncoder(ww.bw)
	}
	s.runWatch(ctx, ri.res, ri.namespace, pred, start, ww)
}

// watchStart is what a watch has settled before it sends anything: the
// objects of its initial events (with sendInitialEvents, or from "now"),
// and the revision its events start from.
type watchStart struct {
	initial []runtime.Object
	listRev int64
	fromRev int64
	// endBookmark: the initial events end with the bookmark that says so.
	endBookmark bool
	bookmarks   bool // the client asked for bookmarks
}

// startWatch settles a watch's start from its options; an error is the
// answer to the request, nothing having been sent yet.
func (s *Server) startWatch(ctx context.Context, res *registry.Resource, ns string, opts metav1.ListOptions, pred registry.Predicate) (watchStart, error) {
	ws := watchStart{bookmarks: opts.AllowWatchBookmarks}
	sendInitial := opts.ResourceVersion == "" || opts.ResourceVersion == "0"
	if opts.SendInitialEvents != nil {
		sendInitial = *opts.SendInitialEvents
	}
	if !sendInitial && opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
		n, err := strconv.ParseInt(opts.ResourceVersion, 10, 64)
		if err != nil || n < 0 {
			return ws, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version: %s", opts.ResourceVersion))
		}
		ws.fromRev = n + 1
	}
	if sendInitial {
		lr, err := s.storage.List(ctx, res, ns, pred, 0, "")
		if err != nil {
			return ws, err
		}
		ws.initial, ws.listRev, ws.fromRev = lr.Items, lr.Rev, lr.Rev+1
		ws.endBookmark = opts.SendInitialEvents != nil && opts.AllowWatchBookmarks
	}
	if ws.fromRev == 0 {
		// From now on: after the store's current revision.
		cur, err := s.opts.Store.Rev(ctx)
		if err != nil {
			return ws, apierrors.NewInternalError(err)
		}
		ws.fromRev = cur + 1
	}
	return ws, nil
}

// watchSink is where a watch's events go: framed onto an HTTP response
// (watchWriter), or as objects to a client in the process (objectSink).
type watchSink interface {
	// send sends a cached event as type typ.
	send(ev *watchEvent, typ int) error
	// event sends one object (cached: the storage's cached decoding).
	event(typ string, obj runtime.Object, cached bool) error
	bookmark(rev int64, end bool) error
	errorEvent(err error)
	flush()
}

// runWatch sends a started watch's initial events, then its changes until
// ctx ends or the stream fails.
func (s *Server) runWatch(ctx context.Context, res *registry.Resource, ns string, pred registry.Predicate, start watchStart, sink watchSink) {
	cache := s.acquireWatchCache(res)
	if cache != nil {
		defer cache.release()
	}
	s.metrics.watchers.Inc()
	defer s.metrics.watchers.Dec()

	for _, obj := range start.initial {
		if err := sink.event("ADDED", obj, true); err != nil {
			return
		}
	}
	if start.endBookmark {
		if err := sink.bookmark(start.listRev, true); err != nil {
			return
		}
	}
	sink.flush()
	st := &watchStream{s: s, ctx: ctx, ww: sink, res: res, prefix: registry.Prefix(res, ns),
		pred: pred, filter: !pred.Empty(), bookmarks: start.bookmarks, next: start.fromRev, cache: cache}
	for {
		if st.cache != nil {
			if !st.fromCache() {
				return
			}
			// The cache cannot serve the stream (any more): it reads the
			// store until it is back inside the cache's window.
		}
		if !st.fromStore() {
			return
		}
	}
}

// watchStream is one watch response after its initial events.
type watchStream struct {
	s         *Server
	ctx       context.Context
	ww        watchSink
	res       *registry.Resource
	prefix    string // the namespace's (or all) keys
	pred      registry.Predicate
	filter    bool
	bookmarks bool
	next      int64 // the first revision not yet sent
	cache     *watchCache
	buf       []*watchEvent
}

// fromCache sends from the watch cache. It returns true when the stream
// must read the store instead, false when the stream is over.
func (st *watchStream) fromCache() bool {
	first, progress := true, uint64(0)
	for {
		r, ok := st.cache.read(st.next, st.buf)
		if !ok {
			if st.cache.isExpired() {
				cur, _ := st.s.opts.Store.Rev(st.ctx)
				st.ww.errorEvent(tooOld(strconv.FormatInt(st.next-1, 10), cur))
				return false
			}
			return true
		}
		if first {
			// Bookmarks are for progress notifications after the start.
			first, progress = false, r.progress
		}
		for _, ev := range r.events {
			if err := st.deliver(ev); err != nil {
				return false
			}
		}
		st.buf = r.events[:0]
		clear(r.events)
		wrote := len(r.events) > 0
		st.next = max(st.next, r.upTo+1)
		if st.bookmarks && r.progress != progress {
			progress = r.progress
			if st.ww.bookmark(st.next-1, false) != nil {
				return false
			}
			wrote = true
		}
		if wrote {
			st.ww.flush()
		}
		select {
		case <-st.ctx.Done():
			return false
		case <-r.wake:
		}
	}
}

// fromStore sends from a store watch of the stream's own. It returns true
// when the stream can go back to the cache, false when it is over.
//
// Flushes are paced: a quiet stream is flushed at once; a busy one at most
// every watchFlushInterval, and between two flushes it is not read, so the
// store gathers what happens meanwhile into one batch. A burst of events
// thus reaches the client in a few large writes, not in one small TLS record
// and two goroutine wake-ups each.
func (st *watchStream) fromStore() bool {
	s, ctx, ww := st.s, st.ctx, st.ww
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := s.opts.Store.Watch(wctx, st.prefix, store.WatchOptions{Rev: st.next, ProgressNotify: st.bookmarks})
	if err != nil {
		// Backends report a compacted start on the channel; should one
		// fail Watch with it instead, it is still a 410.
		if errors.Is(err, store.ErrCompacted) {
			cur, _ := s.opts.Store.Rev(ctx)
			ww.errorEvent(tooOld(strconv.FormatInt(st.next-1, 10), cur))
		} else {
			ww.errorEvent(apierrors.NewInternalError(err))
		}
		return false
	}
	handle := func(b store.WatchBatch, ok bool) bool {
		if !ok {
			return false
		}
		if b.Err != nil {
			if errors.Is(b.Err, store.ErrCompacted) {
				cur, _ := s.opts.Store.Rev(ctx)
				ww.errorEvent(tooOld(strconv.FormatInt(st.next-1, 10), cur))
			}
			return false
		}
		if len(b.Events) == 0 {
			st.next = max(st.next, b.Rev+1)
			if st.bookmarks {
				return ww.bookmark(b.Rev, false) == nil
			}
			return true
		}
		for _, e := range b.Events {
			if ev := s.newWatchEvent(st.res, e); ev != nil {
				if err := st.deliver(ev); err != nil {
					return false
				}
			}
			st.next = e.KV.ModRev + 1
		}
		return true
	}
	drain := func() bool {
		for {
			select {
			case b, ok := <-ch:
				if !handle(b, ok) {
					return false
				}
			default:
				return true
			}
		}
	}
	lastFlush := time.Now()
	pause := time.NewTimer(time.Hour)
	pause.Stop()
	defer pause.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case b, ok := <-ch:
			if !handle(b, ok) || !drain() {
				return false
			}
		}
		if wait := watchFlushInterval - time.Since(lastFlush); wait > 0 {
			pause.Reset(wait)
			select {
			case <-ctx.Done():
				return false
			case <-pause.C:
			}
			if !drain() {
				return false
			}
		}
		ww.flush()
		lastFlush = time.Now()
		if st.cache != nil && st.cache.covers(st.next) {
			return true
		}
	}
}

// deliver sends one event if the stream selects it. With a selector, an
// object that starts matching is ADDED and one that stops is DELETED, at
// the revision of the change, as the real server does.
func (st *watchStream) deliver(ev *watchEvent) error {
	if !strings.HasPrefix(ev.key, st.prefix) {
		return nil
	}
	typ := ev.typ
	if st.filter {
		now := ev.matches(st.s, st.res, st.pred, false)
		switch {
		case ev.typ == evDeleted:
			if !now {
				return nil
			}
		default:
			was := ev.prevKV != nil && ev.matches(st.s, st.res, st.pred, true)
			switch {
			case now && !was:
				typ = evAdded
			case !now && was:
				typ = evDeleted
			case !now:
				return nil
			}
		}
	}
	return st.ww.send(ev, typ)
}
