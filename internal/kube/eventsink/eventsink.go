// Package eventsink records Kubernetes events through client-go's event
// broadcaster with a global rate limit: events are best effort, and at the
// scale of thousands of simulated pods an event per pod per step would
// outweigh the work itself, so past the limit they are dropped (and
// counted), never queued. The limit applies where an event is recorded,
// before the broadcaster builds, correlates and queues it: a dropped event
// costs nothing but the check.
package eventsink

import (
	"context"
	"sync/atomic"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
)

// Default rate and burst of events written per broadcaster: the
// kubelet's defaults (eventRecordQPS 50, eventBurst 100).
const (
	DefaultQPS   = 50
	DefaultBurst = 100
)

// Sink is the record.EventSink of a broadcaster and the rate limit of its
// recorders.
type Sink struct {
	inner   record.EventSink
	lim     *rate.Limiter
	dropped atomic.Int64
}

// New returns a sink writing through client at qps (burst) events a
// second; qps <= 0 takes the defaults.
func New(client kubernetes.Interface, qps float64, burst int) *Sink {
	if qps <= 0 {
		qps, burst = DefaultQPS, DefaultBurst
	}
	return &Sink{inner: &typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")}, lim: rate.NewLimiter(rate.Limit(qps), burst)}
}

// Dropped is how many events the limit dropped.
func (s *Sink) Dropped() int64 { return s.dropped.Load() }

func (s *Sink) allow() bool {
	if s.lim.Allow() {
		return true
	}
	s.dropped.Add(1)
	return false
}

// Create implements record.EventSink.
func (s *Sink) Create(e *corev1.Event) (*corev1.Event, error) { return s.inner.Create(e) }

// Update implements record.EventSink.
func (s *Sink) Update(e *corev1.Event) (*corev1.Event, error) { return s.inner.Update(e) }

// Patch implements record.EventSink.
func (s *Sink) Patch(e *corev1.Event, data []byte) (*corev1.Event, error) {
	return s.inner.Patch(e, data)
}

// NewBroadcaster returns an event broadcaster whose recorders are
// rate-limited by the returned sink; it stops with ctx (call Shutdown too).
func NewBroadcaster(ctx context.Context, client kubernetes.Interface) (record.EventBroadcaster, *Sink) {
	b := record.NewBroadcaster(record.WithContext(ctx))
	s := New(client, 0, 0)
	b.StartRecordingToSink(s)
	return &broadcaster{EventBroadcaster: b, sink: s}, s
}

type broadcaster struct {
	record.EventBroadcaster
	sink *Sink
}

// NewRecorder returns a recorder that drops events past the sink's limit.
func (b *broadcaster) NewRecorder(scheme *runtime.Scheme, source corev1.EventSource) record.EventRecorderLogger {
	return &recorder{inner: b.EventBroadcaster.NewRecorder(scheme, source), sink: b.sink}
}

type recorder struct {
	inner record.EventRecorderLogger
	sink  *Sink
}

func (r *recorder) Event(obj runtime.Object, eventtype, reason, message string) {
	if r.sink.allow() {
		r.inner.Event(obj, eventtype, reason, message)
	}
}

func (r *recorder) Eventf(obj runtime.Object, eventtype, reason, messageFmt string, args ...any) {
	if r.sink.allow() {
		r.inner.Eventf(obj, eventtype, reason, messageFmt, args...)
	}
}

func (r *recorder) AnnotatedEventf(obj runtime.Object, annotations map[string]string, eventtype, reason, messageFmt string, args ...any) {
	if r.sink.allow() {
		r.inner.AnnotatedEventf(obj, annotations, eventtype, reason, messageFmt, args...)
	}
}

func (r *recorder) WithLogger(logger klog.Logger) record.EventRecorderLogger {
	return &recorder{inner: r.inner.WithLogger(logger), sink: r.sink}
}
