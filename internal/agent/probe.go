package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// The kubelet's probes, per container run: a startup probe gates the
// others; a readiness probe makes the container ready; a liveness (or a
// failed startup) probe kills it, and the restart policy decides what
// follows. Unlike the kubelet there is no goroutine per probe: a probe is
// due at a time, the pod's sync asks for a requeue then, and only a
// probe being run takes a goroutine. A runtime that runs no processes
// (sim) has nothing listening: its httpGet, tcpSocket and grpc probes
// pass without being run; its exec probes run in its simulated shell.

// probeKind is one of a container's three probes.
type probeKind uint8

const (
	startupProbe probeKind = iota
	readinessProbe
	livenessProbe
)

// String is the kind as the kubelet's events name it.
func (k probeKind) String() string {
	switch k {
	case startupProbe:
		return "Startup"
	case readinessProbe:
		return "Readiness"
	}
	return "Liveness"
}

func (k probeKind) spec(c *corev1.Container) *corev1.Probe {
	switch k {
	case startupProbe:
		return c.StartupProbe
	case readinessProbe:
		return c.ReadinessProbe
	}
	return c.LivenessProbe
}

// probeResult is a probe's verdict, as the kubelet's results manager
// keeps it.
type probeResult uint8

const (
	resultUnknown probeResult = iota
	resultSuccess
	resultFailure
)

// initial is the verdict before the first one (the kubelet's initial
// values): not ready, alive, not started.
func (k probeKind) initial() probeResult {
	switch k {
	case readinessProbe:
		return resultFailure
	case livenessProbe:
		return resultSuccess
	}
	return resultUnknown
}

// prober is one probe of one container run.
type prober struct {
	result   probeResult
	last     probeResult // the last raw result, and how many in a row
	run      int32
	next     time.Time // when it is due
	inFlight bool
	onHold   bool // a liveness failure or a startup verdict: no more probing of this run
}

// probeSet is a container's probes across one run.
type probeSet struct {
	id     string // the run probed ("" before the first)
	kinds  [3]prober
	kill   string    // why the run is to be killed ("" while it is not)
	killBy probeKind // the probe that failed
	killed bool      // the kill was sent
}

// probeTiming is a probe's timing with the API's defaults for zero
// fields (the API server defaults them; a client-go fake does not).
func probeTiming(p *corev1.Probe) (period, timeout time.Duration, success, failure int32) {
	period, timeout = 10*time.Second, time.Second
	if p.PeriodSeconds > 0 {
		period = time.Duration(p.PeriodSeconds) * time.Second
	}
	if p.TimeoutSeconds > 0 {
		timeout = time.Duration(p.TimeoutSeconds) * time.Second
	}
	success, failure = max(p.SuccessThreshold, 1), p.FailureThreshold
	if failure <= 0 {
		failure = 3
	}
	return period, timeout, success, failure
}

// started says whether the container's run has started: it has no
// startup probe, or that probe succeeded.
func (s *probeSet) started(c *corev1.Container, id string) bool {
	return c.StartupProbe == nil || (s.id == id && s.kinds[startupProbe].result == resultSuccess)
}

// ready says whether the running container is ready: started, and its
// readiness probe (if any) succeeded.
func (s *probeSet) ready(c *corev1.Container, id string) bool {
	if !s.started(c, id) {
		return false
	}
	return c.ReadinessProbe == nil || (s.id == id && s.kinds[readinessProbe].result == resultSuccess)
}

// runProbes runs c's probes that are due, in the background (a result
// syncs the pod again), kills the run a liveness or startup probe failed,
// and returns when a probe is due next. It is called with ps.mu held while
// the container runs.
func (e *engine) runProbes(ctx context.Context, pod *corev1.Pod, ps *podState, c *corev1.Container, cs *ctrState) time.Duration {
	if c.StartupProbe == nil && c.ReadinessProbe == nil && c.LivenessProbe == nil {
		return 0
	}
	s := &cs.probes
	if s.id != cs.id {
		// A new run starts from the initial verdicts; each probe is first
		// due after its initial delay.
		*s = probeSet{id: cs.id}
		for k := startupProbe; k <= livenessProbe; k++ {
			if p := k.spec(c); p != nil {
				s.kinds[k] = prober{result: k.initial(), next: cs.status.StartedAt.Add(time.Duration(p.InitialDelaySeconds) * time.Second)}
			}
		}
		ps.changes++
	}
	if s.kill != "" {
		if !s.killed {
			s.killed = true
			e.killRun(ctx, pod, ps, c, cs)
		}
		return 0
	}
	now := e.clock.Now()
	var due time.Duration
	for k := startupProbe; k <= livenessProbe; k++ {
		p := k.spec(c)
		if p == nil {
			continue
		}
		pr := &s.kinds[k]
		// The startup probe stops once it has a verdict; the others wait
		// for it.
		if pr.inFlight || pr.onHold || (k == startupProbe) == s.started(c, cs.id) {
			continue
		}
		if wait := pr.next.Sub(now); wait > 0 {
			if due == 0 || wait < due {
				due = wait
			}
			continue
		}
		period, _, success, _ := probeTiming(p)
		if !e.rt.Info().Capabilities.Processes && p.Exec == nil {
			// Nothing listens under a runtime without processes: a
			// network probe passes, without being run, and is not due
			// again (a sim pod costs no sync per period).
			for range success {
				e.probed(pod, ps, c, cs.id, k, probeOutcome{result: resultSuccess})
			}
			pr.onHold = true
			continue
		}
		pr.next = now.Add(period)
		if due == 0 || period < due {
			due = period
		}
		ip := ps.ip
		if a, ok := e.rt.(runtime.Addresser); ok {
			if x := a.ContainerIP(cs.id); x != "" {
				ip = x
			}
		}
		pr.inFlight = true
		e.wg.Add(1)
		go func(k probeKind, p *corev1.Probe, id, ip string) {
			defer e.wg.Done()
			out := e.probeOnce(ctx, p, c, id, ip)
			ps.mu.Lock()
			if s.id == id {
				s.kinds[k].inFlight = false
				e.probed(pod, ps, c, id, k, out)
			}
			ps.mu.Unlock()
			if ctx.Err() == nil {
				e.podQ.Add(ps.key)
			}
		}(k, p, cs.id, ip)
	}
	return due
}

// probed takes one probe's outcome (ps.mu held): its event, then the
// kubelet's thresholds.
func (e *engine) probed(pod *corev1.Pod, ps *podState, c *corev1.Container, id string, k probeKind, out probeOutcome) {
	s := &ps.ctrs.get(c.Name).probes
	pr := &s.kinds[k]
	rec := ps.node.recorder
	switch {
	case out.err != nil:
		// The probe could not be run (a port name the container does
		// not declare): the result is thrown away.
		rec.Eventf(pod, corev1.EventTypeWarning, "Unhealthy", "%s probe errored and resulted in unknown state: %v", k, out.err)
		return
	case out.warning:
		rec.Eventf(pod, corev1.EventTypeWarning, "ProbeWarning", "%s probe warning: %s", k, out.output)
	case out.result == resultFailure:
		rec.Eventf(pod, corev1.EventTypeWarning, "Unhealthy", "%s probe failed: %s", k, out.output)
	}
	if pr.last == out.result {
		pr.run++
	} else {
		pr.last, pr.run = out.result, 1
	}
	_, _, success, failure := probeTiming(k.spec(c))
	if (out.result == resultFailure && pr.run < failure) || (out.result == resultSuccess && pr.run < success) {
		return
	}
	if pr.result != out.result {
		pr.result = out.result
		ps.changes++
	}
	if (k == livenessProbe && out.result == resultFailure) || k == startupProbe {
		pr.onHold, pr.run = true, 0
	}
	if k == startupProbe && out.result == resultSuccess {
		// Started: the other probes are due once their initial delay is
		// over.
		now := e.clock.Now()
		for _, o := range []probeKind{readinessProbe, livenessProbe} {
			if s.kinds[o].next.Before(now) {
				s.kinds[o].next = now
			}
		}
	}
	if out.result == resultFailure && (k == livenessProbe || k == startupProbe) {
		s.kill, s.killBy = fmt.Sprintf("Container %s failed %s probe", c.Name, strings.ToLower(k.String())), k
		if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
			s.kill += ", will be restarted"
		}
		ps.changes++
	}
}

// killRun stops a run its liveness or startup probe failed, within the
// probe's termination grace period (else the pod's), in the background;
// its exit then takes the restart policy's way.
func (e *engine) killRun(ctx context.Context, pod *corev1.Pod, ps *podState, c *corev1.Container, cs *ctrState) {
	grace := int64(30)
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	if p := cs.probes.killBy.spec(c); p != nil && p.TerminationGracePeriodSeconds != nil {
		grace = *p.TerminationGracePeriodSeconds
	}
	ps.node.recorder.Eventf(pod, corev1.EventTypeNormal, "Killing", "%s", cs.probes.kill)
	id := cs.id
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := e.rt.Stop(ctx, id, time.Duration(grace)*time.Second); err != nil {
			e.log.Warn("stop container after a failed probe", "pod", ps.key, "container", c.Name, "err", err)
		}
		if ctx.Err() == nil {
			e.podQ.Add(ps.key)
		}
	}()
}
