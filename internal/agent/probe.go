package agent

import (
	"context"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// readiness is a container's readiness probe across one run: the kubelet's
// prober for an exec probe. A container without one (or with an httpGet
// or tcpSocket probe, which the agent does not run yet) is ready while it
// runs.
type readiness struct {
	id       string    // the run probed ("" before the first)
	ready    bool      // the last verdict
	fails    int32     // failures in a row
	oks      int32     // successes in a row
	next     time.Time // when to probe next
	inFlight bool
}

// probed says whether c has a probe the agent runs.
func probed(c *corev1.Container) bool {
	return c.ReadinessProbe != nil && c.ReadinessProbe.Exec != nil && len(c.ReadinessProbe.Exec.Command) > 0
}

// probeReadiness runs c's readiness probe when it is due, in the
// background (the result syncs the pod again), and returns when it is due
// next. It is called with ps.mu held while the container runs.
func (e *engine) probeReadiness(ctx context.Context, ps *podState, c *corev1.Container, cs *ctrState) time.Duration {
	if !probed(c) {
		return 0
	}
	p := c.ReadinessProbe
	r := &cs.probe
	if r.id != cs.id {
		// A new run starts unready; the first probe is after the initial
		// delay.
		*r = readiness{id: cs.id, next: cs.status.StartedAt.Add(time.Duration(p.InitialDelaySeconds) * time.Second)}
		ps.changes++
	}
	if r.inFlight {
		return 0
	}
	now := e.clock.Now()
	if wait := r.next.Sub(now); wait > 0 {
		return wait
	}
	period := time.Duration(max(p.PeriodSeconds, 1)) * time.Second
	timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
	r.inFlight = true
	id, key, cmd := cs.id, ps.key, p.Exec.Command
	noProcesses := !e.rt.Info().Capabilities.Exec
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		pctx, cancel := context.WithTimeout(ctx, timeout)
		code, err := e.rt.Exec(pctx, id, cmd, runtime.Streams{Stdout: io.Discard, Stderr: io.Discard})
		timedOut := pctx.Err() != nil
		cancel()
		// A runtime that runs no processes (sim) answers a program of the
		// image it does not know with 127: the image's programs are taken
		// to succeed there, while the sim shell's own commands (cat,
		// test of files written with kubectl exec, exit N) give their
		// real status.
		ok := err == nil && !timedOut && (code == 0 || (noProcesses && code == 127))
		ps.mu.Lock()
		if r.id == id {
			r.inFlight = false
			r.next = e.clock.Now().Add(period)
			if ok {
				r.oks, r.fails = r.oks+1, 0
				if !r.ready && r.oks >= max(p.SuccessThreshold, 1) {
					r.ready = true
					ps.changes++
				}
			} else {
				r.fails, r.oks = r.fails+1, 0
				if r.ready && r.fails >= max(p.FailureThreshold, 1) {
					r.ready = false
					ps.changes++
				}
			}
		}
		ps.mu.Unlock()
		if ctx.Err() == nil {
			e.podQ.Add(key)
		}
	}()
	return period
}
