package marathon

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// A task's health is what the node agent's probes found, read from the
// Kubernetes API as any client reads it: the pod's Ready condition (the
// health check's readiness probe, one success or one failure) says
// whether it is alive and since when, and the agent's latest "Unhealthy"
// event of that probe says when it last failed, why (the kubelet's text,
// without its "Readiness probe failed: " prefix) and how many times in a
// row (the event's count). Kubernetes reports changes, not each probe, so
// lastSuccess is when the task last became healthy.

// indexPodUID indexes the Unhealthy events by the pod they are about.
const indexPodUID = "podUID"

func eventPodUID(obj any) ([]string, error) {
	if ev, ok := obj.(*corev1.Event); ok && ev.InvolvedObject.Kind == "Pod" && ev.InvolvedObject.UID != "" {
		return []string{string(ev.InvolvedObject.UID)}, nil
	}
	return nil, nil
}

const readinessFailed = "Readiness probe failed: "

// lastProbeFailure is the latest readiness probe failure recorded for a
// pod, or nil.
func (s *Server) lastProbeFailure(p *corev1.Pod) *corev1.Event {
	if s.unhealthy == nil {
		return nil
	}
	objs, err := s.unhealthy.GetIndexer().ByIndex(indexPodUID, string(p.UID))
	if err != nil {
		return nil
	}
	var last *corev1.Event
	for _, obj := range objs {
		ev := obj.(*corev1.Event)
		if !strings.HasPrefix(ev.Message, readinessFailed) {
			continue
		}
		if last == nil || eventTime(ev).After(eventTime(last)) {
			last = ev
		}
	}
	return last
}

func eventTime(ev *corev1.Event) time.Time {
	switch {
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	}
	return ev.FirstTimestamp.Time
}

// healthOf is a running task's health check result, and whether it has
// one: Marathon has none before the first check has a result.
func (s *Server) healthOf(a *App, p *corev1.Pod) (HealthCheckResult, bool) {
	r := HealthCheckResult{InstanceID: taskPrefix(a.ID) + ".marathon-" + string(p.UID)}
	ok, since := podReady(p)
	fail := s.lastProbeFailure(p)
	if !ok && fail == nil {
		return r, false
	}
	r.Alive = ok
	if ok && since != nil {
		ts := versionTime(*since)
		r.FirstSuccess, r.LastSuccess = &ts, &ts
	}
	if fail != nil {
		ts := versionTime(eventTime(fail))
		cause := strings.TrimPrefix(fail.Message, readinessFailed)
		r.LastFailure, r.LastFailureCause = &ts, &cause
		if !ok {
			r.ConsecutiveFailures = int(max(fail.Count, 1))
		}
	}
	return r, true
}

// healthResults are a running task's results, one per health check that
// has one: the probed check's from the probes, the others' from the
// server's runs (healthrun.go).
func (s *Server) healthResults(a *App, p *corev1.Pod) []HealthCheckResult {
	var out []HealthCheckResult
	probed := probedCheck(a)
	for i := range a.HealthChecks {
		if i == probed {
			if r, ok := s.healthOf(a, p); ok {
				out = append(out, r)
			}
			continue
		}
		c, ok := s.checks.result(p.UID, i)
		if !ok {
			continue
		}
		r := HealthCheckResult{InstanceID: taskPrefix(a.ID) + ".marathon-" + string(p.UID), Alive: c.alive, ConsecutiveFailures: c.failures}
		stamp := func(t time.Time) *string {
			if t.IsZero() {
				return nil
			}
			v := versionTime(t)
			return &v
		}
		r.FirstSuccess, r.LastSuccess, r.LastFailure = stamp(c.firstSuccess), stamp(c.lastSuccess), stamp(c.lastFailure)
		if c.cause != "" {
			cause := c.cause
			r.LastFailureCause = &cause
		}
		out = append(out, r)
	}
	return out
}

// healthy says whether a running task of an app with health checks is
// healthy (every result alive) or unhealthy (one is not), as Marathon
// counts them; a task without results is neither.
func healthy(rs []HealthCheckResult) (alive, known bool) {
	if len(rs) == 0 {
		return false, false
	}
	for _, r := range rs {
		if !r.Alive {
			return false, true
		}
	}
	return true, true
}
