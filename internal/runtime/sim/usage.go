package sim

import (
	"context"
	"hash/fnv"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// Usage implements runtime.Usage with simulated figures: each container
// uses a steady 1–5 millicores and 8–31 MiB, picked from its pod and name,
// so `kubectl top` shows stable, plausible numbers; the pod's
// AnnotationCPUUsage and AnnotationMemoryUsage set them instead.
func (r *Runtime) Usage(_ context.Context, id string) (runtime.Usage, error) {
	c, err := r.get(id)
	if err != nil {
		return runtime.Usage{}, err
	}
	c.mu.Lock()
	started, state := c.status.StartedAt, c.status.State
	cpuAnn, memAnn := c.spec.Annotations[AnnotationCPUUsage], c.spec.Annotations[AnnotationMemoryUsage]
	h := fnv.New32a()
	_, _ = h.Write([]byte(c.spec.PodNamespace + "/" + c.spec.PodName + "/" + c.spec.Name))
	c.mu.Unlock()
	if state != runtime.StateRunning {
		return runtime.Usage{}, nil
	}
	v := h.Sum32()
	milli := time.Duration(v%5 + 1)
	mem := int64(v/5%24+8) << 20
	if q, err := resource.ParseQuantity(cpuAnn); err == nil {
		milli = time.Duration(q.MilliValue())
	}
	if q, err := resource.ParseQuantity(memAnn); err == nil {
		mem = q.Value()
	}
	ran := r.clock.Since(started)
	return runtime.Usage{CPU: ran * milli / 1000, Memory: mem}, nil
}
