// Package eventsink records Kubernetes events through client-go's event
// broadcaster with a global rate limit: events are best effort, and at the
// scale of thousands of simulated pods an event per pod per step would
// outweigh the work itself, so past the limit they are dropped (and
// counted), never queued.
package eventsink

import (
	"context"
	"sync/atomic"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
)

// Default rate and burst of events written per broadcaster.
const (
	DefaultQPS   = 100
	DefaultBurst = 300
)

// Sink is a rate-limited record.EventSink.
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
func (s *Sink) Create(e *corev1.Event) (*corev1.Event, error) {
	if !s.allow() {
		return e, nil
	}
	return s.inner.Create(e)
}

// Update implements record.EventSink.
func (s *Sink) Update(e *corev1.Event) (*corev1.Event, error) {
	if !s.allow() {
		return e, nil
	}
	return s.inner.Update(e)
}

// Patch implements record.EventSink.
func (s *Sink) Patch(e *corev1.Event, data []byte) (*corev1.Event, error) {
	if !s.allow() {
		return e, nil
	}
	return s.inner.Patch(e, data)
}

// NewBroadcaster returns an event broadcaster recording to a rate-limited
// sink; it stops with ctx (call Shutdown too).
func NewBroadcaster(ctx context.Context, client kubernetes.Interface) (record.EventBroadcaster, *Sink) {
	b := record.NewBroadcaster(record.WithContext(ctx))
	s := New(client, 0, 0)
	b.StartRecordingToSink(s)
	return b, s
}
