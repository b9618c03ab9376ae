package marathon

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// bus fans Marathon events out to the /v2/events streams. Publishing never
// waits: it appends the event to each stream's pending bytes and wakes the
// stream, which writes what is pending in one write and one flush, at most
// once per flushEvery (one write and one flush per event and stream was
// most of the server's CPU while an app of 10,000 instances scaled with 100
// streams open). A stream that falls maxPending events behind is ended
// (its client reconnects, as with a real Marathon that dropped it).
type bus struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool

	mSubscribers prometheus.Gauge
	mDropped     prometheus.Counter
	mPublished   prometheus.Counter
}

// flushEvery bounds how often a stream writes: events that come within it
// go out together, at most that much later.
const flushEvery = 10 * time.Millisecond

// maxPending is how many events a stream may have waiting.
const maxPending = 4096

type subscriber struct {
	types map[string]bool // empty: all
	wake  chan struct{}   // capacity 1: something is pending
	done  chan struct{}
	once  sync.Once

	mu      sync.Mutex
	pending []byte // frames not yet written
	count   int    // how many
}

// take swaps the pending frames for buf (emptied) and returns them.
func (s *subscriber) take(buf []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.pending
	s.pending, s.count = buf[:0], 0
	return out
}

func (s *subscriber) end() { s.once.Do(func() { close(s.done) }) }

func newBus() *bus {
	return &bus{subs: map[*subscriber]struct{}{},
		mSubscribers: prometheus.NewGauge(prometheus.GaugeOpts{Name: "stratus_marathon_event_subscribers", Help: "Open /v2/events streams."}),
		mDropped:     prometheus.NewCounter(prometheus.CounterOpts{Name: "stratus_marathon_event_streams_dropped_total", Help: "Event streams ended because they fell behind."}),
		mPublished:   prometheus.NewCounter(prometheus.CounterOpts{Name: "stratus_marathon_events_published_total", Help: "Marathon events published."}),
	}
}

// wants reports whether any stream takes events of this type (so the
// caller can skip building one).
func (b *bus) wants(eventType string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if len(s.types) == 0 || s.types[eventType] {
			return true
		}
	}
	return false
}

// publish sends an event (fields plus eventType and timestamp).
func (b *bus) publish(eventType string, fields map[string]any) {
	if !b.wants(eventType) {
		return
	}
	fields["eventType"] = eventType
	fields["timestamp"] = versionTime(time.Now())
	data, err := json.Marshal(fields)
	if err != nil {
		return
	}
	frame := []byte("event: " + eventType + "\ndata: " + string(data) + "\n\n")
	b.mPublished.Inc()
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if len(s.types) > 0 && !s.types[eventType] {
			continue
		}
		s.mu.Lock()
		full := s.count >= maxPending
		if !full {
			s.pending = append(s.pending, frame...)
			s.count++
		}
		s.mu.Unlock()
		if full {
			delete(b.subs, s)
			s.end()
			b.mDropped.Inc()
			b.mSubscribers.Dec()
			continue
		}
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (b *bus) subscribe(types []string) *subscriber {
	s := &subscriber{types: map[string]bool{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	for _, t := range types {
		if t != "" {
			s.types[t] = true
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		s.end()
		return s
	}
	b.subs[s] = struct{}{}
	b.mSubscribers.Inc()
	return s
}

func (b *bus) unsubscribe(s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		b.mSubscribers.Dec()
	}
	s.end()
}

// close ends every stream.
func (b *bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		s.end()
		b.mSubscribers.Dec()
	}
}

// serveEvents is GET /v2/events: a Server-Sent Events stream, never ended
// by the server until it stops.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	if !acceptsEventStream(r) {
		writeJSON(w, http.StatusNotAcceptable, &apiError{Message: "Only text/event-stream is supported on this endpoint"})
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, s.log, errBadRequest("streaming is not supported"))
		return
	}
	sub := s.events.subscribe(r.URL.Query()["event_type"])
	defer s.events.unsubscribe(sub)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	w.WriteHeader(http.StatusOK)
	if len(sub.types) == 0 || sub.types["event_stream_attached"] {
		b, _ := json.Marshal(map[string]any{"remoteAddress": r.RemoteAddr, "eventType": "event_stream_attached", "timestamp": versionTime(time.Now())})
		_, _ = w.Write([]byte("event: event_stream_attached\ndata: " + string(b) + "\n\n"))
	}
	fl.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	var buf []byte
	var flushed time.Time
	for {
		select {
		case <-r.Context().Done():
			return
		case <-sub.done:
			return
		case <-keepAlive.C:
			if _, err := w.Write([]byte("\r\n")); err != nil {
				return
			}
			fl.Flush()
		case <-sub.wake:
			// Let what comes within flushEvery of the last write join
			// this one.
			if wait := flushEvery - time.Since(flushed); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-r.Context().Done():
					t.Stop()
					return
				case <-sub.done:
					t.Stop()
					return
				case <-t.C:
				}
			}
			buf = sub.take(buf)
			if len(buf) == 0 {
				continue
			}
			if _, err := w.Write(buf); err != nil {
				return
			}
			fl.Flush()
			flushed = time.Now()
		}
	}
}

func acceptsEventStream(r *http.Request) bool {
	for _, a := range r.Header.Values("Accept") {
		if a == "*/*" || strings.Contains(strings.ToLower(a), "text/event-stream") {
			return true
		}
	}
	return false
}
